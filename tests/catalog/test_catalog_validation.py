"""Validation: every violation named with its JSON path, drift tolerated, people-readable messages."""

from __future__ import annotations

from typing import Any

import pytest

import appfn.catalog as catalog_api
from appfn.catalog import Catalog, make_context
from appfn.catalog.validation import context_validator, format_path
from appfn.errors import ContextValidationError, UnknownTriggerError, Violation


def messages(violations: list[Violation]) -> list[str]:
    return [str(v) for v in violations]


# --- customer precision: wrong types are rejected at the right path ---------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("email", 5, "payload.data.email: expected string, got 5"),
        ("email", None, "payload.data.email: expected string, got null"),
        ("first_name", ["A"], "payload.data.first_name: expected string, got an array"),
        ("mobile", "abc", 'payload.data.mobile: expected integer or numeric string, got "abc"'),
        ("mobile", True, "payload.data.mobile: expected integer or numeric string, got true"),
        ("mobile", 5.5, "payload.data.mobile: expected integer or numeric string, got 5.5"),
        ("id", None, "payload.data.id: expected integer or string, got null"),
        ("urls", "https://x", 'payload.data.urls: expected object, got "https://x"'),
        ("updated_at", "2022-01-24", 'payload.data.updated_at: expected object, got "2022-01-24"'),
        (
            "birthday",
            "1997-06-03",
            "payload.data.birthday: expected PHP date object {date, timezone_type, timezone} or null, "
            'got "1997-06-03"',
        ),
        ("groups", {}, "payload.data.groups: expected array, got an object"),
        (
            "is_notifications_enabled",
            "true",
            'payload.data.is_notifications_enabled: expected boolean, got "true"',
        ),
    ],
)
def test_customer_wrong_types_are_named(
    catalog: Catalog, login_data: dict[str, Any], field: str, value: Any, expected: str
) -> None:
    login_data[field] = value
    assert messages(catalog.validate_data("customer.login", login_data)) == [expected]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["urls"].update(admin=5), "payload.data.urls.admin: expected string, got 5"),
        (
            lambda d: d["birthday"].update(date=19970603),
            "payload.data.birthday.date: expected string, got 19970603",
        ),
        (
            lambda d: d["birthday"].update(date="03/06/1997"),
            "payload.data.birthday.date: expected date string 'YYYY-MM-DD HH:MM:SS.uuuuuu', "
            'got "03/06/1997"',
        ),
        (lambda d: d["birthday"].pop("timezone"), "payload.data.birthday.timezone: required field missing"),
        (
            lambda d: d["updated_at"].update(timezone_type="3"),
            'payload.data.updated_at.timezone_type: expected integer, got "3"',
        ),
        (
            lambda d: d.update(groups=[7, True]),
            "payload.data.groups[1]: expected integer or string, got true",
        ),
        (
            lambda d: d["source"].update({"user-agent": 5}),
            "payload.data.source.user-agent: expected string, got 5",
        ),
        (
            lambda d: d["source"].update(ip=127001),
            "payload.data.source.ip: expected string or null, got 127001",
        ),
        (lambda d: d.pop("email"), "payload.data.email: required field missing"),
    ],
)
def test_customer_nested_violations_have_full_paths(
    catalog: Catalog, login_data: dict[str, Any], change: Any, expected: str
) -> None:
    change(login_data)
    assert messages(catalog.validate_data("customer.login", login_data)) == [expected]


def test_customer_tolerated_variants(catalog: Catalog, login_data: dict[str, Any]) -> None:
    login_data.update(
        id="225167971",  # string id
        mobile="555555555",  # numeric string
        birthday=None,
        groups=[1234, "5678"],
    )
    login_data["source"]["ip"] = None
    login_data["lang"] = "ar"  # a field the example does not have
    for name in ("customer.created", "customer.updated", "customer.login"):
        assert catalog.validate_data(name, login_data) == []


def test_otp_request_requires_code_and_contact_as_strings(catalog: Catalog) -> None:
    assert messages(catalog.validate_data("customer.otp.request", {})) == [
        "payload.data.code: required field missing",
        "payload.data.contact: required field missing",
    ]
    assert messages(catalog.validate_data("customer.otp.request", {"code": 5331, "contact": "+966"})) == [
        "payload.data.code: expected string, got 5331"
    ]
    # the full customer model is not what this trigger carries
    login = catalog.get("customer.login").example()
    assert messages(catalog.validate_data("customer.otp.request", login)) == [
        "payload.data.code: required field missing",
        "payload.data.contact: required field missing",
    ]


