"""Apps: what a partner builds. Each has scopes and a settings schema, and owns its functions.

Every lookup takes the caller's ``partner_id`` (None for an operator): another partner's app
is reported as not found, exactly like an app that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from appfn.catalog.scopes import RESOURCES, parse_scope
from appfn.errors import ValidationError
from appfn.store._common import UNSET, check_name, new_id, one_or_404, owned, utcnow
from appfn.store.keys import get_partner
from appfn.store.models import AppRow
from appfn.store.settings import SettingsField, parse_settings_schema

MAX_SCOPES = 50


@dataclass(frozen=True)
class App:
    id: str
    partner_id: str
    name: str
    scopes: tuple[str, ...]
    settings_schema: tuple[SettingsField, ...]
    created_at: datetime
    updated_at: datetime

    def schema_as_dicts(self) -> list[dict[str, Any]]:
        """The settings schema as plain JSON objects (what the API returns)."""
        return [f.to_dict() for f in self.settings_schema]


def to_app(row: AppRow) -> App:
    return App(
        id=row.id,
        partner_id=row.partner_id,
        name=row.name,
        scopes=tuple(row.scopes),
        # Stored schemas were checked on the way in; parsing again keeps one code path.
        settings_schema=parse_settings_schema(row.settings_schema),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def validate_scopes(raw: Any, field: str = "scopes") -> tuple[str, ...]:
    """Scope names like ``orders.read`` / ``customers.read_write``: checked, deduplicated, sorted."""
    if raw is None:
        return ()
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise ValidationError(field, f"expected a list of scope names, got {type(raw).__name__}")
    items = list(raw)
    if len(items) > MAX_SCOPES:
        raise ValidationError(field, f"has {len(items)} scopes, at most {MAX_SCOPES} allowed")
    errors: list[tuple[str, str]] = []
    for index, scope in enumerate(items):
        parsed = parse_scope(scope)
        if parsed is None:
            errors.append((f"{field}[{index}]", f"{scope!r} is not a scope like 'orders.read' or 'orders.read_write'"))
        elif parsed[0] not in RESOURCES:
            errors.append((f"{field}[{index}]", f"unknown resource {parsed[0]!r} (known: {', '.join(RESOURCES)})"))
    if errors:
        raise ValidationError(errors[0][0], errors[0][1], errors)
    return tuple(sorted(set(items)))


def _select(app_id: str, partner_id: str | None) -> Any:
    return owned(select(AppRow).where(AppRow.id == app_id), AppRow.partner_id, partner_id)


def get_app_row(session: Session, app_id: str, *, partner_id: str | None, lock: bool = False) -> AppRow:
    stmt = _select(app_id, partner_id)
    return one_or_404(session, stmt.with_for_update() if lock else stmt, "app", app_id)


def create_app(
    session: Session,
    *,
    partner_id: str,
    name: str,
    scopes: Iterable[str] | None = None,
    settings_schema: Any = None,
) -> App:
    name = check_name(name)
    checked_scopes = validate_scopes(scopes)
    fields = parse_settings_schema(settings_schema)
    get_partner(session, partner_id)
    now = utcnow()
    row = AppRow(
        id=new_id("app"),
        partner_id=partner_id,
        name=name,
        scopes=list(checked_scopes),
        settings_schema=[f.to_dict() for f in fields],
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return to_app(row)


def get_app(session: Session, app_id: str, *, partner_id: str | None) -> App:
    """The app, if the caller may see it (NotFoundError otherwise)."""
    return to_app(get_app_row(session, app_id, partner_id=partner_id))


def list_apps(session: Session, *, partner_id: str | None) -> list[App]:
    """One partner's apps (every app for ``partner_id=None``), oldest first."""
    stmt = owned(select(AppRow), AppRow.partner_id, partner_id).order_by(AppRow.created_at, AppRow.id)
    return [to_app(r) for r in session.execute(stmt).scalars()]


def update_app(
    session: Session,
    app_id: str,
    *,
    partner_id: str | None,
    name: str = UNSET,
    scopes: Iterable[str] = UNSET,
    settings_schema: Any = UNSET,
) -> App:
    """Change what is given. Stored installation settings are not rewritten when the schema changes:
    fields added later read as their default, fields removed are hidden from ``public_settings``
    and dropped on the installation's next settings update."""
    row = get_app_row(session, app_id, partner_id=partner_id, lock=True)
    if name is not UNSET:
        row.name = check_name(name)
    if scopes is not UNSET:
        row.scopes = list(validate_scopes(scopes))
    if settings_schema is not UNSET:
        row.settings_schema = [f.to_dict() for f in parse_settings_schema(settings_schema)]
    row.updated_at = utcnow()
    session.flush()
    return to_app(row)


def delete_app(session: Session, app_id: str, *, partner_id: str | None) -> None:
    """Delete an app with its functions, versions, deploy jobs and installations (executions stay)."""
    get_app_row(session, app_id, partner_id=partner_id)
    session.execute(delete(AppRow).where(AppRow.id == app_id))
    session.expunge_all()
