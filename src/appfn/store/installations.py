"""Installations: an app on a store, with the scopes the merchant granted and their settings.

Settings are checked against the app's settings schema on every write (see
``appfn.store.settings``). ``Installation.settings`` holds every value, secrets included: it
is what functions receive. Anything shown to a person goes through ``public_settings``,
which masks ``format: password`` values; sending the mask back on update keeps the secret.

An installation belongs to the app's partner: ownership-checked lookups take the caller's
``partner_id`` (None for an operator).

Dispatch: ``installations_for_event(store_id, trigger)`` returns one ``Target`` per
installation that should run, ordered by installation ``created_at`` then ``id`` (the order
apps were installed on the store; stable across calls). A target needs all of:

* the installation is ``active`` and on that store;
* the app has a function for the trigger, with an active version (a completed deploy);
* the granted scopes satisfy the trigger's required scope (``appfn.catalog.scopes``;
  ``read_write`` satisfies ``read``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appfn.catalog.scopes import required_scope, satisfies
from appfn.errors import ConflictError, NotFoundError
from appfn.store._common import UNSET, check_choice, check_store_id, new_id, owned, utcnow
from appfn.store.apps import get_app_row, validate_scopes
from appfn.store.functions import check_trigger
from appfn.store.models import (
    INSTALLATION_STATUSES,
    AppRow,
    FunctionRow,
    FunctionVersionRow,
    InstallationRow,
)
from appfn.store.settings import SettingsField, mask_settings, parse_settings_schema, validate_settings, with_defaults
from appfn.store.stores import get_store


@dataclass(frozen=True)
class Installation:
    id: str
    app_id: str
    partner_id: str
    store_id: int
    status: str
    granted_scopes: tuple[str, ...]
    settings: dict[str, Any] = field(repr=False)  # every value, secrets included
    settings_schema: tuple[SettingsField, ...] = field(repr=False)  # the app's, at read time
    created_at: datetime
    updated_at: datetime

    def public_settings(self) -> dict[str, Any]:
        return public_settings(self)


@dataclass(frozen=True)
class Target:
    """Everything a dispatcher needs to run one function for one event, with no further query."""

    installation_id: str
    app_id: str
    partner_id: str
    store_id: int
    trigger: str
    function_id: str
    function_version_id: str
    version_number: int
    language: str
    filename: str
    source: str = field(repr=False)
    settings: dict[str, Any] = field(repr=False)  # full values, secrets included: context.settings


def public_settings(installation: Installation) -> dict[str, Any]:
    """The settings safe to show: password values masked, fields no longer in the schema left out."""
    effective = with_defaults(installation.settings_schema, installation.settings)
    known = {f.id for f in installation.settings_schema}
    return mask_settings(installation.settings_schema, {k: v for k, v in effective.items() if k in known})


def _select(partner_id: str | None) -> Select[Any]:
    stmt = select(InstallationRow, AppRow.partner_id, AppRow.settings_schema).join(
        AppRow, AppRow.id == InstallationRow.app_id
    )
    return owned(stmt, AppRow.partner_id, partner_id)


def _to_installation(row: Any) -> Installation:
    inst, partner_id, schema = row
    return Installation(
        id=inst.id,
        app_id=inst.app_id,
        partner_id=partner_id,
        store_id=inst.store_id,
        status=inst.status,
        granted_scopes=tuple(inst.granted_scopes),
        settings=dict(inst.settings),
        settings_schema=parse_settings_schema(schema),
        created_at=inst.created_at,
        updated_at=inst.updated_at,
    )


def _one(session: Session, stmt: Select[Any], ident: object) -> Installation:
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFoundError("installation", ident)
    return _to_installation(row)


def install_app(
    session: Session,
    *,
    app_id: str,
    store_id: int,
    partner_id: str | None,
    settings: Mapping[str, Any] | None = None,
    granted_scopes: Iterable[str] | None = None,
    status: str = "active",
) -> Installation:
    """Install an app on a store. ``granted_scopes`` defaults to the scopes the app asks for;
    settings are validated (defaults applied). ConflictError if the app is already installed there."""
    store_id = check_store_id(store_id)
    check_choice(status, INSTALLATION_STATUSES, "status")
    app = get_app_row(session, app_id, partner_id=partner_id)
    get_store(session, store_id)
    scopes = validate_scopes(app.scopes if granted_scopes is None else granted_scopes, "granted_scopes")
    values = validate_settings(parse_settings_schema(app.settings_schema), settings)
    now = utcnow()
    row = InstallationRow(
        id=new_id("inst"),
        app_id=app.id,
        store_id=store_id,
        status=status,
        granted_scopes=list(scopes),
        settings=values,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise ConflictError(f"app {app_id} is already installed on store {store_id}", "installation") from None
    return get_installation(session, row.id, partner_id=None)


def get_installation(session: Session, installation_id: str, *, partner_id: str | None) -> Installation:
    return _one(session, _select(partner_id).where(InstallationRow.id == installation_id), installation_id)


def find_installation(session: Session, *, app_id: str, store_id: int, partner_id: str | None) -> Installation:
    """The installation of ``app_id`` on ``store_id`` (NotFoundError if none, or not the caller's)."""
    store_id = check_store_id(store_id)
    stmt = _select(partner_id).where(InstallationRow.app_id == app_id, InstallationRow.store_id == store_id)
    return _one(session, stmt, f"{app_id}@{store_id}")


def list_installations(
    session: Session,
    *,
    partner_id: str | None,
    app_id: str | None = None,
    store_id: int | None = None,
    status: str | None = None,
) -> list[Installation]:
    """Installations the caller may see, oldest first, optionally filtered."""
    stmt = _select(partner_id)
    if app_id is not None:
        stmt = stmt.where(InstallationRow.app_id == app_id)
    if store_id is not None:
        stmt = stmt.where(InstallationRow.store_id == check_store_id(store_id))
    if status is not None:
        stmt = stmt.where(InstallationRow.status == check_choice(status, INSTALLATION_STATUSES, "status"))
    stmt = stmt.order_by(InstallationRow.created_at, InstallationRow.id)
    return [_to_installation(r) for r in session.execute(stmt)]


def update_installation(
    session: Session,
    installation_id: str,
    *,
    partner_id: str | None,
    settings: Mapping[str, Any] | None = UNSET,
    status: str = UNSET,
    granted_scopes: Iterable[str] = UNSET,
    merge: bool = False,
) -> Installation:
    """Change settings, status or granted scopes.

    ``settings`` replaces the stored values like a submitted form (missing fields take their
    default) unless ``merge=True``, which changes only the fields given. Either way a password
    field sent as the mask keeps its stored secret.
    """
    stmt = _select(partner_id).where(InstallationRow.id == installation_id).with_for_update(of=InstallationRow)
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFoundError("installation", installation_id)
    inst, _, schema = row
    if status is not UNSET:
        inst.status = check_choice(status, INSTALLATION_STATUSES, "status")
    if granted_scopes is not UNSET:
        inst.granted_scopes = list(validate_scopes(granted_scopes, "granted_scopes"))
    if settings is not UNSET:
        fields = parse_settings_schema(schema)
        known = {f.id for f in fields}
        stored = {k: v for k, v in inst.settings.items() if k in known}
        given = {**stored, **(settings or {})} if merge else settings
        inst.settings = validate_settings(fields, given, previous=stored)
    inst.updated_at = utcnow()
    session.flush()
    return get_installation(session, installation_id, partner_id=None)


def uninstall(session: Session, installation_id: str, *, partner_id: str | None) -> None:
    """Remove the installation (its settings go with it; executions that name it stay)."""
    get_installation(session, installation_id, partner_id=partner_id)
    session.execute(InstallationRow.__table__.delete().where(InstallationRow.id == installation_id))
    session.expunge_all()


def installations_for_event(session: Session, store_id: int, trigger: str) -> list[Target]:
    """The functions to run for ``trigger`` on ``store_id``, in installation order (see module doc)."""
    store_id = check_store_id(store_id)
    trigger = check_trigger(trigger)
    scope = required_scope(trigger)
    stmt = (
        _target_select(trigger)
        .join(FunctionVersionRow, FunctionVersionRow.id == FunctionRow.active_version_id)
        .where(InstallationRow.store_id == store_id, InstallationRow.status == "active")
        .order_by(InstallationRow.created_at, InstallationRow.id)
    )
    targets = []
    for row in session.execute(stmt):
        if satisfies(row[2], scope):
            targets.append(_to_target(row, store_id, trigger))
    return targets


def get_target(session: Session, *, installation_id: str, function_version_id: str, trigger: str) -> Target:
    """The target of one queued job, loaded again when a worker runs it.

    NotFoundError when the job is moot: the installation is gone, inactive or no longer holds
    the trigger's scope, or the version is gone or is not the app's function for ``trigger``.
    The version need not be the active one any more (the job runs the code it was queued
    with); the settings are the current ones.
    """
    trigger = check_trigger(trigger)
    stmt = (
        _target_select(trigger)
        .join(FunctionVersionRow, FunctionVersionRow.function_id == FunctionRow.id)
        .where(
            InstallationRow.id == installation_id,
            InstallationRow.status == "active",
            FunctionVersionRow.id == function_version_id,
        )
    )
    row = session.execute(stmt).one_or_none()
    if row is None or not satisfies(row[2], required_scope(trigger)):
        raise NotFoundError("target", f"{installation_id}/{function_version_id}")
    return _to_target(row, row[0].store_id, trigger)


def _target_select(trigger: str) -> Select[Any]:
    """Installations joined to their app and the app's function for ``trigger`` (no version yet)."""
    return (
        select(
            InstallationRow,
            AppRow.partner_id,
            InstallationRow.granted_scopes,
            AppRow.settings_schema,
            FunctionRow.id,
            FunctionVersionRow,
        )
        .join(AppRow, AppRow.id == InstallationRow.app_id)
        .join(FunctionRow, (FunctionRow.app_id == InstallationRow.app_id) & (FunctionRow.trigger == trigger))
    )


def _to_target(row: Any, store_id: int, trigger: str) -> Target:
    inst, partner_id, _, schema, function_id, version = row
    return Target(
        installation_id=inst.id,
        app_id=inst.app_id,
        partner_id=partner_id,
        store_id=store_id,
        trigger=trigger,
        function_id=function_id,
        function_version_id=version.id,
        version_number=version.number,
        language=version.language,
        filename=version.filename,
        source=version.source,
        settings=with_defaults(parse_settings_schema(schema), inst.settings),
    )
