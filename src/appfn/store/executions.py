"""Executions: one row per run (attempt) of a function for an event — the platform's run log.

Rows carry plain ids and no foreign keys, so they outlive what they name: deleting a
function, an app or an installation keeps its history. The dispatcher writes them in
batches (``record_executions``: one executemany INSERT) and moves them through their states
with ``update_execution`` / ``update_executions``.

Listing is newest first, by ``(created_at, id)`` descending. Pages continue with the opaque
``next_cursor`` (keyset: stable while rows are added) or, for simple UIs, with ``offset``.
``since`` is inclusive, ``until`` exclusive. Settings values and tokens must never be put
into ``error``, ``console`` or ``requests``: they are shown to the partner as they are.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from appfn.errors import NotFoundError, ValidationError
from appfn.store import _fast
from appfn.store._common import as_utc, check_choice, check_store_id, new_id, new_ids, owned, utcnow
from appfn.store.models import EXECUTION_STATUSES, ExecutionRow

MAX_LIMIT = 500
MAX_ERROR = 20_000
ERROR_KIND_MAX = 64
FINAL_STATUSES = ("success", "failure", "timeout", "dead")


@dataclass(frozen=True)
class NewExecution:
    """An execution to record. ``id`` and ``created_at`` are filled in when not given."""

    app_id: str
    partner_id: str
    store_id: int
    trigger: str
    status: str = "queued"
    event_id: str | None = None
    function_id: str | None = None
    function_version_id: str | None = None
    installation_id: str | None = None
    attempt: int = 1
    response: Any = field(default=None, repr=False)
    error: str | None = None
    error_kind: str | None = None
    console: list[Any] = field(default_factory=list, repr=False)
    requests: list[Any] = field(default_factory=list, repr=False)
    duration_ms: float | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    id: str | None = None
    job_id: str | None = None  # the queue's job id (async runs), so a dead one can be replayed


@dataclass(frozen=True)
class Execution:
    id: str
    event_id: str | None
    app_id: str
    partner_id: str
    function_id: str | None
    function_version_id: str | None
    installation_id: str | None
    store_id: int
    trigger: str
    attempt: int
    status: str
    response: Any = field(repr=False)
    error: str | None
    error_kind: str | None
    console: list[Any] = field(repr=False)
    requests: list[Any] = field(repr=False)
    duration_ms: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    job_id: str | None = None


@dataclass(frozen=True)
class ExecutionPage:
    items: list[Execution]
    next_cursor: str | None  # pass as cursor= for the next (older) page; None at the end


_NEW_FIELDS = tuple(f.name for f in fields(NewExecution))
_UPDATABLE = (
    "status",
    "response",
    "error",
    "error_kind",
    "console",
    "requests",
    "duration_ms",
    "started_at",
    "finished_at",
    "attempt",
)


def new_execution_id() -> str:
    """An execution id, for callers that need it before the row is written."""
    return new_id("exe")


def _check_id(value: Any, field_name: str, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValidationError(field_name, f"must be a non-empty id string, got {value!r}")
    return value


def _check_values(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check the updatable columns present in ``values``; returns them ready to write."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{where}.{key}"
        if key == "status":
            out[key] = check_choice(value, EXECUTION_STATUSES, name)
        elif key == "attempt":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(name, f"must be a positive integer, got {value!r}")
            out[key] = value
        elif key == "error":
            if value is not None and not isinstance(value, str):
                raise ValidationError(name, f"expected a string, got {type(value).__name__}")
            out[key] = value[:MAX_ERROR] if value else value
        elif key == "error_kind":
            if value is not None and (not isinstance(value, str) or len(value) > ERROR_KIND_MAX):
                raise ValidationError(name, f"must be a string of at most {ERROR_KIND_MAX} characters")
            out[key] = value
        elif key in ("console", "requests"):
            if not isinstance(value, list | tuple):
                raise ValidationError(name, f"expected a list, got {type(value).__name__}")
            out[key] = list(value)
        elif key == "duration_ms":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise ValidationError(name, f"must be a non-negative number, got {value!r}")
            out[key] = None if value is None else float(value)
        elif key in ("started_at", "finished_at", "created_at"):
            out[key] = None if value is None else as_utc(value, name)
        elif key == "response":
            out[key] = value
        else:
            raise ValidationError(name, "is not a field that can be changed")
    return out


def _new_row(item: NewExecution | Mapping[str, Any], index: int, now: datetime, new: str) -> dict[str, Any]:
    where = f"executions[{index}]"
    raw = dict(item) if isinstance(item, Mapping) else {k: getattr(item, k) for k in _NEW_FIELDS}
    unknown = set(raw) - set(_NEW_FIELDS)
    if unknown:
        raise ValidationError(f"{where}.{sorted(unknown)[0]}", "unknown execution field")
    row: dict[str, Any] = {
        "id": _check_id(raw.get("id"), f"{where}.id", optional=True) or new,
        "app_id": _check_id(raw.get("app_id"), f"{where}.app_id", optional=False),
        "partner_id": _check_id(raw.get("partner_id"), f"{where}.partner_id", optional=False),
        "store_id": check_store_id(raw.get("store_id"), f"{where}.store_id"),
    }
    for key in ("event_id", "function_id", "function_version_id", "installation_id"):
        row[key] = _check_id(raw.get(key), f"{where}.{key}", optional=True)
    trigger = raw.get("trigger")
    if not isinstance(trigger, str) or not trigger or len(trigger) > 100:
        raise ValidationError(f"{where}.trigger", f"must be a trigger name, got {trigger!r}")
    row["trigger"] = trigger
    job_id = raw.get("job_id")
    if job_id is not None and (not isinstance(job_id, str) or not 0 < len(job_id) <= 64):
        raise ValidationError(f"{where}.job_id", f"must be a queue job id, got {job_id!r}")
    row["job_id"] = job_id
    values = {k: raw.get(k) for k in _UPDATABLE}
    values["status"] = raw.get("status", "queued")
    values["attempt"] = raw.get("attempt", 1)
    values["console"] = raw.get("console") or []
    values["requests"] = raw.get("requests") or []
    row.update(_check_values(values, where))
    row["created_at"] = as_utc(raw["created_at"], f"{where}.created_at") if raw.get("created_at") else now
    return row


def record_executions(session: Session, items: Sequence[NewExecution | Mapping[str, Any]]) -> list[str]:
    """Insert a batch of executions in one executemany; returns their ids, in input order.

    Items are ``NewExecution`` or mappings with its fields. Everything is checked first: one
    bad item (ValidationError naming ``executions[i].field``) writes nothing.
    """
    now = utcnow()
    ids = new_ids("exe", len(items))
    rows = [_new_row(item, i, now, new) for i, (item, new) in enumerate(zip(items, ids, strict=True))]
    raw = _fast.dbapi(session) if rows else None
    if raw is not None:  # SQLite: one sqlite3 executemany in the session's transaction
        with _fast.translated():
            raw.cursor().executemany(_SQL_INSERT, [_sqlite_values(r) for r in rows])
    elif rows:
        session.execute(ExecutionRow.__table__.insert(), rows)
    return [r["id"] for r in rows]


_COLUMNS = (
    "id", "event_id", "app_id", "partner_id", "function_id", "function_version_id", "installation_id",
    "store_id", "trigger", "attempt", "status", "response", "error", "error_kind", "console", "requests",
    "duration_ms", "job_id", "created_at", "started_at", "finished_at",
)  # fmt: skip
_JSON = frozenset({"response", "console", "requests"})
_TIMES = frozenset({"created_at", "started_at", "finished_at"})
_SQL_INSERT = f"INSERT INTO executions ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


def _sqlite_values(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(
        _fast.json_text(row[c]) if c in _JSON else _fast.timestamp(row[c]) if c in _TIMES else row[c] for c in _COLUMNS
    )


def record_execution(
    session: Session, item: NewExecution | Mapping[str, Any] | None = None, **fields: Any
) -> Execution:
    """Insert one execution (a ``NewExecution``, a mapping, or keyword fields) and return it."""
    (execution_id,) = record_executions(session, [item if item is not None else fields])
    return get_execution(session, execution_id, partner_id=None)


def update_execution(session: Session, execution_id: str, **values: Any) -> Execution:
    """Change an execution's state fields (status, response, error, console, timings…)."""
    checked = _check_values(values, "execution")
    if not checked:
        raise ValidationError("execution", "nothing to update")
    result = session.execute(update(ExecutionRow).where(ExecutionRow.id == execution_id).values(**checked))
    if result.rowcount == 0:
        raise NotFoundError("execution", execution_id)
    return get_execution(session, execution_id, partner_id=None)


