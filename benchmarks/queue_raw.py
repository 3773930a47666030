"""Raw throughput of each queue backend: insert → claim → complete, at batch 1 and batch 100.

    python benchmarks/queue_raw.py [--runs 5] [--backends sqlite,redis] [--redis redis://127.0.0.1:6379/0]

For each backend and batch size it measures, on a fresh store each run:

    cycle      enqueue(batch) → lease(batch) → ack(leases), repeated: the steady state of one
               dispatcher + one worker sharing a process
    insert     enqueue every job, batch by batch, nothing else
    drain      lease + ack those jobs, batch by batch

and prints the median jobs/s over the runs. Payloads are 231 bytes, like deplab §5. SQLite
uses a file in a temporary directory (WAL, synchronous=NORMAL); Redis uses a fresh key prefix
that is deleted afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from appfn.queue import Broker, NewJob, QueueError, open_broker

PAYLOAD = b"x" * 231
JOBS = {1: 5_000, 100: 50_000}  # per run, per batch size
QUEUE = "bench"


@contextlib.contextmanager
def fresh_broker(backend: str, redis_url: str) -> Iterator[Broker]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp, open_broker(f"sqlite:///{Path(tmp) / 'q.db'}") as broker:
            yield broker
        return
    prefix = f"appfn-bench-{uuid.uuid4().hex[:8]}"
    with open_broker(f"{redis_url}?prefix={prefix}") as broker:
        try:
            yield broker
        finally:
            client = broker.client  # type: ignore[attr-defined]
            for keys in _chunks(list(client.scan_iter(match=f"{prefix}:*", count=1000)), 1000):
                client.delete(*keys)


def cycle(broker: Broker, jobs: int, batch: int) -> float:
    start = time.perf_counter()
    for _ in range(jobs // batch):
        broker.enqueue([NewJob(QUEUE, PAYLOAD)] * batch)
        _ack_all(broker, broker.lease(QUEUE, "bench", batch, 60), batch)
    return jobs / (time.perf_counter() - start)


def insert_then_drain(broker: Broker, jobs: int, batch: int) -> tuple[float, float]:
    start = time.perf_counter()
    for _ in range(jobs // batch):
        broker.enqueue([NewJob(QUEUE, PAYLOAD)] * batch)
    middle = time.perf_counter()
    for _ in range(jobs // batch):
        _ack_all(broker, broker.lease(QUEUE, "bench", batch, 60), batch)
    end = time.perf_counter()
    return jobs / (middle - start), jobs / (end - middle)


def measure(backend: str, batch: int, runs: int, redis_url: str) -> tuple[float, float, float]:
    results: dict[str, list[float]] = {"cycle": [], "insert": [], "drain": []}
    for _ in range(runs):
        with fresh_broker(backend, redis_url) as broker:
            results["cycle"].append(cycle(broker, JOBS[batch], batch))
        with fresh_broker(backend, redis_url) as broker:
            insert, drain = insert_then_drain(broker, JOBS[batch], batch)
        results["insert"].append(insert)
        results["drain"].append(drain)
    return tuple(statistics.median(results[k]) for k in ("cycle", "insert", "drain"))  # type: ignore[return-value]


def main() -> None:
    args = _parse_args()
    print(f"{'backend':<8} {'batch':>5} {'jobs/run':>8} {'cycle':>12} {'insert':>12} {'drain':>12}")
    for backend in args.backends.split(","):
        for batch in (1, 100):
            row = _try(lambda b=backend, n=batch: measure(b, n, args.runs, args.redis))
            rates = " ".join(f"{rate:>12,.0f}" for rate in row) if row else f"{'unavailable':>38}"
            print(f"{backend:<8} {batch:>5} {JOBS[batch]:>8,} {rates}", flush=True)
    print(f"\njobs/s, median of {args.runs} runs; cycle = enqueue → lease → ack per batch")


def _parse_args() -> argparse.Namespace:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,redis")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    return parser.parse_args()


def _ack_all(broker: Broker, leases: list, batch: int) -> None:
    assert len(leases) == batch and broker.ack(leases) == batch, "the benchmark lost jobs"


def _try(measurement: Callable[[], tuple[float, float, float]]) -> tuple[float, float, float] | None:
    try:
        return measurement()
    except QueueError as exc:  # e.g. no Redis running: report it, keep the other rows
        print(f"  ({exc})")
        return None


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


if __name__ == "__main__":
    main()
