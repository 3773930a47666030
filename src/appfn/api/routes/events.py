"""Event ingestion (async triggers) and sync actions.

``POST /v1/events`` and ``POST /v1/events:batch`` answer 202 once the events and their jobs
are committed; ``POST /v1/actions/{trigger}`` runs the matching functions inline and answers
the decision. An operator key may send events for any store; a partner key only for demo
stores (to try its functions).

The two ingestion routes are the platform's hot path. ``IngestEndpoints`` serves them as bare
ASGI ahead of FastAPI's routing (whose request handling costs more than the rest of a
single-event request), with the same checks, answers and error bodies: the FastAPI routes
below stay registered for the OpenAPI document and run the same code (``_ingest_one``,
``_ingest_batch``) if the middleware is not installed. Bodies are decoded with orjson; what
orjson refuses goes through the stdlib decoder, so the same bodies are accepted as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from appfn import store
from appfn.api.auth import cached_principal, principal
from appfn.api.errors import ApiError
from appfn.catalog import load_catalog
from appfn.dispatch.ingest import Accepted, BacklogFull, parse_event
from appfn.dispatch.jobs import EventRecord
from appfn.errors import NotFoundError, Violation

router = APIRouter(tags=["events"])
STORES_TTL_S = 1.0  # a store registered by another server process is seen within this long


def _decode(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass  # what orjson refuses but the stdlib accepts (NaN, huge integers, lone surrogates)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "request body is not valid JSON", str(exc)) from None


async def _json_body(request: Request) -> Any:
    return _decode(await request.body())


def _problems(violations: list[Violation], prefix: str = "") -> list[dict[str, str]]:
    return [{"path": f"{prefix}{v.path}" if v.path else prefix.rstrip("."), "message": v.message} for v in violations]


async def _stores(request: Request, events: list[EventRecord]) -> dict[int, bool]:
    """{store id: is demo}, cached for STORES_TTL_S: not a query per event, nor per request.

    When the cache is stale, concurrent requests share one refresh. A store the cache does not
    know (registered a moment ago, or not at all) always gets a refresh of its own."""
    state = request.app.state
    cached = state.stores_cache  # [checked at, {store id: is demo}]
    missing = any(e.store_id not in cached[1] for e in events)
    if not missing and time.monotonic() - cached[0] <= STORES_TTL_S:
        return cached[1]
    refresh: asyncio.Future[dict[int, bool]] | None = getattr(state, "stores_refresh", None)
    if missing or refresh is None or refresh.done():
        refresh = asyncio.ensure_future(_refresh_stores(state))
        state.stores_refresh = refresh
    return await asyncio.shield(refresh)


async def _refresh_stores(state: Any) -> dict[int, bool]:
    db = state.platform.db

    def known() -> dict[int, bool]:
        with db.read_session() as session:
            return {s.id: s.is_demo for s in store.list_stores(session)}

    checked_at = time.monotonic()
    found = await asyncio.to_thread(known)
    state.stores_cache[:] = [checked_at, found]
    return found


async def _check_stores(request: Request, who: store.Principal, events: list[EventRecord]) -> None:
    """Events come from registered stores; partners may only send for demo stores."""
    stores = await _stores(request, events)
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


async def _accept(request: Request, who: store.Principal, events: list[EventRecord]) -> list[Accepted]:
    await _check_stores(request, who, events)
    try:
        return await request.app.state.platform.ingestor.accept(events)
    except BacklogFull as exc:
        raise ApiError(429, str(exc), None, {"Retry-After": str(exc.retry_after_s)}) from None


def _item(a: Accepted) -> dict[str, Any]:
    return {"id": a.id, "event": a.trigger, "duplicate": a.duplicate, "jobs": a.jobs}


def _answer_one(accepted: list[Accepted]) -> dict[str, Any]:
    [one] = accepted
    return _item(one)


def _answer_batch(accepted: list[Accepted]) -> dict[str, Any]:
    return {"accepted": len(accepted), "events": [_item(a) for a in accepted]}


def _parse_one(request: Request, body: Any, *, encode_data: bool = False) -> list[EventRecord]:
    parsed = parse_event(body, encode_data=encode_data)
    if isinstance(parsed, list):
        raise ApiError(422, "invalid event", _problems(parsed))
    if load_catalog().get(parsed.trigger).is_sync:
        raise ApiError(422, f"{parsed.trigger} is a sync action: POST /v1/actions/{parsed.trigger}")
    return [parsed]


def _parse_batch(request: Request, body: Any, *, encode_data: bool = False) -> list[EventRecord]:
    items = body.get("events") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise ApiError(422, "invalid batch", [{"path": "events", "message": "expected a non-empty array"}])
    limit = request.app.state.platform.settings.max_batch_events
    if len(items) > limit:
        raise ApiError(413, f"a batch holds at most {limit} events, got {len(items)}")
    parsed: list[EventRecord] = []
    problems: list[dict[str, str]] = []
    catalog = load_catalog()
    sync: dict[str, bool] = {}
    for i, item in enumerate(items):
        result = parse_event(item, encode_data=encode_data)
        if isinstance(result, list):
            problems += _problems(result, f"events[{i}].")
            continue
        is_sync = sync.get(result.trigger)
        if is_sync is None:
            is_sync = sync[result.trigger] = catalog.get(result.trigger).is_sync
        if is_sync:
            problems.append({"path": f"events[{i}].event", "message": "a sync action cannot be batched"})
        else:
            parsed.append(result)
    if problems:
        raise ApiError(422, "invalid batch: nothing was accepted", problems)
    return parsed


async def _ingest_one(request: Request, who: store.Principal, body: Any) -> dict[str, Any]:
    return _answer_one(await _accept(request, who, _parse_one(request, body)))


async def _ingest_batch(request: Request, who: store.Principal, body: Any) -> dict[str, Any]:
    return _answer_batch(await _accept(request, who, _parse_batch(request, body)))


@router.post("/v1/events", status_code=202, summary="Send one event (async triggers)")
async def post_event(request: Request) -> JSONResponse:
    """Body: ``{id?, event, merchant, created_at?, data}``. 202 when committed; 422 lists every
    violation with its path; a duplicate id is accepted once (``duplicate: true``)."""
    who = await principal(request)  # called directly: the hot path skips dependency solving
    _accepting(request)
    return JSONResponse(await _ingest_one(request, who, await _json_body(request)), status_code=202)


@router.post("/v1/events:batch", status_code=202, summary="Send up to 500 events at once")
async def post_events(request: Request, who: store.Principal = Depends(principal)) -> JSONResponse:  # noqa: B008
    """Body: ``{"events": [...]}``. All or nothing: one invalid event rejects the batch with
    every problem listed per index (``events[3].data.email``)."""
    _accepting(request)
    return JSONResponse(await _ingest_batch(request, who, await _json_body(request)), status_code=202)


_Parse = Callable[..., list[EventRecord]]
_Answer = Callable[[list[Accepted]], dict[str, Any]]
_FAST_ROUTES: dict[str, tuple[_Parse, _Answer]] = {
    "/v1/events": (_parse_one, _answer_one),
    "/v1/events:batch": (_parse_batch, _answer_batch),
}


class IngestEndpoints:
    """ASGI middleware serving ``POST /v1/events`` and ``POST /v1/events:batch`` itself.

    Install it inside the body limit (``app.add_middleware`` before ``BodyLimit``): a body
    over the limit raises out of ``receive`` and the limit answers 413. Errors are answered by
    the app's own exception handlers, so their status, headers and ``{"error", "detail"}``
    bodies are those of every other route; anything without a handler propagates (500).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _FAST_ROUTES.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        parse, answer = route
        request = Request(scope, receive)
        try:
            who = _known_caller(scope) or await principal(request)
            _accepting(request)  # before reading the body, as the FastAPI route does
            raw = await _read_body(receive)
            with _gc_paused():
                events = parse(request, _decode(raw), encode_data=True)
            accepted = await _accept(request, who, events)
        except ClientDisconnect:
            return
        except Exception as exc:
            handler = _handler_for(scope, exc)
            if handler is None:
                raise
            response: Response = await handler(request, exc)
            await response(scope, receive, send)
            return
        with _gc_paused():
            payload = orjson.dumps(answer(accepted))
        await send({"type": "http.response.start", "status": 202, "headers": [
            (b"content-length", str(len(payload)).encode()), (b"content-type", b"application/json"),
        ]})  # fmt: skip
        await send({"type": "http.response.body", "body": payload})


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused: for decoding and checking a body, and for building
    and encoding the answer (no await inside, so no other request runs meanwhile).

    A batch decodes to thousands of dicts and lists and its answer is hundreds more, all
    acyclic and freed by reference counting as soon as the step is done (the events keep their
    data as JSON, see ``parse_event``). With the collector running, each few hundred of them
    would start a collection that walks them and promotes them, and every few batches one that
    walks the whole heap of the server, for nothing.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _known_caller(scope: Scope) -> store.Principal | None:
    """The principal of a bearer key verified within the cache's TTL, read straight from the raw
    headers; None for anything else (no key, a cookie, a stale or unknown key), which
    ``principal`` then decides as on every route."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                return None
            return cached_principal(scope["app"].state, key)
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _handler_for(scope: Scope, exc: Exception) -> Any:
    """The app's exception handler for ``exc`` (by class, nearest first), as Starlette looks it up."""
    handlers = getattr(scope.get("app"), "exception_handlers", {})
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


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
