"""Settings schemas and values, without a database: validation, normalisation, masking."""

from __future__ import annotations

from typing import Any

import pytest

from appfn.errors import ValidationError
from appfn.store.settings import MASK, mask_settings, parse_settings_schema, validate_settings, with_defaults

from .conftest import SCHEMA

FIELDS = parse_settings_schema(SCHEMA)


def schema_error(raw: Any) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        parse_settings_schema(raw)
    return exc.value


def values_error(values: Any, **kwargs: Any) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        validate_settings(FIELDS, values, **kwargs)
    return exc.value


def test_a_good_schema_round_trips() -> None:
    assert [f.id for f in FIELDS] == ["api_key", "endpoint", "vip_threshold", "send_sms"]
    assert FIELDS[0].secret and FIELDS[0].required and FIELDS[0].label == "API key"
    assert [f.to_dict() for f in FIELDS] == SCHEMA
    assert parse_settings_schema(None) == ()
    assert parse_settings_schema([]) == ()


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ("nope", "settings_schema", "expected a list"),
        ([42], "settings_schema[0]", "expected an object"),
        ([{"type": "string"}], "settings_schema[0].id", "identifier"),
        ([{"id": "api key", "type": "string"}], "settings_schema[0].id", "identifier"),
        ([{"id": "api-key", "type": "string"}], "settings_schema[0].id", "identifier"),
        ([{"id": "_x", "type": "string"}], "settings_schema[0].id", "identifier"),
        ([{"id": "a", "type": "string"}, {"id": "b", "type": "date"}], "settings_schema[1].type", "one of"),
        ([{"id": "a", "type": "string", "format": "blink"}], "settings_schema[0].format", "one of"),
        ([{"id": "a", "type": "integer", "format": "password"}], "settings_schema[0].format", "only string"),
        ([{"id": "a", "type": "integer", "default": "3"}], "settings_schema[0].default", "expected an integer"),
        ([{"id": "a", "type": "integer", "default": 2.5}], "settings_schema[0].default", "expected an integer"),
        ([{"id": "a", "type": "integer", "default": True}], "settings_schema[0].default", "expected an integer"),
        ([{"id": "a", "type": "number", "default": "x"}], "settings_schema[0].default", "expected a number"),
        ([{"id": "a", "type": "boolean", "default": "true"}], "settings_schema[0].default", "expected a boolean"),
        ([{"id": "a", "type": "string", "default": 5}], "settings_schema[0].default", "expected a string"),
        ([{"id": "a", "type": "string", "format": "email", "default": "x"}], "settings_schema[0].default", "e-mail"),
        ([{"id": "a", "type": "string", "required": "yes"}], "settings_schema[0].required", "true or false"),
        ([{"id": "a", "type": "string", "colour": "red"}], "settings_schema[0].colour", "unknown key"),
        ([{"id": "a", "type": "string", "label": 5}], "settings_schema[0].label", "string"),
    ],
)
def test_schema_errors_name_the_field(raw: Any, field: str, message: str) -> None:
    error = schema_error(raw)
    assert error.field == field
    assert message in str(error)
    assert str(error).startswith(f"{field}: ")


def test_duplicate_ids_name_both_places() -> None:
    error = schema_error([{"id": "a", "type": "string"}, {"id": "b", "type": "string"}, {"id": "a", "type": "integer"}])
    assert error.field == "settings_schema[2].id"
    assert "settings_schema[0]" in str(error)


def test_every_schema_problem_is_listed() -> None:
    error = schema_error([{"id": "Bad id", "type": "string"}, {"id": "ok", "type": "nope"}])
    assert [f for f, _ in error.errors] == ["settings_schema[0].id", "settings_schema[1].type"]


def test_values_are_normalised_and_defaults_applied() -> None:
    values = validate_settings(FIELDS, {"api_key": "s3cret", "send_sms": "TRUE", "vip_threshold": "7"})
    assert values == {
        "api_key": "s3cret",
        "endpoint": "https://crm.example.com",
        "vip_threshold": 7,
        "send_sms": True,
    }
    assert validate_settings(FIELDS, {"api_key": "k", "send_sms": "false", "vip_threshold": 4.0})["send_sms"] is False
    assert validate_settings(FIELDS, {"api_key": "k", "vip_threshold": 4.0})["vip_threshold"] == 4
    number = parse_settings_schema([{"id": "ratio", "type": "number"}])
    assert validate_settings(number, {"ratio": "0.25"}) == {"ratio": 0.25}
    assert validate_settings(number, {"ratio": 2}) == {"ratio": 2}
    assert validate_settings(number, {}) == {}
    assert validate_settings(number, None) == {}


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({}, "settings.api_key", "is required"),
        ({"api_key": ""}, "settings.api_key", "is required"),
        ({"api_key": None}, "settings.api_key", "is required"),
        ({"api_key": "k", "colour": "red"}, "settings.colour", "unknown setting"),
        ({"api_key": "k", "send_sms": "yes"}, "settings.send_sms", "expected a boolean"),
        ({"api_key": "k", "send_sms": 1}, "settings.send_sms", "expected a boolean"),
        ({"api_key": "k", "vip_threshold": "many"}, "settings.vip_threshold", "expected an integer"),
        ({"api_key": "k", "vip_threshold": 2.5}, "settings.vip_threshold", "expected an integer"),
        ({"api_key": "k", "vip_threshold": True}, "settings.vip_threshold", "expected an integer"),
        ({"api_key": 42}, "settings.api_key", "expected a string"),
        ({"api_key": "k", "endpoint": "ftp://x"}, "settings.endpoint", "http(s) URL"),
        ({"api_key": MASK}, "settings.api_key", "no secret is stored"),
        ("nope", "settings", "expected an object"),
    ],
)
def test_value_errors_name_the_field(values: Any, field: str, message: str) -> None:
    error = values_error(values)
    assert error.field == field
    assert message in str(error)


def test_nan_is_not_a_number() -> None:
    number = parse_settings_schema([{"id": "ratio", "type": "number"}])
    with pytest.raises(ValidationError, match=r"settings\.ratio"):
        validate_settings(number, {"ratio": float("nan")})
    with pytest.raises(ValidationError, match=r"settings\.ratio"):
        validate_settings(number, {"ratio": "inf"})


def test_mask_hides_secrets_and_round_trips() -> None:
    stored = validate_settings(FIELDS, {"api_key": "s3cret"})
    shown = mask_settings(FIELDS, stored)
    assert shown["api_key"] == MASK and "s3cret" not in repr(shown)
    assert shown["endpoint"] == stored["endpoint"]
    # the form comes back with the mask and one change: the secret is kept
    again = validate_settings(FIELDS, {**shown, "send_sms": True}, previous=stored)
    assert again["api_key"] == "s3cret" and again["send_sms"] is True
    # a new secret replaces the old one
    assert validate_settings(FIELDS, {**shown, "api_key": "new"}, previous=stored)["api_key"] == "new"


def test_with_defaults_fills_fields_added_later() -> None:
    assert with_defaults(FIELDS, {"api_key": "k"}) == {
        "api_key": "k",
        "endpoint": "https://crm.example.com",
        "vip_threshold": 3,
        "send_sms": False,
    }


def test_camel_case_ids_of_the_original_examples_are_accepted() -> None:
    fields = parse_settings_schema([{"id": "crmApiUrl", "type": "string"}, {"id": "crmApiKey", "type": "string"}])
    assert [f.id for f in fields] == ["crmApiUrl", "crmApiKey"]
