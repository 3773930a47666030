"""Migrations 0002 (the demo store) and 0003 (the request inspector) add exactly the demo tables
and take them away again."""

from __future__ import annotations

from pathlib import Path

from alembic import command

from appfn import store
from appfn.store.db import _alembic_config, make_engine, table_names

DEMO_TABLES = [
    "demo_access_tokens", "demo_brands", "demo_categories", "demo_customers", "demo_inspected_requests",
    "demo_order_statuses", "demo_orders", "demo_outbox", "demo_products", "demo_shipments",
]  # fmt: skip


def test_upgrade_adds_and_downgrade_removes_the_demo_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'appfn.db'}"
    store.upgrade_to_head(url)
    engine = make_engine(url)
    try:
        assert [t for t in table_names(engine) if t.startswith("demo_")] == DEMO_TABLES
        assert store.current_revision(engine) == store.head_revision()
        with engine.connect() as connection:
            command.downgrade(_alembic_config(connection), "0002")
        assert "demo_inspected_requests" not in table_names(engine)
        assert "demo_customers" in table_names(engine)
        with engine.connect() as connection:
            command.downgrade(_alembic_config(connection), "0001")
        assert not [t for t in table_names(engine) if t.startswith("demo_")]
        store.upgrade_to_head(engine)
        assert [t for t in table_names(engine) if t.startswith("demo_")] == DEMO_TABLES
    finally:
        engine.dispose()
