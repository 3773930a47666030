"""The committed JSON Schemas: well-formed, complete, and every documented example passes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from appfn.catalog import Catalog, envelope_schema, load_catalog, make_context
from appfn.catalog.schema import PERMISSIVE, payload_models

CATALOG = load_catalog()
WITH_EXAMPLE = [t.name for t in CATALOG if t.example_data is not None]
WITHOUT_EXAMPLE = [t.name for t in CATALOG if t.example_data is None]
EXTRA_EXAMPLES = [(t.name, label) for t in CATALOG for label in t.extra_examples]
CUSTOMER_MODEL = ("customer.created", "customer.updated", "customer.login")
CREATED_AT = "Tue Jan 25 2022 12:36:49 GMT+0300"


def test_schema_files_are_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(payload_models())
    Draft202012Validator.check_schema(envelope_schema())


@pytest.mark.parametrize("name", CATALOG.names())
def test_each_trigger_schema_is_valid_and_standalone(catalog: Catalog, name: str) -> None:
    trigger = catalog.get(name)
    data = trigger.data_schema()
    context = trigger.context_schema()
    for schema in (data, context):
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    # every local $ref resolves inside the document itself
    for schema in (data, context):
        for ref in _refs(schema):
            assert ref.removeprefix("#/$defs/") in schema.get("$defs", {}), (name, ref)
    assert context["properties"]["payload"]["properties"]["event"]["const"] == name


def test_triggers_with_examples_get_models_and_the_rest_are_permissive(catalog: Catalog) -> None:
    assert len(WITH_EXAMPLE) == 37
    assert len(WITHOUT_EXAMPLE) == 43
    for name in WITHOUT_EXAMPLE:
        schema = catalog.get(name).data_schema()
        assert schema["type"] == PERMISSIVE["type"] == "object"
        assert "properties" not in schema
        assert "required" not in schema
        assert catalog.get(name).schema_basis == "permissive"
    for name in WITH_EXAMPLE:
        assert catalog.get(name).schema_basis in {"precise", "inferred", "illustrative"}, name
        assert "properties" in catalog.get(name).data_schema(), name


def test_model_map_names_only_real_triggers_and_models(catalog: Catalog) -> None:
    models = payload_models()
    assert set(models["triggers"]) == set(WITH_EXAMPLE)
    for name, model in models["triggers"].items():
        assert name in catalog
        assert model in models["$defs"]


def test_basis_by_family(catalog: Catalog) -> None:
    for name in (*CUSTOMER_MODEL, "customer.otp.request", "communication.email.send"):
        assert catalog.get(name).schema_basis == "precise", name
    for t in catalog.by_category("ecommerce_events"):
        assert t.schema_basis in {"illustrative", "permissive"}, t.name
    assert catalog.get("order.created").schema_basis == "inferred"


def test_schemas_are_returned_as_copies(catalog: Catalog) -> None:
    first = catalog.get("customer.login").data_schema()
    first["properties"]["email"]["type"] = "integer"
    assert catalog.get("customer.login").data_schema()["properties"]["email"]["type"] == "string"


# --- every documented example validates ---------------------------------------------------------


@pytest.mark.parametrize("name", WITH_EXAMPLE)
def test_documented_example_validates(catalog: Catalog, name: str) -> None:
    trigger = catalog.get(name)
    assert catalog.validate_data(name, trigger.example_data) == []
    context = make_context(name, trigger.example_data, settings={"k": "v"}, created_at=CREATED_AT)
    assert catalog.validate_context(name, context) == []
    catalog.check_context(name, context)


@pytest.mark.parametrize(("name", "label"), EXTRA_EXAMPLES)
def test_extra_examples_validate(catalog: Catalog, name: str, label: str) -> None:
    data = catalog.get(name).extra_examples[label]
    assert catalog.validate_data(name, data) == []
    assert catalog.validate_context(name, make_context(name, data)) == []


def test_envelope_example_validates(catalog: Catalog) -> None:
    example = catalog.envelope_example()
    assert example["payload"]["event"] == "customer.otp.request"
    assert catalog.validate_context("customer.otp.request", example) == []


@pytest.mark.parametrize("name", WITHOUT_EXAMPLE)
def test_triggers_without_example_accept_any_object(catalog: Catalog, name: str) -> None:
    assert catalog.validate_data(name, {}) == []
    assert catalog.validate_data(name, {"anything": [1, None, {"x": "y"}]}) == []
    assert [str(v) for v in catalog.validate_data(name, [])] == [
        "payload.data: expected object, got an array"
    ]


# --- the customer model is precise --------------------------------------------------------------


def test_customer_schema_types_every_field_of_the_login_example(catalog: Catalog) -> None:
    login = catalog.get("customer.login")
    schema = login.data_schema()
    assert login.example_data is not None
    assert set(schema["properties"]) == set(login.example_data)
    assert set(schema["required"]) == {"id", "first_name", "last_name", "mobile", "mobile_code", "email"}
    props = schema["properties"]
    for field in (
        "first_name",
        "last_name",
        "mobile_code",
        "email",
        "avatar",
        "gender",
        "city",
        "country",
        "country_code",
        "currency",
        "location",
    ):
        assert props[field] == {"type": "string"} or props[field]["type"] == "string", field
    assert set(props["urls"]["properties"]) == {"customer", "admin"}
    assert set(props["source"]["properties"]) == {"device", "user-agent", "ip"}
    assert props["groups"]["type"] == "array"
    assert props["is_notifications_enabled"] == {"type": "boolean"}
    php_date = schema["$defs"]["php_date"]
    assert php_date["required"] == ["date", "timezone_type", "timezone"]
    assert props["updated_at"] == {"$ref": "#/$defs/php_date"}
    assert {"type": "null"} in props["birthday"]["anyOf"]


def test_created_updated_login_share_one_model(catalog: Catalog) -> None:
    bodies = []
    for name in CUSTOMER_MODEL:
        schema = catalog.get(name).data_schema()
        bodies.append({k: v for k, v in schema.items() if k not in ("$id", "title")})
    assert bodies[0] == bodies[1] == bodies[2]


def test_otp_request_is_exactly_code_and_contact(catalog: Catalog) -> None:
    schema = catalog.get("customer.otp.request").data_schema()
    assert schema["required"] == ["code", "contact"]
    assert set(schema["properties"]) == {"code", "contact"}
    assert schema["properties"]["code"]["type"] == "string"
    assert schema["properties"]["contact"]["type"] == "string"
    assert "$defs" not in schema


# --- inferred and illustrative models -----------------------------------------------------------


def test_ids_accept_integers_and_strings(catalog: Catalog) -> None:
    order = catalog.get("order.created").example()
    assert order is not None
    order["id"] = "2116149737"
    order["customer"]["id"] = "225167971"
    order["items"][0]["product"]["id"] = "720881993"
    assert catalog.validate_data("order.created", order) == []
    order["id"] = 1.5
    assert [str(v) for v in catalog.validate_data("order.created", order)] == [
        "payload.data.id: expected integer or string, got 1.5"
    ]


def test_amounts_are_number_and_currency(catalog: Catalog) -> None:
    shipment = catalog.get("shipment.creating").example()
    assert shipment is not None
    shipment["total"] = {"amount": "25.5", "currency": "SAR"}
    del shipment["cash_on_delivery"]["currency"]
    assert [str(v) for v in catalog.validate_data("shipment.creating", shipment)] == [
        "payload.data.cash_on_delivery.currency: required field missing",
        'payload.data.total.amount: expected number, got "25.5"',
    ]


def test_only_identifying_keys_are_required_in_inferred_models(catalog: Catalog) -> None:
    for name in ("order.created", "shipment.creating", "brand.created", "invoice.created"):
        assert catalog.validate_data(name, {"id": 1}) == [], name
        assert [str(v) for v in catalog.validate_data(name, {})] == [
            "payload.data.id: required field missing"
        ]


def test_nulls_in_examples_mean_unknown_type(catalog: Catalog) -> None:
    brand = catalog.get("brand.created").example()
    assert brand is not None
    brand["banner"] = "https://cdn/banner.png"  # null in the example
    brand["status"] = {"anything": True}
    assert catalog.validate_data("brand.created", brand) == []


def test_extra_keys_are_allowed(catalog: Catalog) -> None:
    for name in WITH_EXAMPLE:
        data = copy.deepcopy(catalog.get(name).example_data)
        assert isinstance(data, dict)
        data["field_added_later"] = {"x": 1}
        assert catalog.validate_data(name, data) == [], name


def test_storefront_schemas_are_tolerant(catalog: Catalog) -> None:
    viewed = {"product_id": 12345, "price": "99.00", "quantity": "1"}
    assert catalog.validate_data("product.viewed", viewed) == []
    assert catalog.validate_data("product.viewed", {}) == []
    assert catalog.validate_data("signed.up", {"user_id": 98765, "userId": "x"}) == []
    assert catalog.validate_data("product.added", {"cart_id": 1, "products": [{"product_id": 5001}]}) == []


def test_communication_payload_follows_the_interface(catalog: Catalog) -> None:
    ok: dict[str, Any] = {
        "notifiable": ["a@b.c"],
        "type": "message",
        "content": "hi",
        "entity": None,
        "meta": None,
    }
    assert catalog.validate_data("communication.email.send", ok) == []
    bad = {"notifiable": "a@b.c", "type": "message", "entity": {"id": True}}
    assert [str(v) for v in catalog.validate_data("communication.email.send", bad)] == [
        "payload.data.content: required field missing",
        "payload.data.entity.id: expected integer or string, got true",
        'payload.data.notifiable: expected array, got "a@b.c"',
    ]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()
