"""Executions in the console: the live list (server-sent events), filters, the detail page with
secrets masked, dead letters and Replay. The server runs with max_attempts=1 so a failing
function is dead-lettered at once. Everything is set up through the JSON API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.console.conftest import shot, sign_in
from tests.server import Server, running_server

DEMO_STORE = 1305146709
SECRET = "sk_live_9f8e7d6c5b4a3921"
SOURCE = """from appfn import Resp


async def handler(context):
    data = context.payload.data
    print("got customer", data.get("id"))
    if data.get("first_name") == "Boom":
        raise RuntimeError("the CRM refused " + str(data.get("id")))
    return Resp.success().set_data({"synced": data.get("id")})
"""


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server: one attempt per job, so failures are dead letters at once."""
    with running_server(tmp_path_factory.mktemp("console-executions"), demo=1, max_attempts=1) as server:
        yield server


@dataclass
class Tenant:
    api: httpx.Client
    key: str
    app_id: str
    app_name: str

    def emit(self, first_name: str = "Sara", customer_id: int = 1, **extra: Any) -> str:
        data = {
            "id": customer_id, "first_name": first_name, "last_name": "Ali", "email": "sara@example.com",
            "mobile": 555555555, "mobile_code": "+966", **extra,
        }  # fmt: skip
        answer = self.api.post("/v1/events", json={"event": "customer.created", "merchant": DEMO_STORE, "data": data})
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    def executions(self, **filters: Any) -> list[dict[str, Any]]:
        return self.api.get("/v1/executions", params={"app_id": self.app_id, **filters}).json()["items"]

    def wait_executions(self, count: int, **filters: Any) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            items = self.executions(**filters)
            if len(items) >= count:
                return items
            time.sleep(0.1)
        raise AssertionError(f"expected {count} executions with {filters}")


def make_tenant(server: Server, name: str) -> Tenant:
    op = server.client()
    partner = op.post("/v1/partners", json={"name": name}).json()
    key = partner["key"]["secret"]
    api = server.client(key)
    schema = [
        {"id": "apiKey", "type": "string", "format": "password", "label": "CRM key"},
        {"id": "crmUrl", "type": "string", "label": "CRM URL"},
    ]
    app = api.post("/v1/apps", json={"name": f"{name} CRM", "scopes": ["customers.read"], "settings_schema": schema})
    assert app.status_code == 201, app.text
    app_id = app.json()["id"]
    settings = {"apiKey": SECRET, "crmUrl": "https://crm.example/api"}
    installed = api.post("/v1/installations", json={"app_id": app_id, "store_id": DEMO_STORE, "settings": settings})
    assert installed.status_code == 201, installed.text
    saved = api.put(f"/v1/apps/{app_id}/functions/customer.created", json={"source": SOURCE, "language": "python"})
    assert saved.status_code == 202, saved.text
    deadline = time.monotonic() + 30
    while api.get(f"/v1/deploys/{saved.json()['deploy']['id']}").json()["status"] == "PENDING":
        assert time.monotonic() < deadline, "deploy still pending"
        time.sleep(0.1)
    return Tenant(api, key, app_id, f"{name} CRM")


@pytest.fixture(scope="module")
def tenant(console_server: Server) -> Tenant:
    return make_tenant(console_server, "Live")


def signed_in_client(server: Server) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    assert client.post("/login", data={"key": server.operator_key, "next": "/"}).status_code == 303
    return client  # opened by its first request: close it, do not use it as a context manager


# --- plain HTTP -------------------------------------------------------------------------------


