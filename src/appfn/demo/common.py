"""Small pieces shared by the demo store's records and payload builders: ids, dates in the
original's PHP form, amounts, the store's public URLs and its (one) warehouse."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from appfn.demo.errors import not_found
from appfn.store.models import StoreRow

RIYADH = timezone(timedelta(hours=3), "Asia/Riyadh")  # no daylight saving in Saudi Arabia
T = TypeVar("T")
ID_MIN, ID_MAX = 100_000_000, 2_147_483_647  # 9-10 digits, like the original's ids


def new_number_id(session: Session, model: Any) -> int:
    """A random id not used yet in ``model``'s table."""
    while True:
        candidate = ID_MIN + secrets.randbelow(ID_MAX - ID_MIN)
        if session.get(model, candidate) is None:
            return candidate


def get_in_store(session: Session, model: type[T], store_id: int, record_id: int, what: str, **options: Any) -> T:
    """The ``model`` row ``record_id`` of this store; another store's row is "not found" too, and
    so is an id no row can have (past the database's 64-bit integers)."""
    if not 0 < record_id < 2**63:
        raise not_found(what, record_id)
    row = session.get(model, record_id, **options)
    if row is None or row.store_id != store_id:  # type: ignore[attr-defined]
        raise not_found(what, record_id)
    return row


def php_date(moment: datetime) -> dict[str, Any]:
    """``{"date": "2022-01-24 14:26:55.000000", "timezone_type": 3, "timezone": "Asia/Riyadh"}``."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(RIYADH)
    return {"date": local.strftime("%Y-%m-%d %H:%M:%S.000000"), "timezone_type": 3, "timezone": "Asia/Riyadh"}


def plain_date(moment: datetime) -> str:
    """``2025-11-13 12:05:09`` in Riyadh time (the category's ``update_at``)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(RIYADH).strftime("%Y-%m-%d %H:%M:%S")


def money(value: float) -> float:
    rounded = round(float(value) + 0.0, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def amount(value: float, currency: str = "SAR") -> dict[str, Any]:
    return {"amount": money(value), "currency": currency}


@dataclass(frozen=True)
class StoreInfo:
    id: int
    name: str

    @property
    def base_url(self) -> str:
        return f"https://store-{self.id}.appfn.example"

    @property
    def admin_url(self) -> str:
        return f"https://dashboard.appfn.example/stores/{self.id}"

    @property
    def email(self) -> str:
        return f"store-{self.id}@appfn.example"


def store_info(session: Session, store_id: int) -> StoreInfo:
    row = session.execute(select(StoreRow).where(StoreRow.id == store_id)).scalar_one_or_none()
    if row is None:
        raise not_found("store", store_id)
    return StoreInfo(row.id, row.name)


# The store's one warehouse, where every shipment leaves from.
WAREHOUSE: dict[str, Any] = {
    "branch_id": 1987977866,
    "name": "المستودع الرئيسي",
    "phone": "966920034002",
    "country": "السعودية",
    "country_code": "SA",
    "city": "الرياض",
    "street_number": "طريق الملك فهد",
    "block": "العليا",
    "postal_code": "12214",
    "latitude": 24.7136,
    "longitude": 46.6753,
}
