"""Platform figures over real HTTP against a real `appfn serve` (SQLite, bwrap sandbox):

  (a) durable ingest rate, single-event and batch endpoints (events/s answered 202)
  (b) end-to-end async throughput: batch-ingest 20,000 events -> trivial Python function ->
      execution recorded, with 2 workers for the function
  (c) sync action round trip over HTTP (shipment.creating, trivial function), median and p99
  (d) in the same run, the raw SQLite queue pattern alone (insert -> claim -> complete), so the
      ratio e2e / raw is visible

    .venv/bin/python benchmarks/dispatch.py [--events 20000] [--seconds 5] [--only e2e|sync]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from appfn.catalog import load_catalog
from appfn.queue import open_broker
from appfn.queue.base import NewJob

STORE = 1305146709
TRIVIAL = "def handler(context):\n    return {'success': True, 'data': {'id': context.payload.data['id']}}\n"
SHIP = (
    "from appfn import Shipment\n"
    "def handler(context):\n"
    "    return Shipment.success().set_shipment_number('AWB-' + str(context.payload.data['id']))\n"
)


def start_server(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "APPFN_DATA_DIR": str(data_dir), "APPFN_PORT": str(port), "APPFN_MAX_BACKLOG": "1000000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "appfn", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    key = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not key:
        line = proc.stdout.readline()
        found = re.search(r"afk_[a-z0-9]+", line)
        key = found.group(0) if found else key
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").is_success:
                return proc, key
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def setup(base: str, key: str) -> str:
    op = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"})
    op.post("/v1/stores", json={"id": STORE, "name": "Bench", "is_demo": True}).raise_for_status()
    partner = op.post("/v1/partners", json={"name": "bench"}).json()
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {partner['key']['secret']}"})
    app = client.post("/v1/apps", json={"name": "bench", "scopes": ["customers.read", "shipping.read"]}).json()
    for trigger, source in (("customer.created", TRIVIAL), ("shipment.creating", SHIP)):
        job = client.put(f"/v1/apps/{app['id']}/functions/{trigger}", json={"source": source}).json()["deploy"]
        while client.get(f"/v1/deploys/{job['id']}").json()["status"] == "PENDING":
            time.sleep(0.05)
    client.post("/v1/installations", json={"app_id": app["id"], "store_id": STORE}).raise_for_status()
    return partner["key"]["secret"]


def event(i: int, trigger: str, data: dict) -> dict:
    event_id = f"{trigger}-{i}-{time.monotonic_ns()}"
    return {"id": event_id, "event": trigger, "merchant": STORE, "data": {**data, "id": i}}


WRK_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  local body = '{"id": "wrk-' .. counter .. '-' .. math.random(1, 1000000000) .. '", ' .. string.sub(BODY, 2)
  return wrk.format("POST", "/v1/events", {["Content-Type"]="application/json", ["Authorization"]="Bearer KEY"}, body)
end
response = function(status, headers, body)
  if status ~= 202 then errors_seen = (errors_seen or 0) + 1 end
end
"""


def ingest_single_wrk(base: str, key: str, seconds: float, tmp: Path) -> float | None:
    """Single-event ingest driven by wrk (a C load generator: a Python client would be the bottleneck)."""
    if shutil.which("wrk") is None:
        return None
    data = load_catalog().get("customer.updated").example()
    body = json.dumps({"event": "customer.updated", "merchant": STORE, "data": data})
    script = tmp / "post.lua"
    script.write_text(WRK_SCRIPT.replace("BODY", json.dumps(body)).replace("KEY", key))
    done = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{int(seconds)}s", "-s", str(script), base],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    if "Non-2xx" in done.stdout:
        raise RuntimeError(f"some ingest requests failed:\n{done.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))


async def ingest_single(base: str, key: str, seconds: float, concurrency: int = 32) -> float:
    """No function listens to customer.updated here: the pure durable-ingest path (~1.5 KB events)."""
    data = load_catalog().get("customer.updated").example()
    done = 0
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
        stop = time.perf_counter() + seconds

        async def worker(w: int) -> None:
            nonlocal done
            i = 0
            while time.perf_counter() < stop:
                answer = await client.post("/v1/events", json=event(w * 10_000_000 + i, "customer.updated", data))
                assert answer.status_code == 202, answer.text
                done += 1
                i += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        return done / (time.perf_counter() - started)


async def ingest_batches(
    base: str, key: str, trigger: str, total: int, batch: int = 500, concurrency: int = 4
) -> float:
    data = load_catalog().get(trigger).example()
    # Encoded before the clock starts: the client's own JSON work is not the server's speed.
    bodies = [
        json.dumps({"events": [event(i, trigger, data) for i in range(start, min(start + batch, total))]}).encode()
        for start in range(0, total, batch)
    ]
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        queue = list(bodies)

        async def worker() -> None:
            while queue:
                answer = await client.post(
                    "/v1/events:batch", content=queue.pop(), headers={"Content-Type": "application/json"}
                )
                assert answer.status_code == 202, answer.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - started)


