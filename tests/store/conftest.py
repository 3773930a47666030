"""Fixtures for the store tests: real databases, never mocks.

``db`` is parametrized over a SQLite file under tmp_path (fresh per test) and PostgreSQL at
APPFN_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test). For
PostgreSQL each test run creates its own schema, migrates it once, empties its tables before
every test and drops the schema at the end. When PostgreSQL is unreachable its cases skip on
a laptop but FAIL under CI=true, so CI never passes by silently testing less.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from appfn import store
from appfn.store.models import Base

PG_URL = os.environ.get("APPFN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]

HANDLER = "def handler(context):\n    return {'success': True}\n"
SCHEMA = [
    {"id": "api_key", "type": "string", "format": "password", "required": True, "label": "API key"},
    {"id": "endpoint", "type": "string", "format": "url", "default": "https://crm.example.com"},
    {"id": "vip_threshold", "type": "integer", "default": 3},
    {"id": "send_sms", "type": "boolean", "default": False},
]


def require_postgres() -> None:
    """Skip (locally) or fail (CI) when PostgreSQL cannot be reached."""
    try:  # psycopg missing counts as unreachable too
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        message = f"PostgreSQL not usable at {PG_URL}: {type(exc).__name__}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


class PgSchemas:
    """Creates throwaway schemas in the test database and drops them all at the end."""

    def __init__(self) -> None:
        self.admin = create_engine(PG_URL)
        self.created: list[str] = []

    def new(self) -> str:
        """A fresh empty schema; returns a URL whose connections use it (search_path)."""
        name = f"appfn_test_{secrets.token_hex(6)}"
        with self.admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
        self.created.append(name)
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={name}"})
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.begin() as connection:
            for name in self.created:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_schemas() -> Iterator[PgSchemas]:
    require_postgres()
    schemas = PgSchemas()
    yield schemas
    schemas.drop_all()


@pytest.fixture(scope="session")
def pg_database(pg_schemas: PgSchemas) -> Iterator[store.Database]:
    """One migrated schema for the whole run (tests empty it, see ``db``)."""
    database = store.Database.open(pg_schemas.new())
    yield database
    database.dispose()


def _truncate(database: store.Database) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[store.Database]:
    if backend == "sqlite":
        database = store.Database.open(data_dir=tmp_path)
        yield database
        database.dispose()
        return
    database = request.getfixturevalue("pg_database")
    _truncate(database)
    yield database


# --- a small world builder ---------------------------------------------------------------------


@dataclass
class World:
    """Shortcuts for the records most tests need, each in its own committed transaction."""

    db: store.Database

    def partner(self, name: str = "Acme") -> store.Partner:
        with self.db.session() as s:
            return store.create_partner(s, name)

    def app(
        self, partner: store.Partner, *, scopes: list[str] | None = None, schema: Any = None, name: str = "CRM"
    ) -> store.App:
        with self.db.session() as s:
            return store.create_app(
                s,
                partner_id=partner.id,
                name=name,
                scopes=["customers.read"] if scopes is None else scopes,
                settings_schema=schema,
            )

    def store(self, store_id: int = 1001, *, is_demo: bool = True) -> store.Store:
        with self.db.session() as s:
            return store.upsert_store(s, store_id, f"Store {store_id}", is_demo=is_demo)

    def deployed(self, app: store.App, trigger: str = "customer.created", source: str = HANDLER) -> store.SaveResult:
        """Save and deploy a function; returns the save result (job COMPLETED)."""
        with self.db.session() as s:
            saved = store.save_function(s, app_id=app.id, trigger=trigger, source=source, partner_id=app.partner_id)
            store.complete_deploy(s, saved.job.id)
            return saved

    def install(self, app: store.App, store_id: int = 1001, **kwargs: Any) -> store.Installation:
        with self.db.session() as s:
            return store.install_app(s, app_id=app.id, store_id=store_id, partner_id=app.partner_id, **kwargs)


@pytest.fixture
def world(db: store.Database) -> World:
    return World(db)


@pytest.fixture
def in_session(db: store.Database) -> Callable[..., Any]:
    """``in_session(fn, *args, **kwargs)``: run one store call in its own write transaction."""

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with db.session() as s:
            return fn(s, *args, **kwargs)

    return run
