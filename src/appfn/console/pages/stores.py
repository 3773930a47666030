"""Console section: stores and installations.

* ``/stores``: the stores the viewer may use (operator: all, with a create form; partner: the demo
  stores and the stores its apps are installed on).
* ``/stores/{id}`` (customers), ``/products``, ``/orders``, ``/installations``: the store's tabs.
  Lists and details are read server-side from the demo store's records (fast: one query per
  page); creating and editing go through the Admin API from ``static/stores.js``, so every
  change emits its event exactly as a merchant's would.
* ``/installations/new`` and ``/installations/{id}``: install an app with a settings form
  generated from the app's settings schema; change settings, status, scopes; uninstall.
  Password values never reach the browser: their inputs render empty ("leave blank to keep")
  and a blank one is sent back as the mask, which keeps the stored secret.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from appfn import store
from appfn.console import web
from appfn.demo.common import store_info
from appfn.demo.config import DemoConfig
from appfn.demo.errors import AdminError
from appfn.demo.models import DemoBrandRow
from appfn.demo.payloads.customer import customer_data
from appfn.demo.payloads.order import STATUSES, order_data
from appfn.demo.payloads.product import product_data
from appfn.demo.records import customers, orders, products
from appfn.demo.records.customers import GENDERS
from appfn.demo.records.products import STATUSES as PRODUCT_STATUSES
from appfn.errors import NotFoundError

router = APIRouter()

PER_PAGE = 20
TABS = (("customers", "Customers"), ("products", "Products"), ("orders", "Orders"), ("installations", "Installations"))


@dataclass(frozen=True)
class StoreView:
    """A store as the viewer may use it: ``records`` is False for a partner on a store that is not
    a demo store (its apps are installed there: installations only, no customer data)."""

    store: store.Store
    records: bool


@dataclass(frozen=True)
class Paged:
    items: list[Any]
    total: int
    page: int
    pages: int


def _paged(items: list[Any], total: int, page: int) -> Paged:
    return Paged(items, total, page, max(1, math.ceil(total / PER_PAGE)))


def _store_id(raw: str) -> int:
    if not raw.isdigit() or int(raw) <= 0 or int(raw) >= 2**63:
        raise web.PageError(404, f"store {raw!r} not found")
    return int(raw)


def store_view(s: Session, who: web.Viewer, store_id: int) -> StoreView:
    found = store.get_store(s, store_id)
    if who.is_operator or found.is_demo:
        return StoreView(found, True)
    if store.list_installations(s, partner_id=who.partner_id, store_id=store_id):
        return StoreView(found, False)
    raise NotFoundError("store", store_id)  # another partner's store: as if it did not exist


def visible_stores(s: Session, who: web.Viewer) -> list[store.Store]:
    stores = store.list_stores(s)
    if who.is_operator:
        return stores
    mine = {i.store_id for i in store.list_installations(s, partner_id=who.partner_id)}
    return [st for st in stores if st.is_demo or st.id in mine]


def installable_stores(s: Session, who: web.Viewer) -> list[store.Store]:
    """Where the viewer may install apps (partners: demo stores only, as the API says)."""
    return store.list_stores(s, is_demo=None if who.is_operator else True)


def records_view(s: Session, who: web.Viewer, store_id: int) -> StoreView:
    """The store, for a page that shows its records (404 when the viewer sees only installations)."""
    view = store_view(s, who, store_id)
    if not view.records:
        raise web.PageError(404, f"store {store_id}: only its installations are visible to you")
    return view


def _admin_call(fn: Any) -> Any:
    """Demo records raise the Admin API's own not-found: the page shows a 404."""

    def run(s: Session) -> Any:
        try:
            return fn(s)
        except AdminError as exc:
            if exc.status == 404:
                raise web.PageError(404, exc.message) from None
            raise

    return run


def _page(request: Request, template: str, who: web.Viewer, view: StoreView, tab: str, **context: Any) -> Response:
    tabs = TABS if view.records else TABS[3:]
    return web.render(
        request, template, who, nav="stores", st=view.store, records=view.records, tabs=tabs, tab=tab,
        **context,
    )  # fmt: skip


# --- the list ------------------------------------------------------------------------------------


