"""Executions: five indexes instead of eight (every one is written on each recorded run).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-12

Dropped: ``status``, ``trigger`` and ``(store_id, created_at)``. Every list of executions is
newest first within a time window, so it walks ``(partner_id, created_at)`` (a partner's own
runs), ``(app_id, created_at)`` (one app) or ``(created_at)`` (the operator) and checks the
other filters on the rows it reads; ``event_id`` stays for one event's runs and the dead
letters' lookups. A status or trigger index does not pay for itself: few distinct values, and
the planner still has to sort what it finds by time.

Written by hand like 0001–0003 (``tests/store/test_migrations.py`` checks that it agrees with
``appfn/store/models.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = (("status",), ("trigger",), ("store_id", "created_at"))


def upgrade() -> None:
    for columns in DROPPED:
        op.drop_index(f"ix_executions_{'_'.join(columns)}", table_name="executions")


def downgrade() -> None:
    for columns in DROPPED:
        op.create_index(f"ix_executions_{'_'.join(columns)}", "executions", list(columns))
