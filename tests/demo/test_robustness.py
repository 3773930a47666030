"""Bad input of any shape gets a 4xx in the Admin API format, never a 500."""

from __future__ import annotations

import pytest

from tests.demo.conftest import Shop, new_customer, new_product

BODIES = [
    None, 1, "text", [], {"x": 1}, {"first_name": 5, "last_name": ["a"], "mobile": {"a": 1}},
    {"name": "x" * 5000, "price": "abc", "quantity": 1.5, "categories": "1", "images": [1]},
    {"customer_id": "1e9", "items": [None, {"product_id": True}], "shipping_address": "Riyadh"},
    {"order_id": -1, "type": None, "slug": 3, "contact": "x", "email": 7, "metadata": {"title": ["t"]}},
    {"price": 1e308, "sale_price": -5, "weight": -1, "birthday": "1999-13-40"},
    {"mobile": "+1 (555) 123", "mobile_code": "966", "parent_id": 99, "quantity": 10**12, "mode": "sideways"},
    {"customer_id": 10**30, "items": [{"product_id": 10**30, "quantity": 1}], "order_id": 10**30,
     "brand_id": 10**30, "parent_id": 10**30},  # ids no database integer holds
]  # fmt: skip


@pytest.mark.parametrize("index", range(len(BODIES)))
def test_no_500_on_bad_bodies(shop: Shop, index: int) -> None:
    customer = new_customer(shop.admin)
    product = new_product(shop.admin)
    routes = [
        ("POST", "/customers"), ("PUT", f"/customers/{customer['id']}"), ("POST", "/products"),
        ("PUT", f"/products/{product['id']}"), ("PUT", f"/products/{product['id']}/quantity"), ("POST", "/orders"),
        ("POST", "/shipments"), ("POST", "/brands"), ("POST", "/categories"), ("POST", "/storefront/login"),
        ("POST", "/storefront/otp"),
    ]  # fmt: skip
    for method, path in routes:
        body = BODIES[index]
        if body is None:  # not JSON at all
            answer = shop.admin.request(method, path, content=b"\xff\xfe")
        else:
            answer = shop.admin.request(method, path, json=body)
        assert 400 <= answer.status_code < 500, (method, path, body, answer.text)
        assert answer.json()["success"] is False and answer.json()["error"]["code"]


def test_an_update_that_changes_nothing_names_the_fields(shop: Shop) -> None:
    customer = new_customer(shop.admin)
    answer = shop.admin.put(f"/customers/{customer['id']}", json={"phone": "0551234567"})
    assert answer.status_code == 422
    message = answer.json()["error"]["fields"]["body"][0]
    assert message.startswith("Nothing to change: send at least one of first_name, last_name") and "mobile" in message


@pytest.mark.parametrize("resource", ["customers", "products", "orders", "brands", "categories", "shipments"])
def test_an_id_past_64_bits_is_not_found(shop: Shop, resource: str) -> None:
    answer = shop.admin.get(f"/{resource}/{10**30}")
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "not_found"
