"""Initial schema: partners, keys, apps, functions and versions, deploys, stores, installations,
events, executions.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Written by hand from the models (``tests/store/test_migrations.py`` checks that they agree).
Migrations never import the models: a later change to ``models.py`` must not rewrite history.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str = "id", nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(32), nullable=nullable)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str, nullable: bool = False) -> sa.Column:
    kind = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
    return sa.Column(name, kind, nullable=nullable)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def upgrade() -> None:
    op.create_table(
        "partners",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        _ts("created_at"),
        _pk("partners"),
    )
    op.create_table(
        "api_keys",
        _id(),
        _id("partner_id", nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("last_used_at", nullable=True),
        _ts("revoked_at", nullable=True),
        sa.CheckConstraint("role IN ('operator', 'partner')", name="ck_api_keys_role"),
        sa.CheckConstraint(
            "(role = 'operator' AND partner_id IS NULL) OR (role = 'partner' AND partner_id IS NOT NULL)",
            name="ck_api_keys_role_partner",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name="fk_api_keys_partner_id_partners", ondelete="CASCADE"
        ),
        _pk("api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    _index("api_keys", "partner_id")
    _index("api_keys", "prefix")

    op.create_table(
        "apps",
        _id(),
        _id("partner_id"),
        sa.Column("name", sa.String(200), nullable=False),
        _json("scopes"),
        _json("settings_schema"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name="fk_apps_partner_id_partners"),
        _pk("apps"),
    )
    _index("apps", "partner_id")

    # functions.active_version_id and function_versions.function_id point at each other: the
    # first of the two foreign keys is added once both tables exist.
    op.create_table(
        "functions",
        _id(),
        _id("app_id"),
        sa.Column("trigger", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _id("active_version_id", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name="fk_functions_app_id_apps", ondelete="CASCADE"),
        _pk("functions"),
        sa.UniqueConstraint("app_id", "trigger", name="uq_functions_app_id_trigger"),
    )
    _index("functions", "active_version_id")
    op.create_table(
        "function_versions",
        _id(),
        _id("function_id"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint("language IN ('python', 'typescript', 'javascript')", name="ck_function_versions_language"),
        sa.CheckConstraint("number >= 1", name="ck_function_versions_number"),
        sa.ForeignKeyConstraint(
            ["function_id"], ["functions.id"], name="fk_function_versions_function_id_functions", ondelete="CASCADE"
        ),
        _pk("function_versions"),
        sa.UniqueConstraint("function_id", "number", name="uq_function_versions_function_id_number"),
    )
    with op.batch_alter_table("functions") as batch:
        batch.create_foreign_key(
            "fk_functions_active_version_id_function_versions",
            "function_versions",
            ["active_version_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "deploy_jobs",
        _id(),
        _id("function_version_id"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("failure_line", sa.Integer(), nullable=True),
        _ts("created_at"),
        _ts("finished_at", nullable=True),
        sa.CheckConstraint("status IN ('PENDING', 'COMPLETED', 'FAILED')", name="ck_deploy_jobs_status"),
        sa.ForeignKeyConstraint(
            ["function_version_id"],
            ["function_versions.id"],
            name="fk_deploy_jobs_function_version_id_function_versions",
            ondelete="CASCADE",
        ),
        _pk("deploy_jobs"),
    )
    _index("deploy_jobs", "function_version_id")
    _index("deploy_jobs", "status")

    op.create_table(
        "stores",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _pk("stores"),
    )
    op.create_table(
        "installations",
        _id(),
        _id("app_id"),
        sa.Column("store_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _json("granted_scopes"),
        _json("settings"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("status IN ('active', 'inactive')", name="ck_installations_status"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], name="fk_installations_app_id_apps", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name="fk_installations_store_id_stores", ondelete="CASCADE"
        ),
        _pk("installations"),
        sa.UniqueConstraint("app_id", "store_id", name="uq_installations_app_id_store_id"),
    )
    _index("installations", "store_id", "status")

    op.create_table(
        "events",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(100), nullable=False),
        sa.Column("store_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=True),
        _json("data", nullable=True),
        _ts("received_at"),
        _pk("events"),
    )
    _index("events", "store_id", "received_at")

    op.create_table(
        "executions",
        _id(),
        sa.Column("event_id", sa.String(200), nullable=True),
        _id("app_id"),
        _id("partner_id"),
        _id("function_id", nullable=True),
        _id("function_version_id", nullable=True),
        _id("installation_id", nullable=True),
        sa.Column("store_id", sa.BigInteger(), nullable=False),
        sa.Column("trigger", sa.String(100), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _json("response", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_kind", sa.String(64), nullable=True),
        _json("console"),
        _json("requests"),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("job_id", sa.String(64), nullable=True),
        _ts("created_at"),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'success', 'failure', 'timeout', 'dead')", name="ck_executions_status"
        ),
        _pk("executions"),
    )
    _index("executions", "partner_id", "created_at")
    _index("executions", "app_id", "created_at")
    _index("executions", "store_id", "created_at")
    _index("executions", "created_at")
    _index("executions", "status")
    _index("executions", "trigger")
    _index("executions", "event_id")


def downgrade() -> None:
    with op.batch_alter_table("functions") as batch:
        batch.drop_constraint("fk_functions_active_version_id_function_versions", type_="foreignkey")
    for table in (
        "executions",
        "events",
        "installations",
        "stores",
        "deploy_jobs",
        "function_versions",
        "functions",
        "apps",
        "api_keys",
        "partners",
    ):
        op.drop_table(table)
