"""Engines, sessions and migrations: the one place that knows which database is underneath.

    db = Database.open(data_dir="/var/lib/appfn")          # SQLite file, migrated to head
    db = Database.open("postgresql+psycopg://u@h/appfn")   # or PostgreSQL
    with db.session() as s:       # one write transaction: commits on exit, rolls back on error
        app = apps.create_app(s, partner_id=p.id, name="CRM sync")
    with db.read_session() as s:  # reads only: never commits, never takes SQLite's write lock
        page = executions.list_executions(s, partner_id=p.id)

SQLite: WAL journal, ``synchronous=NORMAL``, foreign keys ON, a busy timeout, and every
write transaction opened with ``BEGIN IMMEDIATE`` so concurrent writers queue on the busy
timeout instead of failing on a lock upgrade halfway through. Read sessions use a plain
``BEGIN`` and run beside writers (WAL).

Migrations are Alembic scripts shipped in ``appfn/store/migrations``; ``upgrade_to_head``
runs them from code (no ``alembic.ini``). Concurrent starts are safe: PostgreSQL takes an
advisory lock, SQLite the ``BEGIN IMMEDIATE`` write lock, for the whole upgrade.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from appfn.errors import ConflictError, StoreUnavailableError

DB_FILENAME = "appfn.db"
BUSY_TIMEOUT_MS = 10_000
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_READ_ONLY = "appfn_read_only"
# Alembic keeps its running context in module globals: one migration at a time per process.
# Between processes the database serialises them (see the module docstring).
_MIGRATION_LOCK = threading.Lock()


def sqlite_url(data_dir: str | Path) -> str:
    """The default database: ``appfn.db`` in the data directory."""
    return f"sqlite:///{Path(data_dir).expanduser().resolve() / DB_FILENAME}"


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """An engine set up for appfn: SQLite pragmas and BEGIN IMMEDIATE, or plain PostgreSQL."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True, future=True)
    database = url.database or ""
    memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if memory:
        engine = create_engine(url, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        )
    _setup_sqlite(engine, wal=not memory)
    return engine


def _setup_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (the "begin" hook below emits BEGIN itself).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """An engine plus the two kinds of session appfn uses. Thread-safe; share one per process."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.engine = make_engine(url, echo=echo)
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False)
        # SQLite has one writer at a time. Writers of this process queue here, woken the moment
        # the lock is free, instead of on SQLite's busy handler, which sleeps 1-100 ms between
        # tries (other processes still wait on the busy timeout). Reentrant: a nested write
        # fails on SQLite's lock as before instead of hanging here.
        self._write_lock = threading.RLock() if self.engine.dialect.name == "sqlite" else None

    @classmethod
    def open(
        cls, url: str | URL | None = None, *, data_dir: str | Path | None = None, migrate: bool = True
    ) -> Database:
        """Open ``url`` (or ``appfn.db`` under ``data_dir``) and, by default, migrate it to head."""
        if url is None:
            if data_dir is None:
                raise ValueError("Database.open needs a url or a data_dir")
            url = sqlite_url(data_dir)
        db = cls(url)
        if migrate:
            db.upgrade()
        return db

    @property
    def url(self) -> URL:
        return self.engine.url

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A write transaction: commits when the block ends, rolls back if it raises."""
        with self._writer(), _translated(), self._write() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        """This process's turn to write (SQLite), waited for as long as SQLite's busy timeout."""
        if self._write_lock is None:
            yield
            return
        if not self._write_lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            raise StoreUnavailableError(f"database unavailable: still locked after {BUSY_TIMEOUT_MS / 1000:g} s")
        try:
            yield
        finally:
            self._write_lock.release()

    @contextlib.contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read transaction: one consistent snapshot, rolled back at the end (nothing to commit)."""
        with _translated(), self._read() as session:
            try:
                yield session
            finally:
                session.rollback()

    def upgrade(self) -> None:
        upgrade_to_head(self.engine)

    def current_revision(self) -> str | None:
        return current_revision(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"<Database {self.url.render_as_string(hide_password=True)}>"


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Driver errors a caller can act on, as StoreErrors (the original is kept as __cause__)."""
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError(f"the change conflicts with stored data: {_first_line(exc.orig)}") from exc
    except (OperationalError, SAInterfaceError) as exc:
        raise StoreUnavailableError(f"database unavailable: {_first_line(exc.orig)}") from exc


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else "unknown error"


# --- migrations -------------------------------------------------------------------------------


def _alembic_config(connection: Any | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(url_or_engine: str | URL | Engine) -> None:
    """Run every pending migration (safe to call at each start; a no-op when at head)."""
    from alembic import command

    engine = url_or_engine if isinstance(url_or_engine, Engine) else make_engine(url_or_engine)
    try:
        with _MIGRATION_LOCK, _translated(), engine.connect() as connection:
            command.upgrade(_alembic_config(connection), "head")
    finally:
        if engine is not url_or_engine:
            engine.dispose()


def new_revision(message: str, url: str | URL) -> None:
    """Developers: upgrade the scratch database ``url`` to head, then autogenerate a migration
    from its difference with the models (review it before committing: see docs/data-model.md)."""
    from alembic import command

    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        with _MIGRATION_LOCK, engine.connect() as connection:
            command.revision(_alembic_config(connection), message=message, autogenerate=True)
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest migration shipped with this version of appfn."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with _translated(), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_at_head(engine: Engine) -> None:
    """StoreUnavailableError unless the database is migrated to this code's head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise StoreUnavailableError(
            f"database schema is at {current or 'nothing'}, this appfn needs {head}: run the migrations"
        )


def table_names(engine: Engine) -> list[str]:
    """Tables present in the database (for diagnostics and tests)."""
    with engine.connect() as connection:
        return sorted(inspect(connection).get_table_names())
