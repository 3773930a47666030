"""The demo store over real HTTP: a real server on loopback (``tests/api/conftest.py``), real
SQLite; each test works on a store of its own so tests do not see each other's records."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from appfn import store
from appfn.catalog import load_catalog
from appfn.demo import issue_token
from tests.api.conftest import Server, start_server, wait_deploy

_store_ids = itertools.count(700_000_001)

# A function that answers with what it received, so tests can read payloads off executions.
RECORD = """
from appfn import Resp
def handler(context):
    return Resp.success().set_data({"event": context.payload.event, "data": context.payload.data})
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    handle, stop = start_server(tmp_path_factory.mktemp("demo"), sync_timeout_s=3.0)
    yield handle
    stop()


@dataclass
class Shop:
    """A store of its own, with the operator acting as its merchant on the Admin API."""

    server: Server
    store_id: int
    admin: httpx.Client  # operator key + X-Store-Id

    def app(self, name: str, scopes: list[str], functions: dict[str, str] | None = None) -> App:
        """A partner's app with these scopes, installed on this store, its functions deployed."""
        op = self.server.client()
        partner = op.post("/v1/partners", json={"name": name}).json()
        client = self.server.client(partner["key"]["secret"])
        app = client.post("/v1/apps", json={"name": name, "scopes": scopes}).json()
        installed = client.post("/v1/installations", json={"app_id": app["id"], "store_id": self.store_id})
        assert installed.status_code == 201, installed.text
        for trigger, source in (functions or {}).items():
            saved = client.put(f"/v1/apps/{app['id']}/functions/{trigger}", json={"source": source})
            assert saved.status_code == 202, saved.text
            assert wait_deploy(client, saved.json()["deploy"]["id"])["status"] == "COMPLETED"
        token = issue_token(self.server.platform.db, installed.json()["id"])
        api = httpx.Client(base_url=f"{self.server.url}/admin/v2", headers={"Authorization": f"Bearer {token}"},
                           timeout=30)  # fmt: skip
        return App(app["id"], installed.json()["id"], client, api, token)

    def executions(self, count: int, timeout: float = 30, **filters: Any) -> list[dict[str, Any]]:
        op = self.server.client()
        deadline = time.monotonic() + timeout
        items: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            items = op.get("/v1/executions", params={"limit": 500, "store_id": self.store_id, **filters}).json()[
                "items"
            ]
            if len(items) >= count and all(i["status"] not in ("queued", "running") for i in items):
                return items
            time.sleep(0.05)
        raise AssertionError(f"expected {count} finished executions, got {items}")

    def events(self) -> list[store.Event]:
        with self.server.platform.db.read_session() as s:
            return store.list_events(s, store_id=self.store_id, limit=500)


@dataclass
class App:
    id: str
    installation_id: str
    partner: httpx.Client  # the partner's platform API client
    api: httpx.Client  # the Admin API with the installation's token
    token: str


@pytest.fixture
def shop(server: Server) -> Iterator[Shop]:
    store_id = next(_store_ids)
    with server.client() as op:
        assert op.post("/v1/stores", json={"id": store_id, "name": f"Shop {store_id}", "is_demo": True}).is_success
    headers = {"Authorization": f"Bearer {server.operator_key}", "X-Store-Id": str(store_id)}
    with httpx.Client(base_url=f"{server.url}/admin/v2", headers=headers, timeout=30) as admin:
        yield Shop(server, store_id, admin)


def new_customer(admin: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"first_name": "Noura", "last_name": "Alotaibi", "mobile": f"5{secrets.randbelow(10**8):08d}",
            "email": f"noura{secrets.token_hex(3)}@example.com", **fields}  # fmt: skip
    answer = admin.post("/customers", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


def new_product(admin: httpx.Client, **fields: Any) -> dict[str, Any]:
    answer = admin.post("/products", json={"name": "Khawlani coffee 500g", "price": 89, "quantity": 50, **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


def new_order(admin: httpx.Client, customer_id: int, product_id: int, quantity: int = 1) -> dict[str, Any]:
    body = {"customer_id": customer_id, "items": [{"product_id": product_id, "quantity": quantity}]}
    answer = admin.post("/orders", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


def shape_differences(trigger: str, data: dict[str, Any]) -> list[str]:
    """Where ``data`` has keys the documented example lacks, or lacks keys it has (None if no example)."""
    example = load_catalog().get(trigger).example()
    problems: list[str] = []

    def compare(ours: Any, theirs: Any, path: str) -> None:
        if isinstance(ours, dict) and isinstance(theirs, dict):
            for key in sorted(set(ours) | set(theirs)):
                if key not in theirs:
                    problems.append(f"{path}.{key}: not in the example")
                elif key not in ours:
                    problems.append(f"{path}.{key}: missing")
                else:
                    compare(ours[key], theirs[key], f"{path}.{key}")
        elif isinstance(ours, list) and isinstance(theirs, list) and ours and theirs:
            compare(ours[0], theirs[0], f"{path}[0]")

    if example is not None:
        compare(data, example, "data")
    return problems
