"""One page of a select, and how many rows the whole select has."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PER_PAGE = 60
DEFAULT_PER_PAGE = 15


def paginate(session: Session, stmt: Select[Any], page: int, per_page: int) -> tuple[list[Any], int]:
    total = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = list(session.execute(stmt.offset((page - 1) * per_page).limit(per_page)).scalars())
    return rows, int(total)


def like(keyword: str) -> str:
    """A LIKE pattern matching ``keyword`` anywhere, with its own % and _ taken literally."""
    escaped = keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
