"""Typed shapes of ``payload.data`` for editors (``def handler(context: CustomerContext)``).

They follow the catalog's schemas; every key is optional (``total=False``) because real
payloads drift. At run time data is a plain dict, so ``data["email"]`` and ``data.get``
both work.
"""

from __future__ import annotations

from typing import Any, TypedDict

from appfn.sdk.context import Context


class Amount(TypedDict, total=False):
    amount: float
    currency: str


class PhpDate(TypedDict, total=False):
    date: str
    timezone_type: int
    timezone: str


class CustomerUrls(TypedDict, total=False):
    customer: str
    admin: str


class CustomerSource(TypedDict("_Source", {"user-agent": str}, total=False), total=False):
    device: str
    ip: str


class CustomerData(TypedDict, total=False):
    id: int | str
    first_name: str
    last_name: str
    mobile: int | str
    mobile_code: str
    email: str
    urls: CustomerUrls
    avatar: str
    gender: str
    birthday: PhpDate | None
    city: str
    country: str
    country_code: str
    currency: str
    location: str
    updated_at: PhpDate
    groups: list[Any]
    source: CustomerSource
    is_notifications_enabled: bool


class OtpRequestData(TypedDict, total=False):
    code: str
    contact: str


class ShipmentLabel(TypedDict, total=False):
    format: str
    url: str


class ShipmentData(TypedDict, total=False):
    id: int
    order_id: int
    order_reference_id: int
    type: str
    courier_id: int
    courier_name: str
    shipping_number: str
    tracking_number: str
    tracking_link: str
    label: ShipmentLabel
    payment_method: str
    status: str
    total: Amount
    cash_on_delivery: Amount
    ship_from: dict[str, Any]
    ship_to: dict[str, Any]
    packages: list[dict[str, Any]]


class CommunicationEntity(TypedDict):
    id: int | str
    type: str


class CommunicationData(TypedDict, total=False):
    notifiable: list[str]
    type: str
    content: str
    entity: CommunicationEntity | None
    meta: dict[str, Any]


CustomerContext = Context[CustomerData]
OtpRequestContext = Context[OtpRequestData]
ShipmentContext = Context[ShipmentData]
CommunicationContext = Context[CommunicationData]
AnyContext = Context[dict[str, Any]]
