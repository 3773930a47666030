"""Alembic environment for appfn's store, run by ``appfn.store.db.upgrade_to_head``.

The caller passes an open connection in ``config.attributes["connection"]``; there is no
``alembic.ini``. To write a new revision against a scratch database at head::

    python -c 'from appfn.store.db import new_revision; new_revision("add x", "sqlite:///dev.db")'

Every upgrade runs in one transaction (SQLite runs DDL transactionally too). On PostgreSQL an
advisory lock held for that transaction serialises servers that start together; on SQLite
``BEGIN IMMEDIATE`` (set by ``appfn.store.db.make_engine``) does the same.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from appfn.store.models import Base

MIGRATION_LOCK_KEY = 0x61_70_70_66_6E  # "appfn" in ASCII; any constant would do

config = context.config


def run(connection: Connection) -> None:
    dialect = connection.dialect.name
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        transactional_ddl=True,
        render_as_batch=dialect == "sqlite",  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        if dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("appfn's migrations run online only: use appfn.store.db.upgrade_to_head(url)")
run(config.attributes["connection"])
