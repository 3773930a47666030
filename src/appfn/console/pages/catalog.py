"""Console section: the trigger catalog. ``/catalog`` lists every trigger by category (searchable:
in the browser as you type, and with ``?q=`` without JavaScript); ``/catalog/{name}`` shows one
with its ``payload.data`` schema, example, the template in Python / TypeScript / JavaScript and
its ``.d.ts``, made by the same functions the API's ``/v1/triggers/...`` routes call."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from appfn.catalog import Trigger, load_catalog, make_context
from appfn.catalog.scopes import required_scope
from appfn.console import web
from appfn.errors import AppFnError

router = APIRouter()

CATEGORY_LABELS = {
    "merchant_actions": "Merchant actions (sync)",
    "merchant_events": "Merchant events",
    "ecommerce_events": "Storefront events",
    "communication_events": "Communication",
}
LANGUAGES = (("py", "Python"), ("ts", "TypeScript"), ("js", "JavaScript"))


def scope_of(name: str) -> str | None:
    try:
        return required_scope(name)
    except AppFnError:
        return None


def _matches(trigger: Trigger, words: list[str]) -> bool:
    text = " ".join((trigger.name, trigger.title, trigger.group, trigger.category)).lower()
    return all(w in text for w in words)


@router.get("/catalog")
async def catalog(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    q = (request.query_params.get("q") or "").strip()
    words = q.lower().split()
    cat = load_catalog()
    groups = []
    for category in cat.categories():
        items = [{"t": t, "scope": scope_of(t.name), "shown": _matches(t, words)} for t in cat.by_category(category)]
        groups.append({"key": category, "label": CATEGORY_LABELS.get(category, category), "items": items})
    shown = sum(1 for g in groups for i in g["items"] if i["shown"])
    return web.render(
        request, "catalog/index.html", who, nav="catalog", groups=groups, q=q, total=len(cat), shown=shown
    )


@functools.lru_cache(maxsize=128)
def _sources(name: str) -> dict[str, str]:
    """Templates and declarations of a trigger (pure functions of the packaged catalog)."""
    from appfn.catalog.templates import template
    from appfn.catalog.typescript import dts_for

    out = {lang: template(name, lang) for lang, _ in LANGUAGES}
    out["dts"] = dts_for(name)
    return out


@router.get("/catalog/{name}")
async def trigger(name: str, request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    cat = load_catalog()
    if name not in cat:
        close = cat.suggest(name)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise web.PageError(404, f"There is no trigger called {name!r}.{hint}")
    t = cat.get(name)
    sources = _sources(name)
    example = t.example()
    return web.render(
        request, "catalog/detail.html", who, nav="catalog", t=t, scope=scope_of(name),
        category_label=CATEGORY_LABELS.get(t.category, t.category), languages=LANGUAGES, sources=sources,
        schema_json=web.pretty_json(t.data_schema()), schema_basis=t.schema_basis,
        example_json=web.pretty_json(example) if example is not None else None,
        context_json=web.pretty_json(make_context(name, example)) if example is not None else None,
        extra_examples={label: web.pretty_json(data) for label, data in t.extra_examples.items()},
    )  # fmt: skip