@router.get("/stores")
async def stores_list(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    def load(s: Session) -> dict[str, Any]:
        stores = visible_stores(s, who)
        counts: dict[int, int] = {}
        for inst in store.list_installations(s, partner_id=who.partner_id):
            counts[inst.store_id] = counts.get(inst.store_id, 0) + 1
        return {"stores": stores, "counts": counts}

    context = await web.call(web.read(request, load))
    return web.render(request, "stores/list.html", who, nav="stores", **context)


# --- customers -----------------------------------------------------------------------------------


@router.get("/stores/{store_id}")
async def store_customers(
    store_id: str,
    request: Request,
    who: Annotated[web.Viewer, Depends(web.viewer)],
    keyword: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    sid = _store_id(store_id)

    def load(s: Session) -> tuple[StoreView, Paged | None]:
        view = store_view(s, who, sid)
        if not view.records:
            return view, None
        rows, total = customers.search(s, sid, keyword, page, PER_PAGE)
        return view, _paged([_customer_row(r) for r in rows], total, page)

    view, found = await web.call(web.read(request, load))
    if not view.records:
        return web.redirect(f"/stores/{sid}/installations")
    return _page(request, "stores/customers.html", who, view, "customers", found=found, keyword=keyword)


def _customer_row(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": f"{row.first_name} {row.last_name}",
        "email": row.email,
        "mobile": f"{row.mobile_code}{row.mobile}",
        "city": row.city,
        "created_at": row.created_at,
    }


def _customer_form(row: Any) -> dict[str, Any]:
    keys = ("first_name", "last_name", "mobile_code", "mobile", "email", "gender", "birthday", "city")
    return {k: getattr(row, k) for k in keys} | {"is_notifications_enabled": row.is_notifications_enabled}


NEW_CUSTOMER = {
    "first_name": "",
    "last_name": "",
    "mobile_code": "+966",
    "mobile": "",
    "email": "",
    "gender": "male",
    "birthday": None,
    "city": "",
    "is_notifications_enabled": True,
}


@router.get("/stores/{store_id}/customers/new")
async def customer_new(store_id: str, request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    sid = _store_id(store_id)
    view = await web.call(web.read(request, lambda s: records_view(s, who, sid)))
    return _page(
        request, "stores/customer.html", who, view, "customers", customer=None, values=NEW_CUSTOMER, genders=GENDERS
    )


@router.get("/stores/{store_id}/customers/{customer_id}")
async def customer_detail(
    store_id: str, customer_id: int, request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]
) -> Response:
    sid = _store_id(store_id)

    def load(s: Session) -> dict[str, Any]:
        view = records_view(s, who, sid)
        row = customers.get(s, sid, customer_id)
        recent, total = orders.search(s, sid, 1, 10, customer_id=customer_id)
        return {
            "view": view,
            "customer": customer_data(row, store_info(s, sid)),
            "values": _customer_form(row),
            "orders": [_order_row(o) for o in recent],
            "orders_total": total,
        }

    context = await web.call(web.read(request, _admin_call(load)))
    view = context.pop("view")
    return _page(request, "stores/customer.html", who, view, "customers", genders=GENDERS, **context)


# --- products ------------------------------------------------------------------------------------


@router.get("/stores/{store_id}/products")
async def store_products(
    store_id: str,
    request: Request,
    who: Annotated[web.Viewer, Depends(web.viewer)],
    keyword: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    sid = _store_id(store_id)

    def load(s: Session) -> tuple[StoreView, Paged]:
        view = records_view(s, who, sid)
        rows, total = products.search(s, sid, keyword, page, PER_PAGE)
        items = [
            {
                "id": r.id,
                "name": r.name,
                "sku": r.sku,
                "price": r.price,
                "sale_price": r.sale_price,
                "quantity": r.quantity,
                "status": r.status,
                "updated_at": r.updated_at,
            }
            for r in rows
        ]
        return view, _paged(items, total, page)

    view, found = await web.call(web.read(request, load))
    return _page(request, "stores/products.html", who, view, "products", found=found, keyword=keyword)


PRODUCT_FIELDS = ("name", "price", "sale_price", "quantity", "notify_quantity", "sku", "status", "description")
NEW_PRODUCT: dict[str, Any] = {**dict.fromkeys(PRODUCT_FIELDS), "name": "", "sku": "", "description": ""}
NEW_PRODUCT["status"] = "sale"


@router.get("/stores/{store_id}/products/new")
async def product_new(store_id: str, request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    sid = _store_id(store_id)
    view = await web.call(web.read(request, lambda s: records_view(s, who, sid)))
    return _page(
        request, "stores/product.html", who, view, "products",
        product=None, values=NEW_PRODUCT, product_statuses=PRODUCT_STATUSES,
    )  # fmt: skip


@router.get("/stores/{store_id}/products/{product_id}")
async def product_detail(
    store_id: str, product_id: int, request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]
) -> Response:
    sid = _store_id(store_id)
    vat = DemoConfig.from_settings(request.app.state.platform.settings).vat_percent

    def load(s: Session) -> tuple[StoreView, dict[str, Any], dict[str, Any]]:
        view = records_view(s, who, sid)
        row = products.get(s, sid, product_id)
        brand = s.get(DemoBrandRow, row.brand_id) if row.brand_id is not None else None
        values = {k: getattr(row, k) for k in PRODUCT_FIELDS}
        return view, product_data(row, store_info(s, sid), vat_percent=vat, brand=brand), values

    view, product, values = await web.call(web.read(request, _admin_call(load)))
    return _page(
        request, "stores/product.html", who, view, "products",
        product=product, values=values, product_statuses=PRODUCT_STATUSES,
    )  # fmt: skip


# --- orders --------------------------------------------------------------------------------------


def _order_row(row: Any) -> dict[str, Any]:
    total = (row.amounts or {}).get("total", {})
    return {
        "id": row.id,
        "reference_id": row.reference_id,
        "customer_id": row.customer_id,
        "customer": " ".join(str((row.customer or {}).get(k, "")) for k in ("first_name", "last_name")).strip(),
        "status": row.status,
        "status_name": STATUSES.get(row.status, (0, row.status))[1],
        "total": total.get("amount") if isinstance(total, dict) else total,
        "currency": row.currency,
        "items": len(row.items or []),
        "created_at": row.created_at,
    }


@router.get("/stores/{store_id}/orders")
async def store_orders(
    store_id: str,
    request: Request,
    who: Annotated[web.Viewer, Depends(web.viewer)],
    status: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    sid = _store_id(store_id)
    chosen = status if status in STATUSES else ""

    def load(s: Session) -> tuple[StoreView, Paged]:
        view = records_view(s, who, sid)
        rows, total = orders.search(s, sid, page, PER_PAGE, status=chosen or None)
        return view, _paged([_order_row(r) for r in rows], total, page)

    view, found = await web.call(web.read(request, load))
    return _page(
        request, "stores/orders.html", who, view, "orders", found=found, status_filter=chosen, statuses=list(STATUSES)
    )


@router.get("/stores/{store_id}/orders/{order_id}")
async def order_detail(
    store_id: str, order_id: int, request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]
) -> Response:
    sid = _store_id(store_id)

    def load(s: Session) -> tuple[StoreView, dict[str, Any]]:
        view = records_view(s, who, sid)
        row = orders.get(s, sid, order_id)
        return view, order_data(row, orders.shipments_of(s, row.id), store_info(s, sid))

    view, order = await web.call(web.read(request, _admin_call(load)))
    return _page(request, "stores/order.html", who, view, "orders", order=order)


# --- installations -------------------------------------------------------------------------------


@router.get("/stores/{store_id}/installations")
async def store_installations(
    store_id: str, request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]
) -> Response:
    sid = _store_id(store_id)

    def load(s: Session) -> tuple[StoreView, list[store.Installation], dict[str, store.App], bool]:
        view = store_view(s, who, sid)
        items = store.list_installations(s, partner_id=who.partner_id, store_id=sid)
        apps = {a.id: a for a in store.list_apps(s, partner_id=who.partner_id)}
        can_install = who.is_operator or view.store.is_demo
        return view, items, apps, can_install

    view, items, apps, can_install = await web.call(web.read(request, load))
    return _page(
        request, "stores/installations.html", who, view, "installations",
        installations=items, apps=apps, can_install=can_install,
    )  # fmt: skip
