"""Orders: placing one (items priced from the products, stock taken), status changes, lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from appfn.demo.common import StoreInfo, amount, get_in_store, new_number_id
from appfn.demo.errors import AdminError, invalid
from appfn.demo.forms import Form
from appfn.demo.models import DemoOrderRow, DemoOrderStatusRow, DemoProductRow, DemoShipmentRow
from appfn.demo.payloads.customer import order_customer
from appfn.demo.payloads.order import STATUSES, item_amounts, weight_label
from appfn.demo.payloads.product import order_item_product, unit_price
from appfn.demo.records import customers
from appfn.demo.records.paging import paginate
from appfn.store._common import utcnow

PAYMENT_METHODS = ("cod", "bank", "credit_card", "mada", "apple_pay", "stc_pay", "tabby", "tamara")
ADDRESS_KEYS = ("country", "country_code", "city", "street_number", "block", "postal_code")
FIRST_REFERENCE = 10001
MAX_ITEMS = 50


@dataclass
class StockChange:
    product: DemoProductRow
    before: int | None
    after: int | None


def parse(body: Any) -> dict[str, Any]:
    form = Form(body)
    form.integer("customer_id", required=True, minimum=1)
    form.string("payment_method", default="cod", choices=PAYMENT_METHODS)
    form.number("shipping_cost", default=25)
    form.string("status", default="under_review", choices=tuple(STATUSES))
    form.mapping("shipping_address", default={}, keys=ADDRESS_KEYS)
    items = form.body.get("items")
    if not isinstance(items, list) or not items:
        form.error("items", "The items field is required: a list of {product_id, quantity}.")
    elif len(items) > MAX_ITEMS:
        form.error("items", f"The items field may not have more than {MAX_ITEMS} items.")
    else:
        form.values["items"] = [_item(form, i, item) for i, item in enumerate(items)]
    return form.done()


def _item(form: Form, index: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        form.error(f"items.{index}", "Each item must be an object {product_id, quantity}.")
        return {}
    inner = Form(item)
    inner.integer("product_id", required=True, minimum=1)
    inner.integer("quantity", default=1, minimum=1, maximum=1000)
    inner.string("notes", default="", max_len=500)
    for field, messages in inner.errors.items():
        form.errors[f"items.{index}.{field}"] = messages
    return inner.values


def create(
    session: Session,
    store: StoreInfo,
    values: dict[str, Any],
    *,
    source_details: dict[str, Any],
    vat_percent: float,
    now: datetime | None = None,
) -> tuple[DemoOrderRow, list[StockChange]]:
    """Place an order; the products' stock goes down by what was bought."""
    try:
        customer = customers.get(session, store.id, values["customer_id"])
    except AdminError:
        missing = f"The customer {values['customer_id']} does not exist in this store."
        raise invalid({"customer_id": [missing]}) from None
    lines, changes, problems = [], [], {}
    for i, wanted in enumerate(values["items"]):
        product = session.get(DemoProductRow, wanted["product_id"], with_for_update=True)
        if product is None or product.store_id != store.id:
            problems[f"items.{i}.product_id"] = [f"The product {wanted['product_id']} does not exist in this store."]
            continue
        if product.status != "sale":
            problems[f"items.{i}.product_id"] = [f"The product {product.id} is not for sale (status {product.status})."]
            continue
        if product.quantity is not None and product.quantity < wanted["quantity"]:
            problems[f"items.{i}.quantity"] = [f"Only {product.quantity} of product {product.id} left in stock."]
            continue
        lines.append(_line(session, product, wanted, store, vat_percent))
        before = product.quantity
        if product.quantity is not None:
            product.quantity -= wanted["quantity"]
        product.sold_quantity += wanted["quantity"]
        changes.append(StockChange(product, before, product.quantity))
    if problems:
        raise invalid(problems)
    now = now or utcnow()
    address = {"country": customer.country, "country_code": customer.country_code, "city": customer.city,
               **values["shipping_address"]}  # fmt: skip
    order = DemoOrderRow(
        id=new_number_id(session, DemoOrderRow),
        store_id=store.id,
        reference_id=_next_reference(session, store.id),
        customer_id=customer.id,
        customer=order_customer(customer, store),
        items=lines,
        amounts=_amounts(lines, values["shipping_cost"], vat_percent),
        shipping_address=address,
        source_details=source_details,
        status=values["status"],
        payment_method=values["payment_method"],
        currency="SAR",
        created_at=now,
        updated_at=now,
        first_complete_at=now if values["status"] == "completed" else None,
    )
    session.add(order)
    session.flush()
    return order, changes


