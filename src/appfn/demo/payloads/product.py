"""The Product model. The merchant ``product.*`` triggers have no documented App Functions
payload (PLATFORM.md §13.10); the webhook Product model stands in, with the field types of
the product nested in order items (the catalog's ``product`` model)."""

from __future__ import annotations

from typing import Any

from appfn.demo.common import StoreInfo, amount, money
from appfn.demo.models import DemoBrandRow, DemoProductRow


def is_available(row: DemoProductRow) -> bool:
    return row.status == "sale" and (row.quantity is None or row.quantity > 0)


def unit_price(row: DemoProductRow) -> float:
    """What a customer pays for one, before VAT."""
    return row.sale_price if row.sale_price is not None else row.price


def product_url(row: DemoProductRow, store: StoreInfo) -> str:
    return f"{store.base_url}/p{row.id}"


def product_data(
    row: DemoProductRow, store: StoreInfo, *, vat_percent: float, brand: DemoBrandRow | None = None
) -> dict[str, Any]:
    currency = "SAR"
    price = unit_price(row)
    image = row.images[0] if row.images else ""
    return {
        "id": row.id,
        "promotion": {"title": None, "sub_title": None},
        "sku": row.sku,
        "mpn": None,
        "gtin": None,
        "type": row.type,
        "name": row.name,
        "urls": {"customer": product_url(row, store), "admin": f"{store.admin_url}/products/{row.id}"},
        "price": amount(row.price, currency),
        "taxed_price": amount(price * (1 + vat_percent / 100), currency),
        "pre_tax_price": amount(price, currency),
        "tax": amount(price * vat_percent / 100, currency),
        "description": row.description,
        "quantity": row.quantity,
        "status": row.status,
        "is_available": is_available(row),
        "views": 0,
        "sale_price": amount(row.sale_price or 0, currency),
        "sale_end": "",
        "require_shipping": row.type == "product",
        "cost_price": "" if row.cost_price is None else str(money(row.cost_price)),
        "weight": row.weight,
        "weight_type": "kg",
        "with_tax": True,
        "url": product_url(row, store),
        "main_image": image,
        "thumbnail": image,
        "images": [{"url": url, "main": i == 0} for i, url in enumerate(row.images)],
        "sold_quantity": row.sold_quantity,
        "rating": {"total": 0, "count": 0, "rate": 0},
        "regular_price": amount(row.price, currency),
        "has_special_price": row.sale_price is not None,
        "currency": currency,
        "calories": None if row.calories is None else f"{row.calories:.2f}",
        "max_items_per_user": 0,
        "show_in_app": True,
        "notify_quantity": row.notify_quantity,
        "hide_quantity": False,
        "unlimited_quantity": row.quantity is None,
        "managed_by_branches": False,
        "favorite": None,
        "starting_price": None,
        "features": {"availability_notify": None, "show_rating": True},
        "categories": [{"id": c} for c in row.categories],
        "brand": None if brand is None else {"id": brand.id, "name": brand.name, "logo": brand.logo},
        "tags": [],
        "options": [],
        "skus": [],
        "metadata": {
            "title": row.meta.get("title"),
            "description": row.meta.get("description"),
            "url": row.meta.get("url"),
        },
    }


def order_item_product(row: DemoProductRow, store: StoreInfo) -> dict[str, Any]:
    """The product as order.created nests it in each item (the example's key set)."""
    return {
        "id": row.id,
        "type": row.type,
        "promotion": {"title": None, "sub_title": None},
        "status": row.status,
        "is_available": is_available(row),
        "sku": row.sku,
        "name": row.name,
        "price": amount(row.price),
        "sale_price": amount(row.sale_price or 0),
        "currency": "SAR",
        "url": product_url(row, store),
        "thumbnail": row.images[0] if row.images else "",
        "has_special_price": row.sale_price is not None,
        "regular_price": amount(row.price),
        "calories": None if row.calories is None else f"{row.calories:.2f}",
        "mpn": None,
        "gtin": None,
        "favorite": None,
        "starting_price": None,
    }
