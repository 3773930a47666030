"""Event ingestion (async triggers) and sync actions.

``POST /v1/events`` and ``POST /v1/events:batch`` answer 202 once the events and their jobs
are committed; ``POST /v1/actions/{trigger}`` runs the matching functions inline and answers
the decision. An operator key may send events for any store; a partner key only for demo
stores (to try its functions).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse

from appfn import store
from appfn.api.auth import principal
from appfn.api.errors import ApiError
from appfn.catalog import load_catalog
from appfn.dispatch.ingest import BacklogFull, parse_event
from appfn.dispatch.jobs import EventRecord
from appfn.errors import NotFoundError, Violation

router = APIRouter(tags=["events"])


async def _json_body(request: Request) -> Any:
    body = await request.body()
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "request body is not valid JSON", str(exc)) from None


def _problems(violations: list[Violation], prefix: str = "") -> list[dict[str, str]]:
    return [{"path": f"{prefix}{v.path}" if v.path else prefix.rstrip("."), "message": v.message} for v in violations]


async def _check_stores(request: Request, who: store.Principal, events: list[EventRecord]) -> None:
    """Events come from registered stores; partners may only send for demo stores."""
    platform = request.app.state.platform

    def known() -> dict[int, bool]:
        with platform.db.read_session() as session:
            return {s.id: s.is_demo for s in store.list_stores(session)}

    cached = request.app.state.stores_cache  # [checked at, {store id: is demo}]
    if any(e.store_id not in cached[1] for e in events) or time.monotonic() - cached[0] > 1.0:
        cached[:] = [time.monotonic(), await asyncio.to_thread(known)]  # not a query per event
    stores: dict[int, bool] = cached[1]
    unknown = [i for i, e in enumerate(events) if e.store_id not in stores]
    if unknown:
        where = "merchant" if len(events) == 1 else None
        detail = [{"path": where or f"events[{i}].merchant", "message": f"store {events[i].store_id} is not "
                   "registered (an operator adds it with POST /v1/stores)"} for i in unknown]  # fmt: skip
        raise ApiError(422, "unknown store", detail)
    if not who.is_operator:
        for event in events:
            if not stores[event.store_id]:
                raise ApiError(403, f"store {event.store_id}: partner keys may send events to demo stores only")


def _accepting(request: Request) -> None:
    if not request.app.state.platform.accepting:
        raise ApiError(503, "the server is shutting down", None, {"Retry-After": "5"})


async def _accept(request: Request, events: list[EventRecord]) -> list[dict[str, Any]]:
    try:
        accepted = await request.app.state.platform.ingestor.accept(events)
    except BacklogFull as exc:
        raise ApiError(429, str(exc), None, {"Retry-After": str(exc.retry_after_s)}) from None
    return [{"id": a.id, "event": a.trigger, "duplicate": a.duplicate, "jobs": a.jobs} for a in accepted]


@router.post("/v1/events", status_code=202, summary="Send one event (async triggers)")
async def post_event(request: Request) -> JSONResponse:
    """Body: ``{id?, event, merchant, created_at?, data}``. 202 when committed; 422 lists every
    violation with its path; a duplicate id is accepted once (``duplicate: true``)."""
    who = await principal(request)  # called directly: the hot path skips dependency solving
    _accepting(request)
    parsed = parse_event(await _json_body(request))
    if isinstance(parsed, list):
        raise ApiError(422, "invalid event", _problems(parsed))
    if load_catalog().get(parsed.trigger).is_sync:
        raise ApiError(422, f"{parsed.trigger} is a sync action: POST /v1/actions/{parsed.trigger}")
    await _check_stores(request, who, [parsed])
    [result] = await _accept(request, [parsed])
    return JSONResponse(result, status_code=202)


@router.post("/v1/events:batch", status_code=202, summary="Send up to 500 events at once")
async def post_events(request: Request, who: store.Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """Body: ``{"events": [...]}``. All or nothing: one invalid event rejects the batch with
    every problem listed per index (``events[3].data.email``)."""
    _accepting(request)
    body = await _json_body(request)
    items = body.get("events") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise ApiError(422, "invalid batch", [{"path": "events", "message": "expected a non-empty array"}])
    limit = request.app.state.platform.settings.max_batch_events
    if len(items) > limit:
        raise ApiError(413, f"a batch holds at most {limit} events, got {len(items)}")
    parsed: list[EventRecord] = []
    problems: list[dict[str, str]] = []
    catalog = load_catalog()
    for i, item in enumerate(items):
        result = parse_event(item)
        if isinstance(result, list):
            problems += _problems(result, f"events[{i}].")
        elif catalog.get(result.trigger).is_sync:
            problems.append({"path": f"events[{i}].event", "message": "a sync action cannot be batched"})
        else:
            parsed.append(result)
    if problems:
        raise ApiError(422, "invalid batch: nothing was accepted", problems)
    await _check_stores(request, who, parsed)
    results = await _accept(request, parsed)
    return JSONResponse({"accepted": len(results), "events": results}, status_code=202)


@router.post("/v1/actions/{trigger}", summary="Run a sync action and get the decision")
async def post_action(
    trigger: str, request: Request, who: store.Principal = Depends(principal)  # noqa: B008
) -> dict[str, Any]:
    """Body: ``{id?, merchant, created_at?, data}``. Answers ``{proceed, data, errors, results}``."""
    _accepting(request)
    spec = load_catalog().get(trigger)
    if not spec.is_sync:
        raise ApiError(422, f"{trigger} is an async event: POST /v1/events")
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(422, "invalid action", [{"path": "", "message": "expected a JSON object"}])
    parsed = parse_event({**body, "event": trigger})
    if isinstance(parsed, list):
        raise ApiError(422, "invalid action", _problems(parsed))
    await _check_stores(request, who, [parsed])
    try:
        decision = await request.app.state.platform.actions.run(parsed)
    except NotFoundError as exc:
        raise ApiError(404, str(exc)) from None
    return decision.to_dict()
