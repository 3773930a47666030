"""``/products``: CRUD and stock (``product.quantity.low`` when it falls below the threshold)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from appfn.demo import outbox
from appfn.demo.api.auth import Access, require
from appfn.demo.api.common import Paging, json_body, ok, paged, paging, read, state_of, write
from appfn.demo.common import StoreInfo, store_info
from appfn.demo.dispatch import stock_events
from appfn.demo.errors import invalid
from appfn.demo.models import DemoBrandRow, DemoProductRow
from appfn.demo.payloads.product import product_data
from appfn.demo.records import products

router = APIRouter(tags=["products"])
READ = Depends(require("products", write=False))
WRITE = Depends(require("products", write=True))


def _data(request: Request, s: Session, row: DemoProductRow, store: StoreInfo) -> dict[str, Any]:
    brand = s.get(DemoBrandRow, row.brand_id) if row.brand_id is not None else None
    return product_data(row, store, vat_percent=state_of(request).config.vat_percent, brand=brand)


@router.get("/products", summary="List products (search by name or SKU)")
async def list_products(
    request: Request,
    who: Access = READ,
    page: Paging = Depends(paging),  # noqa: B008
    keyword: str | None = Query(None, max_length=100, description="part of a name or SKU"),
) -> JSONResponse:
    def work(s: Session) -> tuple[list[dict[str, Any]], int]:
        store = store_info(s, who.store_id)
        rows, total = products.search(s, who.store_id, keyword, page.page, page.per_page)
        return [_data(request, s, r, store) for r in rows], total

    items, total = await read(request, work)
    return paged(request, items, total, page)


@router.get("/products/{product_id}", summary="Get a product")
async def get_product(product_id: int, request: Request, who: Access = READ) -> JSONResponse:
    def work(s: Session) -> dict[str, Any]:
        return _data(request, s, products.get(s, who.store_id, product_id), store_info(s, who.store_id))

    return ok(await read(request, work))


@router.post("/products", status_code=201, summary="Create a product (product.created)")
async def create_product(request: Request, who: Access = WRITE) -> JSONResponse:
    values = products.parse(await json_body(request))

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        row = products.create(s, who.store_id, values)
        data = _data(request, s, row, store_info(s, who.store_id))
        return data, [outbox.add(s, who.store_id, "product.created", data)]

    return ok(await write(request, work), 201)


@router.put("/products/{product_id}", summary="Update a product (product.updated, and stock events)")
async def update_product(product_id: int, request: Request, who: Access = WRITE) -> JSONResponse:
    values = products.parse(await json_body(request), partial=True)
    return ok(await _change(request, who, product_id, values))


@router.put("/products/{product_id}/quantity", summary="Set or change the stock (product.quantity.low)")
async def update_quantity(product_id: int, request: Request, who: Access = WRITE) -> JSONResponse:
    """``{quantity}`` sets it; ``{quantity, mode: "increment" | "decrement"}`` changes it by that much."""
    change = products.parse_quantity(await json_body(request))
    return ok(await _change(request, who, product_id, {}, change))


async def _change(
    request: Request, who: Access, product_id: int, values: dict[str, Any], stock: dict[str, Any] | None = None
) -> dict[str, Any]:
    threshold = state_of(request).config.low_stock_threshold

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        row = products.get(s, who.store_id, product_id, for_update=True)
        before = row.quantity
        products.update(s, row, values)
        if stock is not None:
            products.set_quantity(row, _new_quantity(row.quantity, stock))
        store = store_info(s, who.store_id)
        data = _data(request, s, row, store)
        events = [outbox.add(s, who.store_id, "product.updated", data)]
        events += stock_events(s, row, before, data, threshold)
        return data, events

    return await write(request, work)


def _new_quantity(current: int | None, change: dict[str, Any]) -> int:
    amount, mode = change["quantity"], change["mode"]
    if mode == "set":
        return amount
    if current is None:
        raise invalid({"mode": ["The product has unlimited stock: set a quantity first (mode set)."]})
    if mode == "increment":
        return current + amount
    if amount > current:
        raise invalid({"quantity": [f"Cannot take {amount} away: only {current} in stock."]})
    return current - amount


@router.delete("/products/{product_id}", summary="Delete a product (product.deleted)")
async def delete_product(product_id: int, request: Request, who: Access = WRITE) -> JSONResponse:
    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        row = products.get(s, who.store_id, product_id)
        data = _data(request, s, row, store_info(s, who.store_id))  # as it was, like the original
        products.delete(s, row)
        return {"id": product_id, "message": "The product has been deleted"}, [
            outbox.add(s, who.store_id, "product.deleted", data)
        ]

    return ok(await write(request, work))
