"""What every route uses: the envelope, pagination, JSON bodies, and running store work in a
thread (a read snapshot, or one write transaction whose events are emitted after commit)."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from appfn.demo.errors import AdminError
from appfn.demo.records.paging import DEFAULT_PER_PAGE, MAX_PER_PAGE
from appfn.dispatch.jobs import EventRecord

T = TypeVar("T")


def state_of(request: Request) -> Any:
    """The ``AdminState`` of the sub-application serving ``request`` (see ``appfn.demo.api.app``)."""
    return request.app.state.admin


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int


def paging(
    page: int = Query(1, ge=1, le=1_000_000, description="1-based page number"),
    per_page: int = Query(DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE, description=f"at most {MAX_PER_PAGE}"),
) -> Paging:
    return Paging(page, per_page)


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"status": status, "success": True, "data": data}, status_code=status)


def paged(request: Request, items: list[Any], total: int, paging: Paging) -> JSONResponse:
    pages = max(1, math.ceil(total / paging.per_page))
    links: dict[str, str] = {}
    if paging.page < pages:
        links["next"] = str(request.url.include_query_params(page=paging.page + 1, per_page=paging.per_page))
    if paging.page > 1:
        links["previous"] = str(request.url.include_query_params(page=min(paging.page - 1, pages),
                                                                  per_page=paging.per_page))  # fmt: skip
    body = {
        "status": 200,
        "success": True,
        "data": items,
        "pagination": {
            "count": len(items),
            "total": total,
            "perPage": paging.per_page,
            "currentPage": paging.page,
            "totalPages": pages,
            "links": links,
        },
    }
    return JSONResponse(body)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AdminError(400, "invalid_json", f"The request body is not valid JSON: {exc}") from None


def request_source(request: Request) -> dict[str, Any]:
    """``{device, user-agent, ip}`` of the request, as customer and order payloads carry it."""
    agent = request.headers.get("user-agent", "")
    device = "mobile" if any(m in agent for m in ("Mobile", "Android", "iPhone")) else "desktop"
    return {"device": device, "user-agent": agent, "ip": request.client.host if request.client else None}


async def read(request: Request, work: Callable[[Session], T]) -> T:
    db = state_of(request).platform.db

    def run() -> T:
        with db.read_session() as session:
            return work(session)

    return await asyncio.to_thread(run)


async def write(request: Request, work: Callable[[Session], tuple[T, list[EventRecord]]]) -> T:
    """Run ``work`` in one transaction; once committed, emit the events it added to the outbox."""
    state = state_of(request)

    def run() -> tuple[T, list[EventRecord]]:
        with state.platform.db.session() as session:
            return work(session)

    result, records = await asyncio.to_thread(run)
    await state.outbox.emit(records)
    return result
