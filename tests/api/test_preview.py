"""Preview by entity id: run a function against a real record of the demo store."""

from __future__ import annotations

from pathlib import Path

import pytest

from appfn.demo.seed import seed_demo_store
from tests.api.conftest import DEMO_STORE, Server, make_tenant
from tests.cli.receiver import receiver

GREET = """
from appfn import Resp
def handler(context):
    customer = context.payload.data
    print("previewing", customer["id"])
    return Resp.success().set_data({"id": customer["id"], "email": customer["email"], "key": context.settings["token"]})
"""
TS = """export default async (context: Customer): Promise<Resp> => {
  return Resp.success().setData({ first: context.payload.data.first_name });
};
"""


@pytest.fixture(scope="module")
def seeded(server: Server) -> list[int]:
    return seed_demo_store(server.platform.db, DEMO_STORE, customers=5, products=3, orders=2).customers


def test_preview_runs_the_deployed_function_on_the_real_record(server: Server, seeded: list[int]) -> None:
    tenant = make_tenant(
        server, "Previewer", ["customers.read"],
        settings_schema=[{"id": "token", "type": "string", "format": "password"}], settings={"token": "s3cret"},
    )  # fmt: skip
    tenant.deploy("customer.created", GREET)
    path = f"/v1/apps/{tenant.app_id}/functions/customer.created/preview"
    answer = tenant.client.post(path, json={"store_id": DEMO_STORE, "customer_id": seeded[0]})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == "success" and result["duration_ms"] > 0
    assert result["response"]["data"]["id"] == seeded[0] and "@" in result["response"]["data"]["email"]
    assert result["console"] == [f"previewing {seeded[0]}"]
    assert result["context"]["settings"]["token"] == "********"  # the function got it, the answer masks it
    assert result["response"]["data"]["key"] == "s3cret"

    draft = tenant.client.post(path, json={"store_id": DEMO_STORE, "customer_id": seeded[1], "source": TS,
                                           "language": "typescript"})  # fmt: skip
    assert draft.status_code == 200 and draft.json()["status"] == "success", draft.text
    assert draft.json()["response"]["data"]["first"]


def test_preview_errors_are_clear(server: Server, seeded: list[int]) -> None:
    tenant = make_tenant(server, "Strict", ["customers.read"])
    path = f"/v1/apps/{tenant.app_id}/functions/customer.created/preview"
    missing_store = tenant.client.post(path, json={"customer_id": seeded[0]})
    assert missing_store.status_code == 422 and missing_store.json()["error"] == "store_id is required"
    missing_field = tenant.client.post(path, json={"store_id": DEMO_STORE})
    assert missing_field.status_code == 422
    assert missing_field.json()["error"] == "Missing required form field(s): customer_id"
    no_function = tenant.client.post(path, json={"store_id": DEMO_STORE, "customer_id": seeded[0]})
    assert no_function.status_code == 404
    tenant.deploy("customer.created", "def handler(context):\n    return {\n")
    failed = tenant.client.post(path, json={"store_id": DEMO_STORE, "customer_id": seeded[0]})
    assert failed.status_code == 409 and "failed to deploy" in failed.json()["error"]
    assert failed.json()["detail"] == {"line": 2}
    tenant.deploy("customer.created", GREET.replace('context.settings["token"]', "None"))
    gone = tenant.client.post(path, json={"store_id": DEMO_STORE, "customer_id": 987654321})
    assert gone.status_code == 404
    tenant.client.patch(f"/v1/installations/{tenant.installation_id}", json={"status": "inactive"})
    inactive = tenant.client.post(path, json={"store_id": DEMO_STORE, "customer_id": seeded[0]})
    assert inactive.status_code == 409 and "inactive" in inactive.json()["error"]
    other = make_tenant(server, "Nosy", ["customers.read"])
    assert other.client.post(path, json={"store_id": DEMO_STORE, "customer_id": seeded[0]}).status_code == 404


def test_the_documented_typescript_example_runs_unchanged_through_preview(server: Server, seeded: list[int]) -> None:
    source = (Path(__file__).resolve().parents[2] / "examples" / "crm_sync.ts").read_text()
    with receiver({"id": "crm-7"}) as crm:
        tenant = make_tenant(
            server, "CRM partner", ["customers.read"],
            settings_schema=[
                {"id": "crmApiUrl", "type": "string"}, {"id": "crmApiKey", "type": "string", "format": "password"},
            ],
            settings={"crmApiUrl": f"{crm.url}/contacts", "crmApiKey": "k-9"},
        )  # fmt: skip
        assert tenant.deploy("customer.created", source, "typescript")["status"] == "COMPLETED"
        path = f"/v1/apps/{tenant.app_id}/functions/customer.created/preview"
        result = tenant.client.post(path, json={"store_id": DEMO_STORE, "customer_id": seeded[2]}).json()
    assert result["status"] == "success", result["error"]
    assert result["response"]["data"] == {"customer_id": seeded[2], "crm_id": "crm-7"}
    [request] = crm.requests
    assert {k.lower(): v for k, v in request["headers"].items()}["authorization"] == "Bearer k-9"
    assert request["json"]["external_id"] == seeded[2] and request["json"]["event_type"] == "customer.created"
    assert request["json"]["merchant_id"] == DEMO_STORE
