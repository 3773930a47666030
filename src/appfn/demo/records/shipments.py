"""Shipments of an order. Creation is two-step around the sync ``shipment.creating`` action:
``pending`` builds the shipment the functions are asked about (not stored), ``apply_answer``
writes what they set onto it before it is stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from appfn.demo.common import get_in_store, new_number_id
from appfn.demo.errors import AdminError, invalid
from appfn.demo.forms import Form
from appfn.demo.models import DemoOrderRow, DemoShipmentRow
from appfn.demo.records.paging import paginate
from appfn.sdk.response import ShipmentStatus
from appfn.store._common import utcnow

TYPES = ("shipment", "return")
STATUSES = tuple(s.value for s in ShipmentStatus)
_LIMITS = {"shipment_number": 100, "tracking_number": 100, "tracking_link": 500, "status_note": 2000}


def parse_create(body: Any) -> dict[str, Any]:
    form = Form(body)
    form.integer("order_id", required=True, minimum=1)
    form.string("type", default="shipment", choices=TYPES)
    return form.done()


def pending(session: Session, order: DemoOrderRow, kind: str) -> DemoShipmentRow:
    """The shipment about to be created: an id and defaults, not added to the session."""
    if order.status in ("canceled", "restored") and kind == "shipment":
        raise invalid({"order_id": [f"The order {order.id} is {order.status}: it cannot be shipped."]})
    now = utcnow()
    return DemoShipmentRow(
        id=new_number_id(session, DemoShipmentRow), store_id=order.store_id, order_id=order.id, type=kind,
        status="in_progress", created_at=now, updated_at=now,
    )  # fmt: skip


def apply_answer(row: DemoShipmentRow, data: dict[str, Any]) -> None:
    """Write the shipment fields the functions' merged ``data`` set (Shipment builder keys).

    A value of the wrong kind is the app's mistake, not the merchant's: 422 naming the key."""
    problems: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    for key, limit in _LIMITS.items():
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float) or len(str(value)) > limit:
            problems[key] = [f"The app set {key} to something that is not a string of at most {limit} characters."]
        else:
            texts[key] = str(value)
    label = data.get("label")
    if isinstance(label, str):
        label = {"format": "pdf", "url": label}
    if label is not None and not (isinstance(label, dict) and isinstance(label.get("url"), str)):
        problems["label"] = ["The app set label to something that is not {format, url}."]
    status = data.get("status")
    if status is not None and status not in STATUSES:
        problems["status"] = [f"The app set status to {status!r}, not a shipment status."]
    cost = data.get("cost")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0):
        problems["cost"] = ["The app set cost to something that is not a non-negative number."]
    if problems:
        raise AdminError(422, "invalid_app_answer", "The shipping app answered with an invalid shipment", problems)
    row.shipping_number = texts.get("shipment_number", row.shipping_number)
    row.tracking_number = texts.get("tracking_number", row.tracking_number)
    row.tracking_link = texts.get("tracking_link", row.tracking_link)
    row.status_note = texts.get("status_note", row.status_note)
    if label is not None:
        row.label = {"format": str(label.get("format") or "pdf"), "url": label["url"][:500]}
    row.status = status or row.status
    row.cost = float(cost) if cost is not None else row.cost


def get(session: Session, store_id: int, shipment_id: int) -> DemoShipmentRow:
    return get_in_store(session, DemoShipmentRow, store_id, shipment_id, "shipment")


def search(
    session: Session, store_id: int, page: int, per_page: int, *, order_id: int | None = None
) -> tuple[list[DemoShipmentRow], int]:
    stmt: Select[Any] = select(DemoShipmentRow).where(DemoShipmentRow.store_id == store_id)
    if order_id:
        stmt = stmt.where(DemoShipmentRow.order_id == order_id)
    stmt = stmt.order_by(DemoShipmentRow.created_at.desc(), DemoShipmentRow.id.desc())
    return paginate(session, stmt, page, per_page)


def check_cancellable(row: DemoShipmentRow) -> None:
    if row.status == "cancelled":
        raise AdminError(409, "conflict", f"The shipment {row.id} is already cancelled")
    if row.status in ("delivered", "returned"):
        raise AdminError(409, "conflict", f"The shipment {row.id} is {row.status}: it cannot be cancelled")


def cancel(row: DemoShipmentRow) -> None:
    row.status = "cancelled"
    row.updated_at = utcnow()
