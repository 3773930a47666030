"""Event ingestion: validate, then record the event and queue one job per matching
installation, durably, before the caller gets its 202.

Writes are group-committed: requests that arrive while a write is in progress are written
together in the next one, so a burst of single-event requests costs a few transactions, not
one each. Within a write the jobs are enqueued *before* the events commit: if the process
dies in between, the producer (who got no 202) sends again, the event is new to the store,
and the queue's dedupe key (``event id : installation id``) keeps the jobs single.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from appfn import metrics, store
from appfn.catalog import js_date_string, load_catalog
from appfn.catalog.validation import validate_data
from appfn.dispatch.directory import Directory
from appfn.dispatch.jobs import JOBS_QUEUE, EventRecord, Job
from appfn.errors import AppFnError, Violation
from appfn.queue.base import Broker, NewJob

MAX_EVENT_ID = 128


class EventsRejected(AppFnError):
    """Some events of a request are invalid; nothing of the request was accepted."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} event(s) rejected; nothing was accepted")


class BacklogFull(AppFnError):
    def __init__(self, depth: int, limit: int, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"the queue holds {depth} jobs (limit {limit}); retry in {retry_after_s} s")


class Accepted(NamedTuple):
    id: str
    trigger: str
    duplicate: bool
    jobs: int


_ENVELOPE = frozenset({"id", "event", "merchant", "created_at", "data"})


def parse_event(raw: Any, allowed_store: Any = None, *, encode_data: bool = False) -> EventRecord | list[Violation]:
    """The normalised event, or every problem with it (paths relative to the event).

    ``encode_data=True`` (ingestion, which only stores and forwards the data) gives the data as
    its JSON (an ``orjson.Fragment``, written as is into the event row and the jobs) instead of
    the decoded objects, so the request's object tree can be freed as soon as it is checked.
    """
    if not isinstance(raw, dict):
        return [Violation("", f"an event must be a JSON object, got {type(raw).__name__}")]
    problems: list[Violation] = []
    event_id = raw.get("id")
    if event_id is None:
        event_id = str(uuid.uuid4())
    elif not isinstance(event_id, str | int) or isinstance(event_id, bool) or not str(event_id).strip():
        problems.append(Violation("id", "expected a non-empty string"))
    elif len(str(event_id)) > MAX_EVENT_ID:
        problems.append(Violation("id", f"longer than {MAX_EVENT_ID} characters"))
    trigger = raw.get("event")
    catalog = load_catalog()
    if not isinstance(trigger, str):
        problems.append(Violation("event", f"expected a trigger name, got {trigger!r}"))
    elif trigger not in catalog:
        hint = ", ".join(catalog.suggest(trigger))
        suggestion = f" (did you mean {hint}?)" if hint else ""
        problems.append(Violation("event", f"unknown trigger {trigger!r}{suggestion}"))
    merchant = raw.get("merchant")
    store_id = _store_id(merchant)
    if store_id is None:
        problems.append(Violation("merchant", f"expected the store's numeric id, got {merchant!r}"))
    created_at = raw.get("created_at")
    if created_at is not None and not isinstance(created_at, str):
        problems.append(Violation("created_at", f"expected a string, got {type(created_at).__name__}"))
    data = raw.get("data")
    if not isinstance(data, dict):
        problems.append(Violation("data", f"expected an object, got {type(data).__name__}"))
    if not raw.keys() <= _ENVELOPE:
        unknown = sorted(set(raw) - _ENVELOPE)
        problems.append(Violation(unknown[0], "unknown field (allowed: id, event, merchant, created_at, data)"))
    if problems:
        return problems
    # The envelope is built from the fields checked above: only data needs its schema.
    problems = validate_data(catalog, trigger, data)
    if problems:  # say where in *this* body: data.email, not payload.data.email
        return [Violation(_body_path(v.path), v.message) for v in problems]
    if encode_data:
        try:
            data = orjson.Fragment(orjson.dumps(data))
        except TypeError:  # integers past 64 bits...: kept decoded, for the stdlib encoder
            data = raw["data"]
    return EventRecord(str(event_id), trigger, int(store_id), created_at or _received_at(), data)


