"""Brands and categories (products point at them by id)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appfn.demo.common import get_in_store, new_number_id
from appfn.demo.errors import invalid
from appfn.demo.forms import Form
from appfn.demo.models import DemoBrandRow, DemoCategoryRow
from appfn.demo.records.paging import paginate
from appfn.store._common import utcnow

META_KEYS = ("title", "description", "url")
BRAND_STATUSES = ("active", "hidden")
CATEGORY_STATUSES = ("active", "hidden")


def parse_brand(body: Any, *, partial: bool = False) -> dict[str, Any]:
    form = Form(body, partial=partial)
    form.string("name", required=True, max_len=200)
    form.string("description", default="", max_len=5000)
    form.string("logo", default="", max_len=500)
    form.string("banner", default=None, nullable=True, max_len=500)
    form.string("status", default=None, nullable=True, choices=BRAND_STATUSES)
    form.string("ar_char", max_len=1)
    form.string("en_char", max_len=1)
    form.mapping("metadata", default={}, keys=META_KEYS)
    return form.done()


def _initials(name: str) -> tuple[str, str]:
    """(Arabic initial, Latin initial) of a brand name, "" for the script it does not use."""
    first = name.strip()[:1]
    arabic = "\u0600" <= first <= "\u06ff"
    return (first if arabic else "", "" if arabic else first.upper())


def _apply_brand(row: DemoBrandRow, values: dict[str, Any]) -> None:
    for key, value in values.items():
        setattr(row, "meta" if key == "metadata" else key, value)
    ar, en = _initials(row.name)
    if "ar_char" not in values and ("name" in values or not row.ar_char):
        row.ar_char = ar
    if "en_char" not in values and ("name" in values or not row.en_char):
        row.en_char = en


def create_brand(session: Session, store_id: int, values: dict[str, Any]) -> DemoBrandRow:
    now = utcnow()
    row = DemoBrandRow(id=new_number_id(session, DemoBrandRow), store_id=store_id, ar_char="", en_char="",
                       created_at=now, updated_at=now)  # fmt: skip
    _apply_brand(row, values)
    session.add(row)
    session.flush()
    return row


def update_brand(session: Session, row: DemoBrandRow, values: dict[str, Any]) -> DemoBrandRow:
    _apply_brand(row, values)
    row.updated_at = utcnow()
    session.flush()
    return row


def get_brand(session: Session, store_id: int, brand_id: int) -> DemoBrandRow:
    return get_in_store(session, DemoBrandRow, store_id, brand_id, "brand")


def delete_brand(session: Session, row: DemoBrandRow) -> None:
    session.delete(row)
    session.flush()


def list_brands(session: Session, store_id: int, page: int, per_page: int) -> tuple[list[DemoBrandRow], int]:
    stmt = select(DemoBrandRow).where(DemoBrandRow.store_id == store_id).order_by(DemoBrandRow.name, DemoBrandRow.id)
    return paginate(session, stmt, page, per_page)


# --- categories ---------------------------------------------------------------------------------


def parse_category(body: Any, *, partial: bool = False) -> dict[str, Any]:
    form = Form(body, partial=partial)
    form.string("name", required=True, max_len=200)
    form.string("image", default="", max_len=500)
    form.integer("parent_id", default=0, minimum=0)
    form.integer("sort_order", default=0, minimum=0, maximum=100_000)
    form.string("status", default="active", choices=CATEGORY_STATUSES)
    form.boolean("show_in_app")
    form.mapping("metadata", default={}, keys=META_KEYS)
    return form.done()


def _apply_category(session: Session, row: DemoCategoryRow, values: dict[str, Any]) -> None:
    parent = values.get("parent_id")
    if parent:
        if parent == row.id:
            raise invalid({"parent_id": ["A category cannot be its own parent."]})
        found = session.get(DemoCategoryRow, parent)
        if found is None or found.store_id != row.store_id:
            raise invalid({"parent_id": [f"The parent category {parent} does not exist in this store."]})
    for key, value in values.items():
        if key == "metadata":
            row.meta = value
        elif key == "show_in_app":
            row.show_in = {**(row.show_in or {}), "app": value}
        else:
            setattr(row, key, value)


def create_category(session: Session, store_id: int, values: dict[str, Any]) -> DemoCategoryRow:
    now = utcnow()
    row = DemoCategoryRow(id=new_number_id(session, DemoCategoryRow), store_id=store_id,
                          show_in={"app": True, "salla_points": False}, created_at=now, updated_at=now)  # fmt: skip
    _apply_category(session, row, values)
    session.add(row)
    session.flush()
    return row


def update_category(session: Session, row: DemoCategoryRow, values: dict[str, Any]) -> DemoCategoryRow:
    _apply_category(session, row, values)
    row.updated_at = utcnow()
    session.flush()
    return row


def get_category(session: Session, store_id: int, category_id: int) -> DemoCategoryRow:
    return get_in_store(session, DemoCategoryRow, store_id, category_id, "category")


def list_categories(session: Session, store_id: int, page: int, per_page: int) -> tuple[list[DemoCategoryRow], int]:
    stmt = (
        select(DemoCategoryRow)
        .where(DemoCategoryRow.store_id == store_id)
        .order_by(DemoCategoryRow.parent_id, DemoCategoryRow.sort_order, DemoCategoryRow.id)
    )
    return paginate(session, stmt, page, per_page)


def check_references(session: Session, store_id: int, brand_id: int | None, categories: Iterable[int]) -> None:
    """The product's brand and categories exist in this store (422 naming the field if not)."""
    problems: dict[str, list[str]] = {}
    if brand_id is not None:
        brand = session.get(DemoBrandRow, brand_id)
        if brand is None or brand.store_id != store_id:
            problems["brand_id"] = [f"The brand {brand_id} does not exist in this store."]
    for i, category_id in enumerate(categories):
        category = session.get(DemoCategoryRow, category_id)
        if category is None or category.store_id != store_id:
            problems[f"categories.{i}"] = [f"The category {category_id} does not exist in this store."]
    if problems:
        raise invalid(problems)
