"""Ingestion and the async path over real HTTP: accepted, run, recorded; duplicates, scopes,
retries, dead letters and replay."""

from __future__ import annotations

import time

from tests.api.conftest import DEMO_STORE, Server, customer_event, make_tenant, wait_executions
from tests.cli.receiver import receiver

RECORD = """
from appfn import Resp
def handler(context):
    print("customer", context.payload.data["id"])
    return Resp.success().set_data({"seen": context.payload.data["id"], "greeting": context.settings.get("greeting")})
"""


def test_an_event_runs_the_installed_function_and_is_recorded(server: Server) -> None:
    tenant = make_tenant(
        server, "Recorder", ["customers.read"],
        settings_schema=[{"id": "greeting", "type": "string"}, {"id": "token", "type": "string", "format": "password"}],
        settings={"greeting": "hello", "token": "s3cret"},
    )  # fmt: skip
    assert tenant.deploy("customer.created", RECORD)["status"] == "COMPLETED"
    answer = tenant.client.post("/v1/events", json=customer_event("evt-run-1", id=42))
    assert answer.status_code == 202
    assert answer.json() == {"id": "evt-run-1", "event": "customer.created", "duplicate": False, "jobs": 1}
    [execution] = wait_executions(tenant.client, 1, event_id="evt-run-1")
    assert execution["status"] == "success" and execution["attempt"] == 1
    assert execution["response"]["data"] == {"seen": 42, "greeting": "hello"}
    assert execution["console"] == ["customer 42"]
    assert execution["app_id"] == tenant.app_id and execution["store_id"] == DEMO_STORE
    detail = tenant.client.get(f"/v1/executions/{execution['id']}").json()
    assert detail["id"] == execution["id"]
    # the installation's secret is never echoed back
    assert tenant.client.get(f"/v1/installations/{tenant.installation_id}").json()["settings"]["token"] == "********"


def test_a_duplicate_event_id_is_accepted_once(server: Server) -> None:
    tenant = make_tenant(server, "Dedupe", ["customers.read"])
    tenant.deploy("customer.created", RECORD)
    first = tenant.client.post("/v1/events", json=customer_event("evt-dup"))
    again = tenant.client.post("/v1/events", json=customer_event("evt-dup"))
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["duplicate"] is True and again.json()["jobs"] == 0
    wait_executions(tenant.client, 1, event_id="evt-dup")
    time.sleep(0.5)
    assert len(tenant.client.get("/v1/executions", params={"event_id": "evt-dup"}).json()["items"]) == 1


def test_without_the_scope_the_event_is_not_delivered(server: Server) -> None:
    tenant = make_tenant(server, "NoScope", ["orders.read"])
    tenant.deploy("customer.created", RECORD)
    answer = tenant.client.post("/v1/events", json=customer_event("evt-noscope"))
    assert answer.status_code == 202 and answer.json()["jobs"] >= 0
    time.sleep(0.5)
    assert tenant.client.get("/v1/executions", params={"event_id": "evt-noscope"}).json()["items"] == []


def test_an_inactive_installation_gets_nothing(server: Server) -> None:
    tenant = make_tenant(server, "Paused", ["customers.read"])
    tenant.deploy("customer.created", RECORD)
    assert tenant.client.patch(f"/v1/installations/{tenant.installation_id}", json={"status": "inactive"}).is_success
    tenant.client.post("/v1/events", json=customer_event("evt-inactive"))
    time.sleep(0.5)
    assert tenant.client.get("/v1/executions", params={"event_id": "evt-inactive"}).json()["items"] == []


FLAKY = """
from appfn import Resp
async def handler(context):
    answer = await context.fetch(context.settings["url"], method="POST", json={"id": context.payload.data["id"]})
    if not answer.ok:
        return Resp.error().set_status(502).set_message(f"upstream answered {answer.status}")
    return Resp.success().set_data(answer.json())
"""


