"""Brand and Category models (the brand.created and category.updated examples)."""

from __future__ import annotations

import re
from typing import Any

from appfn.demo.common import StoreInfo, plain_date
from appfn.demo.models import DemoBrandRow, DemoCategoryRow


def brand_data(row: DemoBrandRow, store: StoreInfo) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "label": row.name,
        "description": row.description,
        "banner": row.banner,
        "logo": row.logo,
        "status": row.status,
        "ar_char": row.ar_char,
        "en_char": row.en_char,
        "metadata": {
            "title": row.meta.get("title"),
            "description": row.meta.get("description"),
            "url": row.meta.get("url", ""),
        },
    }


def category_data(row: DemoCategoryRow, store: StoreInfo) -> dict[str, Any]:
    slug = "-".join(re.findall(r"\w+", row.name.lower())) or "category"
    return {
        "id": row.id,
        "name": row.name,
        "image": row.image,
        "urls": {"customer": f"{store.base_url}/{slug}/c{row.id}", "admin": f"{store.admin_url}/categories"},
        "parent_id": row.parent_id,
        "sort_order": row.sort_order,
        "status": row.status,
        "show_in": {"app": bool(row.show_in.get("app", True)), "salla_points": bool(row.show_in.get("salla_points"))},
        "has_hidden_products": False,
        "update_at": plain_date(row.updated_at),
        "metadata": {
            # The schema wants strings here (the example has them); the name is the default title.
            "title": row.meta.get("title") or row.name,
            "description": row.meta.get("description") or "",
            "url": row.meta.get("url"),
        },
    }