# --- the envelope tolerates the documented drift -----------------------------------------------


@pytest.mark.parametrize(
    "drift",
    [
        lambda c: c["payload"].update(merchant="1305146709"),  # payload.merchant as a string
        lambda c: c["merchant"].update(id="1305146709"),  # merchant.id as a string
        lambda c: c["merchant"].update(id=999),  # a merchant.id that differs from payload.merchant
        lambda c: c.pop("merchant"),  # top-level merchant missing
        lambda c: c.update(settings=None),
        lambda c: c.pop("settings"),
        lambda c: c.update(settings={"enabled": "true", "n": 3}),
        lambda c: c["payload"].update(created_at="2024-01-15T14:30:00Z"),  # ISO
        lambda c: c["payload"].pop("created_at"),
        lambda c: c.update(extra={"future": "field"}),
    ],
)
def test_documented_drift_is_tolerated(catalog: Catalog, login_context: dict[str, Any], drift: Any) -> None:
    drift(login_context)
    assert catalog.validate_context("customer.login", login_context) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["payload"].update(merchant=True),
            "payload.merchant: expected integer or numeric string, got true",
        ),
        (
            lambda c: c["payload"].update(merchant="store-1"),
            'payload.merchant: expected integer or numeric string, got "store-1"',
        ),
        (
            lambda c: c["payload"].update(merchant=None),
            "payload.merchant: expected integer or numeric string, got null",
        ),
        (lambda c: c["payload"].pop("merchant"), "payload.merchant: required field missing"),
        (lambda c: c["payload"].pop("data"), "payload.data: required field missing"),
        (lambda c: c["payload"].update(data=[]), "payload.data: expected object, got an array"),
        (
            lambda c: c["payload"].update(created_at=1643103409),
            "payload.created_at: expected string, got 1643103409",
        ),
        (lambda c: c.pop("payload"), "payload: required field missing"),
        (lambda c: c.update(payload="x"), 'payload: expected object, got "x"'),
        (lambda c: c.update(settings=[]), "settings: expected object or null, got an array"),
        (lambda c: c.update(merchant=1305146709), "merchant: expected object, got 1305146709"),
        (lambda c: c["merchant"].pop("id"), "merchant.id: required field missing"),
        (lambda c: c["merchant"].update(id=None), "merchant.id: expected integer or string, got null"),
        (lambda c: c["payload"].update(event=5), "payload.event: expected string, got 5"),
    ],
)
def test_envelope_violations(
    catalog: Catalog, login_context: dict[str, Any], change: Any, expected: str
) -> None:
    change(login_context)
    assert messages(catalog.validate_context("customer.login", login_context)) == [expected]


def test_event_must_be_the_trigger_name(catalog: Catalog, login_context: dict[str, Any]) -> None:
    login_context["payload"]["event"] = "customer.created"
    [violation] = catalog.validate_context("customer.login", login_context)
    assert violation.path == "payload.event"
    assert violation.message == (
        'must be the trigger name "customer.login", got "customer.created" '
        '(a context for "customer.created", not for "customer.login")'
    )


def test_event_given_as_docs_title_is_explained(catalog: Catalog) -> None:
    context = make_context("product.viewed", None)
    context["payload"]["event"] = "Product Viewed"  # how the storefront docs' samples spell it
    [violation] = catalog.validate_context("product.viewed", context)
    assert violation.path == "payload.event"
    assert '"product.viewed"' in violation.message
    assert "title" in violation.message


def test_a_context_that_is_not_an_object(catalog: Catalog) -> None:
    assert messages(catalog.validate_context("customer.login", None)) == [
        "context: expected object, got null"
    ]
    assert messages(catalog.validate_context("customer.login", [1])) == [
        "context: expected object, got an array"
    ]
    assert messages(catalog.validate_data("customer.login", "x")) == [
        'payload.data: expected object, got "x"'
    ]


# --- every violation is listed ------------------------------------------------------------------


