"""Stores (operator) and installations of apps on stores (the app's partner or an operator).

Installation settings are validated against the app's settings schema; ``password`` fields
are never sent back (they read ``********``; sending that mask keeps the stored secret)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from appfn import store
from appfn.api.auth import operator, principal
from appfn.api.errors import ApiError
from appfn.api.routes.apps import _db
from appfn.api.serialize import installation, plain

router = APIRouter(tags=["stores"])
Who = store.Principal


class StoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored

    id: int = Field(gt=0, description="the merchant id")
    name: str = Field(min_length=1, max_length=200)
    is_demo: bool = False


class InstallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored

    app_id: str
    store_id: int = Field(gt=0)
    settings: dict[str, Any] = Field(default_factory=dict)
    granted_scopes: list[str] | None = None
    status: str = Field("active", pattern="^(active|inactive)$")


class InstallPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored

    settings: dict[str, Any] | None = None
    status: str | None = Field(None, pattern="^(active|inactive)$")
    granted_scopes: list[str] | None = None
    merge: bool = Field(False, description="change only the settings given")


@router.post("/v1/stores", status_code=201)
async def create_store(body: StoreIn, request: Request, who: Who = Depends(operator)) -> dict[str, Any]:  # noqa: B008
    return plain(await _db(request, store.create_store, body.id, body.name, write=True, is_demo=body.is_demo))


@router.get("/v1/stores")
async def list_stores(
    request: Request, who: Who = Depends(principal), demo: bool | None = None  # noqa: B008
) -> dict[str, Any]:
    if not who.is_operator:
        demo = True  # partners see the demo stores they can install on and test with
    return {"items": plain(await _db(request, store.list_stores, is_demo=demo))}


@router.get("/v1/stores/{store_id}")
async def get_store(store_id: int, request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    found = await _db(request, store.get_store, store_id)
    if not who.is_operator and not found.is_demo:
        raise ApiError(404, f"store {store_id} not found")
    return plain(found)


@router.post("/v1/installations", status_code=201)
async def install(body: InstallIn, request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    """Install an app on a store. Partners install their own apps on demo stores."""
    if not who.is_operator:
        target = await _db(request, store.get_store, body.store_id)
        if not target.is_demo:
            raise ApiError(403, "partner keys may install apps on demo stores only")
    created = await _db(
        request, store.install_app, write=True, app_id=body.app_id, store_id=body.store_id,
        partner_id=who.owner, settings=body.settings, granted_scopes=body.granted_scopes, status=body.status,
    )  # fmt: skip
    request.app.state.platform.directory.invalidate()
    return installation(created)


@router.get("/v1/installations")
async def list_installations(
    request: Request,
    who: Who = Depends(principal),  # noqa: B008
    app_id: str | None = None,
    store_id: int | None = Query(None, gt=0),
) -> dict[str, Any]:
    items = await _db(request, store.list_installations, partner_id=who.owner, app_id=app_id, store_id=store_id)
    return {"items": [installation(i) for i in items]}


@router.get("/v1/installations/{installation_id}")
async def get_installation(
    installation_id: str, request: Request, who: Who = Depends(principal)  # noqa: B008
) -> dict[str, Any]:
    return installation(await _db(request, store.get_installation, installation_id, partner_id=who.owner))


@router.patch("/v1/installations/{installation_id}")
async def update_installation(
    installation_id: str, body: InstallPatch, request: Request, who: Who = Depends(principal)  # noqa: B008
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    updated = await _db(
        request, store.update_installation, installation_id, write=True, partner_id=who.owner, **changes
    )
    request.app.state.platform.directory.invalidate()
    return installation(updated)


@router.delete("/v1/installations/{installation_id}", status_code=204)
async def uninstall(installation_id: str, request: Request, who: Who = Depends(principal)) -> None:  # noqa: B008
    await _db(request, store.uninstall, installation_id, write=True, partner_id=who.owner)
    request.app.state.platform.directory.invalidate()
