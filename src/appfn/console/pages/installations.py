"""Console section: installations (``/installations/new``, ``/installations/{id}``): install an
app on a store with a settings form generated from the app's schema, change settings and
scopes, activate, deactivate, uninstall. The page's script writes through the API
(``/v1/installations``). Password settings are never rendered: the form shows them empty with
"leave blank to keep", and a blank field sends back the mask the API reads as "unchanged".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from appfn import store
from appfn.console import web
from appfn.console.pages.stores import installable_stores
from appfn.store import MASK

router = APIRouter()


def settings_fields(app: store.App, values: dict[str, Any], *, stored: bool) -> list[dict[str, Any]]:
    """The generated form: one entry per schema field with what to render. Password values are
    never included: ``has_secret`` says whether one is stored (blank keeps it)."""
    out = []
    for f in app.settings_schema:
        value = values.get(f.id, f.default if not stored else None)
        entry = {"field": f, "value": value, "has_secret": False}
        if f.secret:
            entry["has_secret"] = stored and values.get(f.id) == MASK
            entry["value"] = None
        out.append(entry)
    return out


@router.get("/installations/new")
async def installation_new(
    request: Request,
    who: Annotated[web.Viewer, Depends(web.viewer)],
    app_id: Annotated[str, Query(max_length=100)] = "",
    store_id: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    def load(s: Session) -> dict[str, Any]:
        apps = store.list_apps(s, partner_id=who.partner_id)
        stores = installable_stores(s, who)
        app = next((a for a in apps if a.id == app_id), None)
        chosen_store = next((st for st in stores if str(st.id) == store_id), None)
        if chosen_store is None and len(stores) == 1:
            chosen_store = stores[0]
        existing = None
        if app is not None and chosen_store is not None:
            found = store.list_installations(s, partner_id=who.partner_id, app_id=app.id, store_id=chosen_store.id)
            existing = found[0] if found else None
        return {
            "apps": apps,
            "stores": stores,
            "app": app,
            "chosen_store": chosen_store,
            "existing": existing,
            "fields": settings_fields(app, {}, stored=False) if app else [],
        }

    context = await web.call(web.read(request, load))
    back = f"/stores/{context['chosen_store'].id}/installations" if context["chosen_store"] else "/stores"
    if context["app"] is not None and not store_id:
        back = f"/apps/{context['app'].id}#installations"
    return web.render(request, "stores/install.html", who, nav="stores", back=back, **context)


@router.get("/installations/{installation_id}")
async def installation_detail(
    installation_id: str, request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]
) -> Response:
    def load(s: Session) -> dict[str, Any]:
        inst = store.get_installation(s, installation_id, partner_id=who.partner_id)
        app = store.get_app(s, inst.app_id, partner_id=who.partner_id)
        return {
            "inst": inst,
            "app": app,
            "st": store.get_store(s, inst.store_id),
            # public_settings: password values are already masked here, and not rendered at all.
            "fields": settings_fields(app, inst.public_settings(), stored=True),
            "scope_options": sorted(set(app.scopes) | set(inst.granted_scopes)),
        }

    context = await web.call(web.read(request, load))
    return web.render(request, "stores/installation.html", who, nav="stores", **context)
