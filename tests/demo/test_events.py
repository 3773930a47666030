"""Every change emits its trigger through the platform, with ``payload.data`` built from the
stored record in the catalog's documented shape, and installed functions run on them."""

from __future__ import annotations

from appfn.catalog import load_catalog
from appfn.demo.preview import TRIGGER_FAMILY
from tests.demo.conftest import RECORD, Shop, new_customer, new_order, new_product, shape_differences

SHIP = """
from appfn import Shipment
def handler(context):
    return (Shipment.success().set_shipment_number("AWB-77").set_pdf_label("https://carrier.example/l.pdf")
            .set_data({"event": context.payload.event, "data": context.payload.data}))
"""
ALL_SCOPES = ["customers.read", "products.read", "orders.read", "shipping.read", "brands.read", "categories.read"]
EMITTED = {
    "customer.created", "customer.updated", "customer.login", "customer.otp.request",
    "product.created", "product.updated", "product.deleted", "product.quantity.low", "product.available",
    "order.created", "order.status.updated",
    "brand.created", "brand.updated", "brand.deleted", "category.created", "category.updated",
    "shipment.creating", "shipment.created", "shipment.cancelling", "shipment.cancelled",
}  # fmt: skip


def test_every_change_emits_a_valid_event_that_functions_receive(shop: Shop) -> None:
    functions = {t: (SHIP if t == "shipment.creating" else RECORD) for t in EMITTED}
    recorder = shop.app("Recorder", ALL_SCOPES, functions)
    admin = shop.admin

    # Given one change of every kind through the Admin API
    brand = admin.post("/brands", json={"name": "Apple", "description": "<p>Apple brand</p>"}).json()["data"]
    admin.put(f"/brands/{brand['id']}", json={"logo": "https://cdn.example/apple.png"})
    category = admin.post("/categories", json={"name": "Phones", "metadata": {"title": "Phones"}}).json()["data"]
    admin.put(f"/categories/{category['id']}", json={"sort_order": 2})
    product = new_product(admin, quantity=8, brand_id=brand["id"], categories=[category["id"]])
    admin.put(f"/products/{product['id']}", json={"description": "<p>Fresh</p>"})
    admin.put(f"/products/{product['id']}/quantity", json={"quantity": 0})  # updated + quantity.low
    admin.put(f"/products/{product['id']}/quantity", json={"quantity": 20})  # updated + available
    spare = new_product(admin, name="Spare")
    admin.delete(f"/products/{spare['id']}")
    admin.delete(f"/brands/{brand['id']}")
    customer = new_customer(admin, first_name="Sara", last_name="Alharbi", email="sara@example.com")
    admin.put(f"/customers/{customer['id']}", json={"last_name": "Alharbi-Updated"})
    assert admin.post("/storefront/login", json={"email": "sara@example.com"}).status_code == 200
    otp = admin.post("/storefront/otp", json={"contact": "+966551234567"}).json()["data"]
    order = new_order(admin, customer["id"], product["id"], quantity=2)
    admin.post(f"/orders/{order['id']}/status", json={"slug": "completed", "note": "Delivered"})
    shipment = admin.post("/shipments", json={"order_id": order["id"]}).json()["data"]
    assert admin.post(f"/shipments/{shipment['id']}/cancel").status_code == 200

    # Then every trigger was emitted, each payload valid and in the documented shape
    events = shop.events()
    assert {e.trigger for e in events} == EMITTED
    catalog = load_catalog()
    for event in events:
        assert catalog.validate_data(event.trigger, event.data) == [], event.trigger
        assert shape_differences(event.trigger, event.data) == [], event.trigger
        assert event.trigger in TRIGGER_FAMILY  # preview can build every one of them
    otp_event = next(e for e in events if e.trigger == "customer.otp.request")
    assert otp_event.data == {"code": otp["code"], "contact": "+966551234567"}

    # And the installed function ran for each event with exactly that payload
    runs = shop.executions(len(events), app_id=recorder.id)
    by_event = {r["event_id"]: r for r in runs}
    for event in events:
        run = by_event[event.id]
        assert run["status"] == "success", run
        assert run["response"]["data"]["event"] == event.trigger
        assert run["response"]["data"]["data"] == event.data


def test_a_customer_created_function_runs_after_the_admin_api_creates_one(shop: Shop) -> None:
    app = shop.app("CRM", ["customers.read"], {"customer.created": RECORD})
    customer = new_customer(shop.admin, first_name="Fahad", last_name="Alqahtani")
    [run] = shop.executions(1, app_id=app.id, trigger="customer.created")
    assert run["status"] == "success"
    received = run["response"]["data"]["data"]
    assert received["id"] == customer["id"] and received["first_name"] == "Fahad"
    assert received["mobile_code"] + str(received["mobile"]) == "+966" + str(customer["mobile"])
    assert received["source"]["user-agent"].startswith("python-httpx")


def test_events_wait_in_the_outbox_when_the_platform_refuses_them(shop: Shop) -> None:
    """A committed change never loses its event: it is sent with the next successful one."""
    from appfn.demo import admin_state
    from appfn.dispatch.ingest import BacklogFull

    state = admin_state(shop.server.platform)
    real = state.outbox.ingestor

    class Refusing:
        async def accept(self, records: object) -> object:
            raise BacklogFull(1, 1, 1)

    state.outbox.ingestor = Refusing()  # type: ignore[assignment]
    try:
        kept = new_customer(shop.admin)  # the change succeeds for the merchant
    finally:
        state.outbox.ingestor = real
    assert not [e for e in shop.events() if e.data.get("id") == kept["id"]]
    new_customer(shop.admin)  # the next change sends both
    assert len([e for e in shop.events() if e.data.get("id") == kept["id"]]) == 1
    with shop.server.platform.db.read_session() as s:
        from appfn.demo.models import DemoOutboxRow

        assert s.query(DemoOutboxRow).count() == 0
