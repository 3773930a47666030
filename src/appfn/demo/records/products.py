"""Products, their stock, and the low-stock rule."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from appfn.demo.common import get_in_store, new_number_id
from appfn.demo.errors import invalid
from appfn.demo.forms import Form
from appfn.demo.models import DemoProductRow
from appfn.demo.records.catalog import META_KEYS, check_references
from appfn.demo.records.paging import like, paginate
from appfn.store._common import utcnow

TYPES = ("product", "service", "digital", "food", "codes", "donating", "booking", "group_products")
STATUSES = ("sale", "out", "hidden")


def parse(body: Any, *, partial: bool = False) -> dict[str, Any]:
    form = Form(body, partial=partial)
    form.string("name", required=True, max_len=200)
    form.number("price", required=True)
    form.number("sale_price", nullable=True, default=None)
    form.number("cost_price", nullable=True, default=None)
    form.integer("quantity", nullable=True, default=None, minimum=0, maximum=10_000_000)
    form.integer("notify_quantity", nullable=True, default=None, minimum=0, maximum=10_000_000)
    form.string("sku", default="", max_len=100)
    form.string("type", default="product", choices=TYPES)
    form.string("status", default="sale", choices=STATUSES)
    form.string("description", default="", max_len=20_000)
    form.number("weight", default=0, maximum=100_000)
    form.number("calories", nullable=True, default=None)
    form.integer("brand_id", nullable=True, default=None, minimum=1)
    form.id_list("categories", default=[])
    _images(form)
    form.mapping("metadata", default={}, keys=META_KEYS)
    return form.done()


def _images(form: Form) -> None:
    form.known.append("images")
    images = form.body.get("images")
    if images is None:
        if not form.partial:
            form.values["images"] = []
        return
    if not isinstance(images, list) or len(images) > 20:
        form.error("images", "The images field must be a list of at most 20 image URLs.")
    elif not all(isinstance(u, str) and u.startswith(("http://", "https://")) and len(u) <= 500 for u in images):
        form.error("images", "The images field must hold http(s) URLs of at most 500 characters.")
    else:
        form.values["images"] = images


def _apply(session: Session, row: DemoProductRow, values: dict[str, Any]) -> None:
    for key, value in values.items():
        setattr(row, "meta" if key == "metadata" else key, value)
    if row.sale_price is not None and row.sale_price >= row.price:
        raise invalid({"sale_price": [f"The sale_price field must be less than the price ({row.price:g})."]})
    check_references(session, row.store_id, row.brand_id, row.categories)


def create(session: Session, store_id: int, values: dict[str, Any]) -> DemoProductRow:
    now = utcnow()
    row = DemoProductRow(
        id=new_number_id(session, DemoProductRow), store_id=store_id, sold_quantity=0, created_at=now, updated_at=now
    )
    _apply(session, row, values)
    session.add(row)
    session.flush()
    return row


def update(session: Session, row: DemoProductRow, values: dict[str, Any]) -> DemoProductRow:
    _apply(session, row, values)
    row.updated_at = utcnow()
    session.flush()
    return row


def get(session: Session, store_id: int, product_id: int, *, for_update: bool = False) -> DemoProductRow:
    return get_in_store(session, DemoProductRow, store_id, product_id, "product", with_for_update=for_update)


def delete(session: Session, row: DemoProductRow) -> None:
    session.delete(row)
    session.flush()


def search(
    session: Session, store_id: int, keyword: str | None, page: int, per_page: int
) -> tuple[list[DemoProductRow], int]:
    stmt: Select[Any] = select(DemoProductRow).where(DemoProductRow.store_id == store_id)
    if keyword and keyword.strip():
        pattern = like(keyword.strip())
        stmt = stmt.where(
            or_(DemoProductRow.name.ilike(pattern, escape="\\"), DemoProductRow.sku.ilike(pattern, escape="\\"))
        )
    stmt = stmt.order_by(DemoProductRow.created_at.desc(), DemoProductRow.id.desc())
    return paginate(session, stmt, page, per_page)


def parse_quantity(body: Any) -> dict[str, Any]:
    """``{quantity}`` sets the stock; with ``mode: increment | decrement`` it changes it by that much."""
    form = Form(body)
    form.integer("quantity", required=True, minimum=0, maximum=10_000_000)
    form.string("mode", default="set", choices=("set", "increment", "decrement"))
    return form.done()


def set_quantity(row: DemoProductRow, quantity: int | None) -> None:
    row.quantity = quantity
    row.updated_at = utcnow()


def threshold(row: DemoProductRow, default: int) -> int:
    return row.notify_quantity if row.notify_quantity is not None else default


def fell_below(before: int | None, after: int | None, limit: int) -> bool:
    """True when the stock crossed under the threshold with this change (unlimited is above all)."""
    return after is not None and after < limit and (before is None or before >= limit)


def became_available(before: int | None, after: int | None) -> bool:
    return before == 0 and (after is None or after > 0)
