"""Console section: apps. The list, the create form (name, scopes, settings schema editor), and an
app's page (edit, functions with their deploy state, installations, delete).

Writes go through the JSON API from ``static/apps.js`` (POST/PATCH/DELETE ``/v1/apps``), so the
console checks exactly what the API checks and shows its field errors next to the fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from appfn import store
from appfn.catalog.scopes import ACCESS_LEVELS, RESOURCES, required_scope, satisfies
from appfn.console import web
from appfn.errors import UnknownTriggerError
from appfn.store.models import AppRow, DeployJobRow, FunctionRow, FunctionVersionRow, InstallationRow
from appfn.store.settings import FIELD_TYPES, FORMATS

router = APIRouter()

# The schema editor's "Type" choices: a string field with a format reads as its format.
FIELD_KINDS: tuple[tuple[str, str], ...] = (
    ("string", "text"),
    *((f"string:{f}", f) for f in FORMATS),
    *((t, t) for t in FIELD_TYPES if t != "string"),
)


@dataclass(frozen=True)
class AppSummary:
    app: store.App
    functions: int
    installations: int
    active_installations: int


@dataclass(frozen=True)
class FunctionSummary:
    function: store.Function
    language: str | None  # of the latest version
    deploy_status: str | None  # of the latest version's newest deploy job
    required_scope: str | None
    scope_granted: bool


def scope_choices() -> list[dict[str, Any]]:
    """Each resource with its two scopes, for the checkboxes."""
    return [{"resource": r, "scopes": [f"{r}.{level}" for level in ACCESS_LEVELS]} for r in RESOURCES]


def _owned(stmt: Any, partner_id: str | None) -> Any:
    return stmt if partner_id is None else stmt.where(AppRow.partner_id == partner_id)


def _counts(s: Session, partner_id: str | None) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
    """Functions per app and (installations, active installations) per app: two grouped queries."""
    fn_stmt = _owned(
        select(FunctionRow.app_id, func.count()).join(AppRow, AppRow.id == FunctionRow.app_id), partner_id
    ).group_by(FunctionRow.app_id)
    functions = {app_id: int(n) for app_id, n in s.execute(fn_stmt)}
    inst_stmt = _owned(
        select(InstallationRow.app_id, InstallationRow.status, func.count()).join(
            AppRow, AppRow.id == InstallationRow.app_id
        ),
        partner_id,
    ).group_by(InstallationRow.app_id, InstallationRow.status)
    installs: dict[str, tuple[int, int]] = {}
    for app_id, status, n in s.execute(inst_stmt):
        total, active = installs.get(app_id, (0, 0))
        installs[app_id] = (total + int(n), active + (int(n) if status == "active" else 0))
    return functions, installs


def list_summaries(s: Session, partner_id: str | None) -> list[AppSummary]:
    apps = store.list_apps(s, partner_id=partner_id)
    functions, installs = _counts(s, partner_id)
    return [AppSummary(a, functions.get(a.id, 0), *installs.get(a.id, (0, 0))) for a in apps]


def function_summaries(s: Session, app: store.App, functions: list[store.Function]) -> list[FunctionSummary]:
    """Language and deploy status of each function's latest version, in one query."""
    ids = [f.latest_version_id for f in functions if f.latest_version_id]
    newest_job = (
        select(DeployJobRow.status)
        .where(DeployJobRow.function_version_id == FunctionVersionRow.id)
        .order_by(DeployJobRow.created_at.desc(), DeployJobRow.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    found: dict[str, tuple[str, str | None]] = {}
    if ids:
        stmt = select(FunctionVersionRow.id, FunctionVersionRow.language, newest_job).where(
            FunctionVersionRow.id.in_(ids)
        )
        found = {vid: (lang, status) for vid, lang, status in s.execute(stmt)}
    out = []
    for f in functions:
        language, status = found.get(f.latest_version_id or "", (None, None))
        try:
            needed: str | None = required_scope(f.trigger)
        except UnknownTriggerError:
            needed = None
        out.append(FunctionSummary(f, language, status, needed, needed is None or satisfies(app.scopes, needed)))
    return out


def store_names(s: Session) -> dict[int, store.Store]:
    return {st.id: st for st in store.list_stores(s)}


def form_context(who: web.Viewer, s: Session) -> dict[str, Any]:
    """What the create/edit form needs besides the app."""
    partners = store.list_partners(s) if who.is_operator else []
    return {"scope_choices": scope_choices(), "field_kinds": FIELD_KINDS, "partners": partners}


@router.get("/apps")
async def apps_list(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    items = await web.call(web.read(request, lambda s: list_summaries(s, who.partner_id)))
    return web.render(request, "apps/list.html", who, nav="apps", items=items)


@router.get("/apps/new")
async def app_new(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    context = await web.call(web.read(request, lambda s: form_context(who, s)))
    return web.render(request, "apps/new.html", who, nav="apps", app=None, **context)


@router.get("/apps/{app_id}")
async def app_detail(app_id: str, request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    def load(s: Session) -> dict[str, Any]:
        app = store.get_app(s, app_id, partner_id=who.partner_id)
        functions = store.list_functions(s, app_id=app_id, partner_id=who.partner_id)
        installations = store.list_installations(s, partner_id=who.partner_id, app_id=app_id)
        return {
            "app": app,
            "functions": function_summaries(s, app, functions),
            "installations": installations,
            "stores": store_names(s),
            "partner": store.get_partner(s, app.partner_id) if who.is_operator else None,
            **form_context(who, s),
        }

    context = await web.call(web.read(request, load))
    return web.render(request, "apps/detail.html", who, nav="apps", **context)
