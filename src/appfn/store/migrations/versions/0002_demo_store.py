"""Demo store: customers, brands, categories, products, orders and their status changes,
shipments, installation access tokens, and the outbox of events not yet handed over.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

Written by hand from ``appfn/demo/models.py`` (``tests/store/test_migrations.py`` checks that
they agree). Like 0001, it does not import the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

URL = 500
SHORT = 32


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str, nullable: bool = False) -> sa.Column:
    kind = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
    return sa.Column(name, kind, nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _big(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False)


def _store(table: str) -> list[sa.SchemaItem]:
    """The store_id column and its cascading foreign key (its index is added by _index)."""
    return [
        _big("store_id"),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=f"fk_{table}_store_id_stores", ondelete="CASCADE"),
    ]


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def _index(table: str, *columns: str, unique: bool = False) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns), unique=unique)


def upgrade() -> None:
    op.create_table(
        "demo_customers",
        _id(),
        *_store("demo_customers"),
        _str("first_name", 100),
        _str("last_name", 100),
        _str("email", 200),
        _str("mobile", SHORT),
        _str("mobile_code", 8),
        _str("gender", 16),
        _str("birthday", 10, nullable=True),
        _str("city", 100),
        _str("country", 100),
        _str("country_code", 2),
        _str("currency", 3),
        _str("location", 200),
        _str("avatar", URL),
        _json("groups"),
        sa.Column("is_notifications_enabled", sa.Boolean(), nullable=False),
        _json("source"),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("last_login_at", nullable=True),
        _pk("demo_customers"),
        sa.UniqueConstraint("store_id", "mobile_code", "mobile", name="uq_demo_customers_store_id_mobile_code_mobile"),
    )
    _index("demo_customers", "store_id")
    _index("demo_customers", "store_id", "email")

    op.create_table(
        "demo_brands",
        _id(),
        *_store("demo_brands"),
        _str("name", 200),
        sa.Column("description", sa.Text(), nullable=False),
        _str("logo", URL),
        _str("banner", URL, nullable=True),
        _str("status", 16, nullable=True),
        _str("ar_char", 4),
        _str("en_char", 4),
        _json("meta"),
        _ts("created_at"),
        _ts("updated_at"),
        _pk("demo_brands"),
    )
    _index("demo_brands", "store_id")

    op.create_table(
        "demo_categories",
        _id(),
        *_store("demo_categories"),
        _str("name", 200),
        _str("image", URL),
        _big("parent_id"),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        _str("status", 16),
        _json("show_in"),
        _json("meta"),
        _ts("created_at"),
        _ts("updated_at"),
        _pk("demo_categories"),
    )
    _index("demo_categories", "store_id")

    op.create_table(
        "demo_products",
        _id(),
        *_store("demo_products"),
        _str("name", 200),
        _str("sku", 100),
        _str("type", SHORT),
        _str("status", 16),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("sale_price", sa.Float(), nullable=True),
        sa.Column("cost_price", sa.Float(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("notify_quantity", sa.Integer(), nullable=True),
        sa.Column("sold_quantity", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("calories", sa.Float(), nullable=True),
        _big("brand_id", nullable=True),
        _json("categories"),
        _json("images"),
        _json("meta"),
        _ts("created_at"),
        _ts("updated_at"),
        _pk("demo_products"),
    )
    _index("demo_products", "store_id")
    _index("demo_products", "store_id", "name")

    op.create_table(
        "demo_orders",
        _id(),
        *_store("demo_orders"),
        _big("reference_id"),
        _big("customer_id", nullable=True),
        _json("customer"),
        _json("items"),
        _json("amounts"),
        _json("shipping_address"),
        _json("source_details"),
        _str("status", SHORT),
        _str("payment_method", SHORT),
        _str("currency", 3),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("first_complete_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["demo_customers.id"], name="fk_demo_orders_customer_id_demo_customers",
            ondelete="SET NULL",
        ),
        _pk("demo_orders"),
        sa.UniqueConstraint("store_id", "reference_id", name="uq_demo_orders_store_id_reference_id"),
    )  # fmt: skip
    _index("demo_orders", "store_id")
    _index("demo_orders", "customer_id")

    op.create_table(
        "demo_order_statuses",
        _id(),
        _big("order_id"),
        _big("store_id"),
        _str("status", SHORT),
        sa.Column("note", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["demo_orders.id"], name="fk_demo_order_statuses_order_id_demo_orders", ondelete="CASCADE"
        ),
        _pk("demo_order_statuses"),
    )
    _index("demo_order_statuses", "order_id")

    op.create_table(
        "demo_shipments",
        _id(),
        *_store("demo_shipments"),
        _big("order_id"),
        _str("type", 16),
        _str("status", SHORT),
        _str("shipping_number", 100, nullable=True),
        _str("tracking_number", 100, nullable=True),
        _str("tracking_link", URL, nullable=True),
        _json("label", nullable=True),
        sa.Column("status_note", sa.Text(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        _str("courier_id", 32, nullable=True),
        _str("courier_name", 200, nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["demo_orders.id"], name="fk_demo_shipments_order_id_demo_orders", ondelete="CASCADE"
        ),
        _pk("demo_shipments"),
    )
    _index("demo_shipments", "store_id")
    _index("demo_shipments", "order_id")

    op.create_table(
        "demo_access_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        _str("installation_id", 32),
        _str("prefix", 12),
        _str("token_hash", 64),
        _ts("created_at"),
        _ts("expires_at", nullable=True),
        _ts("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["installation_id"], ["installations.id"], name="fk_demo_access_tokens_installation_id_installations",
            ondelete="CASCADE",
        ),
        _pk("demo_access_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_demo_access_tokens_token_hash"),
    )  # fmt: skip
    _index("demo_access_tokens", "installation_id")
    _index("demo_access_tokens", "prefix")

    op.create_table(
        "demo_outbox",
        sa.Column("id", sa.String(200), nullable=False),
        _big("store_id"),
        _str("trigger", 100),
        _json("data"),
        sa.Column("created_at", sa.Text(), nullable=False),
        _ts("queued_at"),
        _pk("demo_outbox"),
    )
    _index("demo_outbox", "queued_at")


def downgrade() -> None:
    for table in (
        "demo_outbox",
        "demo_access_tokens",
        "demo_shipments",
        "demo_order_statuses",
        "demo_orders",
        "demo_products",
        "demo_categories",
        "demo_brands",
        "demo_customers",
    ):
        op.drop_table(table)
