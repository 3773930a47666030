"""The request inspector over HTTP (``appfn.demo.inspector``, docs/demo-store.md).

* ``<any method> /inspect/<bin>/...`` records the request and answers ``200 {"ok": true, "id"}``.
  No key needed: it stands in for a CRM or a mail provider, which a function calls with its
  own credentials (masked in the record). Functions' requests to ``<public_url>/inspect/...``
  do not come through here: they are recorded in-process, with the calling app attached.
* ``GET /v1/inspector/requests?bin=&app_id=&event_id=&limit=``: newest first;
  ``GET /v1/inspector/requests/{id}``; ``DELETE /v1/inspector/requests?bin=``. A partner
  sees (and deletes) the records its own apps' functions made; the operator sees all, the
  requests that came over HTTP from elsewhere included.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from appfn import store
from appfn.api.auth import principal
from appfn.api.errors import ApiError
from appfn.api.routes.apps import _db
from appfn.api.serialize import plain
from appfn.demo import inspector
from appfn.errors import ValidationError

router = APIRouter(tags=["inspector"])
Who = store.Principal
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _bin(value: str | None) -> str | None:
    if value is not None and not inspector.BIN_RE.match(value):
        raise ApiError(422, "invalid request", [{"path": "bin", "message": f"not a bin name: {value!r}"}])
    return value


@router.get("/v1/inspector/requests")
async def list_requests(
    request: Request,
    who: Who = Depends(principal),  # noqa: B008
    bin: str | None = Query(None, description="only this bin (/inspect/<bin>/...)"),
    app_id: str | None = Query(None, max_length=64),
    event_id: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    """What the inspector received, newest first (secrets masked)."""
    items = await _db(
        request, inspector.list_requests, partner_id=who.owner, bin=_bin(bin), app_id=app_id, event_id=event_id,
        limit=limit,
    )  # fmt: skip
    return {"items": plain(items)}


@router.get("/v1/inspector/requests/{request_id}")
async def get_request(request_id: str, request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    return plain(await _db(request, inspector.get_request, request_id, partner_id=who.owner))


@router.delete("/v1/inspector/requests")
async def delete_requests(
    request: Request,
    who: Who = Depends(principal),  # noqa: B008
    bin: str | None = Query(None, description="only this bin"),
) -> dict[str, Any]:
    """Forget the caller's records (all of them for the operator), of one bin or every bin."""
    deleted = await _db(request, inspector.delete_requests, write=True, partner_id=who.owner, bin=_bin(bin))
    return {"deleted": deleted}


# Out of the OpenAPI document: one route for every method would repeat one operation id.
@router.api_route("/inspect", methods=METHODS, include_in_schema=False)
@router.api_route("/inspect/{path:path}", methods=METHODS, include_in_schema=False)
async def inspect(request: Request, path: str = "") -> JSONResponse:
    """Record the request under its bin (the first path segment) and answer ``{"ok": true, "id"}``."""
    platform = request.app.state.platform
    new = inspector.NewInspectedRequest(
        method=request.method,
        url=str(request.url),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
        body=await request.body(),
    )
    try:
        record = await asyncio.to_thread(platform.inspector.record, new)
    except ValidationError as exc:
        return JSONResponse({"ok": False, "error": str(exc)}, status_code=404)
    return JSONResponse(inspector.ack(record.id))
