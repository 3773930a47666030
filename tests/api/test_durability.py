"""Crashes and restarts of a real `appfn serve` subprocess: nothing accepted is ever lost."""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from pathlib import Path

import httpx

from tests.api.conftest import DEMO_STORE, customer_event
from tests.server import Server, running_server

WORK = "import time\ndef handler(context):\n    time.sleep(0.005)\n    return {'success': True}\n"
STEADY = "import time\ndef handler(context):\n    time.sleep(0.6)\n    return {'success': True}\n"
SLOW = "import time\ndef handler(context):\n    time.sleep(1.5)\n    return {'success': True}\n"


def _setup(server: Server, source: str) -> httpx.Client:
    op = server.client()
    op.post("/v1/stores", json={"id": DEMO_STORE, "name": "Demo", "is_demo": True}).raise_for_status()
    partner = op.post("/v1/partners", json={"name": "Durable"}).json()
    client = server.client(partner["key"]["secret"])
    app = client.post("/v1/apps", json={"name": "durable", "scopes": ["customers.read"]}).json()
    job = client.put(f"/v1/apps/{app['id']}/functions/customer.created", json={"source": source}).json()["deploy"]
    while client.get(f"/v1/deploys/{job['id']}").json()["status"] == "PENDING":
        time.sleep(0.05)
    client.post("/v1/installations", json={"app_id": app["id"], "store_id": DEMO_STORE}).raise_for_status()
    return client


def _executions(data_dir: Path) -> dict[str, list[tuple[int, str]]]:
    with sqlite3.connect(data_dir / "appfn.db") as conn:
        rows = conn.execute("SELECT event_id, attempt, status FROM executions").fetchall()
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for event_id, attempt, status in rows:
        found[event_id].append((attempt, status))
    return found


def _drained(server: Server, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = httpx.get(f"{server.url}/healthz").json()["queue"]
        if queue["ready"] + queue["delayed"] + queue["leased"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"the queue did not drain: {queue}")


def test_kill_9_with_1000_events_in_flight_loses_nothing(tmp_path: Path) -> None:
    settings = {"lease_timeout_s": 3, "retry_base_s": 0.05, "retry_max_s": 0.2}
    accepted: list[str] = []
    with running_server(tmp_path, **settings) as server:
        client = _setup(server, WORK)
        for batch in range(2):
            events = [customer_event(f"evt-{batch}-{i}", id=i) for i in range(500)]
            answer = client.post("/v1/events:batch", json={"events": events})
            assert answer.status_code == 202
            accepted += [e["id"] for e in answer.json()["events"]]
        time.sleep(0.3)  # let the dispatcher get going: jobs leased, some run, some recorded
        server.process.kill()  # SIGKILL: no shutdown code runs
        server.process.wait(10)
    before = _executions(server.data_dir)
    assert sum(len(v) for v in before.values()) < len(accepted), "the crash came too late to test anything"

    with running_server(tmp_path, **settings) as restarted:
        _drained(restarted)
        after = _executions(restarted.data_dir)

    for event_id in accepted:
        runs = after.get(event_id)
        assert runs, f"{event_id} was accepted but never ran"
        successes = sorted(attempt for attempt, status in runs if status == "success")
        assert successes, f"{event_id} never succeeded: {runs}"
        # at least once: a second success is a visible retry (a later attempt), never a silent copy
        assert len(successes) == len(set(successes)), f"{event_id} ran twice as the same attempt: {runs}"


def test_sigterm_lets_running_invocations_finish_and_resumes_the_rest(tmp_path: Path) -> None:
    with running_server(tmp_path, dispatch_concurrency=1, shutdown_grace_s=5) as server:
        client = _setup(server, SLOW)
        events = [customer_event(f"evt-slow-{i}") for i in range(3)]
        answer = client.post("/v1/events:batch", json={"events": events})
        assert answer.status_code == 202
        time.sleep(0.8)  # the first invocation is running
        # uvicorn shuts down gracefully, then re-raises the signal: -15 is a clean stop here
        assert server.stop() in (0, -15)
        assert "Traceback" not in server.output()
    stopped = _executions(server.data_dir)
    assert [runs for runs in stopped.values()] == [[(1, "success")]], "the in-flight run must finish and be recorded"

    with running_server(tmp_path, dispatch_concurrency=1) as restarted:
        _drained(restarted)
        after = _executions(restarted.data_dir)
    assert sorted(after) == [f"evt-slow-{i}" for i in range(3)]
    assert all(runs == [(1, "success")] for runs in after.values())


def test_jobs_waiting_their_turn_keep_their_leases(tmp_path: Path) -> None:
    # One worker, 0.6 s a run, a 2 s lease: the last of seven events waits ~3.6 s in the function's
    # line. The dispatcher renews the leases of the jobs it holds, so none is leased and run again.
    with running_server(tmp_path, lease_timeout_s=2, max_workers_per_function=1) as server:
        client = _setup(server, STEADY)
        events = [customer_event(f"wait-{i}", id=i) for i in range(7)]
        assert client.post("/v1/events:batch", json={"events": events}).status_code == 202
        deadline = time.monotonic() + 60
        while len(_executions(server.data_dir)) < 7 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # long enough for a lease that ran out to be leased and run again
        _drained(server, timeout=60)
        runs = _executions(server.data_dir)
    assert runs == {f"wait-{i}": [(1, "success")] for i in range(7)}