def test_a_function_that_fails_twice_then_succeeds(server: Server) -> None:
    with receiver({"ok": True}) as upstream:
        upstream.statuses = [500, 500, 200]
        tenant = make_tenant(
            server, "Flaky", ["customers.read"], settings_schema=[{"id": "url", "type": "string"}],
            settings={"url": upstream.url + "/sync"},
        )  # fmt: skip
        tenant.deploy("customer.created", FLAKY)
        tenant.client.post("/v1/events", json=customer_event("evt-flaky"))
        executions = wait_executions(tenant.client, 3, event_id="evt-flaky")
    by_attempt = sorted(executions, key=lambda e: e["attempt"])
    assert [(e["attempt"], e["status"]) for e in by_attempt] == [(1, "failure"), (2, "failure"), (3, "success")]
    assert by_attempt[0]["error"] == "upstream answered 500"
    assert by_attempt[0]["requests"][0]["status"] == 500


FAILING = "def handler(context):\n    raise RuntimeError('the CRM is down')\n"


def test_dead_letter_then_replay(server: Server) -> None:
    tenant = make_tenant(server, "Doomed", ["customers.read"])
    tenant.deploy("customer.created", FAILING)
    tenant.client.post("/v1/events", json=customer_event("evt-dead"))
    executions = wait_executions(tenant.client, 3, event_id="evt-dead")
    last = max(executions, key=lambda e: e["attempt"])
    assert (last["attempt"], last["status"]) == (3, "dead")
    assert "RuntimeError: the CRM is down" in last["error"]
    letters = tenant.client.get("/v1/dead-letters").json()["items"]
    assert [d["event_id"] for d in letters] == ["evt-dead"]
    assert letters[0]["attempts"] == 3 and "the CRM is down" in letters[0]["error"]
    other = make_tenant(server, "Bystander", ["customers.read"])
    assert other.client.get("/v1/dead-letters").json()["items"] == []

    replayed = tenant.client.post(f"/v1/executions/{last['id']}/replay")
    assert replayed.status_code == 202, replayed.text
    wait_executions(tenant.client, 6, event_id="evt-dead")
    again = tenant.client.post(f"/v1/executions/{executions[-1]['id']}/replay")
    assert again.status_code == 409


def test_a_batch_is_all_or_nothing(server: Server) -> None:
    tenant = make_tenant(server, "Batcher", ["customers.read"])
    tenant.deploy("customer.created", RECORD)
    good = [customer_event(f"evt-batch-{i}", id=i) for i in range(5)]
    bad = [*good, customer_event("evt-batch-bad", email=5), {"event": "nope", "merchant": DEMO_STORE, "data": {}}]
    rejected = tenant.client.post("/v1/events:batch", json={"events": bad})
    assert rejected.status_code == 422
    paths = [p["path"] for p in rejected.json()["detail"]]
    assert "events[5].data.email" in paths and "events[6].event" in paths
    assert tenant.client.get("/v1/executions", params={"event_id": "evt-batch-0"}).json()["items"] == []
    accepted = tenant.client.post("/v1/events:batch", json={"events": good})
    assert accepted.status_code == 202 and accepted.json()["accepted"] == 5
    wait_executions(tenant.client, 5, app_id=tenant.app_id)


def test_partner_keys_send_events_to_demo_stores_only(server: Server) -> None:
    tenant = make_tenant(server, "Outsider", ["customers.read"])
    server.client().post("/v1/stores", json={"id": 777, "name": "Real shop"})
    answer = tenant.client.post("/v1/events", json={**customer_event(), "merchant": 777})
    assert answer.status_code == 403


def test_events_for_an_unregistered_store_are_refused(server: Server) -> None:
    answer = server.client().post("/v1/events", json={**customer_event(), "merchant": 999999})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["path"] == "merchant"
    assert "store 999999 is not registered" in answer.json()["detail"][0]["message"]
    batch = server.client().post(
        "/v1/events:batch", json={"events": [customer_event(), {**customer_event(), "merchant": 5}]}
    )
    assert batch.status_code == 422 and batch.json()["detail"][0]["path"] == "events[1].merchant"