def test_every_violation_is_listed_with_its_path(catalog: Catalog, login_context: dict[str, Any]) -> None:
    data = login_context["payload"]["data"]
    data["email"] = 5
    data["groups"] = ["ok", None]
    del data["first_name"]
    data["birthday"]["date"] = 1
    login_context["payload"]["merchant"] = True
    login_context["payload"]["event"] = "customer.updated"
    login_context["settings"] = "none"
    found = catalog.validate_context("customer.login", login_context)
    assert messages(found) == [
        "payload.data.birthday.date: expected string, got 1",
        "payload.data.email: expected string, got 5",
        "payload.data.first_name: required field missing",
        "payload.data.groups[1]: expected integer or string, got null",
        'payload.event: must be the trigger name "customer.login", got "customer.updated" '
        '(a context for "customer.updated", not for "customer.login")',
        "payload.merchant: expected integer or numeric string, got true",
        'settings: expected object or null, got "none"',
    ]
    assert all(v.message and v.message != "invalid" and v.path for v in found)
    assert len({(v.path, v.message) for v in found}) == len(found)


def test_check_context_raises_with_all_violations(catalog: Catalog, login_context: dict[str, Any]) -> None:
    catalog.check_context("customer.login", login_context)  # valid: no exception
    login_context["payload"]["data"]["email"] = 5
    login_context["payload"]["merchant"] = True
    with pytest.raises(ContextValidationError) as info:
        catalog.check_context("customer.login", login_context)
    err = info.value
    assert err.violations == catalog.validate_context("customer.login", login_context)
    assert len(err.violations) == 2
    assert "payload.data.email: expected string, got 5" in str(err)
    assert "payload.merchant: expected integer or numeric string, got true" in str(err)
    with pytest.raises(ContextValidationError):
        catalog.check_data("customer.otp.request", {"code": "1"})


def test_violations_in_nested_models_of_an_order(catalog: Catalog) -> None:
    order = catalog.get("order.created").example()
    assert order is not None
    order["customer"]["email"] = 5  # the full customer model nested in the order
    order["items"][0]["amounts"]["total"]["amount"] = "186"
    order["shipments"][0]["packages"][0]["quantity"] = "one"
    assert messages(catalog.validate_data("order.created", order)) == [
        "payload.data.customer.email: expected string, got 5",
        'payload.data.items[0].amounts.total.amount: expected number, got "186"',
        'payload.data.shipments[0].packages[0].quantity: expected number or numeric string, got "one"',
    ]


def test_unknown_trigger_is_an_error_not_a_violation(catalog: Catalog) -> None:
    with pytest.raises(UnknownTriggerError, match=r"customer\.login"):
        catalog.validate_context("customer.logn", {})
    with pytest.raises(UnknownTriggerError):
        catalog.validate_data("nope", {})


def test_module_level_helpers(login_context: dict[str, Any]) -> None:
    assert catalog_api.validate_context("customer.login", login_context) == []
    assert messages(catalog_api.validate_data("customer.otp.request", {"code": "1"})) == [
        "payload.data.contact: required field missing"
    ]
    catalog_api.check_context("customer.login", login_context)
    assert catalog_api.data_schema("customer.otp.request")["required"] == ["code", "contact"]
    assert catalog_api.context_schema("customer.login")["properties"]["payload"]["properties"]["event"][
        "const"
    ] == ("customer.login")
    with pytest.raises(UnknownTriggerError):
        catalog_api.data_schema("nope")


def test_validators_are_compiled_once_per_trigger() -> None:
    assert context_validator("customer.login") is context_validator("customer.login")
    assert context_validator("customer.login") is not context_validator("customer.created")


@pytest.mark.parametrize(
    ("prefix", "parts", "expected"),
    [
        ("payload.data", ["groups", 0], "payload.data.groups[0]"),
        ("payload.data", ["source", "user-agent"], "payload.data.source.user-agent"),
        ("payload.data", ["odd key", "a.b"], 'payload.data["odd key"]["a.b"]'),
        ("payload.data", [], "payload.data"),
        ("context", ["payload", "merchant"], "payload.merchant"),
        ("context", [], "context"),
    ],
)
def test_format_path(prefix: str, parts: list[Any], expected: str) -> None:
    assert format_path(prefix, parts) == expected
