"""Sync actions: proceed, reject, timeout, and the merge order of data."""

from __future__ import annotations

import httpx

from appfn.catalog import load_catalog
from tests.api.conftest import DEMO_STORE, Server, make_tenant

SHIPMENT = load_catalog().get("shipment.creating").example()

ACCEPT = """
from appfn import Shipment, ShipmentStatus
def handler(context):
    return Shipment.success().set_shipment_number("AWB-{n}").set_status(ShipmentStatus.IN_PROGRESS)
"""
REJECT = """
from appfn import Shipment
def handler(context):
    return Shipment.error().set_message("No courier covers {city}")
"""
SLOW = "import time\ndef handler(context):\n    time.sleep(30)\n"


def _action(server: Server, client: httpx.Client, trigger: str = "shipment.creating") -> dict:
    answer = client.post(f"/v1/actions/{trigger}", json={"merchant": DEMO_STORE, "data": SHIPMENT})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_sync_actions(server: Server) -> None:
    # Given no function for the action, the operation proceeds untouched
    op = server.client()
    untouched = _action(server, op)
    assert (untouched["proceed"], untouched["data"], untouched["errors"], untouched["results"]) == (True, {}, [], [])

    # Given one carrier app that accepts: proceed with its shipment number
    first = make_tenant(server, "Carrier A", ["shipping.read"])
    assert first.deploy("shipment.creating", ACCEPT.replace("{n}", "1"))["status"] == "COMPLETED"
    decision = _action(server, op)
    assert decision["proceed"] is True
    assert decision["data"] == {"shipment_number": "AWB-1", "status": "in_progress"}
    assert decision["results"][0]["app_id"] == first.app_id

    # Given a second, newer installation that also accepts: its keys win the merge
    second = make_tenant(server, "Carrier B", ["shipping.read"])
    second.deploy("shipment.creating", ACCEPT.replace("{n}", "2"))
    decision = _action(server, op)
    assert decision["proceed"] is True
    assert decision["data"]["shipment_number"] == "AWB-2"
    assert [r["app_id"] for r in decision["results"]] == [first.app_id, second.app_id]

    # Given one that rejects: the operation is stopped with its message for the merchant
    third = make_tenant(server, "Carrier C", ["shipping.read"])
    third.deploy("shipment.creating", REJECT.replace("{city}", "Tabuk"))
    decision = _action(server, op)
    assert decision["proceed"] is False
    assert decision["errors"] == [{"app_id": third.app_id, "message": "No courier covers Tabuk"}]
    third.client.patch(f"/v1/installations/{third.installation_id}", json={"status": "inactive"})

    # Given one that runs past the budget: rejected at the deadline, not after it
    slow = make_tenant(server, "Carrier Slow", ["shipping.read"])
    slow.deploy("shipment.creating", SLOW)
    decision = _action(server, op)
    assert decision["proceed"] is False
    assert decision["errors"] == [{"app_id": slow.app_id, "message": "the app did not answer in time"}]
    assert decision["duration_ms"] < server.settings.sync_timeout_s * 1000 + 1500
    slow.client.patch(f"/v1/installations/{slow.installation_id}", json={"status": "inactive"})

    # And every run is in the executions of its app
    runs = first.client.get("/v1/executions", params={"trigger": "shipment.creating"}).json()["items"]
    assert runs and all(r["app_id"] == first.app_id and r["status"] == "success" for r in runs)


def test_actions_and_events_go_to_their_own_endpoints(server: Server) -> None:
    op = server.client()
    wrong = op.post("/v1/actions/customer.created", json={"merchant": DEMO_STORE, "data": {}})
    assert wrong.status_code == 422 and "POST /v1/events" in wrong.json()["error"]
    wrong = op.post("/v1/events", json={"event": "shipment.creating", "merchant": DEMO_STORE, "data": SHIPMENT})
    assert wrong.status_code == 422 and "/v1/actions/shipment.creating" in wrong.json()["error"]
    unknown = op.post("/v1/actions/shipment.teleporting", json={"merchant": DEMO_STORE, "data": {}})
    assert unknown.status_code == 422 and "unknown trigger" in unknown.json()["error"]
