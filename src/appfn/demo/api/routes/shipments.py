"""``/shipments``: create for an order around the sync ``shipment.creating`` action, cancel
around ``shipment.cancelling``.

Create: the shipment the functions are asked about is built (not stored) and
``shipment.creating`` runs; any rejection stops there with the function's message (422, and
nothing is stored). Otherwise the shipment is stored with what the functions' merged ``data``
set (number, label, tracking, status, cost) and ``shipment.created`` follows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from appfn import store as platform_store
from appfn.demo import outbox
from appfn.demo.api.auth import Access, require
from appfn.demo.api.common import Paging, json_body, ok, paged, paging, read, state_of, write
from appfn.demo.common import store_info
from appfn.demo.dispatch import courier_app, rejection_message, run_action
from appfn.demo.errors import AdminError, invalid
from appfn.demo.models import DemoShipmentRow
from appfn.demo.payloads.shipment import shipment_data
from appfn.demo.records import orders, shipments
from appfn.errors import NotFoundError

router = APIRouter(tags=["shipments"])
READ = Depends(require("shipping", write=False))
WRITE = Depends(require("shipping", write=True))


def _data(s: Session, row: DemoShipmentRow, store_id: int) -> dict[str, Any]:
    return shipment_data(row, orders.get(s, store_id, row.order_id), store_info(s, store_id))


@router.get("/shipments", summary="List shipments")
async def list_shipments(
    request: Request,
    who: Access = READ,
    page: Paging = Depends(paging),  # noqa: B008
    order_id: int | None = Query(None, ge=1),
) -> JSONResponse:
    def work(s: Session) -> tuple[list[dict[str, Any]], int]:
        rows, total = shipments.search(s, who.store_id, page.page, page.per_page, order_id=order_id)
        return [_data(s, r, who.store_id) for r in rows], total

    items, total = await read(request, work)
    return paged(request, items, total, page)


@router.get("/shipments/{shipment_id}", summary="Get a shipment")
async def get_shipment(shipment_id: int, request: Request, who: Access = READ) -> JSONResponse:
    def work(s: Session) -> dict[str, Any]:
        return _data(s, shipments.get(s, who.store_id, shipment_id), who.store_id)

    return ok(await read(request, work))


@router.post("/shipments", status_code=201, summary="Create a shipment (shipment.creating, then shipment.created)")
async def create_shipment(request: Request, who: Access = WRITE) -> JSONResponse:
    """Body ``{order_id, type?: "shipment" | "return"}``."""
    values = shipments.parse_create(await json_body(request))

    def prepare(s: Session) -> tuple[int, datetime, dict[str, Any]]:
        order = _order_or_field(s, who.store_id, values["order_id"])
        row = shipments.pending(s, order, values["type"])
        return row.id, row.created_at, shipment_data(row, order, store_info(s, who.store_id))

    shipment_id, created_at, asked = await read(request, prepare)
    decision = await run_action(state_of(request).platform, who.store_id, "shipment.creating", asked)
    if not decision.proceed:
        raise AdminError(422, "shipment_rejected", rejection_message(decision))

    def store_it(s: Session) -> tuple[dict[str, Any], list[Any]]:
        order = orders.get(s, who.store_id, values["order_id"])
        row = DemoShipmentRow(id=shipment_id, store_id=who.store_id, order_id=order.id, type=values["type"],
                              status="in_progress", created_at=created_at, updated_at=created_at)  # fmt: skip
        shipments.apply_answer(row, decision.data)
        row.courier_id = courier_app(decision)
        if row.courier_id is not None:
            try:
                row.courier_name = platform_store.get_app(s, row.courier_id, partner_id=None).name
            except NotFoundError:
                row.courier_name = None
        s.add(row)
        s.flush()
        data = shipment_data(row, order, store_info(s, who.store_id))
        return data, [outbox.add(s, who.store_id, "shipment.created", data)]

    return ok(await write(request, store_it), 201)


def _order_or_field(s: Session, store_id: int, order_id: int) -> Any:
    try:
        return orders.get(s, store_id, order_id)
    except AdminError:
        raise invalid({"order_id": [f"The order {order_id} does not exist in this store."]}) from None


@router.post("/shipments/{shipment_id}/cancel", summary="Cancel a shipment (shipment.cancelling, then cancelled)")
async def cancel_shipment(shipment_id: int, request: Request, who: Access = WRITE) -> JSONResponse:
    def prepare(s: Session) -> dict[str, Any]:
        row = shipments.get(s, who.store_id, shipment_id)
        shipments.check_cancellable(row)
        return _data(s, row, who.store_id)

    asked = await read(request, prepare)
    decision = await run_action(state_of(request).platform, who.store_id, "shipment.cancelling", asked)
    if not decision.proceed:
        raise AdminError(422, "cancellation_declined", rejection_message(decision))

    def cancel(s: Session) -> tuple[dict[str, Any], list[Any]]:
        row = shipments.get(s, who.store_id, shipment_id)
        shipments.check_cancellable(row)  # again: another request may have cancelled it meanwhile
        shipments.cancel(row)
        s.flush()
        data = _data(s, row, who.store_id)
        return data, [outbox.add(s, who.store_id, "shipment.cancelled", data)]

    return ok(await write(request, cancel))
