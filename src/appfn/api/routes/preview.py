"""Preview: run a function against a real record of a demo store, as its event would.

``POST /v1/apps/{app}/functions/{trigger}/preview`` with ``{store_id, <the trigger's form field,
e.g. customer_id>, source?, language?}``. Without ``source`` the deployed version runs; with it,
the draft runs without being saved. Previews are not recorded as executions.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request

from appfn import store
from appfn.api.auth import principal
from appfn.api.errors import ApiError
from appfn.api.routes.apps import _db
from appfn.api.routes.events import _json_body
from appfn.catalog import load_catalog, make_context
from appfn.demo.preview import preview_data, preview_form
from appfn.dispatch.outbound import Outbound
from appfn.errors import HandlerLoadError, TemplateMismatchError
from appfn.runtime.checks import check_function
from appfn.runtime.languages import DEFAULT_FILENAMES, normalize_language
from appfn.runtime.limits import FunctionCode, Limits

router = APIRouter(tags=["preview"])
Who = store.Principal


@router.post("/v1/apps/{app_id}/functions/{trigger}/preview")
async def preview(app_id: str, trigger: str, request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    """Answers ``{status, response, duration_ms, console, error, requests}``; a function that
    fails is a normal answer (status ``failure``), not an HTTP error."""
    spec = load_catalog().get(trigger)
    body = await _json_body(request) if await request.body() else {}
    if not isinstance(body, dict):
        raise ApiError(422, "invalid preview", [{"path": "", "message": "expected a JSON object"}])
    store_id = body.get("store_id")
    if store_id in (None, ""):
        raise ApiError(422, "store_id is required", [{"path": "store_id", "message": "the demo store to preview on"}])
    if isinstance(store_id, bool) or not str(store_id).isdigit():
        raise ApiError(
            422, "invalid preview", [{"path": "store_id", "message": f"expected a store id, got {store_id!r}"}]
        )
    store_id = int(store_id)
    field = preview_form(trigger)
    if body.get(field) in (None, ""):
        raise ApiError(422, f"Missing required form field(s): {field}", [{"path": field, "message": "required"}])
    installation = await _installation(request, who, app_id, store_id)
    code = await _code(request, who, app_id, trigger, spec.return_type, body)
    platform = request.app.state.platform
    data = await asyncio.to_thread(preview_data, platform.db, store_id, trigger, body)
    context = make_context(trigger, data, settings=installation.settings, merchant=store_id, copy=False)
    limits = Limits(timeout_s=float(spec.timeout_s), memory_mb=platform.settings.memory_mb)
    outbound = Outbound(platform.egress, platform.admin_api, installation.id)
    result = await platform.runtime.invoke(code, context, limits, fetch=outbound.fetch)
    result.requests = outbound.calls
    answer = result.to_dict()
    answer["context"] = {**context, "settings": installation.public_settings()}  # secrets masked
    return answer


async def _installation(request: Request, who: Who, app_id: str, store_id: int) -> store.Installation:
    await _db(request, store.get_app, app_id, partner_id=who.owner)  # 404 for someone else's app
    found = await _db(request, store.list_installations, partner_id=who.owner, app_id=app_id, store_id=store_id)
    if not found:
        raise ApiError(409, f"the app is not installed on store {store_id}: install it first (POST /v1/installations)")
    if found[0].status != "active":
        raise ApiError(409, f"the app's installation on store {store_id} is inactive: activate it to preview")
    return found[0]


async def _code(request: Request, who: Who, app_id: str, trigger: str, return_type: str, body: dict) -> FunctionCode:
    source = body.get("source")
    if source is not None:
        language = normalize_language(body.get("language") or "python")
        filename = DEFAULT_FILENAMES[language]
        try:
            await asyncio.to_thread(check_function, source, filename, language=language, trigger=trigger)
        except TemplateMismatchError as exc:
            detail = {"line": exc.line, "expected_first": exc.expected_first, "expected_last": exc.expected_last}
            raise ApiError(422, str(exc), detail) from None
        except HandlerLoadError as exc:
            raise ApiError(422, f"the draft does not load: {exc}", {"line": exc.line}) from None
        return FunctionCode(source, filename, return_type, language=language)
    function = await _db(request, store.get_function, app_id=app_id, trigger=trigger, partner_id=who.owner)
    versions = await _db(request, store.list_versions, app_id=app_id, trigger=trigger, partner_id=who.owner)
    active = next((v for v in versions if v.id == function.active_version_id), None)
    if active is None:
        latest = versions[0] if versions else None
        if latest is not None and latest.deploy_status == "PENDING":
            raise ApiError(409, "the function is still deploying: retry in a few seconds", None, {"Retry-After": "2"})
        job = await _db(request, store.latest_deploy, latest.id) if latest else None
        reason = job.failure_reason if job else "no version was deployed"
        line = job.failure_line if job else None
        raise ApiError(409, f"the function failed to deploy: {reason}", {"line": line} if line else None)
    return FunctionCode(active.source, active.filename, return_type, key=active.id, language=active.language)
