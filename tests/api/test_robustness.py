"""Bad input never breaks the API: clear 4xx answers, never a 500; backpressure as 429."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.api.conftest import DEMO_STORE, Server, customer_event, make_tenant, start_server

BAD_BODIES = [b"", b"{", b"[]", b"null", b'"text"', b"12", b'{"event": 5}', b"{\"a\": \"\\ud800\"}",
              b'{"events": "no"}', b'{"events": [1, 2]}', b'{"name": null}', b"\xff\xfe", b'{"source": 7}']  # fmt: skip


def test_no_bad_body_gets_a_500(server: Server) -> None:
    tenant = make_tenant(server, "Fuzzer", ["customers.read"])
    routes = [
        ("POST", "/v1/events"), ("POST", "/v1/events:batch"), ("POST", "/v1/actions/shipment.creating"),
        ("POST", "/v1/apps"), ("PATCH", f"/v1/apps/{tenant.app_id}"),
        ("PUT", f"/v1/apps/{tenant.app_id}/functions/customer.created"),
        ("PUT", f"/v1/apps/{tenant.app_id}/functions/not.a.trigger"),
        ("POST", f"/v1/apps/{tenant.app_id}/functions/customer.created/rollback"),
        ("POST", f"/v1/apps/{tenant.app_id}/functions/customer.created/preview"),
        ("POST", "/v1/installations"), ("PATCH", f"/v1/installations/{tenant.installation_id}"),
        ("POST", "/v1/keys"), ("GET", "/v1/executions?limit=0"), ("GET", "/v1/executions?status=bogus"),
        ("GET", "/v1/executions?since=yesterday"), ("GET", "/v1/executions?cursor=%%%"),
        ("GET", "/v1/installations?store_id=-4"), ("GET", "/v1/triggers/nope"),
    ]  # fmt: skip
    for method, path in routes:
        for body in BAD_BODIES:
            answer = tenant.client.request(method, path, content=body, headers={"Content-Type": "application/json"})
            assert answer.status_code < 500, (method, path, body, answer.status_code, answer.text)
            assert "error" in answer.json(), (method, path, answer.text)


def test_errors_name_the_field(server: Server) -> None:
    tenant = make_tenant(server, "Precise", ["customers.read"])
    answer = tenant.client.post("/v1/events", json=customer_event(email=5))
    assert answer.status_code == 422
    assert {"path": "data.email", "message": "expected string, got 5"} in answer.json()["detail"]
    answer = tenant.client.post("/v1/apps", json={"name": "x", "settings_schema": [{"id": "Bad Id", "type": "string"}]})
    assert answer.status_code == 422 and "settings_schema[0].id" in str(answer.json())
    answer = tenant.client.post(
        "/v1/installations", json={"app_id": tenant.app_id, "store_id": DEMO_STORE, "settings": {"nope": 1}}
    )
    assert answer.status_code in (409, 422)


def test_a_failed_deploy_says_why_and_where(server: Server) -> None:
    tenant = make_tenant(server, "Typo", ["customers.read"])
    job = tenant.deploy("customer.created", "def handler(context):\n    return {\n")
    assert job["status"] == "FAILED" and job["failure_line"] == 2
    assert "was never closed" in job["failure_reason"]
    job = tenant.deploy("customer.created", "import json\nraise ValueError('no config')\ndef handler(c):\n    pass\n")
    assert job["status"] == "FAILED" and job["failure_line"] == 2 and "no config" in job["failure_reason"]
    fn = tenant.client.get(f"/v1/apps/{tenant.app_id}/functions/customer.created").json()
    assert fn["active_version_id"] is None  # broken saves never replaced working code


def test_versions_and_rollback(server: Server) -> None:
    tenant = make_tenant(server, "Versions", ["customers.read"])
    v1 = "def handler(context):\n    return {'success': True, 'data': {'v': 1}}\n"
    v2 = "def handler(context):\n    return {'success': True, 'data': {'v': 2}}\n"
    tenant.deploy("customer.created", v1)
    tenant.deploy("customer.created", v2)
    path = f"/v1/apps/{tenant.app_id}/functions/customer.created"
    fn = tenant.client.get(path).json()
    assert fn["active_version_number"] == 2 and [v["number"] for v in fn["versions"]] == [2, 1]
    assert fn["source"] == v2
    assert tenant.client.post(f"{path}/rollback", json={"version": 1}).json()["active_version_number"] == 1
    assert tenant.client.get(f"{path}/versions/2").json()["source"] == v2


def test_oversized_bodies_get_413(server: Server) -> None:
    answer = server.client().post("/v1/events", content=b"{" + b" " * 2_000_000 + b"}")
    assert answer.status_code == 413 and answer.json()["error"] == "request body too large"


def test_openapi_health_and_metrics(server: Server) -> None:
    client = server.client()
    spec = client.get("/openapi.json").json()
    assert "/v1/events" in spec["paths"] and "/v1/actions/{trigger}" in spec["paths"]
    assert client.get("/docs").status_code == 200
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and set(health["queue"]) == {"ready", "delayed", "leased", "dead"}
    metrics = client.get("/metrics").text
    for name in ("appfn_invocations_total", "appfn_invocation_duration_seconds", "appfn_queue_depth",
                 "appfn_retries_total", "appfn_dead_letters_total"):  # fmt: skip
        assert name in metrics
    assert len(client.get("/v1/triggers").json()["items"]) == 80


SLOW = "import time\ndef handler(context):\n    time.sleep(2)\n    return {'success': True}\n"


def test_a_full_backlog_answers_429_with_retry_after(tmp_path: Path) -> None:
    handle, stop = start_server(tmp_path, max_backlog=5, dispatch_concurrency=1)
    try:
        tenant = make_tenant(handle, "Busy", ["customers.read"])
        tenant.deploy("customer.created", SLOW)
        statuses = []
        for i in range(40):
            answer = tenant.client.post("/v1/events", json=customer_event(f"evt-busy-{i}"))
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                assert int(answer.headers["Retry-After"]) >= 1
                assert "retry" in answer.json()["error"]
                break
            time.sleep(0.3)  # the backlog is measured at most every 0.25 s
        assert statuses[-1] == 429 and set(statuses[:-1]) == {202}
    finally:
        stop()


@pytest.mark.parametrize("path", ["/v1/apps/app_x/functions/customer.created/versions/abc", "/v1/stores/abc"])
def test_path_parameters_are_checked(server: Server, path: str) -> None:
    assert server.client().get(path).status_code == 422
