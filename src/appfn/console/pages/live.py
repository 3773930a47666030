"""The executions list's live feed: server-sent events (``/executions/stream``).

Every ``TICK_S`` one small query (ids, statuses and times; at most ``ROWS_PER_TICK`` rows) finds
executions that are new or changed since the last one sent, and each goes out as its table
row's HTML. Executions are written when they finish but sorted by when they started, so each
poll looks back ``LOOKBACK_S``. A heartbeat comment keeps proxies from closing an idle stream;
a stream ends after ``MAX_STREAM_S`` (the browser reconnects with ``Last-Event-ID`` and resumes);
at most ``MAX_STREAMS`` are open at once (503 with ``Retry-After`` past that).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from appfn import store
from appfn.console import web
from appfn.console.pages.executions import Filters, app_names, parse_time
from appfn.store import stats

router = APIRouter()

TICK_S = 0.5
HEARTBEAT_S = 15.0
LOOKBACK_S = 45.0  # > the async timeout (30 s by default) + flush delay
MAX_STREAMS = 32
MAX_STREAM_S = 300.0
ROWS_PER_TICK = 50


def _row_html(execution: store.Execution, names: Mapping[str, str]) -> str:
    template = web.templates.env.get_template("executions/_row.html")
    return template.render(e=execution, names=names)


def _sse(event: str, data: Any, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get("/executions/stream")
async def stream(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    filters = Filters.parse(request.query_params)
    state = request.app.state
    active = getattr(state, "console_execution_streams", 0)
    if active >= MAX_STREAMS:
        return Response(
            "too many live lists open; reload later", status_code=503, headers={"Retry-After": "10"},
            media_type="text/plain",
        )  # fmt: skip
    start = _stream_start(request)
    state.console_execution_streams = active + 1
    names = await web.call(web.read(request, lambda s: app_names(s, who)))
    kwargs = {"app_id": filters.app, "store_id": filters.store, "trigger": filters.trigger}
    statuses = [filters.status] if filters.status else None

    def poll(since: datetime) -> list[stats.FeedItem]:
        with request.app.state.platform.db.read_session() as s:
            return stats.feed(s, partner_id=who.partner_id, since=since, limit=ROWS_PER_TICK, status=statuses, **kwargs)

    def rows(ids: list[str]) -> list[store.Execution]:
        with request.app.state.platform.db.read_session() as s:
            return stats.executions_by_ids(s, ids, partner_id=who.partner_id)

    async def events() -> AsyncIterator[str]:
        sent: dict[str, tuple[str, datetime]] = {}  # id -> (status, created_at)
        newest = start
        began = last_beat = time.monotonic()
        try:
            yield "retry: 3000\n\n"
            while time.monotonic() - began < MAX_STREAM_S:
                if await request.is_disconnected():
                    break
                window = newest - timedelta(seconds=LOOKBACK_S)
                fresh = [i for i in await asyncio.to_thread(poll, window) if sent.get(i.id, ("",))[0] != i.status]
                if fresh:
                    found = await asyncio.to_thread(rows, [i.id for i in fresh])
                    for e in sorted(found, key=lambda e: (e.created_at, e.id)):
                        if e.app_id not in names:
                            names[e.app_id] = e.app_id
                        sent[e.id] = (e.status, e.created_at)
                        newest = max(newest, e.created_at)
                        data = {
                            "id": e.id, "status": e.status, "created_at": e.created_at.isoformat(),
                            "html": _row_html(e, names),
                        }  # fmt: skip
                        yield _sse("execution", data, newest.isoformat())
                    last_beat = time.monotonic()
                    horizon = newest - timedelta(seconds=LOOKBACK_S * 2)
                    for key in [k for k, (_, at) in sent.items() if at < horizon]:
                        del sent[key]
                elif time.monotonic() - last_beat >= HEARTBEAT_S:
                    yield ": ping\n\n"
                    last_beat = time.monotonic()
                await asyncio.sleep(TICK_S)
        finally:
            state.console_execution_streams = max(0, getattr(state, "console_execution_streams", 1) - 1)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _stream_start(request: Request) -> datetime:
    """Where the stream picks up: the last event the browser got, the page's time, or now."""
    problems: list[str] = []
    for raw in (request.headers.get("last-event-id"), request.query_params.get("from")):
        value = parse_time(raw, "from", problems)
        if value is not None:
            return value
    return datetime.now(UTC)