def _line(
    session: Session, product: DemoProductRow, wanted: dict[str, Any], store: StoreInfo, vat_percent: float
) -> dict[str, Any]:
    """One item as order.created carries it (priced now; later price changes do not touch it)."""
    return {
        "id": new_number_id(session, DemoOrderRow),  # item ids share the order id space
        "name": product.name,
        "sku": product.sku,
        "quantity": wanted["quantity"],
        "currency": "SAR",
        "weight": product.weight,
        "weight_label": weight_label(product.weight),
        "amounts": item_amounts(unit_price(product), wanted["quantity"], vat_percent),
        "notes": wanted.get("notes", ""),
        "product": order_item_product(product, store),
        "options": [],
        "images": [],
        "codes": [],
        "files": [],
    }


def _amounts(lines: list[dict[str, Any]], shipping_cost: float, vat_percent: float) -> dict[str, Any]:
    sub_total = sum(line["amounts"]["price_without_tax"]["amount"] for line in lines)
    tax = sum(line["amounts"]["tax"]["amount"]["amount"] for line in lines)
    return {
        "sub_total": amount(sub_total),
        "shipping_cost": amount(shipping_cost),
        "cash_on_delivery": amount(0),
        "tax": {"percent": f"{vat_percent:.2f}", "amount": amount(tax)},
        "discounts": [],
        "total": amount(sub_total + tax + shipping_cost),
    }


def _next_reference(session: Session, store_id: int) -> int:
    # Unique per store (constraint): two concurrent orders on PostgreSQL may both pick the same
    # number, and the loser gets a 409 to retry. SQLite serialises writers, so it never happens.
    top = session.execute(select(func.max(DemoOrderRow.reference_id)).where(DemoOrderRow.store_id == store_id))
    current = top.scalar_one_or_none()
    return FIRST_REFERENCE if current is None else current + 1


def get(session: Session, store_id: int, order_id: int) -> DemoOrderRow:
    return get_in_store(session, DemoOrderRow, store_id, order_id, "order")


def shipments_of(session: Session, order_id: int) -> list[DemoShipmentRow]:
    stmt = select(DemoShipmentRow).where(DemoShipmentRow.order_id == order_id)
    return list(session.execute(stmt.order_by(DemoShipmentRow.created_at, DemoShipmentRow.id)).scalars())


def search(
    session: Session, store_id: int, page: int, per_page: int, *, status: str | None = None,
    customer_id: int | None = None,
) -> tuple[list[DemoOrderRow], int]:  # fmt: skip
    stmt: Select[Any] = select(DemoOrderRow).where(DemoOrderRow.store_id == store_id)
    if status:
        stmt = stmt.where(DemoOrderRow.status == status)
    if customer_id:
        stmt = stmt.where(DemoOrderRow.customer_id == customer_id)
    return paginate(session, stmt.order_by(DemoOrderRow.reference_id.desc()), page, per_page)


def parse_status(body: Any) -> dict[str, Any]:
    form = Form(body)
    form.string("slug", required=True, choices=tuple(STATUSES))
    form.string("note", default="", max_len=1000)
    return form.done()


def change_status(
    session: Session, order: DemoOrderRow, slug: str, note: str, *, now: datetime | None = None
) -> DemoOrderStatusRow:
    if order.status == slug:
        raise invalid({"slug": [f"The order is already {slug}."]})
    now = now or utcnow()
    order.status = slug
    order.updated_at = now
    if slug == "completed" and order.first_complete_at is None:
        order.first_complete_at = now
    change = DemoOrderStatusRow(
        id=new_number_id(session, DemoOrderStatusRow), order_id=order.id, store_id=order.store_id, status=slug,
        note=note, created_at=now,
    )  # fmt: skip
    session.add(change)
    session.flush()
    return change


def latest_status_change(session: Session, order: DemoOrderRow) -> DemoOrderStatusRow | None:
    stmt = select(DemoOrderStatusRow).where(DemoOrderStatusRow.order_id == order.id)
    return session.execute(stmt.order_by(DemoOrderStatusRow.created_at.desc()).limit(1)).scalar_one_or_none()
