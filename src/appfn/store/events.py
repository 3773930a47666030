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

import orjson
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


_Row = tuple[str, str, int, str | None, Any]  # id, trigger, store_id, created_at, data


def _fields(item: Any) -> tuple[Any, Any, Any, Any, Any]:
    if type(item) is dict or (not hasattr(item, "__dataclass_fields__") and isinstance(item, Mapping)):
        return item.get("id"), item.get("trigger"), item.get("store_id"), item.get("created_at"), item.get("data")
    return (
        getattr(item, "id", None),
        getattr(item, "trigger", None),
        getattr(item, "store_id", None),
        getattr(item, "created_at", None),
        getattr(item, "data", None),
    )


def _row(item: Any, index: int) -> _Row:
    event_id, trigger, store_id, created_at, data = _fields(item)
    if not isinstance(event_id, str) or not event_id or len(event_id) > EVENT_ID:
        raise ValidationError(f"events[{index}].id", f"must be a non-empty string of at most {EVENT_ID} characters")
    if created_at is not None and not isinstance(created_at, str):
        raise ValidationError(
            f"events[{index}].created_at", f"expected the event's timestamp string, got {created_at!r}"
        )
    trigger = check_trigger(trigger, f"events[{index}].trigger")
    store_id = check_store_id(store_id, f"events[{index}].store_id")
    return event_id, trigger, store_id, created_at, data


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
    ``data`` may be an ``orjson.Fragment`` (JSON already encoded): it is stored as it is.
    """
    when = as_utc(received_at, "received_at") if received_at is not None else utcnow()
    rows = [_row(item, i) for i, item in enumerate(events)]
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        first.setdefault(row[0], index)
    unique = rows if len(first) == len(rows) else [rows[i] for i in first.values()]
    inserted: set[str] = set()
    raw = _fast.dbapi(session) if unique else None
    if raw is not None:
        inserted.update(_insert_sqlite(raw, unique, when))
    elif unique:
        # One statement, executed for many rows: SQLAlchemy's "insertmanyvalues" sends them as
        # multi-row VALUES batches and gathers RETURNING from each; conflicting rows return nothing.
        stmt = _insert(session).on_conflict_do_nothing(index_elements=["id"]).returning(EventRow.id)
        values = [
            {"id": r[0], "trigger": r[1], "store_id": r[2], "created_at": r[3], "data": _decoded(r[4]),
             "received_at": when}
            for r in unique
        ]  # fmt: skip
        inserted.update(session.execute(stmt, values).scalars())
    return [first[row[0]] == i and row[0] in inserted for i, row in enumerate(rows)]


def _decoded(data: Any) -> Any:
    # SQLAlchemy's JSON type encodes the value itself: give it the value, not the JSON.
    return orjson.loads(orjson.dumps(data)) if isinstance(data, orjson.Fragment) else data


_SQL_KNOWN = "SELECT id FROM events WHERE id IN ({marks})"
_SQL_INSERT = "INSERT INTO events (id, trigger, store_id, created_at, data, received_at) VALUES (?, ?, ?, ?, ?, ?)"
_CHUNK = 500  # ids per IN (…): well under SQLite's bound-variable limit


def _insert_sqlite(conn: Any, rows: list[_Row], received_at: datetime) -> list[str]:
    """Insert the rows whose id is not stored yet (ids are unique within ``rows``); their ids.

    Runs in a write transaction (``BEGIN IMMEDIATE``): no one else can insert between the
    lookup and the insert. A plain INSERT, so a broken assumption fails loudly, never silently.
    """
    when = _fast.timestamp(received_at)  # one received_at per batch
    json_text = _fast.json_text
    with _fast.translated():
        cur = conn.cursor()
        known: set[str] = set()
        for start in range(0, len(rows), _CHUNK):
            ids = [r[0] for r in rows[start : start + _CHUNK]]
            known.update(i for (i,) in cur.execute(_SQL_KNOWN.format(marks=",".join("?" * len(ids))), ids))
        fresh = [r for r in rows if r[0] not in known] if known else rows
        cur.executemany(_SQL_INSERT, ((r[0], r[1], r[2], r[3], json_text(r[4]), when) for r in fresh))
    return [r[0] for r in fresh]


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
