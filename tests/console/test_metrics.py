"""The metrics page (/stats): figures per function in the browser, and the aggregates of
``appfn.store.stats`` checked on a database filled by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appfn import store
from appfn.store import stats
from tests.console.conftest import shot, sign_in
from tests.server import Server

DEMO_STORE = 1305146709
SOURCE = """from appfn import Resp


async def handler(context):
    if context.payload.data.get("first_name") == "Boom":
        raise RuntimeError("no")
    return Resp.success()
"""


def test_stats_counts_percentiles_and_buckets(tmp_path: Path) -> None:
    db = store.Database.open(store.sqlite_url(tmp_path / "stats.db"))
    now = datetime.now(UTC).replace(microsecond=0)
    since, until = now - timedelta(hours=1), now
    rows = []
    for i in range(100):  # app_a customer.created: 1..100 ms, 10 failures, spread over the hour
        status = "failure" if i % 10 == 0 else "success"
        created = since + timedelta(seconds=36 * i)
        rows.append({"app_id": "app_a", "partner_id": "p1", "store_id": 1, "trigger": "customer.created",
                     "status": status, "duration_ms": float(i + 1), "created_at": created})  # fmt: skip
    rows.append({"app_id": "app_b", "partner_id": "p2", "store_id": 1, "trigger": "order.created",
                 "status": "dead", "duration_ms": 5.0, "created_at": now - timedelta(minutes=1)})  # fmt: skip
    rows.append({"app_id": "app_a", "partner_id": "p1", "store_id": 1, "trigger": "customer.created",
                 "status": "success", "duration_ms": 1.0, "created_at": since - timedelta(seconds=1)})  # fmt: skip
    with db.session() as s:
        store.record_executions(s, rows)
    with db.read_session() as s:
        everyone = stats.function_stats(s, partner_id=None, since=since, until=until, buckets=12)
        mine = stats.function_stats(s, partner_id="p1", since=since, until=until, buckets=12)
    assert [(f.app_id, f.invocations) for f in everyone.functions] == [("app_a", 100), ("app_b", 1)]
    a = mine.functions[0]
    assert len(mine.functions) == 1 and (a.ok, a.failed) == (90, 10)
    assert a.error_rate == pytest.approx(0.1)
    assert (a.p50_ms, a.p95_ms, a.p99_ms) == (50.0, 95.0, 99.0)
    assert len(a.buckets) == 12 and sum(b.ok + b.failed for b in a.buckets) == 100
    assert all(b.ok + b.failed in (8, 9) for b in a.buckets)  # 100 runs, one every 36 s, 5 min buckets
    assert a.buckets[0].mean_ms == pytest.approx(sum(range(1, 10)) / 9)
    assert everyone.functions[1].error_rate == 1.0
    assert stats.percentile([], 50) is None


@pytest.fixture(scope="module")
def metrics_app(console_server: Server) -> str:
    op = console_server.client()
    key = op.post("/v1/partners", json={"name": "Metrics"}).json()["key"]["secret"]
    api = console_server.client(key)
    app_id = api.post("/v1/apps", json={"name": "Metrics app", "scopes": ["customers.read"]}).json()["id"]
    assert api.post("/v1/installations", json={"app_id": app_id, "store_id": DEMO_STORE}).status_code == 201
    saved = api.put(f"/v1/apps/{app_id}/functions/customer.created", json={"source": SOURCE, "language": "python"})
    deadline = time.monotonic() + 30
    while api.get(f"/v1/deploys/{saved.json()['deploy']['id']}").json()["status"] == "PENDING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    for i, name in enumerate(["Sara", "Omar", "Boom", "Lina"]):
        data = {"id": 900 + i, "first_name": name, "last_name": "X", "email": "x@example.com", "mobile": 5,
                "mobile_code": "+966"}  # fmt: skip
        assert api.post(
            "/v1/events", json={"event": "customer.created", "merchant": DEMO_STORE, "data": data}
        ).is_success
    # Boom fails on each of its 3 attempts (retried after 2 s, then 4 s): wait for the last, so the
    # figures hold still: 3 successes + 3 failed attempts.
    while len(api.get("/v1/executions", params={"app_id": app_id, "status": "success,dead"}).json()["items"]) < 4:
        assert time.monotonic() < deadline + 60
        time.sleep(0.2)
    return app_id


def test_metrics_page_shows_numbers_and_charts(page, console_server: Server, metrics_app: str) -> None:
    sign_in(page, console_server.operator_key)
    page.goto("/stats")
    row = page.locator(f'#metrics tr[data-app-id="{metrics_app}"][data-trigger="customer.created"]')
    row.wait_for()
    assert row.locator(".invocations").inner_text() == "6"
    assert row.locator(".error-rate").inner_text().startswith("50.0%")
    assert row.locator(".p95").inner_text().endswith("ms")
    assert row.locator("svg.bars rect.ok").count() >= 1 and row.locator("svg.bars rect.failed").count() >= 1
    assert row.locator("svg.spark polyline, svg.spark circle").count() >= 1
    assert int(page.inner_text("#total-invocations")) >= 6
    assert "ready" in page.inner_text("#queue-depth")
    shot(page, "40-metrics")
    page.click("text=Last 7 days")
    page.wait_for_url("**window=7d**")
    assert page.locator(f'#metrics tr[data-app-id="{metrics_app}"] .invocations').inner_text() == "6"
    page.select_option("select[name=app]", metrics_app)
    page.wait_for_url(f"**app={metrics_app}**")
    assert page.locator("#metrics tbody tr").count() == 1


def test_metrics_page_for_a_partner_shows_only_its_functions(page, console_server: Server, metrics_app: str) -> None:
    op = console_server.client()
    key = op.post("/v1/partners", json={"name": "Nobody"}).json()["key"]["secret"]
    sign_in(page, key)
    page.goto("/stats")
    assert page.locator(f'#metrics tr[data-app-id="{metrics_app}"]').count() == 0
    assert page.inner_text("#total-invocations") == "0"