_clock: list[Any] = [0, ""]


def _received_at() -> str:
    """Now in the form real payloads use, formatted once per second (this runs per event)."""
    second = int(time.time())
    if _clock[0] != second:
        _clock[:] = [second, js_date_string()]
    return _clock[1]


def _body_path(context_path: str) -> str:
    return context_path.removeprefix("payload.") if context_path.startswith("payload.") else context_path


def _store_id(merchant: Any) -> int | None:
    if isinstance(merchant, bool):
        return None
    if isinstance(merchant, int) and merchant > 0:
        return merchant
    if isinstance(merchant, str) and merchant.isdigit() and int(merchant) > 0:
        return int(merchant)
    return None


@dataclass
class _Pending:
    events: list[EventRecord]
    future: asyncio.Future[list[Accepted]] = field(repr=False)


class Ingestor:
    """Validates and durably accepts events (``accept``); one per server process."""

    def __init__(
        self,
        db: store.Database,
        broker: Broker,
        directory: Directory,
        max_attempts: int,
        max_backlog: int,
        on_enqueued: Any = None,
    ) -> None:
        self.db = db
        self.broker = broker
        self.directory = directory
        self.max_attempts = max_attempts
        self.max_backlog = max_backlog
        self.on_enqueued = on_enqueued  # called with the number of new jobs (wakes the dispatcher)
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self._depth: tuple[float, int] = (0.0, 0)

    async def accept(self, events: list[EventRecord]) -> list[Accepted]:
        """Record ``events`` and queue their jobs; returns when both are committed."""
        await self._check_backlog()
        future: asyncio.Future[list[Accepted]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(events, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        return await future

    async def _check_backlog(self) -> None:
        checked_at, depth = self._depth
        if time.monotonic() - checked_at > 0.25:  # a depth query per request would cost more than it saves
            counts = await asyncio.to_thread(self.broker.depth, JOBS_QUEUE)
            depth = counts.ready + counts.delayed
            self._depth = (time.monotonic(), depth)
        if depth >= self.max_backlog:
            raise BacklogFull(depth, self.max_backlog, retry_after_s=max(1, min(60, depth // 2000)))

    async def _write_loop(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await asyncio.to_thread(self._write, [e for p in batch for e in p.events])
            except Exception as exc:  # every waiting request gets the failure
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                continue
            offset = 0
            for pending in batch:
                count = len(pending.events)
                if not pending.future.done():
                    pending.future.set_result(results[offset : offset + count])
                offset += count

    def _write(self, events: list[EventRecord]) -> list[Accepted]:
        """One transaction for the events; the queue's own for the jobs (committed first)."""
        with self.db.session() as session:
            fresh = store.record_events(session, events)  # EventRecords have NewEvent's fields
            seen: set[str] = set()
            jobs: list[NewJob] = []
            accepted: list[Accepted] = []
            counted: dict[str, int] = {}  # new events per trigger, for the metric
            targets: dict[tuple[int, str], list[Any]] = {}  # looked up once per store and trigger
            for event, is_new in zip(events, fresh, strict=True):
                is_new = is_new and event.id not in seen
                seen.add(event.id)
                count = 0
                if is_new:
                    key = (event.store_id, event.trigger)
                    found = targets.get(key)
                    if found is None:
                        found = targets[key] = self.directory.targets(session, event.store_id, event.trigger)
                    for target in found:
                        job = Job(event, target.installation_id, target.function_version_id)
                        jobs.append(NewJob(JOBS_QUEUE, job.encode(), job.dedupe_key, max_attempts=self.max_attempts))
                        count += 1
                    counted[event.trigger] = counted.get(event.trigger, 0) + 1
                accepted.append(Accepted(event.id, event.trigger, not is_new, count))
            if jobs:
                self.broker.enqueue(jobs)
        for trigger, new in counted.items():
            metrics.EVENTS.labels(trigger).inc(new)
        if jobs and self.on_enqueued is not None:
            self.on_enqueued(len(jobs))
        return accepted
