"""Received store events, kept once per event id: the idempotency record of the dispatcher.

``record_events`` inserts a batch and reports, per input, whether it was new (PostgreSQL:
``INSERT … ON CONFLICT (id) DO NOTHING … RETURNING id``; SQLite: the ids already stored are
looked up, then the others inserted with one ``sqlite3`` executemany, under the write lock the
transaction holds since its ``BEGIN IMMEDIATE``): an event id seen before, in an
earlier batch or earlier in the same batch, is reported False and its stored row is left as
it was (the first copy wins). Run the batch in the dispatcher's transaction and dispatch only
the events reported new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from appfn.errors import ValidationError
from appfn.store import _fast
from appfn.store._common import as_utc, check_store_id, one_or_404, utcnow
from appfn.store.functions import check_trigger
from appfn.store.models import EVENT_ID, EventRow


@dataclass(frozen=True)
class NewEvent:
    """An event to record. ``created_at`` is the event's own timestamp string, stored as sent."""

    id: str
    trigger: str
    store_id: int
    data: Any = field(default=None, repr=False)
    created_at: str | None = None


@dataclass(frozen=True)
class Event:
    id: str
    trigger: str
    store_id: int
    created_at: str | None
    data: Any = field(repr=False)
    received_at: datetime


_FIELDS = ("id", "trigger", "store_id", "created_at", "data")


def _row(item: Any, index: int, received_at: datetime) -> dict[str, Any]:
    where = f"events[{index}]"
    raw = item if isinstance(item, Mapping) else {k: getattr(item, k, None) for k in _FIELDS}
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not event_id or len(event_id) > EVENT_ID:
        raise ValidationError(f"{where}.id", f"must be a non-empty string of at most {EVENT_ID} characters")
    created_at = raw.get("created_at")
    if created_at is not None and not isinstance(created_at, str):
        raise ValidationError(f"{where}.created_at", f"expected the event's timestamp string, got {created_at!r}")
    return {
        "id": event_id,
        "trigger": check_trigger(raw.get("trigger"), f"{where}.trigger"),
        "store_id": check_store_id(raw.get("store_id"), f"{where}.store_id"),
        "created_at": created_at,
        "data": raw.get("data"),
        "received_at": received_at,
    }


def _insert(session: Session) -> Insert:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(EventRow.__table__)


def record_events(
    session: Session, events: Sequence[NewEvent | Mapping[str, Any]], *, received_at: datetime | None = None
) -> list[bool]:
    """Insert events that are new; ``result[i]`` is True when ``events[i]`` was new.

    Items are ``NewEvent``, any object with the same attributes (the dispatcher's
    ``EventRecord``), or mappings with the same keys. The whole batch is checked before
    anything is written: one bad item (ValidationError naming ``events[i].field``) writes nothing.
    """
    when = as_utc(received_at, "received_at") if received_at is not None else utcnow()
    rows = [_row(item, i, when) for i, item in enumerate(events)]
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        first.setdefault(row["id"], index)
    unique = [rows[i] for i in first.values()]
    inserted: set[str] = set()
    raw = _fast.dbapi(session) if unique else None
    if raw is not None:
        inserted.update(_insert_sqlite(raw, unique))
    elif unique:
        # One statement, executed for many rows: SQLAlchemy's "insertmanyvalues" sends them as
        # multi-row VALUES batches and gathers RETURNING from each; conflicting rows return nothing.
        stmt = _insert(session).on_conflict_do_nothing(index_elements=["id"]).returning(EventRow.id)
        inserted.update(session.execute(stmt, unique).scalars())
    return [row["id"] in inserted and first[row["id"]] == i for i, row in enumerate(rows)]


_SQL_KNOWN = "SELECT id FROM events WHERE id IN ({marks})"
_SQL_INSERT = "INSERT INTO events (id, trigger, store_id, created_at, data, received_at) VALUES (?, ?, ?, ?, ?, ?)"
_CHUNK = 500  # ids per IN (…): well under SQLite's bound-variable limit


def _insert_sqlite(conn: Any, rows: list[dict[str, Any]]) -> list[str]:
    """Insert the rows whose id is not stored yet (ids are unique within ``rows``); their ids.

    Runs in a write transaction (``BEGIN IMMEDIATE``): no one else can insert between the
    lookup and the insert. A plain INSERT, so a broken assumption fails loudly, never silently.
    """
    when = _fast.timestamp(rows[0]["received_at"])  # one received_at per batch
    with _fast.translated():
        cur = conn.cursor()
        known: set[str] = set()
        for start in range(0, len(rows), _CHUNK):
            ids = [r["id"] for r in rows[start : start + _CHUNK]]
            known.update(i for (i,) in cur.execute(_SQL_KNOWN.format(marks=",".join("?" * len(ids))), ids))
        fresh = [r for r in rows if r["id"] not in known]
        cur.executemany(
            _SQL_INSERT,
            [(r["id"], r["trigger"], r["store_id"], r["created_at"], _fast.json_text(r["data"]), when) for r in fresh],
        )
    return [r["id"] for r in fresh]


def record_event(session: Session, event: NewEvent | Mapping[str, Any]) -> bool:
    """``record_events`` for one event: True when it was new."""
    return record_events(session, [event])[0]


def _event(row: EventRow) -> Event:
    return Event(
        id=row.id,
        trigger=row.trigger,
        store_id=row.store_id,
        created_at=row.created_at,
        data=row.data,
        received_at=row.received_at,
    )


def get_event(session: Session, event_id: str) -> Event:
    """An event by id (platform-internal: events carry no owner; check access via its executions)."""
    return _event(one_or_404(session, select(EventRow).where(EventRow.id == event_id), "event", event_id))


def list_events(
    session: Session, *, store_id: int | None = None, trigger: str | None = None, limit: int = 100
) -> list[Event]:
    """Recent events, newest received first."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 500:
        raise ValidationError("limit", f"must be an integer from 1 to 500, got {limit!r}")
    stmt = select(EventRow).order_by(EventRow.received_at.desc(), EventRow.id.desc()).limit(limit)
    if store_id is not None:
        stmt = stmt.where(EventRow.store_id == check_store_id(store_id))
    if trigger is not None:
        stmt = stmt.where(EventRow.trigger == trigger)
    return [_event(r) for r in session.execute(stmt).scalars()]
