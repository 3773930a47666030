"""Console page render times over real HTTP against a real `appfn serve --demo` (SQLite).

Two rounds: the demo data as `--demo` seeds it (plus a few real executions), then after adding
`--executions` (default 20,000) execution rows straight into the database, spread over the last
7 days with most of them in the last hour and day (the metrics page's default window is the
last hour: that is its worst case). Each page is requested `--requests` times, signed in as the
operator (who sees everything); the table shows the median and p90 in milliseconds and whether
the median is under the 300 ms target, with the first (cold) request's time too: the metrics
page reuses a report for a few seconds. Pages that do not exist (yet) are listed as n/a.

    .venv/bin/python benchmarks/console.py [--executions 20000] [--requests 15]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from appfn import store
from appfn.config import Settings

TARGET_MS = 300.0
STORE = 1305146709


def start_server(data_dir: Path, port: int, *, first: bool = True) -> tuple[subprocess.Popen[str], str]:
    """Start the server; on the first start, read the operator key it prints (once)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPFN_")}
    env.update({"APPFN_DATA_DIR": str(data_dir), "APPFN_PORT": str(port), "APPFN_HOST": "127.0.0.1"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "appfn", "serve", "--demo"],
        env=env, stdout=subprocess.PIPE if first else subprocess.DEVNULL, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    key = ""
    deadline = time.monotonic() + 60
    while first and proc.stdout is not None and time.monotonic() < deadline and not key:
        line = proc.stdout.readline()
        found = re.search(r"operator key[^\n]*?:\s*(afk_[a-z2-7]+)", line, re.I)
        key = found.group(1) if found else key
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").is_success:
                return proc, key
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_some(client: httpx.Client, key: str) -> None:
    """A few real executions through the platform: customers created in the demo store."""
    headers = {"Authorization": f"Bearer {key}", "X-Store-Id": str(STORE)}
    for i in range(5):
        body = {"first_name": f"Bench{i}", "last_name": "Mark", "mobile": f"05512345{i:02d}", "email": f"b{i}@x.io"}
        client.post("/admin/v2/customers", json=body, headers=headers)
    deadline = time.monotonic() + 20
    api = {"Authorization": f"Bearer {key}"}
    while time.monotonic() < deadline:
        if len(client.get("/v1/executions", headers=api).json()["items"]) >= 5:
            return
        time.sleep(0.2)


def seed(data_dir: Path, count: int) -> None:
    """``count`` executions of the demo apps' functions, straight into the database."""
    db = store.Database.open(Settings(data_dir=data_dir).resolved_database_url)
    rng = random.Random(7)
    now = datetime.now(UTC)
    with db.read_session() as s:
        targets = [
            (i.app_id, i.partner_id, i.id, f.trigger, f.id, f.active_version_id)
            for i in store.list_installations(s, partner_id=None)
            for f in store.list_functions(s, app_id=i.app_id, partner_id=None)
        ]
    if not targets:
        raise SystemExit("no demo functions to seed executions for")
    statuses = ["success"] * 94 + ["failure"] * 3 + ["timeout"] + ["dead"] * 2
    rows = []
    for n in range(count):
        app_id, partner_id, installation_id, trigger, function_id, version_id = rng.choice(targets)
        roll = rng.random()
        ago = rng.uniform(0, 3600) if roll < 0.4 else rng.uniform(0, 86400) if roll < 0.8 else rng.uniform(0, 7 * 86400)
        created = now - timedelta(seconds=ago)
        status = rng.choice(statuses)
        duration = rng.lognormvariate(3.0, 0.8)
        rows.append(
            {
                "app_id": app_id, "partner_id": partner_id, "store_id": STORE, "trigger": trigger,
                "status": status, "event_id": f"bench-{n}", "function_id": function_id,
                "function_version_id": version_id, "installation_id": installation_id, "attempt": 1,
                "response": {"success": status == "success", "data": {"id": n}},
                "error": None if status == "success" else "ValueError: upstream said no\n  File \"handler.py\", line 9",
                "console": [f"processing {n}"], "requests": [
                    {"method": "POST", "url": "https://crm.example/api", "status": 200, "duration_ms": duration / 2}
                ],
                "duration_ms": duration, "created_at": created, "started_at": created,
                "finished_at": created + timedelta(milliseconds=duration), "job_id": f"b{n}",
            }
        )  # fmt: skip
    for start in range(0, len(rows), 2000):
        with db.session() as s:
            store.record_executions(s, rows[start : start + 2000])
    db.engine.dispose()


def pages(client: httpx.Client, key: str) -> list[str]:
    api = {"Authorization": f"Bearer {key}"}
    execution = client.get("/v1/executions", params={"limit": 1}, headers=api).json()["items"]
    apps = client.get("/v1/apps", headers=api).json()["items"]
    found = [
        "/", "/apps", "/stores", f"/stores/{STORE}", "/executions", "/executions?status=failure",
        "/dead-letters", "/stats", "/stats?window=24h", "/stats?window=7d", "/catalog", "/catalog/customer.created",
        "/catalog/shipment.creating",
    ]  # fmt: skip
    if apps:
        found.insert(2, f"/apps/{apps[0]['id']}")
        found.insert(3, f"/apps/{apps[0]['id']}/functions/customer.created")
    if execution:
        found.insert(found.index("/dead-letters"), f"/executions/{execution[0]['id']}")
    return found


Timing = tuple[float, float, float]  # first request (cold), median, p90 of the rest


def time_pages(client: httpx.Client, paths: list[str], n: int) -> dict[str, Timing | None]:
    out: dict[str, Timing | None] = {}
    for path in paths:
        began = time.perf_counter()
        first = client.get(path)  # cold: caches (templates, the metrics report) filled here
        cold = (time.perf_counter() - began) * 1000
        if first.status_code != 200:
            out[path] = None
            continue
        samples = []
        for _ in range(n):
            began = time.perf_counter()
            answer = client.get(path)
            samples.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, (path, answer.status_code)
        samples.sort()
        out[path] = (cold, statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.9))])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--executions", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="appfn-console-bench-"))
    port = free_port()
    proc, key = start_server(work / "data", port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            run_some(client, key)
            assert client.post("/login", data={"key": key, "next": "/"}).status_code == 303
            paths = pages(client, key)
            demo = time_pages(client, paths, args.requests)
        # Seed with the server stopped, then start it again: nothing cached from the first round.
        stop(proc)
        seed(work / "data", args.executions)
        proc, _ = start_server(work / "data", port, first=False)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            assert client.post("/login", data={"key": key, "next": "/"}).status_code == 303
            paths = pages(client, key)
            loaded = time_pages(client, paths, args.requests)
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)

    def cell(value: Timing | None) -> str:
        return "n/a" if value is None else f"{value[0]:6.0f} {value[1]:6.1f} {value[2]:6.1f}"

    label = f"+{args.executions:,} executions"
    print(
        f"\nconsole pages over HTTP (ms): the first request, then median and p90 of {args.requests} more; "
        f"target: median < {TARGET_MS:.0f}"
    )
    print(f"{'page':<46} {'demo data':>20}   {label:>20}  ok")
    print(f"{'':<46} {'first median    p90':>20}   {'first median    p90':>20}")
    for path in dict.fromkeys([*demo, *loaded]):
        a, b = demo.get(path), loaded.get(path)
        shown = re.sub(r"exe_[a-z0-9]+", "exe_…", re.sub(r"app_[a-z0-9]+", "app_…", path))
        ok = all(v is None or v[1] < TARGET_MS for v in (a, b))
        print(f"{shown:<46} {cell(a):>20}   {cell(b):>20}  {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
