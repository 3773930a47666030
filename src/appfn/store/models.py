"""The tables, as SQLAlchemy 2 typed declarative models (``docs/data-model.md`` explains them).

These classes are the store's private vocabulary: the repository modules read and write them
and hand callers frozen dataclasses instead, so nothing outside ``appfn.store`` holds a live
ORM object. The migrations in ``migrations/versions`` create exactly this schema; a test
compares the two on both backends.

Portable types: ``UTCDateTime`` stores UTC and always returns aware datetimes (SQLite keeps
no time zone); ``JSONValue`` is JSONB on PostgreSQL and JSON text on SQLite, with Python
``None`` stored as SQL NULL. Strings have lengths that PostgreSQL enforces and SQLite does
not, so the repository checks every length before writing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

ID = 32  # length of a prefixed random id ("inst_" + 16 characters fits with room to spare)
NAME = 200
TRIGGER = 100
EVENT_ID = 200

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

KEY_ROLES = ("operator", "partner")
LANGUAGES = ("python", "typescript", "javascript")
DEPLOY_STATUSES = ("PENDING", "COMPLETED", "FAILED")
INSTALLATION_STATUSES = ("active", "inactive")
EXECUTION_STATUSES = ("queued", "running", "success", "failure", "timeout", "dead")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back as an aware UTC datetime on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONValue = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONValue,
        list[Any]: JSONValue,
    }


class PartnerRow(Base):
    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    created_at: Mapped[datetime]


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(_in("role", KEY_ROLES), name="role"),
        CheckConstraint(
            "(role = 'operator' AND partner_id IS NULL) OR (role = 'partner' AND partner_id IS NOT NULL)",
            name="role_partner",
        ),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    partner_id: Mapped[str | None] = mapped_column(
        String(ID), ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(NAME))
    prefix: Mapped[str] = mapped_column(String(12), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AppRow(Base):
    __tablename__ = "apps"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(ID), ForeignKey("partners.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME))
    scopes: Mapped[list[Any]]
    settings_schema: Mapped[list[Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FunctionRow(Base):
    __tablename__ = "functions"
    __table_args__ = (UniqueConstraint("app_id", "trigger"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(ID), ForeignKey("apps.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(TRIGGER))
    name: Mapped[str] = mapped_column(String(NAME))
    # Circular with function_versions.function_id, hence use_alter (created after both tables).
    active_version_id: Mapped[str | None] = mapped_column(
        String(ID), ForeignKey("function_versions.id", ondelete="SET NULL", use_alter=True), index=True
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FunctionVersionRow(Base):
    __tablename__ = "function_versions"
    __table_args__ = (
        UniqueConstraint("function_id", "number"),
        CheckConstraint(_in("language", LANGUAGES), name="language"),
        CheckConstraint("number >= 1", name="number"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    function_id: Mapped[str] = mapped_column(String(ID), ForeignKey("functions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(NAME))
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class DeployJobRow(Base):
    __tablename__ = "deploy_jobs"
    __table_args__ = (CheckConstraint(_in("status", DEPLOY_STATUSES), name="status"),)

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    function_version_id: Mapped[str] = mapped_column(
        String(ID), ForeignKey("function_versions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    failure_line: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class StoreRow(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(NAME))
    is_demo: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class InstallationRow(Base):
    __tablename__ = "installations"
    __table_args__ = (
        UniqueConstraint("app_id", "store_id"),
        CheckConstraint(_in("status", INSTALLATION_STATUSES), name="status"),
        Index(None, "store_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(ID), ForeignKey("apps.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("stores.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    granted_scopes: Mapped[list[Any]]
    settings: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EventRow(Base):
    """A received store event. No foreign keys: events are history and may name unknown stores."""

    __tablename__ = "events"
    __table_args__ = (Index(None, "store_id", "received_at"),)

    id: Mapped[str] = mapped_column(String(EVENT_ID), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(TRIGGER))
    store_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[str | None] = mapped_column(Text)  # the event's own string, as sent
    data: Mapped[Any] = mapped_column(JSONValue, nullable=True)
    received_at: Mapped[datetime]


class ExecutionRow(Base):
    """One run (attempt) of a function for an event. No foreign keys: history outlives its subjects."""

    __tablename__ = "executions"
    __table_args__ = (
        CheckConstraint(_in("status", EXECUTION_STATUSES), name="status"),
        Index(None, "partner_id", "created_at"),
        Index(None, "app_id", "created_at"),
        Index(None, "created_at"),
    )  # lists are newest first: these serve every filter (see migration 0004); each costs a write per run

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    event_id: Mapped[str | None] = mapped_column(String(EVENT_ID), index=True)
    app_id: Mapped[str] = mapped_column(String(ID))
    partner_id: Mapped[str] = mapped_column(String(ID))
    function_id: Mapped[str | None] = mapped_column(String(ID))
    function_version_id: Mapped[str | None] = mapped_column(String(ID))
    installation_id: Mapped[str | None] = mapped_column(String(ID))
    store_id: Mapped[int] = mapped_column(BigInteger)
    trigger: Mapped[str] = mapped_column(String(TRIGGER))
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    response: Mapped[Any] = mapped_column(JSONValue, nullable=True)
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(64))
    console: Mapped[list[Any]]
    requests: Mapped[list[Any]]
    duration_ms: Mapped[float | None] = mapped_column(Float)
    job_id: Mapped[str | None] = mapped_column(String(64))  # the queue's job, for replay
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


TABLES = [m.__table__ for m in Base.__subclasses__()]

import appfn.demo.models  # noqa: E402,F401  (the demo store's tables share this metadata)
