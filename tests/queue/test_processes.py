"""Several OS processes on one store: exactly-once completion, crash recovery. Every backend."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from appfn.queue import Depth, NewJob, open_broker

pytestmark = pytest.mark.slow


def test_two_consumer_processes_drain_5000_jobs_exactly_once(backend_url: str, tmp_path: Path, spawn_worker) -> None:
    # Given two consumers polling one store (the schema exists before they start)
    producer = open_broker(backend_url)
    done = tmp_path / "producer-done"
    workers = [spawn_worker("drain", backend_url, "q", "25", str(done)) for _ in range(2)]
    for worker in workers:
        worker.expect("ready")

    # When 5,000 jobs arrive in batches of 100 while they consume
    ids: list[str] = []
    for start in range(0, 5000, 100):
        ids += producer.enqueue([NewJob("q", str(i).encode()) for i in range(start, start + 100)])
    done.touch()
    for worker in workers:
        worker.finish()

    # Then every job was completed once, by one of them, and nothing is left
    acked = Counter(job_id for worker in workers for job_id in worker.ids("acked"))
    assert [worker.ids("stale") for worker in workers] == [[], []]
    assert len(ids) == len(set(ids)) == 5000
    assert set(acked) == set(ids) and max(acked.values()) == 1
    # (How the jobs split between the two depends on scheduling, so it is not asserted.)
    assert producer.depth("q") == Depth(ready=0, delayed=0, leased=0, dead=0)
    producer.close()


def test_killed_consumer_jobs_are_redelivered_after_the_timeout(backend_url: str, spawn_worker) -> None:
    # Given a consumer that leased 20 of 30 jobs for 1 s and was then killed with SIGKILL
    broker = open_broker(backend_url)
    ids = broker.enqueue([NewJob("q", f"{i}".encode()) for i in range(30)])
    worker = spawn_worker("hold", backend_url, "q", "20", "1.0")
    held = worker.expect("leased")
    worker.kill()
    assert held == ids[:20]

    # Then its jobs stay leased until the timeout: others get only the rest
    assert broker.depth("q").leased == 20
    rest = broker.lease("q", "survivor", 100, 60)
    assert [lease.job_id for lease in rest] == ids[20:]

    # And after the timeout they are redelivered, attempt 2, and complete
    time.sleep(1.2)
    redelivered = broker.lease("q", "survivor", 100, 60)
    assert sorted(lease.job_id for lease in redelivered) == sorted(held)
    assert {lease.attempt for lease in redelivered} == {2}
    assert broker.ack(redelivered + rest) == 30
    assert broker.depth("q").pending == 0
    broker.close()


def test_consumer_killed_mid_write_loses_and_repeats_nothing(backend_url: str, spawn_worker) -> None:
    # Given a consumer busy leasing and acking batches of 10
    broker = open_broker(backend_url)
    ids = broker.enqueue([NewJob("q", f"{i}".encode()) for i in range(3000)])
    worker = spawn_worker("churn", backend_url, "q", "10")
    for _ in range(20):
        worker.expect("acked")

    # When it is killed at an arbitrary point of its loop
    worker.kill()

    # Then, once its last lease (1 s) has expired, the store still works; what it reported
    # acked never comes back, and every other job is still there, except at most the one
    # batch acked but not yet reported
    reported = set(worker.ids("acked"))
    time.sleep(1.1)
    remaining = []
    while leases := broker.lease("q", "survivor", 500, 60):
        remaining += leases
    left = {lease.job_id for lease in remaining}
    assert not reported & left
    assert len(reported) + len(left) >= len(ids) - 10
    assert (reported | left) <= set(ids)
    broker.close()
