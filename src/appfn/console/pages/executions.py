"""Console section: executions (a live list with filters, detail with the context the function
received, secrets masked) and dead letters with Replay.

The live list is a server-sent events stream (``/executions/stream``, same filters as the page):
every ``TICK_S`` it runs one cheap query (ids, statuses and times of the newest executions, no
JSON columns) and sends each execution it has not sent yet, or whose status changed, as an
``execution`` event carrying the row's HTML. Executions are written when they finish and sort by
when they started, so a long run can appear "in the past": each poll looks back ``LOOKBACK_S``
(the longest async run plus a margin) before the newest time sent. Streams are capped per
process (``MAX_STREAMS``) and end after ``MAX_STREAM_S`` (the browser reconnects by itself with
``Last-Event-ID``), so a forgotten tab never holds the server.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response, StreamingResponse

from appfn import errors, store
from appfn.catalog import load_catalog, make_context
from appfn.console import web
from appfn.dispatch.jobs import JOBS_QUEUE
from appfn.store import stats
from appfn.store.models import EXECUTION_STATUSES

router = APIRouter()

PAGE_SIZE = 50
TICK_S = 0.5
HEARTBEAT_S = 15.0
LOOKBACK_S = 45.0  # > the async timeout (30 s by default) + flush delay
MAX_STREAMS = 32
MAX_STREAM_S = 300.0
ROWS_PER_TICK = 50
DEAD_PAGE = 50
SECRET_KEY_RE = re.compile(r"(token|secret|password|passwd|api[_-]?key|apikey|authorization|private[_-]?key)", re.I)
BULLETS = "••••"


# --- filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    app: str | None = None
    store: int | None = None
    trigger: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    problems: tuple[str, ...] = ()

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        problems: list[str] = []
        app = (params.get("app") or "").strip() or None
        trigger = (params.get("trigger") or "").strip() or None
        status = (params.get("status") or "").strip() or None
        if status is not None and status not in EXECUTION_STATUSES:
            problems.append(f"unknown status {status!r}")
            status = None
        store_id: int | None = None
        raw_store = (params.get("store") or "").strip()
        if raw_store:
            try:
                store_id = int(raw_store)
                if store_id <= 0:
                    raise ValueError
            except ValueError:
                problems.append(f"store must be a store id (a positive number), got {raw_store!r}")
                store_id = None
        since = _parse_time(params.get("since"), "since", problems)
        until = _parse_time(params.get("until"), "until", problems)
        return cls(app, store_id, trigger, status, since, until, tuple(problems))

    def query(self, **extra: Any) -> str:
        """The filters as a query string (for links and the stream's URL)."""
        values = {
            "app": self.app, "store": self.store, "trigger": self.trigger, "status": self.status,
            "since": _fmt_time(self.since), "until": _fmt_time(self.until), **extra,
        }  # fmt: skip
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})

    def store_kwargs(self) -> dict[str, Any]:
        return {
            "app_id": self.app, "store_id": self.store, "trigger": self.trigger,
            "status": self.status, "since": self.since, "until": self.until,
        }  # fmt: skip

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.app, self.store, self.trigger, self.status, self.since, self.until))


def _parse_time(raw: str | None, name: str, problems: list[str]) -> datetime | None:
    """``datetime-local`` values (no zone) and ISO times; times without a zone are UTC."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"{name} must be a date and time like 2025-01-31T13:45, got {raw!r}")
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _fmt_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if value else None


# --- list ---------------------------------------------------------------------------------------


def _names(s: Session, who: web.Viewer) -> dict[str, str]:
    return {a.id: a.name for a in store.list_apps(s, partner_id=who.partner_id)}


@router.get("/executions")
async def executions(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    filters = Filters.parse(request.query_params)
    cursor = request.query_params.get("cursor") or None

    def load(s: Session) -> tuple[dict[str, str], list[store.Store], store.ExecutionPage | None, str | None]:
        names = _names(s, who)
        stores = store.list_stores(s, is_demo=None if who.is_operator else True)[:200]
        try:
            page = store.list_executions(
                s, partner_id=who.partner_id, limit=PAGE_SIZE, cursor=cursor, **filters.store_kwargs()
            )
        except errors.ValidationError as exc:
            return names, stores, None, str(exc)
        return names, stores, page, None

    names, stores, page, problem = await web.call(web.read(request, load))
    problems = [*filters.problems, *([problem] if problem else [])]
    live = cursor is None and filters.until is None
    return web.render(
        request, "executions/list.html", who, nav="executions",
        filters=filters, page=page, names=names, stores=stores, problems=problems, cursor=cursor,
        statuses=EXECUTION_STATUSES, triggers=load_catalog().names(), live=live,
        stream_url="/executions/stream?" + filters.query(**{"from": _fmt_time(datetime.now(UTC))}),
        next_url=(f"/executions?{filters.query(cursor=page.next_cursor)}" if page and page.next_cursor else None),
        first_url=f"/executions?{filters.query()}",
    )  # fmt: skip


# --- live stream --------------------------------------------------------------------------------


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
    names = await web.call(web.read(request, lambda s: _names(s, who)))
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
        value = _parse_time(raw, "from", problems)
        if value is not None:
            return value
    return datetime.now(UTC)


# --- detail -------------------------------------------------------------------------------------


def mask_secret(value: Any) -> Any:
    """ "••••" and the last 4 characters of a long enough secret; short ones are fully hidden."""
    if value is None or value == "":
        return value
    text = str(value)
    if text.startswith(BULLETS):
        return text  # masked already
    if text == store.MASK:
        return BULLETS
    return BULLETS + text[-4:] if len(text) >= 12 else BULLETS


def mask_context(value: Any, secret_keys: frozenset[str] = frozenset()) -> Any:
    """A copy of ``value`` with every secret-looking key's value masked (recursively)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if (key in secret_keys or SECRET_KEY_RE.search(str(key))) and not isinstance(item, dict | list):
                out[key] = mask_secret(item)
            else:
                out[key] = mask_context(item, secret_keys)
        return out
    if isinstance(value, list):
        return [mask_context(v, secret_keys) for v in value]
    return value


