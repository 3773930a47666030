"""The request inspector's records (``demo_inspected_requests``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10

Written by hand from ``appfn/demo/models.py`` (``tests/store/test_migrations.py`` checks that
they agree). Like 0001 and 0002, it does not import the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "demo_inspected_requests"


def _json(name: str, nullable: bool = False) -> sa.Column:
    kind = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
    return sa.Column(name, kind, nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        TABLE,
        _str("id", 32),
        _str("bin", 64),
        _str("method", 16),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        _json("query"),
        _json("headers"),
        _json("body", nullable=True),
        _str("body_kind", 8),
        sa.Column("body_bytes", sa.Integer(), nullable=False),
        sa.Column("body_truncated", sa.Boolean(), nullable=False),
        _str("source", 16),
        _str("partner_id", 32, nullable=True),
        _str("app_id", 32, nullable=True),
        _str("installation_id", 32, nullable=True),
        sa.Column("store_id", sa.BigInteger(), nullable=True),
        _str("event_id", 200, nullable=True),
        _str("trigger", 100, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TABLE}"),
    )
    op.create_index(f"ix_{TABLE}_bin_created_at", TABLE, ["bin", "created_at"])
    op.create_index(f"ix_{TABLE}_partner_id_created_at", TABLE, ["partner_id", "created_at"])
    op.create_index(f"ix_{TABLE}_created_at", TABLE, ["created_at"])


def downgrade() -> None:
    op.drop_table(TABLE)
