"""The original's testing steps, end to end in one scenario: install the app on the demo store,
create a customer through the Admin API, see the customer.created function run (and the request
inspector, standing in for the CRM, get the documented request), preview with that customer's id;
update, sign in and ask for an OTP and see each event arrive with the documented payload."""

from __future__ import annotations

from pathlib import Path

from appfn.catalog import load_catalog
from tests.api.conftest import DEMO_STORE, Server, make_tenant, wait_executions

ROOT = Path(__file__).resolve().parents[2]
RECORD = """
from appfn import Resp
def handler(context):
    return Resp.success().set_data({"event": context.payload.event, "data": context.payload.data})
"""


def test_the_original_testing_steps(server: Server) -> None:
    op = server.client()
    merchant = {"X-Store-Id": str(DEMO_STORE)}
    # 1. Install the app on the demo store (settings point at the platform's request inspector)
    tenant = make_tenant(
        server, "Testing steps", ["customers.read"],
        settings_schema=[{"id": "crmApiUrl", "type": "string"},
                         {"id": "crmApiKey", "type": "string", "format": "password"}],
        settings={"crmApiUrl": f"{server.url}/inspect/steps-crm", "crmApiKey": "crm-key-0123456789"},
    )  # fmt: skip
    sync = (ROOT / "examples" / "crm_sync.py").read_text()
    assert tenant.deploy("customer.created", sync)["status"] == "COMPLETED"
    for trigger in ("customer.updated", "customer.login", "customer.otp.request"):
        assert tenant.deploy(trigger, RECORD)["status"] == "COMPLETED"

    # 2. Create a customer account in that store
    created = op.post("/admin/v2/customers", headers=merchant, json={
        "first_name": "Noura", "last_name": "Alqahtani", "mobile": "0551234567", "email": "noura@example.com",
    })  # fmt: skip
    assert created.status_code in (200, 201), created.text
    customer = created.json()["data"]
    [run] = wait_executions(tenant.client, 1, trigger="customer.created")
    assert run["status"] == "success", run["error"]
    [request] = tenant.client.get("/v1/inspector/requests", params={"bin": "steps-crm"}).json()["items"]
    assert run["response"]["data"] == {"customer_id": customer["id"], "crm_id": request["id"]}
    assert request["headers"]["authorization"] == "Bearer ****6789"  # the key, masked in the record
    assert request["body"] == {
        "external_id": customer["id"], "first_name": "Noura", "last_name": "Alqahtani",
        "email": "noura@example.com", "phone": f"{customer['mobile_code']}{customer['mobile']}",
        "merchant_id": DEMO_STORE, "event_type": "customer.created",
    }  # fmt: skip
    assert (request["event_id"], request["app_id"]) == (run["event_id"], tenant.app_id)
    assert [c["url"] for c in run["requests"]] == [f"{server.url}/inspect/steps-crm"]

    # 3. Put that customer id in the preview and run it
    preview = tenant.client.post(
        f"/v1/apps/{tenant.app_id}/functions/customer.created/preview",
        json={"store_id": DEMO_STORE, "customer_id": customer["id"]},
    ).json()
    assert preview["status"] == "success" and preview["response"]["data"]["customer_id"] == customer["id"]

    # Update, sign in and ask for a code: each event arrives, shaped as documented
    op.put(f"/admin/v2/customers/{customer['id']}", headers=merchant, json={"city": "Jeddah"}).raise_for_status()
    op.post("/admin/v2/storefront/login", headers=merchant, json={"email": "noura@example.com"}).raise_for_status()
    op.post("/admin/v2/storefront/otp", headers=merchant, json={"contact": "noura@example.com"}).raise_for_status()
    catalog = load_catalog()
    for trigger in ("customer.updated", "customer.login", "customer.otp.request"):
        [run] = wait_executions(tenant.client, 1, trigger=trigger)
        assert run["status"] == "success", (trigger, run["error"])
        data = run["response"]["data"]["data"]
        assert catalog.validate_data(trigger, data) == [], trigger
        if trigger == "customer.otp.request":
            assert set(data) == {"code", "contact"}
        else:
            assert data["id"] == customer["id"]
    assert tenant.client.get("/v1/executions", params={"trigger": "customer.updated"}).json()["items"][0][
        "response"]["data"]["data"]["city"] == "Jeddah"  # fmt: skip