def test_stream_is_event_stream_and_sends_a_new_execution(console_server: Server, tenant: Tenant) -> None:
    client = signed_in_client(console_server)
    with client.stream("GET", "/executions/stream", params={"app": tenant.app_id}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        event_id = tenant.emit(customer_id=101)
        deadline = time.monotonic() + 30
        event = None
        for line in lines:
            assert time.monotonic() < deadline
            if line.startswith("data: "):
                item = json.loads(line[6:])
                if item["id"] in {e["id"] for e in tenant.executions(event_id=event_id)}:
                    event = item
                    break
        assert event is not None
        assert event["status"] == "success"
        assert f'data-execution-id="{event["id"]}"' in event["html"]


def test_unknown_execution_is_a_404_page(console_server: Server) -> None:
    client = signed_in_client(console_server)
    answer = client.get("/executions/exe_doesnotexist")
    client.close()
    assert answer.status_code == 404
    assert "Not found" in answer.text


# --- in the browser ---------------------------------------------------------------------------


def test_live_list_shows_an_execution_created_after_the_page_loaded(
    page, console_server: Server, tenant: Tenant
) -> None:
    sign_in(page, console_server.operator_key)
    page.goto("/executions")
    page.wait_for_selector("#live-state[data-live=on]")
    event_id = tenant.emit(first_name="Live", customer_id=202)
    execution = tenant.wait_executions(1, event_id=event_id)[0]
    row = page.locator(f'tr[data-execution-id="{execution["id"]}"]')
    row.wait_for()
    assert "new" in (row.get_attribute("class") or "")
    assert "success" in row.inner_text() and tenant.app_name in row.inner_text()
    assert page.locator("#executions tbody tr").first.get_attribute("data-execution-id") == execution["id"]
    shot(page, "30-executions-live")


def test_filters_narrow_the_list(page, console_server: Server, tenant: Tenant) -> None:
    tenant.emit(first_name="Boom", customer_id=303)
    tenant.wait_executions(1, status="dead")
    tenant.emit(customer_id=304)
    tenant.wait_executions(2, status="success")
    sign_in(page, console_server.operator_key)
    page.goto("/executions")
    page.select_option("select[name=app]", tenant.app_id)
    page.select_option("select[name=status]", "dead")
    page.click("#execution-filters button[type=submit]")
    page.wait_for_url("**status=dead**")
    rows = page.locator("#executions tbody tr")
    assert rows.count() >= 1
    assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.status)")) == {"dead"}
    page.fill("input[name=trigger]", "order.created")
    page.click("#execution-filters button[type=submit]")
    page.wait_for_url("**trigger=order.created**")
    assert page.locator("#executions tbody tr").count() == 0
    assert page.is_visible("#executions-empty")
    page.goto(f"/executions?app={tenant.app_id}&until=2000-01-01T00:00")
    assert page.locator("#executions tbody tr").count() == 0
    assert page.get_attribute("#live-state", "data-live") == "off"
    page.goto("/executions?since=yesterday")
    assert "since must be a date" in page.inner_text(".error")


def test_detail_shows_context_with_secrets_masked(page, console_server: Server, tenant: Tenant) -> None:
    event_id = tenant.emit(first_name="Detail", customer_id=404, access_token="tok_abcdefghijklmnop")
    execution = tenant.wait_executions(1, event_id=event_id)[0]
    sign_in(page, console_server.operator_key)
    page.goto(f"/executions/{execution['id']}")
    context = page.inner_text("#context")
    assert SECRET not in context and "tok_abcdefghijklmnop" not in context
    assert "****3921" in context  # the password setting: last 4 characters only
    assert "****mnop" in context  # a token-looking key in the payload
    assert "https://crm.example/api" in context and '"first_name": "Detail"' in context
    assert '"synced": 404' in page.inner_text("#response")
    assert "got customer 404" in page.inner_text("#console")
    facts = page.inner_text("#execution-facts")
    assert tenant.app_name in facts and "v1" in facts and event_id in facts
    assert page.locator("button[data-replay]").count() == 0  # only dead ones
    assert SECRET not in page.content()
    shot(page, "31-execution-detail")


def test_dead_letter_replay(page, console_server: Server, tenant: Tenant) -> None:
    event_id = tenant.emit(first_name="Boom", customer_id=505)
    dead = tenant.wait_executions(1, event_id=event_id)[0]
    assert dead["status"] == "dead"
    sign_in(page, console_server.operator_key)
    page.goto(f"/executions/{dead['id']}")
    assert "the CRM refused 505" in page.inner_text("#error")
    page.goto("/dead-letters")
    row = page.locator(f'tr[data-execution-id="{dead["id"]}"]')
    row.wait_for()
    assert "RuntimeError: the CRM refused 505" in row.inner_text()
    shot(page, "32-dead-letters")
    row.locator("button[data-replay]").click()
    page.wait_for_selector(".toast.ok")
    assert row.locator("button[data-replay]").inner_text() == "Replayed"
    attempts = tenant.wait_executions(2, event_id=event_id)  # the replayed job ran again (and failed again)
    assert {a["status"] for a in attempts} == {"dead"}
    page.goto(f"/executions/{attempts[0]['id']}")
    assert page.locator("#attempts tbody tr").count() == 2
    page.goto("/dead-letters")  # the same job is dead again: listed once, under its latest execution
    assert page.locator(f'tr[data-execution-id="{attempts[0]["id"]}"]').count() == 1
    assert page.locator(f'tr[data-execution-id="{dead["id"]}"]').count() == 0
