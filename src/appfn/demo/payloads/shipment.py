"""The Shipments model (shipment.creating example, shared by every shipment.* trigger) and
the variant nested in an order's ``shipments`` (the order.created example's key set)."""

from __future__ import annotations

from typing import Any

from appfn.demo.common import WAREHOUSE, StoreInfo, amount, php_date
from appfn.demo.models import DemoOrderRow, DemoShipmentRow

_ROUTE = {"id": 1867988940, "name": "Default Route"}
_REGION = {"id": 1473353380, "name": "منطقة الرياض", "code": "RD"}


def party_phone(customer: dict[str, Any]) -> str:
    """``966501806978``: the calling code without ``+``, then the number."""
    return f"{customer['mobile_code'].lstrip('+')}{customer['mobile']}"


def _weight(order: DemoOrderRow) -> float:
    return round(sum(i["weight"] * i["quantity"] for i in order.items), 3)


def _ship_from() -> dict[str, Any]:
    w = WAREHOUSE
    return {
        "type": "branch",
        "name": w["name"],
        "email": "",
        "phone": w["phone"],
        "country": w["country"],
        "city": w["city"],
        "address_line": f"{w['street_number']}, {w['block']}, {w['city']}, {w['country']}",
        "street_number": w["street_number"],
        "block": w["block"],
        "postal_code": w["postal_code"],
        "latitude": w["latitude"],
        "longitude": w["longitude"],
        "branch_id": w["branch_id"],
    }


def _ship_to(order: DemoOrderRow) -> dict[str, Any]:
    c, a = order.customer, order.shipping_address
    parts = (a.get("street_number"), a.get("block"), a.get("postal_code"), a.get("city"), a.get("country"))
    return {
        "type": "address",
        "name": f"{c['first_name']} {c['last_name']}".strip(),
        "email": c["email"],
        "phone": party_phone(c),
        "country": a.get("country", "السعودية"),
        "city": a.get("city", ""),
        "address_line": ", ".join(p for p in parts if p),
        "street_number": a.get("street_number") or None,
        "block": a.get("block") or None,
        "postal_code": a.get("postal_code") or None,
        "latitude": 0,
        "longitude": 0,
    }


def _money(s: DemoShipmentRow, order: DemoOrderRow) -> tuple[dict[str, Any], dict[str, Any]]:
    cost = s.cost if s.cost is not None else order.amounts["shipping_cost"]["amount"]
    cod = order.amounts["total"]["amount"] if order.payment_method == "cod" else 0
    return amount(cost), amount(cod)


def _core(s: DemoShipmentRow, order: DemoOrderRow, *, source: str) -> dict[str, Any]:
    """The fields both shapes of a shipment share, in the documented order."""
    total, cod = _money(s, order)
    return {
        "created_at": php_date(s.created_at),
        "type": s.type,
        "courier_id": s.courier_id or 0,
        "courier_name": s.courier_name or "",
        "courier_logo": "",
        "shipping_number": s.shipping_number,
        "tracking_number": s.tracking_number,
        "pickup_id": None,
        "trackable": s.tracking_link is not None,
        "tracking_link": s.tracking_link,
        "label": s.label,
        "payment_method": order.payment_method,
        "source": source,
        "status": s.status,
        "total": total,
        "cash_on_delivery": cod,
        "is_international": order.shipping_address.get("country_code", "SA") != "SA",
        "total_weight": {"value": _weight(order), "units": "kg"},
    }


def shipment_data(s: DemoShipmentRow, order: DemoOrderRow, store: StoreInfo) -> dict[str, Any]:
    """shipment.creating / created / cancelling / cancelled (and the Admin API's shipment)."""
    courier = s.courier_id or 0
    return {
        "id": s.id,
        "order_id": order.id,
        "order_reference_id": order.reference_id,
        "reference": {"external_id": str(order.reference_id), "external_additional_id": f"OM{order.id}"},
        **_core(s, order, source="api"),
        "billing_account": "merchant",
        "description": ", ".join(f"{i['name']} x{i['quantity']}" for i in order.items),
        "remarks": s.status_note or "",
        "shipping_route": dict(_ROUTE),
        "service_types": ["normal"],
        "packages": [
            {
                "item_id": item["id"],
                "external_id": None,
                "name": item["name"],
                "sku": item["sku"],
                "price": item["amounts"]["price_without_tax"],
                "quantity": item["quantity"],
                "weight": {"value": item["weight"], "unit": "kg"},
            }
            for item in order.items
        ],
        "ship_from": _ship_from(),
        "ship_to": _ship_to(order),
        "meta": {"app_id": courier, "policy_options": {"boxes": 1}},
    }


def order_shipment(s: DemoShipmentRow, order: DemoOrderRow, store: StoreInfo) -> dict[str, Any]:
    """A shipment as an order lists it (the order.created example's ``shipments[0]``)."""
    courier = s.courier_id or 0
    ship_from = {**_ship_from(), "region": dict(_REGION), "short_address": "RRRA1234",
                 "building_number": "1234", "additional_number": "5678"}  # fmt: skip
    ship_from = {k: ship_from[k] for k in _FROM_KEYS}
    ship_to = {**_ship_to(order), "region": dict(_REGION), "short_address": "", "building_number": "",
               "additional_number": ""}  # fmt: skip
    ship_to = {k: ship_to[k] for k in _TO_KEYS}
    for party in (ship_from, ship_to):  # this variant has strings, never nulls, for these
        for key in ("street_number", "block", "postal_code"):
            party[key] = party[key] or ""
    return {
        "id": s.id,
        **_core(s, order, source="store"),
        "shipping_route": dict(_ROUTE),
        "packages": [
            {"item_id": i["id"], "external_id": None, "quantity": i["quantity"], "weight": _kg(i["weight"])}
            for i in order.items
        ],
        "ship_from": ship_from,
        "ship_to": ship_to,
        "meta": {"app_id": courier, "policy_options": {"dimensions": {"length": "", "width": "", "height": ""}}},
    }


def _kg(value: float) -> dict[str, Any]:
    return {"value": value, "units": "kg"}


_FROM_KEYS = (
    "type", "name", "email", "phone", "country", "city", "region", "address_line", "street_number", "block",
    "short_address", "building_number", "additional_number", "postal_code", "latitude", "longitude", "branch_id",
)  # fmt: skip
_TO_KEYS = _FROM_KEYS[:-1]
