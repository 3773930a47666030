"""Small helpers shared by the store modules: ids, clocks, input checks, ownership."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from appfn.errors import NotFoundError, ValidationError

ID_RANDOM_BYTES = 10  # 80 bits, 16 base32 characters after the prefix
NAME_MAX = 200


class _Unset:
    """Marker for "argument not given" where ``None`` is a meaningful value."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def new_id(prefix: str) -> str:
    """``prefix_`` + 16 random lower-case base32 characters, e.g. ``app_3kf9q2m7w1xz4b8c``."""
    return new_ids(prefix, 1)[0]


def new_ids(prefix: str, count: int) -> list[str]:
    """``count`` ids like ``new_id``'s, from one read of the OS's randomness (a batch of rows)."""
    size = ID_RANDOM_BYTES
    raw = secrets.token_bytes(size * count)
    return [f"{prefix}_{base64.b32encode(raw[i : i + size]).decode('ascii').lower()}" for i in range(0, len(raw), size)]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime, field: str) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if not isinstance(value, datetime):
        raise ValidationError(field, f"expected a datetime, got {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def check_name(value: Any, field: str = "name", max_len: int = NAME_MAX) -> str:
    """A stripped, non-empty, single-line string of at most ``max_len`` characters."""
    if not isinstance(value, str):
        raise ValidationError(field, f"expected a string, got {type(value).__name__}")
    value = value.strip()
    if not value:
        raise ValidationError(field, "must not be empty")
    if len(value) > max_len:
        raise ValidationError(field, f"is {len(value)} characters long, at most {max_len} allowed")
    if any(c in value for c in "\r\n\x00"):
        raise ValidationError(field, "must be a single line")
    return value


def check_choice(value: Any, choices: tuple[str, ...], field: str) -> str:
    if value not in choices:
        raise ValidationError(field, f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def check_store_id(value: Any, field: str = "store_id") -> int:
    """A positive integer merchant id; a string of digits is accepted (envelopes carry both)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"expected a positive integer, got {value!r}")
    if not 0 < value < 2**63:
        raise ValidationError(field, f"must be a positive 64-bit integer, got {value}")
    return value


def owned(stmt: Select[Any], partner_column: Any, partner_id: str | None) -> Select[Any]:
    """Restrict a select to one partner's rows; ``partner_id=None`` (operator) sees all."""
    return stmt if partner_id is None else stmt.where(partner_column == partner_id)


def one_or_404(session: Session, stmt: Select[Any], kind: str, ident: object) -> Any:
    """The single row ``stmt`` selects, or NotFoundError naming ``kind`` and ``ident``."""
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotFoundError(kind, ident)
    return row
