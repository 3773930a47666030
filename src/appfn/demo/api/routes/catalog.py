"""``/brands`` (brand.created|updated|deleted) and ``/categories`` (category.created|updated)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from appfn.demo import outbox
from appfn.demo.api.auth import Access, require
from appfn.demo.api.common import Paging, json_body, ok, paged, paging, read, write
from appfn.demo.common import store_info
from appfn.demo.payloads.catalog import brand_data, category_data
from appfn.demo.records import catalog

router = APIRouter()
BRANDS_READ = Depends(require("brands", write=False))
BRANDS_WRITE = Depends(require("brands", write=True))
CATEGORIES_READ = Depends(require("categories", write=False))
CATEGORIES_WRITE = Depends(require("categories", write=True))


@router.get("/brands", tags=["brands"], summary="List brands")
async def list_brands(request: Request, who: Access = BRANDS_READ, page: Paging = Depends(paging)) -> JSONResponse:  # noqa: B008
    def work(s: Session) -> tuple[list[dict[str, Any]], int]:
        store = store_info(s, who.store_id)
        rows, total = catalog.list_brands(s, who.store_id, page.page, page.per_page)
        return [brand_data(r, store) for r in rows], total

    items, total = await read(request, work)
    return paged(request, items, total, page)


@router.get("/brands/{brand_id}", tags=["brands"], summary="Get a brand")
async def get_brand(brand_id: int, request: Request, who: Access = BRANDS_READ) -> JSONResponse:
    def work(s: Session) -> dict[str, Any]:
        return brand_data(catalog.get_brand(s, who.store_id, brand_id), store_info(s, who.store_id))

    return ok(await read(request, work))


@router.post("/brands", status_code=201, tags=["brands"], summary="Create a brand (brand.created)")
async def create_brand(request: Request, who: Access = BRANDS_WRITE) -> JSONResponse:
    values = catalog.parse_brand(await json_body(request))

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        data = brand_data(catalog.create_brand(s, who.store_id, values), store_info(s, who.store_id))
        return data, [outbox.add(s, who.store_id, "brand.created", data)]

    return ok(await write(request, work), 201)


@router.put("/brands/{brand_id}", tags=["brands"], summary="Update a brand (brand.updated)")
async def update_brand(brand_id: int, request: Request, who: Access = BRANDS_WRITE) -> JSONResponse:
    values = catalog.parse_brand(await json_body(request), partial=True)

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        row = catalog.update_brand(s, catalog.get_brand(s, who.store_id, brand_id), values)
        data = brand_data(row, store_info(s, who.store_id))
        return data, [outbox.add(s, who.store_id, "brand.updated", data)]

    return ok(await write(request, work))


@router.delete("/brands/{brand_id}", tags=["brands"], summary="Delete a brand (brand.deleted)")
async def delete_brand(brand_id: int, request: Request, who: Access = BRANDS_WRITE) -> JSONResponse:
    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        row = catalog.get_brand(s, who.store_id, brand_id)
        data = brand_data(row, store_info(s, who.store_id))  # the brand as it was
        catalog.delete_brand(s, row)
        return {"id": brand_id, "message": "The brand has been deleted"}, [
            outbox.add(s, who.store_id, "brand.deleted", data)
        ]

    return ok(await write(request, work))


@router.get("/categories", tags=["categories"], summary="List categories")
async def list_categories(
    request: Request,
    who: Access = CATEGORIES_READ,
    page: Paging = Depends(paging),  # noqa: B008
) -> JSONResponse:
    def work(s: Session) -> tuple[list[dict[str, Any]], int]:
        store = store_info(s, who.store_id)
        rows, total = catalog.list_categories(s, who.store_id, page.page, page.per_page)
        return [category_data(r, store) for r in rows], total

    items, total = await read(request, work)
    return paged(request, items, total, page)


@router.get("/categories/{category_id}", tags=["categories"], summary="Get a category")
async def get_category(category_id: int, request: Request, who: Access = CATEGORIES_READ) -> JSONResponse:
    def work(s: Session) -> dict[str, Any]:
        return category_data(catalog.get_category(s, who.store_id, category_id), store_info(s, who.store_id))

    return ok(await read(request, work))


@router.post("/categories", status_code=201, tags=["categories"], summary="Create a category (category.created)")
async def create_category(request: Request, who: Access = CATEGORIES_WRITE) -> JSONResponse:
    values = catalog.parse_category(await json_body(request))

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        data = category_data(catalog.create_category(s, who.store_id, values), store_info(s, who.store_id))
        return data, [outbox.add(s, who.store_id, "category.created", data)]

    return ok(await write(request, work), 201)


@router.put("/categories/{category_id}", tags=["categories"], summary="Update a category (category.updated)")
async def update_category(category_id: int, request: Request, who: Access = CATEGORIES_WRITE) -> JSONResponse:
    values = catalog.parse_category(await json_body(request), partial=True)

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        row = catalog.update_category(s, catalog.get_category(s, who.store_id, category_id), values)
        data = category_data(row, store_info(s, who.store_id))
        return data, [outbox.add(s, who.store_id, "category.updated", data)]

    return ok(await write(request, work))