@dataclass(frozen=True)
class Detail:
    execution: store.Execution
    app: store.App | None
    version: store.FunctionVersion | None
    attempts: list[store.Execution]
    context: dict[str, Any] | None
    context_note: str | None


def _detail(s: Session, execution_id: str, who: web.Viewer) -> Detail:
    e = store.get_execution(s, execution_id, partner_id=who.partner_id)
    app = _maybe(lambda: store.get_app(s, e.app_id, partner_id=who.partner_id))
    version = (
        _maybe(lambda: store.get_version(s, e.function_version_id, partner_id=who.partner_id))
        if e.function_version_id
        else None
    )
    attempts: list[store.Execution] = []
    if e.event_id:
        page = store.list_executions(s, partner_id=who.partner_id, event_id=e.event_id, app_id=e.app_id, limit=50)
        attempts = sorted(page.items, key=lambda a: (a.created_at, a.id))
    context, note = _context(s, e, who)
    return Detail(e, app, version, attempts, context, note)


def _pretty(value: Any) -> str:
    """Indented JSON in the order the function produced it, non-ASCII kept as is."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _maybe(fn: Any) -> Any:
    try:
        return fn()
    except errors.NotFoundError:
        return None


def _context(s: Session, e: store.Execution, who: web.Viewer) -> tuple[dict[str, Any] | None, str | None]:
    """The context the function received, rebuilt from the stored event and the installation's
    settings (as they are now), with secrets masked."""
    if not e.event_id:
        return None, "This execution names no event: its context cannot be rebuilt."
    event = _maybe(lambda: store.get_event(s, e.event_id))
    if event is None:
        return None, "The event of this execution is no longer stored."
    installation = (
        _maybe(lambda: store.get_installation(s, e.installation_id, partner_id=who.partner_id))
        if e.installation_id
        else None
    )
    secrets = frozenset(f.id for f in installation.settings_schema if f.secret) if installation else frozenset()
    settings = installation.settings if installation else {}
    try:
        context = make_context(
            e.trigger, event.data, settings=settings, merchant=e.store_id, created_at=event.created_at
        )
    except errors.AppFnError:
        context = {"payload": {"event": e.trigger, "merchant": e.store_id, "data": event.data}, "settings": settings}
    context["settings"] = mask_context(context.get("settings") or {}, secrets)
    context = mask_context(context)
    note = "Settings are the installation's current values (secrets masked)."
    if installation is None:
        note = "The installation is gone: settings are not shown."
    return context, note


@router.get("/executions/{execution_id}")
async def execution(execution_id: str, request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    detail = await web.call(web.read(request, lambda s: _detail(s, execution_id, who)))
    e = detail.execution
    catalog = load_catalog()
    trigger = catalog.get(e.trigger) if e.trigger in catalog else None
    return web.render(
        request, "executions/detail.html", who, nav="executions", d=detail, e=e, trigger=trigger,
        replayable=e.status == "dead" and bool(e.job_id), response_json=_pretty(e.response),
        context_json=_pretty(detail.context),
    )  # fmt: skip


# --- dead letters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    job_id: str
    event_id: str | None
    trigger: str | None
    store_id: int | None
    installation_id: str | None
    attempts: int
    error: str
    dead_at: datetime
    execution: stats.JobExecution | None


@router.get("/dead-letters")
async def dead_letters(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    try:
        offset = max(0, int(request.query_params.get("offset") or 0))
    except ValueError:
        offset = 0
    platform = request.app.state.platform
    jobs = await asyncio.to_thread(platform.broker.dead_letters, JOBS_QUEUE, DEAD_PAGE + 1, offset)
    more = len(jobs) > DEAD_PAGE
    decoded = [(job, _payload(job.payload)) for job in jobs[:DEAD_PAGE]]

    def load(s: Session) -> tuple[dict[str, str], dict[str, stats.JobExecution], set[str] | None]:
        pairs = [(job.job_id, p["event"].get("id")) for job, p in decoded if p.get("event", {}).get("id")]
        found = stats.executions_of_jobs(s, pairs, partner_id=who.partner_id)
        mine = None if who.is_operator else {i.id for i in store.list_installations(s, partner_id=who.partner_id)}
        return _names(s, who), found, mine

    names, found, mine = await web.call(web.read(request, load))
    items = []
    for job, payload in decoded:
        event = payload.get("event") or {}
        installation = payload.get("installation_id")
        if mine is not None and installation not in mine and job.job_id not in found:
            continue
        dead_at = datetime.fromtimestamp(job.dead_at, UTC)
        item = DeadLetter(
            job.job_id, event.get("id"), event.get("trigger"), event.get("store_id"), installation,
            job.attempts, job.error, dead_at, found.get(job.job_id),
        )  # fmt: skip
        items.append(item)
    return web.render(
        request, "executions/dead_letters.html", who, nav="dead-letters", items=items,
        names=names, offset=offset, more=more, page_size=DEAD_PAGE,
    )  # fmt: skip


def _payload(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}
