"""The same platform on PostgreSQL and Redis Streams instead of SQLite files."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from appfn.catalog import load_catalog
from tests.api.conftest import Server, customer_event, make_tenant, start_server, wait_executions

PG_ADMIN = os.environ.get("APPFN_TEST_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_DB = 11  # a database of its own on the machine's Redis, flushed before and after


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI needs it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def distributed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    psycopg = pytest.importorskip("psycopg")
    redis = pytest.importorskip("redis")
    name = f"appfn_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        queue = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
        queue.flushdb()
    except Exception as exc:  # any reason the services are not there
        _unavailable(f"PostgreSQL or Redis not reachable: {exc}")
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    handle, stop = start_server(
        Path(tmp_path_factory.mktemp("distributed")),
        database_url=url,
        queue_url=f"redis://127.0.0.1:6379/{REDIS_DB}",
        sync_timeout_s=2.0,
    )
    try:
        yield handle
    finally:
        stop()
        handle.platform.db.engine.dispose()
        queue.flushdb()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


RETRY_THEN_OK = """
from appfn import Resp
def handler(context):
    return Resp.success().set_data({"id": context.payload.data["id"]})
"""
SHIP = "from appfn import Shipment\ndef handler(context):\n    return Shipment.success().set_shipment_number('P-1')\n"


def test_events_run_and_are_recorded_on_postgres_and_redis(distributed: Server) -> None:
    assert distributed.platform.db.dialect == "postgresql"
    tenant = make_tenant(distributed, "Scaled", ["customers.read", "shipping.read"])
    assert tenant.deploy("customer.created", RETRY_THEN_OK)["status"] == "COMPLETED"
    events = [customer_event(f"pg-{i}", id=i) for i in range(50)]
    answer = tenant.client.post("/v1/events:batch", json={"events": events})
    assert answer.status_code == 202
    executions = wait_executions(tenant.client, 50, app_id=tenant.app_id)
    assert {e["status"] for e in executions} == {"success"}
    again = tenant.client.post("/v1/events", json=customer_event("pg-0"))
    assert again.json()["duplicate"] is True
    tenant.deploy("shipment.creating", SHIP)
    data = load_catalog().get("shipment.creating").example()
    decision = tenant.client.post("/v1/actions/shipment.creating", json={"merchant": 1305146709, "data": data}).json()
    assert decision["proceed"] is True and decision["data"]["shipment_number"] == "P-1"
    health = tenant.client.get("/healthz").json()
    assert health["queue"]["dead"] == 0
