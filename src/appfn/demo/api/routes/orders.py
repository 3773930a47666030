"""``/orders``: place (``order.created``), read, list, change status (``order.status.updated``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from appfn.demo import outbox
from appfn.demo.api.auth import Access, require
from appfn.demo.api.common import Paging, json_body, ok, paged, paging, read, request_source, state_of, write
from appfn.demo.common import StoreInfo, store_info
from appfn.demo.dispatch import stock_events
from appfn.demo.errors import invalid
from appfn.demo.models import DemoBrandRow, DemoOrderRow
from appfn.demo.payloads.order import STATUSES, order_data, status_change_data
from appfn.demo.payloads.product import product_data
from appfn.demo.records import orders

router = APIRouter(tags=["orders"])
READ = Depends(require("orders", write=False))
WRITE = Depends(require("orders", write=True))


def _data(s: Session, order: DemoOrderRow, store: StoreInfo) -> dict[str, Any]:
    return order_data(order, orders.shipments_of(s, order.id), store)


@router.get("/orders", summary="List orders, newest first")
async def list_orders(
    request: Request,
    who: Access = READ,
    page: Paging = Depends(paging),  # noqa: B008
    status: str | None = Query(None, description="only orders with this status slug"),
    customer_id: int | None = Query(None, ge=1),
) -> JSONResponse:
    if status is not None and status not in STATUSES:
        raise invalid({"status": [f"The status must be one of: {', '.join(STATUSES)}."]})

    def work(s: Session) -> tuple[list[dict[str, Any]], int]:
        store = store_info(s, who.store_id)
        rows, total = orders.search(s, who.store_id, page.page, page.per_page, status=status, customer_id=customer_id)
        return [_data(s, r, store) for r in rows], total

    items, total = await read(request, work)
    return paged(request, items, total, page)


@router.get("/orders/statuses", summary="The order statuses (slug, id, name)")
async def list_statuses(who: Access = READ) -> JSONResponse:
    return ok([{"id": sid, "name": name, "slug": slug} for slug, (sid, name) in STATUSES.items()])


@router.get("/orders/{order_id}", summary="Get an order")
async def get_order(order_id: int, request: Request, who: Access = READ) -> JSONResponse:
    def work(s: Session) -> dict[str, Any]:
        return _data(s, orders.get(s, who.store_id, order_id), store_info(s, who.store_id))

    return ok(await read(request, work))


@router.post("/orders", status_code=201, summary="Place an order (order.created)")
async def create_order(request: Request, who: Access = WRITE) -> JSONResponse:
    """Body ``{customer_id, items: [{product_id, quantity}], payment_method?, shipping_cost?,
    shipping_address?}``. Prices come from the products; VAT and totals are computed."""
    config = state_of(request).config
    values = orders.parse(await json_body(request))
    source = request_source(request)

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        store = store_info(s, who.store_id)
        order, changes = orders.create(s, store, values, source_details=source, vat_percent=config.vat_percent)
        data = _data(s, order, store)
        events = [outbox.add(s, who.store_id, "order.created", data)]
        for change in changes:
            if change.before != change.after:
                product = product_data(change.product, store, vat_percent=config.vat_percent,
                                       brand=s.get(DemoBrandRow, change.product.brand_id or 0))  # fmt: skip
                events += stock_events(s, change.product, change.before, product, config.low_stock_threshold)
        return data, events

    return ok(await write(request, work), 201)


@router.post("/orders/{order_id}/status", summary="Change an order's status (order.status.updated)")
async def update_status(order_id: int, request: Request, who: Access = WRITE) -> JSONResponse:
    """Body ``{slug, note?}``; the slugs are those of ``GET /orders/statuses``."""
    values = orders.parse_status(await json_body(request))

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        store = store_info(s, who.store_id)
        order = orders.get(s, who.store_id, order_id)
        change = orders.change_status(s, order, values["slug"], values["note"])
        event = status_change_data(change, order, orders.shipments_of(s, order.id), store)
        return _data(s, order, store), [outbox.add(s, who.store_id, "order.status.updated", event)]

    return ok(await write(request, work))
