"""Apps and their functions: save (a new immutable version and a deploy job), versions,
rollback, delete. A partner sees only its own apps; an operator sees all."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from appfn import store
from appfn.api.auth import principal
from appfn.api.errors import ApiError
from appfn.api.serialize import plain, version
from appfn.catalog import load_catalog
from appfn.errors import HandlerLoadError, TemplateMismatchError
from appfn.runtime.checks import check_function

router = APIRouter(tags=["apps"])

Who = store.Principal


class AppIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(default_factory=list)
    settings_schema: list[dict[str, Any]] = Field(default_factory=list)
    partner_id: str | None = Field(None, description="operator keys only: the owning partner")


class AppPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored

    name: str | None = Field(None, min_length=1, max_length=200)
    scopes: list[str] | None = None
    settings_schema: list[dict[str, Any]] | None = None


class FunctionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored

    source: str = Field(min_length=1, max_length=1_000_000)
    language: str = Field("python", pattern="^(python|typescript|javascript)$")
    filename: str | None = Field(None, max_length=200)
    name: str | None = Field(None, max_length=200)


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored

    version: int = Field(ge=1)


async def _db(request: Request, fn: Any, *args: Any, write: bool = False, **kwargs: Any) -> Any:
    db = request.app.state.platform.db

    def call() -> Any:
        with db.session() if write else db.read_session() as session:
            return fn(session, *args, **kwargs)

    return await asyncio.to_thread(call)


@router.post("/v1/apps", status_code=201)
async def create_app(body: AppIn, request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    owner = body.partner_id if who.is_operator else who.partner_id
    if owner is None:
        raise ApiError(422, "an operator creating an app must name its partner_id")
    app = await _db(
        request, store.create_app, write=True,
        partner_id=owner, name=body.name, scopes=body.scopes, settings_schema=body.settings_schema,
    )  # fmt: skip
    return plain(app)


@router.get("/v1/apps")
async def list_apps(request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    return {"items": plain(await _db(request, store.list_apps, partner_id=who.owner))}


@router.get("/v1/apps/{app_id}")
async def get_app(app_id: str, request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    app = await _db(request, store.get_app, app_id, partner_id=who.owner)
    functions = await _db(request, store.list_functions, app_id=app_id, partner_id=who.owner)
    return {**plain(app), "functions": plain(functions)}


@router.patch("/v1/apps/{app_id}")
async def update_app(
    app_id: str, body: AppPatch, request: Request, who: Who = Depends(principal)  # noqa: B008
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    app = await _db(request, store.update_app, app_id, write=True, partner_id=who.owner, **changes)
    request.app.state.platform.directory.invalidate()
    return plain(app)


@router.delete("/v1/apps/{app_id}", status_code=204)
async def delete_app(app_id: str, request: Request, who: Who = Depends(principal)) -> None:  # noqa: B008
    await _db(request, store.delete_app, app_id, write=True, partner_id=who.owner)
    request.app.state.platform.directory.invalidate()


@router.put("/v1/apps/{app_id}/functions/{trigger}", status_code=202)
async def save_function(
    app_id: str, trigger: str, body: FunctionIn, request: Request, who: Who = Depends(principal)  # noqa: B008
) -> JSONResponse:
    """Save the function for ``trigger``: a new version and a deploy job (poll its status).
    The version becomes active when its deploy completes; a failed deploy says why and where."""
    load_catalog().get(trigger)
    await _check_template(body, trigger)
    saved = await _db(
        request, store.save_function, write=True, app_id=app_id, trigger=trigger, source=body.source,
        partner_id=who.owner, name=body.name, language=body.language, filename=body.filename,
    )  # fmt: skip
    if saved.job.status == "PENDING":
        request.app.state.platform.deploy(saved.job.id)
    return JSONResponse(
        {
            "function": plain(saved.function),
            "version": version(saved.version),
            "deploy": plain(saved.job),
            "created": saved.created,
        },
        status_code=202,
    )


async def _check_template(body: FunctionIn, trigger: str) -> None:
    """The original's save rule for TypeScript/JavaScript: the first and last lines must be the
    trigger's template lines (refused with the expected lines). Other problems are saved and
    fail the deploy with their line, as for Python."""
    if body.language == "python":
        return
    try:
        await asyncio.to_thread(
            check_function, body.source, body.filename, language=body.language, trigger=trigger
        )
    except TemplateMismatchError as exc:
        detail = {"line": exc.line, "expected_first": exc.expected_first, "expected_last": exc.expected_last}
        raise ApiError(422, str(exc), detail) from None
    except HandlerLoadError:
        pass


@router.get("/v1/apps/{app_id}/functions")
async def list_functions(app_id: str, request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    return {"items": plain(await _db(request, store.list_functions, app_id=app_id, partner_id=who.owner))}


@router.get("/v1/apps/{app_id}/functions/{trigger}")
async def get_function(
    app_id: str, trigger: str, request: Request, who: Who = Depends(principal)  # noqa: B008
) -> dict[str, Any]:
    """The function, its versions (newest first) and the source of the active or latest one."""
    function = await _db(request, store.get_function, app_id=app_id, trigger=trigger, partner_id=who.owner)
    versions = await _db(request, store.list_versions, app_id=app_id, trigger=trigger, partner_id=who.owner)
    shown_id = function.active_version_id or function.latest_version_id
    shown = next((v for v in versions if v.id == shown_id), None)
    return {
        **plain(function),
        "source": shown.source if shown else None,
        "language": shown.language if shown else None,
        "versions": [version(v) for v in versions],
    }


@router.get("/v1/apps/{app_id}/functions/{trigger}/versions/{number}")
async def get_version(
    app_id: str, trigger: str, number: int, request: Request, who: Who = Depends(principal)  # noqa: B008
) -> dict[str, Any]:
    versions = await _db(request, store.list_versions, app_id=app_id, trigger=trigger, partner_id=who.owner)
    found = next((v for v in versions if v.number == number), None)
    if found is None:
        raise ApiError(404, f"version {number} of {trigger} not found")
    return version(found, with_source=True)


@router.post("/v1/apps/{app_id}/functions/{trigger}/rollback")
async def rollback(
    app_id: str, trigger: str, body: RollbackIn, request: Request, who: Who = Depends(principal)  # noqa: B008
) -> dict[str, Any]:
    function = await _db(
        request, store.rollback, write=True, app_id=app_id, trigger=trigger, to_version=body.version,
        partner_id=who.owner,
    )  # fmt: skip
    request.app.state.platform.directory.invalidate()
    return plain(function)


@router.delete("/v1/apps/{app_id}/functions/{trigger}", status_code=204)
async def delete_function(
    app_id: str, trigger: str, request: Request, who: Who = Depends(principal)  # noqa: B008
) -> None:
    await _db(request, store.delete_function, write=True, app_id=app_id, trigger=trigger, partner_id=who.owner)
    request.app.state.platform.directory.invalidate()


@router.get("/v1/deploys/{job_id}")
async def get_deploy(job_id: str, request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    """``PENDING`` → ``COMPLETED`` (runnable) or ``FAILED`` with ``failure_reason`` and ``failure_line``."""
    return plain(await _db(request, store.get_deploy_job, job_id, partner_id=who.owner))
