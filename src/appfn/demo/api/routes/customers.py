"""``/customers`` and the storefront's sign-in and OTP request (which customers trigger)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from appfn.demo import outbox
from appfn.demo.api.auth import Access, require
from appfn.demo.api.common import Paging, json_body, ok, paged, paging, read, request_source, write
from appfn.demo.common import store_info
from appfn.demo.errors import invalid
from appfn.demo.forms import EMAIL_RE, Form
from appfn.demo.payloads.customer import customer_data
from appfn.demo.records import customers

router = APIRouter(tags=["customers"])
READ = Depends(require("customers", write=False))
WRITE = Depends(require("customers", write=True))


@router.get("/customers", summary="List customers (search by name, email or mobile)")
async def list_customers(
    request: Request,
    who: Access = READ,
    page: Paging = Depends(paging),  # noqa: B008
    keyword: str | None = Query(None, max_length=100, description="part of a name, e-mail or mobile"),
) -> JSONResponse:
    def work(s: Session) -> tuple[list[dict[str, Any]], int]:
        store = store_info(s, who.store_id)
        rows, total = customers.search(s, who.store_id, keyword, page.page, page.per_page)
        return [customer_data(r, store) for r in rows], total

    items, total = await read(request, work)
    return paged(request, items, total, page)


@router.get("/customers/{customer_id}", summary="Get a customer")
async def get_customer(customer_id: int, request: Request, who: Access = READ) -> JSONResponse:
    def work(s: Session) -> dict[str, Any]:
        return customer_data(customers.get(s, who.store_id, customer_id), store_info(s, who.store_id))

    return ok(await read(request, work))


@router.post("/customers", status_code=201, summary="Create a customer (customer.created)")
async def create_customer(request: Request, who: Access = WRITE) -> JSONResponse:
    values = customers.parse(await json_body(request))
    source = request_source(request)

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        row = customers.create(s, who.store_id, values, source=source)
        data = customer_data(row, store_info(s, who.store_id))
        return data, [outbox.add(s, who.store_id, "customer.created", data)]

    return ok(await write(request, work), 201)


@router.put("/customers/{customer_id}", summary="Update a customer (customer.updated)")
async def update_customer(customer_id: int, request: Request, who: Access = WRITE) -> JSONResponse:
    body = await json_body(request)

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        row = customers.get(s, who.store_id, customer_id)
        customers.update(s, row, customers.parse(body, partial=True, current_code=row.mobile_code))
        data = customer_data(row, store_info(s, who.store_id))
        return data, [outbox.add(s, who.store_id, "customer.updated", data)]

    return ok(await write(request, work))


@router.delete("/customers/{customer_id}", summary="Delete a customer (no trigger exists for it)")
async def delete_customer(customer_id: int, request: Request, who: Access = WRITE) -> JSONResponse:
    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        customers.delete(s, customers.get(s, who.store_id, customer_id))
        return {"id": customer_id, "message": "The customer has been deleted"}, []

    return ok(await write(request, work))


# --- storefront ---------------------------------------------------------------------------------


@router.post("/storefront/login", tags=["storefront"], summary="A customer signs in (customer.login)")
async def login(request: Request, who: Access = WRITE) -> JSONResponse:
    """Body ``{email}`` or ``{mobile, mobile_code?}`` of an existing customer (no password:
    this stands in for the storefront's sign-in)."""
    body = await json_body(request)

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        row = customers.find_by_contact(s, who.store_id, body)
        data = customer_data(row, store_info(s, who.store_id))
        return data, [outbox.add(s, who.store_id, "customer.login", data)]

    return ok(await write(request, work))


@router.post("/storefront/otp", tags=["storefront"], summary="Request a one-time code (customer.otp.request)")
async def request_otp(request: Request, who: Access = WRITE) -> JSONResponse:
    """Body ``{contact}``: a mobile in international form (``+966551234567``) or an e-mail.
    The demo store answers with the code too, so it can be tried without a phone."""
    form = Form(await json_body(request))
    form.string("contact", required=True, max_len=200, allow_empty=False)
    contact = form.done()["contact"].replace(" ", "")
    if not (EMAIL_RE.match(contact) or (contact.startswith("+") and contact[1:].isdigit() and len(contact) >= 8)):
        raise invalid({"contact": ["The contact field must be an e-mail or a mobile such as +966551234567."]})
    data = {"code": f"{secrets.randbelow(10_000):04d}", "contact": contact}

    def work(s: Session) -> tuple[dict[str, Any], list[Any]]:
        store_info(s, who.store_id)
        return {**data, "expires_in": 300}, [outbox.add(s, who.store_id, "customer.otp.request", data)]

    return ok(await write(request, work))
