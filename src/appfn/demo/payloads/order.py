"""The Order model (order.created example), the status-change record of order.status.updated
(which nests a shorter order), and the order-shaped pieces: statuses, shipping block."""

from __future__ import annotations

from typing import Any

from appfn.demo.common import WAREHOUSE, StoreInfo, amount, php_date
from appfn.demo.models import DemoOrderRow, DemoOrderStatusRow, DemoShipmentRow
from appfn.demo.payloads.customer import short_customer
from appfn.demo.payloads.shipment import order_shipment, party_phone

# slug -> (status id, Arabic name as the dashboard shows it)
STATUSES: dict[str, tuple[int, str]] = {
    "payment_pending": (566146461, "بانتظار الدفع"),
    "under_review": (566146469, "بإنتظار المراجعة"),
    "in_progress": (1939592358, "قيد التنفيذ"),
    "completed": (1298199463, "تم التنفيذ"),
    "delivering": (349994915, "جاري التوصيل"),
    "delivered": (1723506348, "تم التوصيل"),
    "shipped": (814202285, "تم الشحن"),
    "canceled": (525144736, "ملغي"),
    "restoring": (1548352431, "قيد الاسترجاع"),
    "restored": (1956875584, "مسترجع"),
}
CANCELLABLE = ("payment_pending", "under_review", "in_progress")
_ARABIC_DIGITS = str.maketrans("0123456789.", "٠١٢٣٤٥٦٧٨٩٫")


def total_weight(order: DemoOrderRow) -> float:
    return round(sum(i["weight"] * i["quantity"] for i in order.items), 3)


def weight_label(kg: float) -> str:
    return f"{kg:g}".translate(_ARABIC_DIGITS) + " كجم"


def _urls(order: DemoOrderRow, store: StoreInfo) -> dict[str, str]:
    return {
        "customer": f"{store.base_url}/order/{order.id}",
        "admin": f"{store.admin_url}/orders/{order.id}",
        "rating": f"{store.base_url}/rating/{order.id}",
        "checkout": f"{store.base_url}/checkout",
    }


def _pickup_address() -> dict[str, Any]:
    w = WAREHOUSE
    return {
        "country": w["country"],
        "country_code": w["country_code"],
        "city": w["city"],
        "shipping_address": f"{w['street_number']}, {w['block']}, {w['postal_code']}, {w['city']}, {w['country']}",
        "street_number": w["street_number"],
        "block": w["block"],
        "postal_code": w["postal_code"],
        "geo_coordinates": {"lat": w["latitude"], "lng": w["longitude"]},
    }


def _address(order: DemoOrderRow) -> dict[str, Any]:
    a = order.shipping_address
    line = ", ".join(p for p in (a.get("street_number"), a.get("block"), a.get("city"), a.get("country")) if p)
    return {
        "country": a.get("country_code", "SA"),
        "country_code": a.get("country_code", "SA"),
        "city": a.get("city", ""),
        "shipping_address": line,
        "street_number": a.get("street_number", ""),
        "block": a.get("block", ""),
        "postal_code": a.get("postal_code", ""),
        "geo_coordinates": {"lat": 0, "lng": 0},
    }


def shipping_block(order: DemoOrderRow, shipments: list[DemoShipmentRow], store: StoreInfo) -> dict[str, Any]:
    latest = next((s for s in reversed(shipments) if s.status != "cancelled"), None)
    customer = order.customer
    return {
        "id": 1833934431,
        "app_id": latest.courier_id if latest is not None else None,
        "company": (latest.courier_name if latest is not None else None) or "الشحن التجريبي",
        "logo": "",
        "receiver": {
            "name": f"{customer['first_name']} {customer['last_name']}".strip(),
            "email": customer["email"],
            "phone": party_phone(customer),
        },
        "shipper": {"name": store.name, "company_name": store.name, "email": store.email, "phone": WAREHOUSE["phone"]},
        "pickup_address": _pickup_address(),
        "address": _address(order),
        "shipment": {
            "id": (latest.shipping_number if latest is not None else None) or "0",
            "pickup_id": None,
            "tracking_link": (latest.tracking_link if latest is not None else None) or "0",
            "label": (latest.label if latest is not None else None) or [],
        },
        "policy_options": [],
    }


def _source_details(order: DemoOrderRow) -> dict[str, Any]:
    s = order.source_details
    return {
        "type": "direct",
        "value": None,
        "device": s.get("device", "desktop"),
        "user-agent": s.get("user-agent", ""),
        "ip": s.get("ip"),
    }


