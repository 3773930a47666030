"""Health, metrics, the trigger catalog, and (operator) partners and keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import PlainTextResponse, Response

from appfn import metrics, store
from appfn.api.auth import operator, principal
from appfn.api.routes.apps import _db
from appfn.api.serialize import key, plain
from appfn.catalog import load_catalog

router = APIRouter()
Who = store.Principal


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored

    name: str = Field(min_length=1, max_length=200)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored

    name: str = Field("api key", min_length=1, max_length=200)


@router.get("/healthz", tags=["system"])
async def healthz(request: Request) -> dict[str, Any]:
    platform = request.app.state.platform
    return {
        "status": "ok" if platform.accepting else "stopping",
        "sandbox": platform.runtime.sandbox.mode,
        "workers": platform.runtime.worker_count,
        "queue": await platform.queue_depth(),
    }


@router.get("/metrics", tags=["system"])
async def prometheus(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    depth = await request.app.state.platform.queue_depth()
    for state, count in depth.items():
        metrics.QUEUE_DEPTH.labels(state).set(count)
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/triggers", tags=["catalog"])
async def triggers(category: str | None = None) -> dict[str, Any]:
    catalog = load_catalog()
    chosen = catalog.by_category(category) if category else list(catalog)
    return {"items": [t.to_dict() for t in chosen]}


@router.get("/v1/triggers/{name}/template", tags=["catalog"], response_class=PlainTextResponse)
async def trigger_template(name: str, lang: str = Query("ts", pattern="^(ts|js|py)$")) -> str:
    """The editor's starting point for ``name`` in TypeScript, JavaScript or Python."""
    from appfn.catalog.templates import template

    load_catalog().get(name)
    return template(name, lang)


@router.get("/v1/triggers/{name}/types", tags=["catalog"], response_class=PlainTextResponse)
async def trigger_types(name: str) -> str:
    """The ``.d.ts`` declarations a TypeScript function for ``name`` needs (context, Resp, Shipment)."""
    from appfn.catalog.typescript import dts_for

    load_catalog().get(name)
    return dts_for(name)


@router.get("/v1/types.d.ts", tags=["catalog"], response_class=PlainTextResponse)
async def all_types() -> str:
    """Every context type of the catalog, with the globals, as one ``.d.ts`` file."""
    from appfn.catalog.typescript import render

    return render()


@router.get("/v1/triggers/{name}", tags=["catalog"])
async def trigger(name: str) -> dict[str, Any]:
    spec = load_catalog().get(name)
    return {**spec.to_dict(), "schema": spec.data_schema(), "example": spec.example_data}


@router.post("/v1/partners", status_code=201, tags=["operator"])
async def create_partner(body: PartnerIn, request: Request, who: Who = Depends(operator)) -> dict[str, Any]:  # noqa: B008
    """A partner and its first key (shown once)."""

    def create(session: Any) -> tuple[Any, Any, str]:
        partner = store.create_partner(session, body.name)
        record, plaintext = store.create_key(session, "partner", partner.id, name=f"{body.name} key")
        return partner, record, plaintext

    partner, record, plaintext = await _db(request, create, write=True)
    return {**plain(partner), "key": {**key(record), "secret": plaintext}}


@router.get("/v1/partners", tags=["operator"])
async def list_partners(request: Request, who: Who = Depends(operator)) -> dict[str, Any]:  # noqa: B008
    return {"items": plain(await _db(request, store.list_partners))}


@router.post("/v1/keys", status_code=201, tags=["keys"])
async def create_key(body: KeyIn, request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    """A new key for the caller's own partner (or, for an operator, another operator key)."""
    record, plaintext = await _db(request, store.create_key, who.role, who.partner_id, write=True, name=body.name)
    return {**key(record), "secret": plaintext}


@router.get("/v1/keys", tags=["keys"])
async def list_keys(request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    return {"items": [key(k) for k in await _db(request, store.list_keys, partner_id=who.owner)]}


@router.delete("/v1/keys/{key_id}", status_code=204, tags=["keys"])
async def revoke_key(key_id: str, request: Request, who: Who = Depends(principal)) -> None:  # noqa: B008
    await _db(request, store.revoke_key, key_id, write=True, partner_id=who.owner)
    request.app.state.key_cache.clear()
