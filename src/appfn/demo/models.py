"""The demo store's tables (all prefixed ``demo_``), on the platform's own ``Base`` metadata.

Registered by ``appfn.store.models`` importing this module, so the Alembic environment and
the migration test see them; ``migrations/versions/0002_demo_store.py`` creates exactly this.

Ids are random 9-10 digit integers like the original's (``225167971``), unique across
stores; every lookup also filters by ``store_id`` so one store never sees another's record.
Money is a float in SAR (the payloads carry ``{amount, currency}`` numbers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from appfn.store.models import EVENT_ID, ID, NAME, TRIGGER, Base, JSONValue

URL = 500
SHORT = 32


def _store_fk() -> Mapped[int]:
    return mapped_column(BigInteger, ForeignKey("stores.id", ondelete="CASCADE"), index=True)


class DemoCustomerRow(Base):
    __tablename__ = "demo_customers"
    __table_args__ = (UniqueConstraint("store_id", "mobile_code", "mobile"), Index(None, "store_id", "email"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    store_id: Mapped[int] = _store_fk()
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(NAME))  # "" when the customer gave none
    mobile: Mapped[str] = mapped_column(String(SHORT))  # digits, without the country code
    mobile_code: Mapped[str] = mapped_column(String(8))  # "+966"
    gender: Mapped[str] = mapped_column(String(16))
    birthday: Mapped[str | None] = mapped_column(String(10))  # YYYY-MM-DD
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(100))
    country_code: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    location: Mapped[str] = mapped_column(String(NAME))
    avatar: Mapped[str] = mapped_column(String(URL))
    groups: Mapped[list[Any]]
    is_notifications_enabled: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[dict[str, Any]]  # {device, user-agent, ip} of the request that created it
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class DemoBrandRow(Base):
    __tablename__ = "demo_brands"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    store_id: Mapped[int] = _store_fk()
    name: Mapped[str] = mapped_column(String(NAME))
    description: Mapped[str] = mapped_column(Text)
    logo: Mapped[str] = mapped_column(String(URL))
    banner: Mapped[str | None] = mapped_column(String(URL))
    status: Mapped[str | None] = mapped_column(String(16))
    ar_char: Mapped[str] = mapped_column(String(4))
    en_char: Mapped[str] = mapped_column(String(4))
    meta: Mapped[dict[str, Any]]  # the payload's "metadata" (SEO title, description, url)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DemoCategoryRow(Base):
    __tablename__ = "demo_categories"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    store_id: Mapped[int] = _store_fk()
    name: Mapped[str] = mapped_column(String(NAME))
    image: Mapped[str] = mapped_column(String(URL))
    parent_id: Mapped[int] = mapped_column(BigInteger)  # 0: a top-level category
    sort_order: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    show_in: Mapped[dict[str, Any]]
    meta: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DemoProductRow(Base):
    __tablename__ = "demo_products"
    __table_args__ = (Index(None, "store_id", "name"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    store_id: Mapped[int] = _store_fk()
    name: Mapped[str] = mapped_column(String(NAME))
    sku: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(SHORT))
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    price: Mapped[float] = mapped_column(Float)
    sale_price: Mapped[float | None] = mapped_column(Float)
    cost_price: Mapped[float | None] = mapped_column(Float)
    quantity: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    notify_quantity: Mapped[int | None] = mapped_column(Integer)  # own low-stock threshold
    sold_quantity: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float)  # kg
    calories: Mapped[float | None] = mapped_column(Float)
    brand_id: Mapped[int | None] = mapped_column(BigInteger)
    categories: Mapped[list[Any]]  # category ids
    images: Mapped[list[Any]]  # urls
    meta: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DemoOrderRow(Base):
    __tablename__ = "demo_orders"
    __table_args__ = (UniqueConstraint("store_id", "reference_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    store_id: Mapped[int] = _store_fk()
    reference_id: Mapped[int] = mapped_column(BigInteger)  # the per-store order number
    customer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("demo_customers.id", ondelete="SET NULL"), index=True
    )
    # Snapshots taken when the order was placed: later edits of the customer or the products
    # do not rewrite an order (as in a real store).
    customer: Mapped[dict[str, Any]]
    items: Mapped[list[Any]]
    amounts: Mapped[dict[str, Any]]
    shipping_address: Mapped[dict[str, Any]]
    source_details: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(SHORT))  # slug: under_review, completed, ...
    payment_method: Mapped[str] = mapped_column(String(SHORT))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_complete_at: Mapped[datetime | None]


class DemoOrderStatusRow(Base):
    """One status change of an order: the record ``order.status.updated`` carries."""

    __tablename__ = "demo_order_statuses"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("demo_orders.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(SHORT))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class DemoShipmentRow(Base):
    __tablename__ = "demo_shipments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    store_id: Mapped[int] = _store_fk()
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("demo_orders.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(16))  # shipment | return
    status: Mapped[str] = mapped_column(String(SHORT))
    shipping_number: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    tracking_link: Mapped[str | None] = mapped_column(String(URL))
    label: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    status_note: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[float | None] = mapped_column(Float)
    courier_id: Mapped[str | None] = mapped_column(String(ID))  # the app whose function set the number
    courier_name: Mapped[str | None] = mapped_column(String(NAME))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DemoAccessTokenRow(Base):
    """An installation's Admin API token: only its SHA-256 is kept (see ``appfn.demo.tokens``)."""

    __tablename__ = "demo_access_tokens"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    installation_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(12), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class DemoOutboxRow(Base):
    """An async event written in the same transaction as the change it reports, deleted once
    the platform accepted it: a crash or a full queue between the two delays it, never loses it."""

    __tablename__ = "demo_outbox"

    id: Mapped[str] = mapped_column(String(EVENT_ID), primary_key=True)  # the event id
    store_id: Mapped[int] = mapped_column(BigInteger)
    trigger: Mapped[str] = mapped_column(String(TRIGGER))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[str] = mapped_column(Text)  # the envelope's created_at string
    queued_at: Mapped[datetime] = mapped_column(index=True)


class DemoInspectedRequestRow(Base):
    """One request the request inspector received (``appfn.demo.inspector``): secrets masked
    before it is written, the body capped. ``partner_id`` .. ``trigger`` say which function sent
    it (None for a request that came over HTTP from elsewhere); no foreign keys, so the record
    outlives the app that made it."""

    __tablename__ = "demo_inspected_requests"
    __table_args__ = (Index(None, "bin", "created_at"), Index(None, "partner_id", "created_at"))

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    bin: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)  # secret query values masked
    path: Mapped[str] = mapped_column(Text)  # after /inspect/<bin>
    query: Mapped[dict[str, Any]]
    headers: Mapped[dict[str, Any]]  # lower-case name -> value (secrets masked)
    body: Mapped[Any] = mapped_column(JSONValue, nullable=True)  # parsed JSON, or text
    body_kind: Mapped[str] = mapped_column(String(8))  # json | text | binary | empty
    body_bytes: Mapped[int] = mapped_column(Integer)
    body_truncated: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))  # function | preview | http
    partner_id: Mapped[str | None] = mapped_column(String(ID))
    app_id: Mapped[str | None] = mapped_column(String(ID))
    installation_id: Mapped[str | None] = mapped_column(String(ID))
    store_id: Mapped[int | None] = mapped_column(BigInteger)
    event_id: Mapped[str | None] = mapped_column(String(EVENT_ID))
    trigger: Mapped[str | None] = mapped_column(String(TRIGGER))
    created_at: Mapped[datetime] = mapped_column(index=True)
