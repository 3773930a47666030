"""The catalog model: 80 triggers, their fields, lookups and suggestions."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from appfn.catalog import CATEGORIES, Catalog, Trigger, load_catalog
from appfn.errors import CatalogError, UnknownTriggerError

SPEC_EVENTS = Path("/work/shared/spec/events.json")
NAMES = load_catalog().names()


def test_eighty_triggers_in_four_categories(catalog: Catalog) -> None:
    assert len(catalog) == 80
    assert len(list(catalog)) == 80
    counts = {cat: len(catalog.by_category(cat)) for cat in catalog.categories()}
    assert counts == {
        "merchant_actions": 2,
        "merchant_events": 40,
        "ecommerce_events": 35,
        "communication_events": 3,
    }
    assert catalog.categories() == list(CATEGORIES)


def test_exactly_two_sync_triggers(catalog: Catalog) -> None:
    sync = [t.name for t in catalog if t.is_sync]
    assert sync == ["shipment.creating", "shipment.cancelling"]
    assert [t.name for t in catalog.sync_triggers()] == sync


def test_category_decides_execution_and_timeout(catalog: Catalog) -> None:
    for t in catalog:
        if t.category == "merchant_actions":
            assert (t.execution, t.timeout_s, t.is_sync) == ("sync", 5, True), t.name
        else:
            assert (t.execution, t.timeout_s, t.is_sync) == ("async", 30, False), t.name
    # the verb form does not decide: shipment.cancelled is async
    assert not catalog.get("shipment.cancelled").is_sync


def test_only_shipment_creating_returns_a_shipment(catalog: Catalog) -> None:
    assert [t.name for t in catalog if t.return_type == "Shipment"] == ["shipment.creating"]
    assert {t.return_type for t in catalog} == {"Resp", "Shipment"}


@pytest.mark.parametrize("name", NAMES)
def test_every_trigger_has_every_field(catalog: Catalog, name: str) -> None:
    t = catalog.get(name)
    assert isinstance(t, Trigger)
    assert t.name == name
    for text in (t.title, t.group, t.audience, t.category, t.preview_form_basis):
        assert isinstance(text, str)
        assert text
    assert t.audience in {"merchant", "customer"}
    assert t.category in CATEGORIES
    assert t.execution in {"sync", "async"}
    assert isinstance(t.timeout_s, int | float)
    assert t.timeout_s > 0
    assert t.context_type is None or isinstance(t.context_type, str)
    assert t.return_type in {"Resp", "Shipment"}
    assert isinstance(t.preview_form, tuple)
    assert t.preview_form
    assert all(isinstance(f, str) and f.endswith("_id") for f in t.preview_form)
    assert t.preview_form_basis in {"documented", "inferred"}
    assert t.example_data is None or isinstance(t.example_data, dict)
    assert isinstance(t.documented, bool)
    assert t.doc_page is None or isinstance(t.doc_page, str)
    assert t.notes is None or isinstance(t.notes, str)
    assert t.scope_hint is None or isinstance(t.scope_hint, str)
    assert t.required_scope is None
    assert t.has_example == (t.example_data is not None)


def test_catalog_mirrors_events_json(catalog: Catalog, events: dict[str, Any]) -> None:
    raw = events["triggers"]
    assert [t["name"] for t in raw] == catalog.names()
    for entry in raw:
        t = catalog.get(entry["name"])
        for key in (
            "title",
            "group",
            "audience",
            "category",
            "execution",
            "timeout_s",
            "context_type",
            "return_type",
            "preview_form_basis",
            "example_data",
            "documented",
            "doc_page",
            "scope_hint",
        ):
            assert getattr(t, key) == entry[key], (t.name, key)
        assert list(t.preview_form) == entry["preview_form"]
        assert t.notes == entry.get("notes")


@pytest.mark.skipif(not SPEC_EVENTS.exists(), reason="spec copy not available here")
def test_packaged_events_json_equals_the_spec(events: dict[str, Any]) -> None:
    assert json.loads(SPEC_EVENTS.read_text(encoding="utf-8")) == events


def test_lookup_contains_iter_and_names(catalog: Catalog) -> None:
    assert "customer.login" in catalog
    assert "customer.logn" not in catalog
    assert 42 not in catalog
    assert catalog["order.created"] is catalog.get("order.created")
    assert catalog.names()[0] == "shipment.creating"
    assert [t.name for t in catalog] == catalog.names()
    assert len(set(catalog.names())) == 80


def test_unknown_trigger_names_it_and_suggests(catalog: Catalog) -> None:
    with pytest.raises(UnknownTriggerError) as info:
        catalog.get("customer.logn")
    err = info.value
    assert isinstance(err, CatalogError)
    assert err.name == "customer.logn"
    assert err.suggestions[0] == "customer.login"
    assert "customer.logn" in str(err)
    assert "did you mean customer.login" in str(err)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Product Viewed", "product.viewed"),  # the docs' title of a storefront event
        ("product_viewed", "product.viewed"),
        ("shipment.creatng", "shipment.creating"),
        ("order.create", "order.created"),
        ("communication.sms", "communication.sms.send"),
    ],
)
def test_suggestions_find_the_intended_trigger(catalog: Catalog, typed: str, expected: str) -> None:
    with pytest.raises(UnknownTriggerError) as info:
        catalog.get(typed)
    assert expected in info.value.suggestions


def test_no_suggestions_for_nonsense(catalog: Catalog) -> None:
    with pytest.raises(UnknownTriggerError) as info:
        catalog.get("zzzzzz")
    assert info.value.suggestions == []
    assert str(info.value) == "unknown trigger 'zzzzzz'"


def test_by_category_and_unknown_category(catalog: Catalog) -> None:
    assert [t.name for t in catalog.by_category("communication_events")] == [
        "communication.sms.send",
        "communication.email.send",
        "communication.whatsapp.send",
    ]
    with pytest.raises(CatalogError, match=r"unknown category 'merchant_event'.*merchant_events"):
        catalog.by_category("merchant_event")


def test_load_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()


def test_triggers_are_frozen_and_examples_copied(catalog: Catalog) -> None:
    t = catalog.get("customer.login")
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.name = "x"  # type: ignore[misc]
    copy = t.example()
    assert copy == t.example_data
    assert copy is not t.example_data
    copy["email"] = "changed"
    assert t.example_data is not None
    assert t.example_data["email"] == "test@gmail.com"
    assert hash(t) == hash(catalog.get("customer.login"))


def test_extra_examples_are_attached_to_their_trigger(catalog: Catalog) -> None:
    sms = catalog.get("communication.sms.send")
    assert set(sms.extra_examples) == {"otp", "interface reference"}
    assert sms.extra_examples["otp"]["entity"] is None
    assert all(not t.extra_examples for t in catalog if t.name != "communication.sms.send")


def test_to_dict_is_plain_json(catalog: Catalog) -> None:
    d = catalog.get("shipment.creating").to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["preview_form"] == ["shipment_id"]
    assert d["return_type"] == "Shipment"


def test_broken_events_json_is_refused(events: dict[str, Any]) -> None:
    dup = json.loads(json.dumps(events))
    dup["triggers"].append(dup["triggers"][0])
    with pytest.raises(CatalogError, match="appears twice"):
        Catalog.from_dict(dup)

    missing = json.loads(json.dumps(events))
    del missing["triggers"][4]["category"]
    with pytest.raises(CatalogError, match=r"'shipment\.updated'.*category"):
        Catalog.from_dict(missing)

    short = json.loads(json.dumps(events))
    del short["triggers"][-1]
    with pytest.raises(CatalogError, match="79 triggers"):
        Catalog.from_dict(short)


def test_importing_the_catalog_stays_light() -> None:
    code = "import sys, appfn.catalog; print(sorted(m for m in ('jsonschema', 'rich') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
