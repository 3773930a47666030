"""Shipments: ``shipment.creating`` decides before anything is stored; ``shipment.cancelling``
may decline a cancellation."""

from __future__ import annotations

from tests.demo.conftest import RECORD, Shop, new_customer, new_order, new_product

ACCEPT = """
from appfn import Shipment, ShipmentStatus
def handler(context):
    order = context.payload.data["order_id"]
    return (Shipment.success().set_shipment_number(f"AWB-{order}").set_pdf_label("https://carrier.example/label.pdf")
            .set_tracking_number("TRK-1").set_tracking_link("https://carrier.example/t/TRK-1")
            .set_status(ShipmentStatus.SHIPPED).set_cost(27.5))
"""
REJECT = """
from appfn import Shipment
def handler(context):
    city = context.payload.data["ship_to"]["city"]
    return Shipment.error().set_message(f"No courier covers {city}")
"""
DECLINE = """
from appfn import Resp
def handler(context):
    return Resp.error().set_message("Already handed to the courier")
"""


def _order(shop: Shop) -> dict:
    customer = new_customer(shop.admin, city="تبوك")
    return new_order(shop.admin, customer["id"], new_product(shop.admin)["id"])


def _shipments(shop: Shop) -> list[dict]:
    return shop.admin.get("/shipments").json()["data"]


def test_a_rejecting_function_blocks_creation_with_its_message(shop: Shop) -> None:
    order = _order(shop)
    shop.app("Carrier No", ["shipping.read"], {"shipment.creating": REJECT, "shipment.created": RECORD})
    refused = shop.admin.post("/shipments", json={"order_id": order["id"]})
    assert refused.status_code == 422
    assert refused.json()["error"] == {"code": "shipment_rejected", "message": "No courier covers تبوك", "fields": {}}
    assert _shipments(shop) == []
    assert [e.trigger for e in shop.events()].count("shipment.created") == 0
    assert shop.executions(1, trigger="shipment.creating")[0]["status"] == "failure"


def test_an_accepting_function_sets_number_label_tracking_and_status(shop: Shop) -> None:
    order = _order(shop)
    carrier = shop.app("Carrier Yes", ["shipping.read_write"], {"shipment.creating": ACCEPT,
                                                                 "shipment.created": RECORD})  # fmt: skip
    created = shop.admin.post("/shipments", json={"order_id": order["id"]})
    assert created.status_code == 201, created.text
    shipment = created.json()["data"]
    assert shipment["shipping_number"] == f"AWB-{order['id']}"
    assert shipment["label"] == {"format": "pdf", "url": "https://carrier.example/label.pdf"}
    assert (shipment["tracking_number"], shipment["status"], shipment["total"]["amount"]) == ("TRK-1", "shipped", 27.5)
    assert shipment["courier_id"] == carrier.id and shipment["courier_name"] == "Carrier Yes"
    assert shipment["trackable"] is True and shipment["order_id"] == order["id"]
    assert _shipments(shop) == [shipment]
    assert carrier.api.get(f"/shipments/{shipment['id']}").json()["data"] == shipment

    # The order lists it, and its shipping block carries the number and the label
    listed = shop.admin.get(f"/orders/{order['id']}").json()["data"]
    assert listed["shipments"][0]["shipping_number"] == shipment["shipping_number"]
    assert listed["shipping"]["shipment"]["label"] == shipment["label"]

    # shipment.created ran afterwards with the stored shipment
    [run] = shop.executions(1, trigger="shipment.created")
    assert run["response"]["data"]["data"] == shipment

    # Cancel with no function for shipment.cancelling: cancelled; twice: 409
    cancelled = shop.admin.post(f"/shipments/{shipment['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["data"]["status"] == "cancelled"
    again = shop.admin.post(f"/shipments/{shipment['id']}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_a_declined_cancellation_keeps_the_shipment(shop: Shop) -> None:
    order = _order(shop)
    shop.app("Carrier Strict", ["shipping.read"], {"shipment.creating": ACCEPT, "shipment.cancelling": DECLINE})
    shipment = shop.admin.post("/shipments", json={"order_id": order["id"]}).json()["data"]
    declined = shop.admin.post(f"/shipments/{shipment['id']}/cancel")
    assert declined.status_code == 422
    assert declined.json()["error"]["code"] == "cancellation_declined"
    assert declined.json()["error"]["message"] == "Already handed to the courier"
    assert shop.admin.get(f"/shipments/{shipment['id']}").json()["data"]["status"] == "shipped"
    assert "shipment.cancelled" not in [e.trigger for e in shop.events()]


def test_shipment_input_errors(shop: Shop) -> None:
    missing = shop.admin.post("/shipments", json={})
    assert missing.status_code == 422 and "order_id" in missing.json()["error"]["fields"]
    unknown = shop.admin.post("/shipments", json={"order_id": 12345, "type": "parcel"})
    assert set(unknown.json()["error"]["fields"]) == {"type"}
    unknown = shop.admin.post("/shipments", json={"order_id": 12345})
    assert unknown.json()["error"]["fields"] == {"order_id": ["The order 12345 does not exist in this store."]}
    assert shop.admin.post("/shipments/12345/cancel").status_code == 404
