"""Fill a demo store with realistic records, emitting no events (``appfn serve --demo``).

    summary = seed_demo_store(db, store_id, customers=25, products=30, orders=20)

Brands and categories come first, then products, customers (Arabic and English names, Saudi
mobiles) and orders spread over the last 60 days. The content is the same for a given store
id (a seeded ``random.Random``); ids are random. A store that already has demo records is left
as it is (``summary.created`` is False), so calling it on every start is safe.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appfn import store
from appfn.demo import seed_data as content
from appfn.demo.common import StoreInfo, store_info
from appfn.demo.config import DemoConfig
from appfn.demo.models import DemoCustomerRow, DemoOrderRow, DemoProductRow
from appfn.demo.records import catalog, customers, orders, products
from appfn.store._common import utcnow


@dataclass(frozen=True)
class SeedSummary:
    store_id: int
    created: bool  # False: the store already had records and was left alone
    customers: list[int]
    products: list[int]
    orders: list[int]
    brands: list[int]
    categories: list[int]


def seed_demo_store(
    db: store.Database, store_id: int, *, customers: int = 25, products: int = 30, orders: int = 20
) -> SeedSummary:
    """Seed the store (which must exist: ``store.upsert_store`` it first)."""
    config = DemoConfig()
    with db.session() as s:
        info = store_info(s, store_id)  # 404 AdminError when the store is missing
        if _has_records(s, store_id):
            return SeedSummary(store_id, False, [], [], [], [], [])
        rng = random.Random(store_id)
        brand_ids = [
            catalog.create_brand(s, store_id, catalog.parse_brand(_brand(ar, en))).id for ar, en in content.BRANDS
        ]
        category_ids = [
            catalog.create_category(s, store_id, catalog.parse_category({"name": name, "sort_order": i})).id
            for i, name in enumerate(content.CATEGORIES)
        ]
        product_rows = [_product(s, store_id, i, rng, brand_ids, category_ids) for i in range(products)]
        customer_rows = _customers(s, store_id, customers, rng)
        order_ids = _orders(s, info, orders, rng, customer_rows, product_rows, config) if customer_rows else []
        return SeedSummary(
            store_id, True, [c.id for c in customer_rows], [p.id for p in product_rows], order_ids, brand_ids,
            category_ids,
        )  # fmt: skip


def _has_records(s: Session, store_id: int) -> bool:
    for model in (DemoCustomerRow, DemoProductRow, DemoOrderRow):
        if s.execute(select(func.count()).select_from(model).where(model.store_id == store_id)).scalar_one():
            return True
    return False


def _brand(arabic: str, english: str) -> dict[str, object]:
    return {
        "name": english,
        "description": f"<p>{arabic} - {english}</p>",
        "logo": f"https://cdn.appfn.example/brands/{english.lower().replace(' ', '-')}.png",
        "banner": None,
        "status": "active",
        "ar_char": arabic[:1],
        "en_char": english[:1].upper(),
        "metadata": {"title": english, "description": arabic},
    }


def _product(
    s: Session, store_id: int, i: int, rng: random.Random, brands: list[int], categories: list[int]
) -> DemoProductRow:
    name, price, category, brand, weight, stock = content.PRODUCTS[i % len(content.PRODUCTS)]
    if i >= len(content.PRODUCTS):
        name = f"{name} ({i // len(content.PRODUCTS) + 1})"
    on_sale = rng.random() < 0.2
    slug = f"P{i + 1:03d}"
    return products.create(
        s, store_id,
        products.parse({
            "name": name, "price": price, "sale_price": round(price * 0.85, 2) if on_sale else None,
            "cost_price": round(price * 0.55, 2), "quantity": stock, "notify_quantity": None, "sku": f"SKU-{slug}",
            "type": "product", "status": "sale", "description": f"<p>{name}</p>", "weight": weight,
            "calories": None, "brand_id": brands[brand], "categories": [categories[category]],
            "images": [f"https://cdn.appfn.example/products/{slug.lower()}.jpg"], "metadata": {"title": name},
        }),
    )  # fmt: skip


def _customers(s: Session, store_id: int, count: int, rng: random.Random) -> list[DemoCustomerRow]:
    rows, mobiles, emails, names = [], set(), set(), set()
    now = utcnow()
    attempts = 0
    while len(rows) < count:
        attempts += 1
        if rng.random() < 0.7:
            (first, first_latin, gender), (last, last_latin) = (
                rng.choice(content.ARABIC_FIRST),
                rng.choice(content.ARABIC_LAST),
            )
        else:
            (first, gender), last = rng.choice(content.ENGLISH_FIRST), rng.choice(content.ENGLISH_LAST)
            first_latin, last_latin = first.lower(), last.lower().replace("-", "")
        email = f"{first_latin}.{last_latin}{rng.randint(1, 99)}@example.com"
        mobile = rng.choice(content.MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"
        repeated = (first, last) in names and attempts < count * 20  # distinct names while there are some left
        if mobile in mobiles or email in emails or repeated:
            continue
        names.add((first, last))
        mobiles.add(mobile)
        emails.add(email)
        device, agent = rng.choice(content.USER_AGENTS)
        created = now - timedelta(days=rng.randint(60, 120), minutes=rng.randint(0, 1440))
        birthday = f"{rng.randint(1970, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        values = {
            "first_name": first, "last_name": last, "mobile": mobile, "mobile_code": "+966", "email": email,
            "gender": gender, "birthday": birthday,
            "city": rng.choice(content.CITIES), "country": "السعودية", "country_code": "SA", "currency": "SAR",
            "location": "", "groups": [], "is_notifications_enabled": rng.random() < 0.8,
        }  # fmt: skip
        source = {"device": device, "user-agent": agent, "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.7"}
        rows.append(customers.create(s, store_id, customers.parse(values), source=source, now=created))
    return rows


def _orders(
    s: Session, info: StoreInfo, count: int, rng: random.Random, people: list[DemoCustomerRow],
    catalog_rows: list[DemoProductRow], config: DemoConfig,
) -> list[int]:  # fmt: skip
    ids = []
    now = utcnow()
    stocked = [p for p in catalog_rows if p.quantity is None or p.quantity > 10]  # keep the low-stock ones near 5
    for _ in range(count):
        buyer = rng.choice(people)
        picks = rng.sample(stocked or catalog_rows, k=min(len(stocked or catalog_rows), rng.randint(1, 3)))
        device, agent = rng.choice(content.USER_AGENTS)
        values = {
            "customer_id": buyer.id,
            "items": [{"product_id": p.id, "quantity": rng.randint(1, 2), "notes": ""} for p in picks],
            "payment_method": rng.choice(content.PAYMENT_METHODS),
            "shipping_cost": rng.choice([0, 15, 25, 30]),
            "status": rng.choice(content.ORDER_STATUSES),
            "shipping_address": {
                "city": buyer.city, "street_number": rng.choice(content.STREETS), "block": rng.choice(content.BLOCKS),
                "postal_code": f"{rng.randint(11000, 34999)}",
            },
        }  # fmt: skip
        placed = now - timedelta(days=rng.randint(0, 59), minutes=rng.randint(0, 1440))
        source = {"device": device, "user-agent": agent, "ip": None}
        order, _ = orders.create(
            s, info, orders.parse(values), source_details=source, vat_percent=config.vat_percent, now=placed
        )
        ids.append(order.id)
    return ids
