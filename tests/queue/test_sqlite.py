"""SQLite-only behaviour: URLs, pragmas, schema, error translation, plans, crash integrity."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appfn.queue import NewJob, QueueConfigError, QueueError, QueueUnavailableError, open_broker
from appfn.queue import sqlite as backend


def test_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_broker("sqlite:///relative.db") as relative:
        assert relative.path == "relative.db"
    with open_broker(f"sqlite:///{tmp_path}/absolute.db") as absolute:
        assert absolute.path == f"{tmp_path}/absolute.db"
    with open_broker("sqlite://:memory:") as memory:
        memory.enqueue([NewJob("q", b"x")])
        assert memory.depth("q").ready == 1
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["absolute.db", "relative.db"]


@pytest.mark.parametrize("url", ["sqlite://relative.db", "sqlite://", "sqlite:///"])
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(QueueConfigError, match=r"sqlite:///path/to\.db"):
        open_broker(url)


def test_file_is_in_wal_mode(tmp_path: Path) -> None:
    with open_broker(f"sqlite:///{tmp_path}/q.db"):
        pass
    raw = sqlite3.connect(tmp_path / "q.db")
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def test_schema_is_applied_idempotently_and_data_survives_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/q.db"
    with open_broker(url) as first:
        first.enqueue([NewJob("q", b"kept")])
    with open_broker(url) as second:
        assert [lease.payload for lease in second.lease("q", "w1", 10, 30)] == [b"kept"]


def test_job_ids_are_never_reused(tmp_path: Path) -> None:
    with open_broker(f"sqlite:///{tmp_path}/q.db") as broker:
        [first] = broker.enqueue([NewJob("q", b"x")])
        broker.ack(broker.lease("q", "w1", 1, 30))  # the table is empty again

        [second] = broker.enqueue([NewJob("q", b"y")])

    assert int(second) > int(first)


def test_unopenable_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(QueueUnavailableError, match="sqlite queue unavailable"):
        open_broker(f"sqlite:///{tmp_path}/missing-dir/q.db")


def test_lock_held_past_busy_timeout_is_unavailable(tmp_path: Path) -> None:
    broker = backend.SQLiteBroker(str(tmp_path / "q.db"), busy_timeout_s=0.1)
    other = sqlite3.connect(tmp_path / "q.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock

    with pytest.raises(QueueUnavailableError) as caught:
        broker.enqueue([NewJob("q", b"x")])

    assert caught.value.backend == "sqlite"
    other.execute("ROLLBACK")
    assert broker.enqueue([NewJob("q", b"x")])  # and the broker recovers
    other.close()
    broker.close()


def test_use_after_close_is_a_queue_error() -> None:
    broker = open_broker("sqlite://:memory:")
    broker.close()

    with pytest.raises(QueueError):
        broker.depth("q")


def test_expired_dedupe_keys_are_pruned(tmp_path: Path) -> None:
    broker = backend.SQLiteBroker(str(tmp_path / "q.db"), dedupe_ttl_s=-1)  # born expired
    broker.enqueue([NewJob("q", b"x", dedupe_key=f"k{i}") for i in range(5)])

    broker.enqueue([NewJob("q", b"y", dedupe_key="new")])

    assert broker._conn.execute("SELECT key FROM queue_dedupe").fetchall() == [("new",)]
    broker.close()


@pytest.mark.parametrize("name", ["SQL_ANY_DUE", "SQL_DUE", "SQL_DELETE_EXPIRED", "SQL_DEPTH", "SQL_DEAD_LIST"])
def test_hot_queries_use_an_index_and_never_sort(name: str) -> None:
    broker = backend.SQLiteBroker(":memory:")
    sql = getattr(backend, name)
    params = {"queue": "q", "q": "q", "now": 0.0} if ":now" in sql else ("q", 0, 0)[: sql.count("?")]

    plan = " | ".join(row[-1] for row in broker._conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))

    assert "SCAN queue_" not in plan and "TEMP B-TREE" not in plan, plan
    broker.close()


@pytest.mark.slow
def test_file_passes_integrity_check_after_consumer_killed_mid_write(tmp_path: Path, spawn_worker) -> None:
    url = f"sqlite:///{tmp_path}/q.db"
    with open_broker(url) as broker:
        broker.enqueue([NewJob("q", b"x") for _ in range(3000)])
    worker = spawn_worker("churn", url, "q", "10")
    for _ in range(30):
        worker.expect("acked")

    worker.kill()

    raw = sqlite3.connect(tmp_path / "q.db")
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    raw.close()


def test_a_large_batch_with_repeated_and_remembered_keys(tmp_path: Path) -> None:
    """Enqueue in a few statements: keys looked up in chunks, ids from the AUTOINCREMENT sequence."""
    with open_broker(f"sqlite:///{tmp_path}/q.db") as broker:
        [early] = broker.enqueue([NewJob("q", b"early", dedupe_key="k-7")])
        broker.enqueue([NewJob("other", b"o", dedupe_key="k-8")])  # keys are per queue
        jobs = [NewJob("q", f"p{i}".encode(), dedupe_key=f"k-{i % 1100}" if i % 3 else None) for i in range(1300)]
        ids = broker.enqueue(jobs)
        assert len(ids) == 1300 and ids[7] == early
        by_key: dict[str, str] = {}
        for job, job_id in zip(jobs, ids, strict=True):
            if job.dedupe_key is not None:
                assert by_key.setdefault(job.dedupe_key, job_id) == job_id  # a repeated key: the first job
        fresh = [int(i) for i in dict.fromkeys(ids) if i != early]
        assert fresh == sorted(fresh) and len(set(fresh)) == len(fresh)  # enqueue order = id order
        leased = broker.lease("q", "w", 1000, 30) + broker.lease("q", "w", 1000, 30)
        assert [lease.job_id for lease in leased] == [early, *map(str, fresh)]
        payloads: dict[str, bytes] = {early: b"early"}
        for job_id, job in zip(ids, jobs, strict=True):
            payloads.setdefault(job_id, job.payload)  # the first job of a key is the one kept
        assert all(lease.payload == payloads[lease.job_id] for lease in leased)
        assert broker.enqueue([NewJob("q", b"again", dedupe_key="k-1")]) == [ids[1]]
