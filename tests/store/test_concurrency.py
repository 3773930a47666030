"""Concurrent use: parallel writers and parallel migrations, and the batch write rates."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from appfn import store

from .conftest import World


def in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_parallel_upgrades_from_empty(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Servers starting together (separate processes): every upgrade succeeds, the schema is built once."""
    url = f"sqlite:///{tmp_path / 'appfn.db'}" if backend == "sqlite" else request.getfixturevalue("pg_schemas").new()
    code = "import sys; from appfn.store import upgrade_to_head; upgrade_to_head(sys.argv[1])"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=60)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    assert in_threads(3, lambda _: store.upgrade_to_head(url)) == []  # and threads of one process
    db = store.Database(url)
    try:
        assert db.current_revision() == store.head_revision()
    finally:
        db.dispose()


def test_parallel_writers_queue_instead_of_failing(db: store.Database, world: World) -> None:
    """Threads that read then write in one transaction (a save) neither fail nor lose versions.

    SQLite queues writers on BEGIN IMMEDIATE and the busy timeout; PostgreSQL on the row lock a
    save takes on its function (and on the unique index while the function is first created).
    """
    app = world.app(world.partner())

    def work(n: int) -> None:
        for i in range(10):
            with db.session() as s:
                store.save_function(
                    s,
                    app_id=app.id,
                    trigger="customer.created",
                    source=f"def handler(context):\n    return {{'n': {n}, 'i': {i}}}\n",
                    partner_id=app.partner_id,
                )
                store.record_events(s, [store.NewEvent(id=f"evt-{n}-{i}", trigger="customer.created", store_id=1001)])

    assert in_threads(4, work) == []
    with db.read_session() as s:
        versions = store.list_versions(s, app_id=app.id, trigger="customer.created", partner_id=None)
        events = store.list_events(s, limit=500)
    assert [v.number for v in versions] == list(range(len(versions), 0, -1))  # no gaps, no duplicates
    assert len(versions) == len(events) == 40


def test_batch_write_rates(db: store.Database) -> None:
    """Batched inserts stay far above what the dispatcher needs (thousands a second)."""
    batches, size = 10, 500
    data = {"id": 1, "email": "s@example.com", "first_name": "Sara"}
    started = time.perf_counter()
    for b in range(batches):
        with db.session() as s:
            store.record_events(
                s,
                [
                    store.NewEvent(id=f"rate-{b}-{i}", trigger="customer.created", store_id=1001, data=data)
                    for i in range(size)
                ],
            )
            store.record_executions(
                s,
                [
                    store.NewExecution(
                        app_id="app_x",
                        partner_id="ptn_x",
                        store_id=1001,
                        trigger="customer.created",
                        event_id=f"rate-{b}-{i}",
                        status="success",
                        response={"success": True},
                        console=["line"],
                        duration_ms=1.5,
                    )
                    for i in range(size)
                ],
            )
    rate = batches * size / (time.perf_counter() - started)
    assert rate > 1_000, f"{rate:.0f} events+executions per second"


def test_readers_do_not_wait_for_a_writer(db: store.Database, world: World) -> None:
    """A read session runs beside an open write transaction and sees the last committed state."""
    world.partner("A")
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.session() as s:
            store.create_partner(s, "B")
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        started = time.perf_counter()
        with db.read_session() as s:
            names = [p.name for p in store.list_partners(s)]
        assert names == ["A"]
        assert time.perf_counter() - started < 2
    finally:
        release.set()
        thread.join(10)
    with db.read_session() as s:
        assert [p.name for p in store.list_partners(s)] == ["A", "B"]