def update_executions(session: Session, updates: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
    """Apply many ``(execution_id, values)`` updates with one executemany per set of columns.

    Returns how many rows changed (unknown ids are skipped, not errors).
    """
    checked = [(eid, _check_values(values, f"updates[{i}]")) for i, (eid, values) in enumerate(updates)]
    table = ExecutionRow.__table__
    changed = 0
    keyed = sorted(checked, key=lambda item: tuple(sorted(item[1])))
    for columns, group in groupby(keyed, key=lambda item: tuple(sorted(item[1]))):
        if not columns:
            continue
        stmt = table.update().where(table.c.id == bindparam("_id")).values({c: bindparam(f"_{c}") for c in columns})
        params = [{"_id": eid, **{f"_{c}": v for c, v in values.items()}} for eid, values in group]
        result = session.execute(stmt, params)
        changed += max(result.rowcount, 0)
    return changed


def _execution(row: ExecutionRow) -> Execution:
    return Execution(**{f.name: getattr(row, f.name) for f in fields(Execution)})


def get_execution(session: Session, execution_id: str, *, partner_id: str | None) -> Execution:
    stmt = owned(select(ExecutionRow).where(ExecutionRow.id == execution_id), ExecutionRow.partner_id, partner_id)
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotFoundError("execution", execution_id)
    return _execution(row)


def _encode_cursor(row: Execution) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, ident = json.loads(raw)
        return as_utc(datetime.fromisoformat(created), "cursor"), str(ident)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValidationError("cursor", "is not a cursor this API returned") from exc


def list_executions(
    session: Session,
    *,
    partner_id: str | None,
    app_id: str | None = None,
    store_id: int | None = None,
    trigger: str | None = None,
    status: str | Sequence[str] | None = None,
    function_id: str | None = None,
    event_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
    offset: int | None = None,
) -> ExecutionPage:
    """Executions the caller may see, newest first, filtered; ``limit`` is 1..500."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError("limit", f"must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    if offset is not None and (isinstance(offset, bool) or not isinstance(offset, int) or offset < 0):
        raise ValidationError("offset", f"must be a non-negative integer, got {offset!r}")
    if offset and cursor:
        raise ValidationError("offset", "give a cursor or an offset, not both")
    stmt = owned(select(ExecutionRow), ExecutionRow.partner_id, partner_id)
    for column, value in (
        (ExecutionRow.app_id, app_id),
        (ExecutionRow.trigger, trigger),
        (ExecutionRow.function_id, function_id),
        (ExecutionRow.event_id, event_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if store_id is not None:
        stmt = stmt.where(ExecutionRow.store_id == check_store_id(store_id))
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        for s in wanted:
            check_choice(s, EXECUTION_STATUSES, "status")
        stmt = stmt.where(ExecutionRow.status.in_(wanted))
    if since is not None:
        stmt = stmt.where(ExecutionRow.created_at >= as_utc(since, "since"))
    if until is not None:
        stmt = stmt.where(ExecutionRow.created_at < as_utc(until, "until"))
    if cursor:
        at, ident = _decode_cursor(cursor)
        stmt = stmt.where(
            or_(ExecutionRow.created_at < at, (ExecutionRow.created_at == at) & (ExecutionRow.id < ident))
        )
    stmt = stmt.order_by(ExecutionRow.created_at.desc(), ExecutionRow.id.desc()).limit(limit + 1)
    if offset:
        stmt = stmt.offset(offset)
    rows = [_execution(r) for r in session.execute(stmt).scalars()]
    items = rows[:limit]
    return ExecutionPage(items=items, next_cursor=_encode_cursor(items[-1]) if len(rows) > limit else None)
