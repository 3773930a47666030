"""Console section: executions (a live list with filters, detail with the context the function
received, secrets masked) and dead letters with Replay.

The live feed of the list is in ``live.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from appfn import errors, masking, store
from appfn.catalog import load_catalog, make_context
from appfn.console import web
from appfn.dispatch.jobs import JOBS_QUEUE
from appfn.store import stats
from appfn.store.models import EXECUTION_STATUSES

router = APIRouter()

PAGE_SIZE = 50
DEAD_PAGE = 50


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
        since = parse_time(params.get("since"), "since", problems)
        until = parse_time(params.get("until"), "until", problems)
        return cls(app, store_id, trigger, status, since, until, tuple(problems))

    def query(self, **extra: Any) -> str:
        """The filters as a query string (for links and the stream's URL)."""
        values = {
            "app": self.app, "store": self.store, "trigger": self.trigger, "status": self.status,
            "since": fmt_time(self.since), "until": fmt_time(self.until), **extra,
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


def parse_time(raw: str | None, name: str, problems: list[str]) -> datetime | None:
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


def fmt_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if value else None


# --- list ---------------------------------------------------------------------------------------


def app_names(s: Session, who: web.Viewer) -> dict[str, str]:
    return {a.id: a.name for a in store.list_apps(s, partner_id=who.partner_id)}


@router.get("/executions")
async def executions(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    filters = Filters.parse(request.query_params)
    cursor = request.query_params.get("cursor") or None

    def load(s: Session) -> tuple[dict[str, str], list[store.Store], store.ExecutionPage | None, str | None]:
        names = app_names(s, who)
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
        stream_url="/executions/stream?" + filters.query(**{"from": fmt_time(datetime.now(UTC))}),
        next_url=(f"/executions?{filters.query(cursor=page.next_cursor)}" if page and page.next_cursor else None),
        first_url=f"/executions?{filters.query()}",
    )  # fmt: skip


# --- detail -------------------------------------------------------------------------------------


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
    context = masking.mask_json(context, secrets)
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
        replayable=e.status == "dead" and bool(e.job_id), response_json=web.pretty_json(e.response),
        context_json=web.pretty_json(detail.context),
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
        return app_names(s, who), found, mine

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
