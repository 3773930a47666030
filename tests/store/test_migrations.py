"""Migrations: from empty to head on both backends, idempotent, and in step with the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from appfn import store
from appfn.errors import StoreUnavailableError
from appfn.store.db import check_at_head, make_engine, table_names
from appfn.store.models import Base

TABLES = [
    "alembic_version",
    "api_keys",
    "apps",
    "demo_access_tokens",
    "demo_brands",
    "demo_categories",
    "demo_customers",
    "demo_inspected_requests",
    "demo_order_statuses",
    "demo_orders",
    "demo_outbox",
    "demo_products",
    "demo_shipments",
    "deploy_jobs",
    "events",
    "executions",
    "function_versions",
    "functions",
    "installations",
    "partners",
    "stores",
]


@pytest.fixture
def empty_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to a database with no tables at all."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'dir' / 'appfn.db'}"
    return request.getfixturevalue("pg_schemas").new()


def test_upgrade_from_empty_creates_every_table(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        assert table_names(engine) == []
        assert store.current_revision(engine) is None
        with pytest.raises(StoreUnavailableError, match="run the migrations"):
            check_at_head(engine)
        store.upgrade_to_head(empty_url)
        assert table_names(engine) == TABLES
        assert store.current_revision(engine) == store.head_revision()
        check_at_head(engine)
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    db = store.Database.open(empty_url)
    try:
        with db.session() as s:
            partner = store.create_partner(s, "Kept")
        db.upgrade()
        store.upgrade_to_head(empty_url)
        with db.read_session() as s:
            assert store.get_partner(s, partner.id).name == "Kept"
        assert db.current_revision() == store.head_revision()
    finally:
        db.dispose()


def test_models_and_migrations_agree(empty_url: str) -> None:
    """Autogenerate finds nothing to do: the shipped migrations build exactly models.py."""
    store.upgrade_to_head(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    db = store.Database.open(data_dir=tmp_path)
    try:
        assert Path(str(db.url.database)) == tmp_path / "appfn.db"
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
    finally:
        db.dispose()


def test_open_without_url_or_data_dir_is_refused() -> None:
    with pytest.raises(ValueError, match="url or a data_dir"):
        store.Database.open()


def test_unreachable_postgres_is_store_unavailable() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"
    with pytest.raises(StoreUnavailableError, match="database unavailable"):
        store.upgrade_to_head(url)


def test_database_rejects_bad_writes_with_store_errors(db: store.Database) -> None:
    """A constraint the repository does not pre-check still surfaces as a StoreError."""
    from appfn.errors import ConflictError

    with pytest.raises(ConflictError), db.session() as s:
        s.execute(text("INSERT INTO stores (id, name, is_demo, created_at) VALUES (1, 'a', false, '2026-01-01')"))
        s.execute(text("INSERT INTO stores (id, name, is_demo, created_at) VALUES (1, 'b', false, '2026-01-01')"))
    with db.read_session() as s:
        assert store.list_stores(s) == []


def test_downgrade_to_empty_and_back(empty_url: str) -> None:
    from alembic import command

    from appfn.store.db import _alembic_config

    store.upgrade_to_head(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            command.downgrade(_alembic_config(connection), "base")
        assert table_names(engine) == ["alembic_version"]
        store.upgrade_to_head(engine)
        assert table_names(engine) == TABLES
    finally:
        engine.dispose()


EXECUTION_INDEXES = {
    "ix_executions_app_id_created_at": ["app_id", "created_at"],
    "ix_executions_created_at": ["created_at"],
    "ix_executions_event_id": ["event_id"],
    "ix_executions_partner_id_created_at": ["partner_id", "created_at"],
}  # and the primary key: five in all, each written on every recorded run (migration 0004)


def _execution_indexes(engine) -> dict[str, list[str]]:
    from sqlalchemy import inspect

    return {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("executions")}


def test_executions_keep_four_indexes_and_0003_had_seven(empty_url: str) -> None:
    from alembic import command

    from appfn.store.db import _alembic_config

    store.upgrade_to_head(empty_url)
    engine = make_engine(empty_url)
    try:
        assert _execution_indexes(engine) == EXECUTION_INDEXES
        with engine.connect() as connection:
            command.downgrade(_alembic_config(connection), "0003")
        assert _execution_indexes(engine) == {
            **EXECUTION_INDEXES,
            "ix_executions_status": ["status"],
            "ix_executions_trigger": ["trigger"],
            "ix_executions_store_id_created_at": ["store_id", "created_at"],
        }
        store.upgrade_to_head(engine)
        assert _execution_indexes(engine) == EXECUTION_INDEXES
    finally:
        engine.dispose()


def test_execution_lists_read_by_index_not_by_scan(tmp_path: Path) -> None:
    """SQLite's plan for the lists the API and the console run: an index, never a table scan."""
    from datetime import UTC, datetime

    from appfn.store import stats
    from appfn.store.executions import list_executions

    db = store.Database.open(data_dir=tmp_path)
    plans: list[str] = []
    try:
        with db.read_session() as s:
            real = s.execute

            def explain(stmt, *args, **kwargs):  # type: ignore[no-untyped-def]
                compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
                rows = real(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
                plans.append(" | ".join(str(r[-1]) for r in rows))
                return real(stmt, *args, **kwargs)

            s.execute = explain  # type: ignore[method-assign]
            now = datetime.now(UTC)
            for partner in ("ptn_a", None):
                list_executions(s, partner_id=partner)
                list_executions(s, partner_id=partner, app_id="app_a", status=["failure", "dead"])
                list_executions(s, partner_id=partner, store_id=7, trigger="customer.created", since=now)
                list_executions(s, partner_id=partner, event_id="evt_1")
                stats.feed(s, partner_id=partner, since=now, status=["success"])
    finally:
        db.dispose()
    assert len(plans) == 10
    for plan in plans:
        assert "INDEX ix_executions_" in plan, plan
