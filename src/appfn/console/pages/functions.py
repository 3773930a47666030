"""Console section: functions. "Add function" (pick a trigger from the catalog and a language) and
the editor page: CodeMirror with the saved source or the trigger's template, Save with the deploy
job's progress, error markers at the line a failed deploy names, versions with diff and rollback,
and the preview panel (store, the trigger's form field with a record picker, Save and Preview /
Preview draft).

URLs (other pages link here): ``/apps/{app_id}/functions/new`` and ``/apps/{app_id}/functions/{trigger}``.
Writes go through the JSON API from ``static/functions.js`` (PUT the function, poll the deploy,
POST rollback and preview), so the console checks exactly what the API checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from appfn import errors, store
from appfn.api.serialize import plain, version
from appfn.catalog import Trigger, load_catalog
from appfn.catalog.templates import template
from appfn.console import web
from appfn.demo.preview import TRIGGER_FAMILY, preview_form

router = APIRouter()

LANGUAGES: tuple[tuple[str, str, str], ...] = (
    # (language, label, the template endpoint's ?lang=)
    ("python", "Python", "py"),
    ("typescript", "TypeScript", "ts"),
    ("javascript", "JavaScript", "js"),
)
_LANG_CODES = {name: code for name, _, code in LANGUAGES}
_VERSIONS_SHOWN = 50

# The preview form field's record family -> the demo Admin API list the picker searches.
PICKERS: dict[str, dict[str, Any]] = {
    "customer": {"path": "/admin/v2/customers", "search": True, "label": "Customer ID"},
    "product": {"path": "/admin/v2/products", "search": True, "label": "Product ID"},
    "order": {"path": "/admin/v2/orders", "search": False, "label": "Order ID"},
    "shipment": {"path": "/admin/v2/shipments", "search": False, "label": "Shipment ID"},
    "brand": {"path": "/admin/v2/brands", "search": False, "label": "Brand ID"},
    "category": {"path": "/admin/v2/categories", "search": False, "label": "Category ID"},
}


def category_title(category: str) -> str:
    return category.replace("_", " ").capitalize()


@dataclass(frozen=True)
class StoreChoice:
    id: int
    name: str
    is_demo: bool
    installed: bool  # an active installation of this app: preview needs one

    @property
    def usable(self) -> bool:
        return self.installed


def _trigger_or_404(name: str) -> Trigger:
    try:
        return load_catalog().get(name)
    except errors.UnknownTriggerError as exc:
        raise web.PageError(404, str(exc)) from exc


def _language(value: str | None) -> str:
    value = (value or "python").lower()
    aliases = {"py": "python", "ts": "typescript", "js": "javascript"}
    value = aliases.get(value, value)
    return value if value in _LANG_CODES else "python"


@router.get("/apps/{app_id}/functions/new")
async def add_function(
    request: Request,
    app_id: str,
    who: Annotated[web.Viewer, Depends(web.viewer)],
    trigger: str | None = Query(None, max_length=100),
    language: str | None = Query(None, max_length=20),
) -> Response:
    """The catalog, grouped by category and group, with a client-side filter; choosing a trigger
    and a language opens the editor (without JavaScript too: the form's GET comes back here)."""
    if trigger:
        _trigger_or_404(trigger)
        return web.redirect(f"/apps/{quote(app_id)}/functions/{quote(trigger)}?language={_language(language)}")

    def load(s: Session) -> tuple[store.App, list[store.Function]]:
        app = store.get_app(s, app_id, partner_id=who.partner_id)
        return app, store.list_functions(s, app_id=app_id, partner_id=who.partner_id)

    app, functions = await web.call(web.read(request, load))
    catalog = load_catalog()
    categories = []
    for category in catalog.categories():
        groups: dict[str, list[Trigger]] = {}
        for t in catalog.by_category(category):
            groups.setdefault(t.group, []).append(t)
        categories.append({"name": category, "title": category_title(category), "groups": groups})
    return web.render(
        request, "functions/new.html", who, nav="apps", app=app, categories=categories,
        existing={f.trigger for f in functions}, languages=LANGUAGES, language=_language(language),
    )  # fmt: skip


@dataclass(frozen=True)
class EditorData:
    app: store.App
    function: store.Function | None
    versions: list[store.FunctionVersion]
    shown: store.FunctionVersion | None  # the version in the editor
    shown_job: store.DeployJob | None  # its newest deploy job
    stores: list[StoreChoice]


def shown_version(
    function: store.Function | None, versions: list[store.FunctionVersion], number: int | None
) -> store.FunctionVersion | None:
    """The version the editor opens: ``?version=N`` if given; else the one saved last (a failed
    deploy shows its code and error), unless an older one was made active after it completed."""
    if not versions or function is None:
        return None
    if number is not None:
        found = next((v for v in versions if v.number == number), None)
        if found is None:
            raise web.PageError(404, f"version {number} of {function.trigger} not found")
        return found
    latest = versions[0]
    if latest.deploy_status == "COMPLETED" and function.active_version_id not in (None, latest.id):
        return next((v for v in versions if v.id == function.active_version_id), latest)  # rolled back
    return latest


@router.get("/apps/{app_id}/functions/{trigger}")
async def edit_function(
    request: Request,
    app_id: str,
    trigger: str,
    who: Annotated[web.Viewer, Depends(web.viewer)],
    language: str | None = Query(None, max_length=20),
    version_number: int | None = Query(None, alias="version", ge=1),
) -> Response:
    spec = _trigger_or_404(trigger)

    def load(s: Session) -> EditorData:
        app = store.get_app(s, app_id, partner_id=who.partner_id)
        try:
            function = store.get_function(s, app_id=app_id, trigger=trigger, partner_id=who.partner_id)
        except errors.NotFoundError:
            function = None
        versions = store.list_versions(s, app_id=app_id, trigger=trigger, partner_id=who.partner_id) if function else []
        shown = shown_version(function, versions, version_number)
        shown_job = store.latest_deploy(s, shown.id) if shown else None
        installed = {
            i.store_id
            for i in store.list_installations(s, partner_id=who.partner_id, app_id=app_id)
            if i.status == "active"
        }
        stores = [
            StoreChoice(st.id, st.name, st.is_demo, st.id in installed)
            for st in store.list_stores(s)
            if st.is_demo or st.id in installed
        ]
        return EditorData(app, function, versions, shown, shown_job, stores)

    data = await web.call(web.read(request, load))
    if data.shown is not None:
        lang, source = data.shown.language, data.shown.source
    else:
        lang = _language(language)
        source = template(trigger, _LANG_CODES[lang])
    try:
        form_field: str | None = preview_form(trigger)
        preview_note = None
    except errors.ValidationError as exc:
        form_field, preview_note = None, exc.errors[0][1]
    picker = PICKERS.get(TRIGGER_FAMILY.get(trigger, ""))
    stores = sorted(data.stores, key=lambda c: (not c.installed, not c.is_demo, c.id))
    state = {
        "app_id": app_id,
        "trigger": trigger,
        "language": lang,
        "source": source,
        "is_new": data.function is None,
        "function": plain(data.function) if data.function else None,
        "shown_version": data.shown.number if data.shown else None,
        "shown_job": plain(data.shown_job) if data.shown_job else None,
        "versions": [version(v) for v in data.versions[:_VERSIONS_SHOWN]],
        "versions_total": len(data.versions),
        "form_field": form_field,
        "picker": picker,
        "template_codes": _LANG_CODES,
    }
    return web.render(
        request, "functions/edit.html", who, nav="apps", app=data.app, trigger=spec, state=state,
        languages=LANGUAGES, language=lang, stores=stores, form_field=form_field, picker=picker,
        preview_note=preview_note, category_title=category_title(spec.category),
    )  # fmt: skip