def executions(db: Path, trigger: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM executions WHERE trigger = ?", (trigger,)).fetchone()[0]


async def end_to_end(base: str, key: str, db: Path, total: int) -> tuple[float, float]:
    started = time.perf_counter()
    await ingest_batches(base, key, "customer.created", total)
    while executions(db, "customer.created") < total:
        await asyncio.sleep(0.05)
        if time.perf_counter() - started > 600:
            raise RuntimeError("end-to-end run did not finish in 10 minutes")
    elapsed = time.perf_counter() - started
    return total / elapsed, elapsed


def sync_round_trips(base: str, key: str, n: int = 500) -> list[float]:
    data = load_catalog().get("shipment.creating").example()
    samples = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
        for i in range(n + 20):
            t = time.perf_counter()
            answer = client.post("/v1/actions/shipment.creating", json={"merchant": STORE, "data": {**data, "id": i}})
            elapsed = (time.perf_counter() - t) * 1000
            assert answer.status_code == 200 and answer.json()["proceed"], answer.text
            if i >= 20:
                samples.append(elapsed)
    return samples


def raw_sqlite_queue(directory: Path, batch: int, total: int = 20_000) -> float:
    broker = open_broker(f"sqlite:///{directory / f'raw-{batch}.db'}")
    payload = b"x" * 231
    started = time.perf_counter()
    for _ in range(0, total, batch):
        broker.enqueue([NewJob("raw", payload) for _ in range(batch)])
        leases = broker.lease("raw", "bench", batch, 30)
        broker.ack(leases)
    rate = total / (time.perf_counter() - started)
    broker.close()
    return rate


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="appfn-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        port = 8790
        proc, operator_key = start_server(data_dir, port)
        base = f"http://127.0.0.1:{port}"
        try:
            key = setup(base, operator_key)
            if args.only == "e2e":
                e2e, e2e_s = asyncio.run(end_to_end(base, key, data_dir / "appfn.db", args.events))
                print(f"| (b) end to end, {args.events:,} events, trivial function, 2 workers | {e2e:,.0f} events/s "
                      f"({e2e_s:.1f} s) | >= 2,000/s |")  # fmt: skip
                return
            if args.only == "sync":
                sync = sync_round_trips(base, key)
                print(f"| (c) sync action round trip, median | {statistics.median(sync):.2f} ms | <= 5 ms |")
                print(f"| (c) sync action round trip, p99 | {pct(sync, 0.99):.2f} ms | <= 20 ms |")
                return
            single = ingest_single_wrk(base, key, args.seconds, Path(tmp))
            single = single or asyncio.run(ingest_single(base, key, args.seconds))
            batched = asyncio.run(ingest_batches(base, key, "customer.updated", 50_000))
            e2e, e2e_s = asyncio.run(end_to_end(base, key, data_dir / "appfn.db", args.events))
            sync = sync_round_trips(base, key)
        finally:
            proc.terminate()
            proc.wait(30)
        raw_1 = raw_sqlite_queue(Path(tmp), 1, 5_000)
        raw_100 = raw_sqlite_queue(Path(tmp), 100)
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| (a) ingest, single-event endpoint, 32 connections (wrk) | {single:,.0f} events/s | >= 3,000/s |")
    print(f"| (a) ingest, batch endpoint (500 per request), 4 clients | {batched:,.0f} events/s | >= 20,000/s |")
    print(f"| (b) end to end, {args.events:,} events, trivial function, 2 workers | {e2e:,.0f} events/s "
          f"({e2e_s:.1f} s) | >= 2,000/s |")  # fmt: skip
    print(f"| (c) sync action round trip, median | {statistics.median(sync):.2f} ms | <= 5 ms |")
    print(f"| (c) sync action round trip, p99 | {pct(sync, 0.99):.2f} ms | <= 20 ms |")
    print(f"| (d) raw SQLite queue, insert -> claim -> complete, batch 1 | {raw_1:,.0f} jobs/s | |")
    print(f"| (d) raw SQLite queue, insert -> claim -> complete, batch 100 | {raw_100:,.0f} jobs/s | |")
    print(f"| ratio e2e / raw (batch 100) | {e2e / raw_100:.2f} | |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--only", choices=["e2e", "sync"], help="run figure (b) or (c) alone, on a fresh server")
    main(parser.parse_args())
