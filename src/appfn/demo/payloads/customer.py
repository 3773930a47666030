"""The Customer model (Customer Events page, Example 1) and the shorter forms orders carry."""

from __future__ import annotations

from typing import Any

from appfn.demo.common import StoreInfo, php_date
from appfn.demo.models import DemoCustomerRow

# order.created nests the customer without these three (the order example's key set).
_NOT_IN_ORDERS = ("groups", "source", "is_notifications_enabled")


def customer_data(row: DemoCustomerRow, store: StoreInfo) -> dict[str, Any]:
    return {
        "id": row.id,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "mobile": int(row.mobile),
        "mobile_code": row.mobile_code,
        "email": row.email,
        "urls": {"customer": f"{store.base_url}/profile", "admin": f"{store.admin_url}/customers/{row.id}"},
        "avatar": row.avatar,
        "gender": row.gender,
        "birthday": _birthday(row.birthday),
        "city": row.city,
        "country": row.country,
        "country_code": row.country_code,
        "currency": row.currency,
        "location": row.location,
        "updated_at": php_date(row.updated_at),
        "groups": list(row.groups),
        "source": dict(row.source),
        "is_notifications_enabled": row.is_notifications_enabled,
    }


def order_customer(row: DemoCustomerRow, store: StoreInfo) -> dict[str, Any]:
    """The customer as order.created carries it (snapshotted into the order)."""
    data = customer_data(row, store)
    return {k: v for k, v in data.items() if k not in _NOT_IN_ORDERS}


def short_customer(customer: dict[str, Any]) -> dict[str, Any]:
    """The short form of order.status.updated, from an order's customer snapshot."""
    return {
        "id": customer["id"],
        "name": f"{customer['first_name']} {customer['last_name']}".strip(),
        "mobile": f"{customer['mobile_code']}{customer['mobile']}",
        "email": customer["email"],
        "avatar": customer["avatar"],
        "country": customer["country"],
        "city": customer["city"],
    }


def _birthday(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    return {"date": f"{value} 00:00:00.000000", "timezone_type": 3, "timezone": "Asia/Riyadh"}
