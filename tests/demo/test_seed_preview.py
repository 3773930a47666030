"""Seeding a demo store (no events) and building preview payloads from its records."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appfn import store
from appfn.catalog import load_catalog
from appfn.demo import preview_data, seed_demo_store
from appfn.demo.models import DemoOutboxRow
from appfn.demo.preview import TRIGGER_FAMILY
from appfn.errors import NotFoundError, UnknownTriggerError, ValidationError

STORE = 4242


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[store.Database, object]:
    db = store.Database.open(data_dir=Path(tmp_path_factory.mktemp("seed")))
    with db.session() as s:
        store.upsert_store(s, STORE, "متجر تجريبي", is_demo=True)
    return db, seed_demo_store(db, STORE)


def test_seeding_writes_realistic_records_and_no_events(seeded) -> None:  # type: ignore[no-untyped-def]
    db, summary = seeded
    assert summary.created is True
    assert (len(summary.customers), len(summary.products), len(summary.orders)) == (25, 30, 20)
    customers = [preview_data(db, STORE, "customer.created", {"customer_id": c}) for c in summary.customers]
    arabic = [c for c in customers if re.search("[\u0600-\u06ff]", c["first_name"])]
    english = [c for c in customers if re.fullmatch("[A-Za-z' -]+", c["first_name"])]
    assert arabic and english and len(arabic) + len(english) == 25
    assert all(c["mobile_code"] == "+966" and re.fullmatch(r"5\d{8}", str(c["mobile"])) for c in customers)
    assert len({c["mobile"] for c in customers}) == 25 and len({c["email"] for c in customers}) == 25
    with db.read_session() as s:
        assert store.list_events(s, store_id=STORE) == []
        assert s.query(DemoOutboxRow).count() == 0

    # Seeding again leaves the store as it is
    again = seed_demo_store(db, STORE)
    assert again.created is False and again.customers == []


def test_preview_builds_every_family_from_the_seeded_records(seeded) -> None:  # type: ignore[no-untyped-def]
    db, summary = seeded
    ids = {"customer": summary.customers[0], "product": summary.products[0], "order": summary.orders[0],
           "brand": summary.brands[0], "category": summary.categories[0]}  # fmt: skip
    catalog = load_catalog()
    for trigger, family in TRIGGER_FAMILY.items():
        if family == "shipment":
            continue  # no shipments are seeded
        field = f"{family}_id"
        data = preview_data(db, STORE, trigger, {field: str(ids[family])})  # ids may come as strings
        assert catalog.validate_data(trigger, data) == [], trigger
    otp = preview_data(db, STORE, "customer.otp.request", {"customer_id": summary.customers[0]})
    assert set(otp) == {"code", "contact"} and otp["contact"].startswith("+9665")
    status = preview_data(db, STORE, "order.status.updated", {"order_id": summary.orders[0]})
    assert status["order"]["id"] == summary.orders[0]


def test_preview_errors_name_the_field(seeded) -> None:  # type: ignore[no-untyped-def]
    db, summary = seeded
    with pytest.raises(ValidationError) as missing:
        preview_data(db, STORE, "customer.created", {})
    assert missing.value.field == "customer_id" and "missing required form field" in str(missing.value)
    with pytest.raises(ValidationError) as bad:
        preview_data(db, STORE, "order.created", {"order_id": "abc"})
    assert bad.value.field == "order_id"
    with pytest.raises(NotFoundError) as absent:
        preview_data(db, STORE, "customer.created", {"customer_id": 1})
    assert absent.value.kind == "customer"
    with pytest.raises(NotFoundError):  # another store's record is not found either
        preview_data(db, 1, "customer.created", {"customer_id": summary.customers[0]})
    with pytest.raises(ValidationError) as storefront:
        preview_data(db, STORE, "product.viewed", {"product_id": summary.products[0]})
    assert storefront.value.field == "trigger"
    with pytest.raises(UnknownTriggerError):
        preview_data(db, STORE, "customer.creatd", {"customer_id": 1})
