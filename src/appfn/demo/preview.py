"""``payload.data`` for a preview: the real record named by the trigger's preview form
(``customer_id``, ``order_id`` ...), built exactly as the event of a real change would be.

    data = preview_data(db, store_id, "customer.created", {"customer_id": 225167971})

Errors: ``ValidationError`` naming the missing or bad form field (or ``trigger`` when the demo
store keeps no record for it), ``NotFoundError`` when the record is not in that store.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from appfn import store
from appfn.catalog import load_catalog
from appfn.demo.common import store_info
from appfn.demo.config import DemoConfig
from appfn.demo.errors import AdminError
from appfn.demo.models import DemoBrandRow, DemoOrderStatusRow
from appfn.demo.payloads.catalog import brand_data, category_data
from appfn.demo.payloads.customer import customer_data
from appfn.demo.payloads.order import order_data, status_change_data
from appfn.demo.payloads.product import product_data
from appfn.demo.payloads.shipment import shipment_data
from appfn.demo.records import catalog, customers, orders, products, shipments
from appfn.errors import NotFoundError, ValidationError
from appfn.store._common import utcnow

Builder = Callable[[Session, int, int, str, DemoConfig], dict[str, Any]]


def _customer(s: Session, store_id: int, ident: int, trigger: str, config: DemoConfig) -> dict[str, Any]:
    row = customers.get(s, store_id, ident)
    if trigger == "customer.otp.request":  # the event carries only a fresh code and where it goes
        return {"code": f"{secrets.randbelow(10_000):04d}", "contact": f"{row.mobile_code}{row.mobile}"}
    return customer_data(row, store_info(s, store_id))


def _product(s: Session, store_id: int, ident: int, trigger: str, config: DemoConfig) -> dict[str, Any]:
    row = products.get(s, store_id, ident)
    brand = s.get(DemoBrandRow, row.brand_id) if row.brand_id is not None else None
    return product_data(row, store_info(s, store_id), vat_percent=config.vat_percent, brand=brand)


def _order(s: Session, store_id: int, ident: int, trigger: str, config: DemoConfig) -> dict[str, Any]:
    order = orders.get(s, store_id, ident)
    shipped = orders.shipments_of(s, order.id)
    store_ = store_info(s, store_id)
    if trigger != "order.status.updated":
        return order_data(order, shipped, store_)
    change = orders.latest_status_change(s, order) or DemoOrderStatusRow(
        id=order.id, order_id=order.id, store_id=store_id, status=order.status, note="", created_at=utcnow()
    )  # an order never changed: its current status stands in for the change
    return status_change_data(change, order, shipped, store_)


def _shipment(s: Session, store_id: int, ident: int, trigger: str, config: DemoConfig) -> dict[str, Any]:
    row = shipments.get(s, store_id, ident)
    return shipment_data(row, orders.get(s, store_id, row.order_id), store_info(s, store_id))


def _brand(s: Session, store_id: int, ident: int, trigger: str, config: DemoConfig) -> dict[str, Any]:
    return brand_data(catalog.get_brand(s, store_id, ident), store_info(s, store_id))


def _category(s: Session, store_id: int, ident: int, trigger: str, config: DemoConfig) -> dict[str, Any]:
    return category_data(catalog.get_category(s, store_id, ident), store_info(s, store_id))


# The preview form field of each family -> how to load and build its record.
BUILDERS: dict[str, tuple[str, Builder]] = {
    "customer": ("customer_id", _customer),
    "product": ("product_id", _product),
    "order": ("order_id", _order),
    "shipment": ("shipment_id", _shipment),
    "brand": ("brand_id", _brand),
    "category": ("category_id", _category),
}
# Triggers the demo store emits or can build (merchant events of these families).
_FAMILY_TRIGGERS = {
    "customer": ("customer.created", "customer.updated", "customer.login", "customer.otp.request"),
    "product": ("product.created", "product.updated", "product.deleted", "product.available", "product.quantity.low"),
    "order": ("order.created", "order.status.updated", "order.deleted", "order.products.updated",
              "order.payment.updated", "order.coupon.updated", "order.total.price.updated"),
    "shipment": ("shipment.creating", "shipment.created", "shipment.cancelling", "shipment.cancelled",
                 "shipment.updated"),
    "brand": ("brand.created", "brand.updated", "brand.deleted"),
    "category": ("category.created", "category.updated"),
}  # fmt: skip
TRIGGER_FAMILY = {t: family for family, triggers in _FAMILY_TRIGGERS.items() for t in triggers}


def preview_form(trigger: str) -> str:
    """The form field a preview of ``trigger`` needs (ValidationError if the demo store has none)."""
    load_catalog().get(trigger)  # UnknownTriggerError with suggestions
    family = TRIGGER_FAMILY.get(trigger)
    if family is None:
        raise ValidationError("trigger", f"the demo store keeps no records for {trigger}: preview it with sample data")
    return BUILDERS[family][0]


def preview_data(
    db: store.Database, store_id: int, trigger: str, form: Mapping[str, Any], *, config: DemoConfig | None = None
) -> dict[str, Any]:
    """The ``payload.data`` a real ``trigger`` event about the record named in ``form`` carries."""
    field = preview_form(trigger)
    raw = form.get(field)
    if raw is None or raw == "":
        raise ValidationError(field, f"missing required form field {field} (the id of the record to preview)")
    ident = int(raw) if isinstance(raw, str) and raw.strip().isdigit() else raw
    if isinstance(ident, bool) or not isinstance(ident, int) or ident <= 0:
        raise ValidationError(field, f"{field} must be a positive integer id, got {raw!r}")
    with db.read_session() as session:
        try:
            return BUILDERS[TRIGGER_FAMILY[trigger]][1](session, store_id, ident, trigger, config or DemoConfig())
        except AdminError as exc:
            if exc.status == 404:
                raise NotFoundError(field.removesuffix("_id"), ident) from None
            raise
