"""A real platform behind real HTTP on loopback: uvicorn on a free port, in a thread of the
test process (so tests can also look at the platform's state directly)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from appfn.api.app import create_app
from appfn.catalog import load_catalog
from appfn.config import Settings
from appfn.platform import Platform
from appfn.runtime.jsload import start_v8

DEMO_STORE = 1305146709

start_v8()  # as appfn serve does: V8 on the main thread before any server thread needs it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    operator_key: str
    platform: Platform
    settings: Settings

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key or self.operator_key}"} if key != "" else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@dataclass
class Tenant:
    """A partner with an app installed on the demo store."""

    client: httpx.Client
    key: str
    partner_id: str
    app_id: str
    installation_id: str

    def deploy(self, trigger: str, source: str, language: str = "python") -> dict[str, Any]:
        body = {"source": source, "language": language}
        saved = self.client.put(f"/v1/apps/{self.app_id}/functions/{trigger}", json=body)
        assert saved.status_code == 202, saved.text
        return wait_deploy(self.client, saved.json()["deploy"]["id"])


def wait_deploy(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = client.get(f"/v1/deploys/{job_id}").json()
        if job["status"] != "PENDING":
            return job
        time.sleep(0.05)
    raise AssertionError(f"deploy {job_id} still pending")


def wait_executions(client: httpx.Client, count: int, timeout: float = 30, **filters: Any) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        items = client.get("/v1/executions", params={"limit": 500, **filters}).json()["items"]
        if len(items) >= count:
            return items
        time.sleep(0.05)
    raise AssertionError(f"expected {count} executions, got {len(items)}: {items[:3]}")


def customer_event(event_id: str | None = None, **data: Any) -> dict[str, Any]:
    sample = load_catalog().get("customer.created").example()
    body = {"event": "customer.created", "merchant": DEMO_STORE, "data": {**sample, **data}}
    if event_id:
        body["id"] = event_id
    return body


def make_tenant(server: Server, name: str, scopes: list[str], settings_schema: list[dict] | None = None,
                settings: dict | None = None) -> Tenant:  # fmt: skip
    op = server.client()
    partner = op.post("/v1/partners", json={"name": name}).json()
    key = partner["key"]["secret"]
    client = server.client(key)
    app = client.post(
        "/v1/apps", json={"name": f"{name} app", "scopes": scopes, "settings_schema": settings_schema or []}
    ).json()
    installed = client.post(
        "/v1/installations", json={"app_id": app["id"], "store_id": DEMO_STORE, "settings": settings or {}}
    )
    assert installed.status_code == 201, installed.text
    return Tenant(client, key, partner["id"], app["id"], installed.json()["id"])


def start_server(tmp_path: Path, **overrides: Any) -> tuple[Server, Any]:
    settings = replace(
        Settings(data_dir=tmp_path / "data", port=free_port()),
        **{"retry_base_s": 0.05, "retry_max_s": 0.2, "lease_timeout_s": 10.0, **overrides},
    )
    platform = Platform(settings)
    first = platform.ensure_operator_key()
    app = create_app(platform)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=settings.port, log_level="warning"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the server did not start"
    handle = Server(f"http://127.0.0.1:{settings.port}", first.operator_key or "", platform, settings)
    with handle.client() as op:
        op.post("/v1/stores", json={"id": DEMO_STORE, "name": "Demo store", "is_demo": True})

    def stop() -> None:
        server.should_exit = True
        thread.join(30)

    return handle, stop


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    handle, stop = start_server(tmp_path_factory.mktemp("server"), allow_egress=("127.0.0.1",), sync_timeout_s=2.0)
    yield handle
    stop()
