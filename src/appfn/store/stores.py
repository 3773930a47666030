"""Stores (merchants). The id is the platform's numeric merchant id, not a random string.

Stores are platform records: only operators should create or list them; the store layer
does no ownership check here (a demo store's owner is not modelled yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appfn.errors import ConflictError, ValidationError
from appfn.store._common import check_name, check_store_id, one_or_404, utcnow
from appfn.store.models import StoreRow


@dataclass(frozen=True)
class Store:
    id: int
    name: str
    is_demo: bool
    created_at: datetime


def _store(row: StoreRow) -> Store:
    return Store(id=row.id, name=row.name, is_demo=row.is_demo, created_at=row.created_at)


def _check_demo(is_demo: object) -> bool:
    if not isinstance(is_demo, bool):
        raise ValidationError("is_demo", f"must be true or false, got {is_demo!r}")
    return is_demo


def create_store(session: Session, store_id: int, name: str, *, is_demo: bool = False) -> Store:
    """A new store; ConflictError if the id is taken."""
    row = StoreRow(
        id=check_store_id(store_id), name=check_name(name), is_demo=_check_demo(is_demo), created_at=utcnow()
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise ConflictError(f"store {store_id} already exists", "store") from None
    return _store(row)


def upsert_store(session: Session, store_id: int, name: str, *, is_demo: bool = False) -> Store:
    """Create the store, or update its name and demo flag when it exists."""
    store_id = check_store_id(store_id)
    row = session.execute(select(StoreRow).where(StoreRow.id == store_id).with_for_update()).scalar_one_or_none()
    if row is None:
        return create_store(session, store_id, name, is_demo=is_demo)
    row.name, row.is_demo = check_name(name), _check_demo(is_demo)
    session.flush()
    return _store(row)


def get_store(session: Session, store_id: int) -> Store:
    store_id = check_store_id(store_id)
    return _store(one_or_404(session, select(StoreRow).where(StoreRow.id == store_id), "store", store_id))


def list_stores(session: Session, *, is_demo: bool | None = None) -> list[Store]:
    stmt = select(StoreRow).order_by(StoreRow.id)
    if is_demo is not None:
        stmt = stmt.where(StoreRow.is_demo == is_demo)
    return [_store(r) for r in session.execute(stmt).scalars()]


def delete_store(session: Session, store_id: int) -> None:
    """Delete a store and its installations (events and executions naming it are kept)."""
    get_store(session, store_id)
    session.execute(StoreRow.__table__.delete().where(StoreRow.id == store_id))
    session.expunge_all()
