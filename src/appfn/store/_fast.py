"""The hot writes (events, executions) on SQLite with the DB-API directly.

SQLAlchemy Core costs ~20 µs a row on these inserts (bind processing, insertmanyvalues
bookkeeping, JSON through the stdlib encoder); the same rows through ``sqlite3`` executemany
in the session's own transaction cost a fraction of that. The rows are stored exactly as
SQLAlchemy would read them back: timestamps in its SQLite format (naive UTC,
``YYYY-MM-DD HH:MM:SS.ffffff``), JSON as text, ``None`` as SQL NULL. Other databases keep the
SQLAlchemy path (``dbapi`` returns None for them).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from appfn.errors import ConflictError, StoreUnavailableError


def dbapi(session: Session) -> Any:
    """The ``sqlite3`` connection of the session's transaction (begun if need be), else None."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    return session.connection().connection.driver_connection


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """``sqlite3`` errors as the StoreErrors ``Database`` raises for SQLAlchemy's."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise ConflictError(f"the change conflicts with stored data: {_first_line(exc)}") from exc
    except (sqlite3.OperationalError, sqlite3.InterfaceError) as exc:
        raise StoreUnavailableError(f"database unavailable: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else "unknown error"


def json_text(value: Any) -> str | None:
    """JSON text for a JSON column (``None`` → NULL, as ``JSON(none_as_null=True)`` does)."""
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # integers past 64 bits, non-string keys: what the stdlib encoder accepts
        return json.dumps(value)


def timestamp(value: datetime | None) -> str | None:
    """An aware datetime as SQLAlchemy's SQLite DATETIME text (UTC, naive, always 6 decimals)."""
    if value is None:
        return None
    if value.tzinfo is not None and value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")
