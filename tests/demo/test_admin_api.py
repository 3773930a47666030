"""The Admin API's conventions: envelope, pagination, search, CRUD, errors naming fields."""

from __future__ import annotations

from tests.demo.conftest import Shop, new_customer, new_order, new_product


def test_customers_crud_search_and_pagination(shop: Shop) -> None:
    admin = shop.admin
    # Given 23 customers, one of them with an Arabic name
    created = [new_customer(admin, first_name=f"Customer{i:02d}", last_name="Test") for i in range(22)]
    arabic = new_customer(admin, first_name="محمد", last_name="القحطاني", mobile="0551112233", email="mq@example.sa")
    assert arabic["mobile"] == 551112233 and arabic["mobile_code"] == "+966"

    # Then pages of at most per_page, with the pagination block and links
    first = admin.get("/customers", params={"per_page": 10}).json()
    assert first["status"] == 200 and first["success"] is True and len(first["data"]) == 10
    page = first["pagination"]
    assert page == {**page, "count": 10, "total": 23, "perPage": 10, "currentPage": 1, "totalPages": 3}
    assert "page=2" in page["links"]["next"] and "previous" not in page["links"]
    last = admin.get("/customers", params={"per_page": 10, "page": 3}).json()
    assert last["pagination"]["count"] == 3 and "next" not in last["pagination"]["links"]
    pages = [admin.get("/customers", params={"per_page": 10, "page": p}).json()["data"] for p in (1, 2, 3)]
    ids = {c["id"] for items in pages for c in items}
    assert ids == {c["id"] for c in created} | {arabic["id"]}
    assert admin.get("/customers", params={"page": 9}).json()["data"] == []

    # And search finds by name, e-mail and mobile (in the forms people type it)
    def found(keyword: str) -> list[int]:
        return [c["id"] for c in admin.get("/customers", params={"keyword": keyword}).json()["data"]]

    assert found("القحطاني") == [arabic["id"]]
    assert found("محمد القح") == [arabic["id"]]
    assert found("MQ@EXAMPLE") == [arabic["id"]]
    assert found("0551112233") == [arabic["id"]] == found("+966551112233") == found("1112233")
    assert len(found("customer0")) == 10
    assert found("nobody-like-this") == []

    # Get, update (only the fields sent), delete
    got = admin.get(f"/customers/{arabic['id']}").json()["data"]
    assert got == arabic
    updated = admin.put(f"/customers/{arabic['id']}", json={"city": "جدة", "gender": "male"}).json()["data"]
    assert (updated["city"], updated["first_name"], updated["mobile"]) == ("جدة", "محمد", 551112233)
    deleted = admin.delete(f"/customers/{arabic['id']}")
    assert deleted.status_code == 200 and deleted.json()["data"]["id"] == arabic["id"]
    missing = admin.get(f"/customers/{arabic['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_errors_use_the_admin_api_format_and_name_the_fields(shop: Shop) -> None:
    admin = shop.admin
    # Missing and malformed fields: 422, every field named with its message
    bad = admin.post("/customers", json={"first_name": "", "mobile": "12", "email": "not-mail", "gender": "x"})
    body = bad.json()
    assert bad.status_code == 422 and body["status"] == 422 and body["success"] is False
    assert body["error"]["code"] == "invalid_fields"
    assert set(body["error"]["fields"]) == {"first_name", "last_name", "mobile", "email", "gender"}
    assert "Saudi mobile" in body["error"]["fields"]["mobile"][0]
    assert "last_name" in body["error"]["message"]

    # Uniqueness per store
    taken = new_customer(admin, mobile="555000111")
    again = admin.post("/customers", json={"first_name": "A", "last_name": "B", "mobile": "+966555000111"})
    assert again.status_code == 422 and "already been taken" in again.json()["error"]["fields"]["mobile"][0]
    assert str(taken["id"]) in again.json()["error"]["fields"]["mobile"][0]

    # Not JSON, not an object, a bad id in the path, a per_page over 60, an unknown route
    assert admin.post("/customers", content=b"{nope").json()["error"]["code"] == "invalid_json"
    assert admin.post("/customers", json=[1]).json()["error"]["fields"] == {"body": ["must be a JSON object"]}
    assert admin.get("/customers/abc").json()["error"]["fields"].keys() == {"customer_id"}
    too_many = admin.get("/customers", params={"per_page": 61})
    assert too_many.status_code == 422 and "per_page" in too_many.json()["error"]["fields"]
    unknown = admin.get("/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "route_not_found"
    wrong_method = admin.patch("/customers")
    assert wrong_method.status_code == 405 and wrong_method.json()["success"] is False

    # Products: the price is required, the sale price must be lower, references must exist
    product = admin.post("/products", json={"name": "Dates", "price": 10, "sale_price": 12, "brand_id": 42,
                                            "categories": [7], "quantity": -1})  # fmt: skip
    fields = product.json()["error"]["fields"]
    assert product.status_code == 422 and set(fields) == {"quantity"}
    product = admin.post("/products", json={"name": "Dates", "price": 10, "sale_price": 12})
    expected = {"sale_price": ["The sale_price field must be less than the price (10)."]}
    assert product.json()["error"]["fields"] == expected
    product = admin.post("/products", json={"name": "Dates", "price": 10, "brand_id": 42, "categories": [7]})
    assert set(product.json()["error"]["fields"]) == {"brand_id", "categories.0"}

    # Orders: an unknown customer and product, more than the stock
    item = new_product(admin, quantity=2)
    items = [{"product_id": 2, "quantity": 1}, {"product_id": item["id"], "quantity": 3}]
    order = admin.post("/orders", json={"customer_id": 1, "items": items})
    fields = order.json()["error"]["fields"]
    assert set(fields) == {"customer_id"}  # the customer is checked first
    customer = new_customer(admin)
    order = admin.post("/orders", json={"customer_id": customer["id"], "items": items})
    fields = order.json()["error"]["fields"]
    assert fields == {"items.0.product_id": ["The product 2 does not exist in this store."],
                      "items.1.quantity": [f"Only 2 of product {item['id']} left in stock."]}  # fmt: skip
    assert admin.post("/orders", json={"customer_id": customer["id"]}).json()["error"]["fields"].keys() == {"items"}

    # The platform API keeps its own format
    assert shop.server.client().get("/v1/nothing").json() == {"error": "Not Found", "detail": None}


def test_a_store_sees_only_its_own_records(shop: Shop, server) -> None:  # type: ignore[no-untyped-def]
    mine = new_customer(shop.admin)
    other = shop.admin.get(f"/customers/{mine['id']}", headers={"X-Store-Id": "1305146709"})
    assert other.status_code == 404
    missing_store = shop.admin.get("/customers", headers={"X-Store-Id": "999"})
    assert missing_store.status_code == 404 and "X-Store-Id" in missing_store.json()["error"]["fields"]
    no_store = shop.admin.get("/customers", headers={"X-Store-Id": ""})
    assert no_store.status_code == 400 and no_store.json()["error"]["code"] == "store_required"


def test_products_orders_brands_categories(shop: Shop) -> None:
    admin = shop.admin
    brand = admin.post("/brands", json={"name": "Najd Coffee", "description": "<p>قهوة</p>"}).json()["data"]
    assert (brand["name"], brand["en_char"], brand["ar_char"]) == ("Najd Coffee", "N", "")
    brand = admin.put(f"/brands/{brand['id']}", json={"name": "نجد"}).json()["data"]
    assert (brand["name"], brand["ar_char"], brand["en_char"]) == ("نجد", "ن", "")
    parent = admin.post("/categories", json={"name": "Coffee"}).json()["data"]
    child = admin.post("/categories", json={"name": "Beans", "parent_id": parent["id"]}).json()["data"]
    assert child["parent_id"] == parent["id"] and child["metadata"]["title"] == "Beans"
    child = admin.put(f"/categories/{child['id']}", json={"status": "hidden"}).json()["data"]
    assert child["status"] == "hidden"
    assert admin.get("/categories").json()["pagination"]["total"] == 2

    # A product with a sale price, brand and category; listing and search by name or SKU
    product = new_product(admin, name="Khawlani beans", sku="KH-1", price=100, sale_price=80, brand_id=brand["id"],
                          categories=[parent["id"]], quantity=10)  # fmt: skip
    assert product["price"] == {"amount": 100, "currency": "SAR"}
    assert product["sale_price"]["amount"] == 80 and product["has_special_price"] is True
    assert product["brand"]["id"] == brand["id"] and product["categories"] == [{"id": parent["id"]}]
    new_product(admin, name="Cardamom", sku="CD-2", price=20)
    assert [p["id"] for p in admin.get("/products", params={"keyword": "kh-1"}).json()["data"]] == [product["id"]]
    assert admin.get("/products").json()["pagination"]["total"] == 2

    # An order: items priced from the products (sale price), VAT 15 %, shipping, total; stock taken
    customer = new_customer(admin)
    order = new_order(admin, customer["id"], product["id"], quantity=3)
    amounts = order["amounts"]
    assert amounts["sub_total"]["amount"] == 240 and amounts["tax"]["amount"]["amount"] == 36
    assert amounts["shipping_cost"]["amount"] == 25 and amounts["total"]["amount"] == 301
    assert order["customer"]["id"] == customer["id"] and order["status"]["slug"] == "under_review"
    assert order["items"][0]["product"]["id"] == product["id"] and order["items"][0]["quantity"] == 3
    assert admin.get(f"/products/{product['id']}").json()["data"]["quantity"] == 7
    assert admin.get(f"/orders/{order['id']}").json()["data"] == order
    second = new_order(admin, customer["id"], product["id"])
    assert second["reference_id"] == order["reference_id"] + 1
    listed = admin.get("/orders", params={"customer_id": customer["id"]}).json()
    assert [o["id"] for o in listed["data"]] == [second["id"], order["id"]]

    # Status changes
    done = admin.post(f"/orders/{order['id']}/status", json={"slug": "completed", "note": "Delivered by hand"})
    assert done.json()["data"]["status"]["slug"] == "completed"
    same = admin.post(f"/orders/{order['id']}/status", json={"slug": "completed"})
    assert same.status_code == 422 and "already completed" in same.json()["error"]["fields"]["slug"][0]
    unknown = admin.post(f"/orders/{order['id']}/status", json={"slug": "teleported"})
    assert unknown.status_code == 422 and "slug" in unknown.json()["error"]["fields"]
    assert admin.get("/orders", params={"status": "completed"}).json()["pagination"]["total"] == 1
    assert {s["slug"] for s in admin.get("/orders/statuses").json()["data"]} >= {"completed", "canceled"}

    # Stock: set, increment, decrement, never below zero; delete
    more = admin.put(f"/products/{product['id']}/quantity", json={"quantity": 3, "mode": "increment"})
    assert more.json()["data"]["quantity"] == 9
    too_far = admin.put(f"/products/{product['id']}/quantity", json={"quantity": 50, "mode": "decrement"})
    assert too_far.status_code == 422 and "quantity" in too_far.json()["error"]["fields"]
    assert admin.delete(f"/products/{product['id']}").status_code == 200
    assert admin.get(f"/products/{product['id']}").status_code == 404
    assert admin.delete(f"/brands/{brand['id']}").status_code == 200
    assert admin.get(f"/brands/{brand['id']}").status_code == 404


def test_the_admin_api_documents_itself(shop: Shop) -> None:
    spec = shop.admin.get("/openapi.json").json()
    assert {"/customers", "/orders/{order_id}/status", "/shipments/{shipment_id}/cancel"} <= set(spec["paths"])
    docs = shop.admin.get("/docs")
    assert docs.status_code == 200 and "/admin/v2/openapi.json" in docs.text