def order_data(order: DemoOrderRow, shipments: list[DemoShipmentRow], store: StoreInfo) -> dict[str, Any]:
    """order.created (and the Admin API's order object)."""
    status_id, status_name = STATUSES[order.status]
    return {
        "id": order.id,
        "reference_id": order.reference_id,
        "urls": _urls(order, store),
        "date": php_date(order.created_at),
        "draft": False,
        "read": True,
        "source": "store",
        "source_device": order.source_details.get("device", "desktop"),
        "source_details": _source_details(order),
        "status": {
            "id": status_id,
            "name": status_name,
            "slug": order.status,
            "customized": {"id": status_id, "name": status_name},
        },
        "receipt_image": "",
        "payment_method": order.payment_method,
        "currency": order.currency,
        "amounts": order.amounts,
        "shipping": shipping_block(order, shipments, store),
        "shipments": [order_shipment(s, order, store) for s in shipments],
        "can_cancel": order.status in CANCELLABLE,
        "show_weight": False,
        "can_reorder": True,
        "is_pending_payment": order.status == "payment_pending",
        "pending_payment_ends_at": 0,
        "total_weight": weight_label(total_weight(order)),
        "shipment_branch": [],
        "customer": order.customer,
        "items": order.items,
        "product_reservations": [],
        "bank": dict(_DEMO_BANK),  # the store's account for bank transfers (the schema has no null)
        "tags": [],
    }


def status_order(order: DemoOrderRow, shipments: list[DemoShipmentRow], store: StoreInfo) -> dict[str, Any]:
    """The shorter order nested in order.status.updated (that example's key set)."""
    status_id, status_name = STATUSES[order.status]
    data: dict[str, Any] = {
        "id": order.id,
        "reference_id": order.reference_id,
        "urls": _urls(order, store),
        "date": php_date(order.created_at),
        "source": "store",
        "source_device": order.source_details.get("device", "desktop"),
        "source_details": _source_details(order),
    }
    if order.first_complete_at is not None:  # the schema has no null for it: absent until completed
        data["first_complete_at"] = php_date(order.first_complete_at)
    data.update(
        {
            "status": {"id": status_id, "name": status_name, "slug": order.status},
            "payment_method": order.payment_method,
            "currency": order.currency,
            "amounts": order.amounts,
            "shipping": shipping_block(order, shipments, store),
            "can_cancel": order.status in CANCELLABLE,
            "show_weight": False,
            "can_reorder": order.status not in CANCELLABLE,
            "is_pending_payment": order.status == "payment_pending",
            "pending_payment_ends_at": 0,
            "total_weight": weight_label(total_weight(order)),
            "shipment_branch": [_BRANCH],
            "customer": short_customer(order.customer),
            "items": [
                {
                    "id": item["id"],
                    "product_id": item["product"]["id"],
                    "name": item["name"],
                    "sku": item["sku"],
                    "quantity": item["quantity"],
                    "weight": item["weight"],
                    "amounts": item["amounts"],
                }
                for item in order.items
            ],
            "total": order.amounts["total"],
        }
    )
    return data


def status_change_data(
    change: DemoOrderStatusRow, order: DemoOrderRow, shipments: list[DemoShipmentRow], store: StoreInfo
) -> dict[str, Any]:
    """order.status.updated: the change record wrapping the order."""
    return {
        "id": change.id,
        "status": STATUSES[change.status][1],
        "customized": None,
        "note": change.note,
        "created_at": php_date(change.created_at),
        "order": status_order(order, shipments, store),
    }


def item_amounts(unit_price: float, quantity: int, vat_percent: float) -> dict[str, Any]:
    price = unit_price * quantity
    tax = price * vat_percent / 100
    return {
        "price_without_tax": amount(price),
        "total_discount": amount(0),
        "tax": {"percent": f"{vat_percent:.2f}", "amount": amount(tax)},
        "total": amount(price + tax),
    }


_BRANCH = {"id": WAREHOUSE["branch_id"], "name": WAREHOUSE["name"], "status": "active", "is_default": True, "type": {}}
_DEMO_BANK = {
    "id": 326553500,
    "bank_name": "البنك الأهلي السعودي",
    "bank_id": 1473353380,
    "account_name": "Demo Store",
    "account_number": "000000608010167519",
    "iban_number": "SA2380000382608010130308",
    "status": "active",
}
