"""Functions call the store's Admin API with the installation's token added by the platform."""

from __future__ import annotations

import pytest

from appfn.demo.seed import seed_demo_store
from tests.api.conftest import DEMO_STORE, Server, customer_event, make_tenant, wait_executions

LOOKUP = """
from appfn import Resp
async def handler(context):
    found = await context.api.get(f"/customers/{context.payload.data['id']}")
    listed = await context.api.get("/customers", params={"per_page": 2})
    return Resp.success().set_data({"email": found["data"]["email"], "listed": len(listed["data"])})
"""
RAW_FETCH = """
from appfn import Resp
async def handler(context):
    answer = await context.fetch("https://api.salla.dev/admin/v2/customers?per_page=1")
    return Resp.success().set_data({"status": answer.status, "headers": dict(answer.headers)})
"""


@pytest.fixture(scope="module")
def customers(server: Server) -> list[int]:
    return seed_demo_store(server.platform.db, DEMO_STORE, customers=5, products=3, orders=2).customers


def test_context_api_is_authenticated_by_the_platform(server: Server, customers: list[int]) -> None:
    tenant = make_tenant(server, "Looker", ["customers.read"])
    tenant.deploy("customer.updated", LOOKUP)
    tenant.client.post("/v1/events", json={**customer_event("evt-api", id=customers[0]), "event": "customer.updated"})
    [execution] = wait_executions(tenant.client, 1, event_id="evt-api")
    assert execution["status"] == "success", execution["error"]
    assert "@" in execution["response"]["data"]["email"] and execution["response"]["data"]["listed"] == 2
    urls = [call["url"] for call in execution["requests"]]
    assert urls[0] == f"https://api.salla.dev/admin/v2/customers/{customers[0]}"
    assert all(call["status"] == 200 for call in execution["requests"])
    assert "aft_" not in str(execution)  # the token never reaches the function or the log


def test_a_missing_scope_is_a_401_inside_the_function(server: Server, customers: list[int]) -> None:
    tenant = make_tenant(server, "NoCustomers", ["orders.read", "customers.read"])
    tenant.client.patch(f"/v1/installations/{tenant.installation_id}", json={"granted_scopes": ["customers.read"]})
    tenant.deploy("customer.updated", LOOKUP.replace('"/customers", params={"per_page": 2}', '"/orders"'))
    tenant.client.post("/v1/events", json={**customer_event("evt-noscope-api", id=customers[1]),
                                           "event": "customer.updated"})  # fmt: skip
    executions = wait_executions(tenant.client, 1, event_id="evt-noscope-api")
    first = min(executions, key=lambda e: e["attempt"])
    assert first["status"] in ("failure", "dead")
    assert first["error"].startswith("AdminApiError: Admin API GET /orders answered 401")
    assert (
        "The access token should have access to one of those scopes: orders.read_write, orders.read" in first["error"]
    )


def test_plain_fetch_to_the_original_base_url_works_too(server: Server, customers: list[int]) -> None:
    tenant = make_tenant(server, "Porter", ["customers.read"])
    tenant.deploy("customer.updated", RAW_FETCH)
    tenant.client.post("/v1/events", json={**customer_event("evt-raw", id=customers[2]), "event": "customer.updated"})
    [execution] = wait_executions(tenant.client, 1, event_id="evt-raw")
    assert execution["response"]["data"]["status"] == 200
