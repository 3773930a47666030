"""SQLite backend: the embedded, durable default. Stdlib ``sqlite3`` only.

URL: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (SQLAlchemy style: the
path is what follows the third slash) or ``sqlite://:memory:`` (one process, tests only).

Data model
----------
``queue_jobs``: live jobs, one row each; a row is deleted when its job is acked.

    id INTEGER PK AUTOINCREMENT   job id; AUTOINCREMENT so an id is never reused
    queue TEXT                    queue name
    state INTEGER                 0 = queued, 1 = leased
    visible_at REAL               epoch s: queued → when it may be leased (a delay/backoff);
                                  leased → the lease deadline. One column for both makes
                                  "leasable" a single index range: visible_at <= now
    attempts INTEGER              leases granted so far (incremented by each claim)
    max_attempts INTEGER          lease budget; past it the job goes to queue_dead
    lease_token TEXT              random fencing token of the current lease, NULL when queued
    worker_id TEXT                holder of the current lease, for operators
    last_error TEXT               error of the last nack, kept for the dead letter
    created_at REAL               epoch s of the first enqueue
    payload BLOB                  opaque bytes; last column so scans skip its overflow pages

``queue_dead``: dead letters, same id as the job; ``replay`` moves the row back.
``queue_dedupe``: (queue, key) → job id until expires_at, independent of the job's life.

Indexes: ``queue_jobs_claim (queue, visible_at)`` (+ rowid implicitly) serves the claim's
``ORDER BY visible_at, id``; ``queue_jobs_depth (queue, state, visible_at)`` covers the depth
counts and the sweep of expired last-attempt leases; ``queue_dead_list (queue, dead_at)``
pages dead letters; ``queue_dedupe_expiry`` prunes old keys.

State machine of a row
----------------------
    insert: state 0, visible_at = now + delay
    claim (state 0 or 1, visible_at <= now):  state 1, attempts + 1, new token, visible_at = deadline
        … but a state-1 row already at max_attempts moves to queue_dead instead
    ack (token matches):                      delete
    nack (token matches, attempts left):      state 0, visible_at = now + delay, token NULL
    nack on last attempt / dead_letter:       move to queue_dead
    extend (token matches):                   visible_at = new deadline
    replay (row in queue_dead):               back to queue_jobs, state 0, attempts 0

Concurrency: WAL + ``synchronous=NORMAL`` (a crash of the OS may lose the last commits, not
corrupt the file), every write in ``BEGIN IMMEDIATE`` so writers queue on the busy timeout
instead of failing on lock upgrade. Processes share a file safely; inside a process one
connection is shared by threads under a lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence

from appfn.errors import QueueConfigError, QueueError, QueueUnavailableError
from appfn.queue.base import (
    DEFAULT_DEDUPE_TTL_S,
    Broker,
    DeadJob,
    Depth,
    Lease,
    NewJob,
    check_delay,
    check_lease_args,
    check_page,
    check_timeout,
    clip_error,
)

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")

DDL_JOBS = """
CREATE TABLE IF NOT EXISTS queue_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    visible_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    lease_token TEXT,
    worker_id TEXT,
    last_error TEXT,
    created_at REAL NOT NULL,
    payload BLOB NOT NULL
)"""
DDL_JOBS_CLAIM = "CREATE INDEX IF NOT EXISTS queue_jobs_claim ON queue_jobs (queue, visible_at)"
DDL_JOBS_DEPTH = "CREATE INDEX IF NOT EXISTS queue_jobs_depth ON queue_jobs (queue, state, visible_at)"
DDL_DEAD = """
CREATE TABLE IF NOT EXISTS queue_dead (
    id INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    created_at REAL NOT NULL,
    dead_at REAL NOT NULL,
    payload BLOB NOT NULL
)"""
DDL_DEAD_LIST = "CREATE INDEX IF NOT EXISTS queue_dead_list ON queue_dead (queue, dead_at)"
DDL_DEDUPE = """
CREATE TABLE IF NOT EXISTS queue_dedupe (
    queue TEXT NOT NULL,
    key TEXT NOT NULL,
    job_id INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (queue, key)
) WITHOUT ROWID"""
DDL_DEDUPE_EXPIRY = "CREATE INDEX IF NOT EXISTS queue_dedupe_expiry ON queue_dedupe (expires_at)"
DDL = (DDL_JOBS, DDL_JOBS_CLAIM, DDL_JOBS_DEPTH, DDL_DEAD, DDL_DEAD_LIST, DDL_DEDUPE, DDL_DEDUPE_EXPIRY)

SQL_INSERT = """
INSERT INTO queue_jobs (queue, visible_at, max_attempts, created_at, payload) VALUES (?, ?, ?, ?, ?)"""
SQL_DEDUPE_GET_MANY = "SELECT key, job_id FROM queue_dedupe WHERE queue = ? AND expires_at > ? AND key IN ({marks})"
SQL_SEQUENCE = "SELECT seq FROM sqlite_sequence WHERE name = 'queue_jobs'"
_IN_CHUNK = 500  # keys per IN (…): under SQLite's bound-variable limit
SQL_DEDUPE_PUT = "INSERT OR REPLACE INTO queue_dedupe (queue, key, job_id, expires_at) VALUES (?, ?, ?, ?)"
SQL_DEDUPE_PRUNE = """
DELETE FROM queue_dedupe WHERE (queue, key) IN
    (SELECT queue, key FROM queue_dedupe WHERE expires_at <= ? LIMIT 1000)"""

_EXPIRED_LAST = "queue = :queue AND state = 1 AND visible_at <= :now AND attempts >= max_attempts"
SQL_BURY_EXPIRED = f"""
INSERT INTO queue_dead (id, queue, attempts, max_attempts, error, created_at, dead_at, payload)
SELECT id, queue, attempts, max_attempts,
       'lease expired on the last attempt (' || attempts || ' of ' || max_attempts
           || ', worker ' || ifnull(worker_id, '?') || ')',
       created_at, :now, payload
FROM queue_jobs WHERE {_EXPIRED_LAST}"""
SQL_DELETE_EXPIRED = f"DELETE FROM queue_jobs WHERE {_EXPIRED_LAST}"
SQL_ANY_DUE = "SELECT 1 FROM queue_jobs WHERE queue = ? AND visible_at <= ? LIMIT 1"
SQL_DUE = "SELECT id FROM queue_jobs WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, id LIMIT ?"
SQL_CLAIM = """
UPDATE queue_jobs
SET state = 1, attempts = attempts + 1, visible_at = ?, worker_id = ?,
    lease_token = lower(hex(randomblob(8)))
WHERE id IN ({marks})
RETURNING id, payload, attempts, max_attempts, lease_token"""

SQL_ACK = "DELETE FROM queue_jobs WHERE id = ? AND lease_token = ?"
SQL_RETRY = """
UPDATE queue_jobs SET state = 0, visible_at = ?, lease_token = NULL, worker_id = NULL, last_error = ?
WHERE id = ? AND lease_token = ?"""
SQL_EXTEND = "UPDATE queue_jobs SET visible_at = ? WHERE id = ? AND lease_token = ?"
SQL_BURY_ONE = """
INSERT INTO queue_dead (id, queue, attempts, max_attempts, error, created_at, dead_at, payload)
SELECT id, queue, attempts, max_attempts, ?, created_at, ?, payload
FROM queue_jobs WHERE id = ? AND lease_token = ?"""

SQL_REPLAY = """
INSERT INTO queue_jobs (id, queue, state, visible_at, attempts, max_attempts, created_at, payload)
SELECT id, queue, 0, ?, 0, max_attempts, created_at, payload FROM queue_dead WHERE id = ?"""
SQL_DEAD_DELETE = "DELETE FROM queue_dead WHERE id = ?"

SQL_DEPTH = """
SELECT
    (SELECT count(*) FROM queue_jobs WHERE queue = :q AND state = 0 AND visible_at <= :now)
  + (SELECT count(*) FROM queue_jobs WHERE queue = :q AND state = 1 AND visible_at <= :now),
    (SELECT count(*) FROM queue_jobs WHERE queue = :q AND state = 0 AND visible_at > :now),
    (SELECT count(*) FROM queue_jobs WHERE queue = :q AND state = 1 AND visible_at > :now),
    (SELECT count(*) FROM queue_dead WHERE queue = :q)"""
SQL_DEAD_LIST = """
SELECT id, queue, payload, attempts, max_attempts, error, dead_at FROM queue_dead
WHERE queue = ? ORDER BY dead_at DESC, id DESC LIMIT ? OFFSET ?"""

# Codes that mean "the store is not usable right now", as opposed to a bug in our SQL.
_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL,
}


def from_url(url: str, **options: float) -> SQLiteBroker:
    """Open ``sqlite:///rel.db``, ``sqlite:////abs.db`` or ``sqlite://:memory:``."""
    rest = url.removeprefix("sqlite://")
    if rest in (":memory:", "/:memory:"):
        return SQLiteBroker(":memory:", **options)
    if not rest.startswith("/") or len(rest) < 2:
        raise QueueConfigError(f"bad SQLite URL {url!r}: use sqlite:///path/to.db or sqlite://:memory:")
    return SQLiteBroker(rest[1:], **options)


class SQLiteBroker(Broker):
    """The broker contract on one SQLite file. See the module docstring for the data model."""

    def __init__(self, path: str, *, busy_timeout_s: float = 5.0, dedupe_ttl_s: float = DEFAULT_DEDUPE_TTL_S) -> None:
        self.path = path
        self._dedupe_ttl_s = dedupe_ttl_s
        self._lock = threading.Lock()
        with _translate():
            # isolation_level=None: we issue BEGIN/COMMIT ourselves.
            self._conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
            for pragma in PRAGMAS:
                self._conn.execute(pragma)
        with self._write() as cur:
            for statement in DDL:
                cur.execute(statement)

    def enqueue(self, jobs: Sequence[NewJob]) -> list[str]:
        """One transaction, a few statements whatever the batch size: the remembered dedupe
        keys are looked up together, the new jobs inserted with one executemany (their ids are
        the next values of the table's AUTOINCREMENT sequence: we hold the write lock), then
        their keys remembered with another."""
        if not jobs:
            return []
        with self._write() as cur:
            now = time.time()
            known = self._known_keys(cur, jobs, now) if any(j.dedupe_key is not None for j in jobs) else {}
            fresh: list[NewJob] = []
            slots: list[int | tuple[str, str]] = []  # per job: an existing id, or its key in `first`
            first: dict[tuple[str, str] | int, int] = {}  # key (or position) → index in fresh
            for position, job in enumerate(jobs):
                key = (job.queue, job.dedupe_key) if job.dedupe_key is not None else None
                if key is not None and key in known:
                    slots.append(known[key])
                    continue
                ref = key if key is not None else position
                if ref not in first:
                    first[ref] = len(fresh)
                    fresh.append(job)
                slots.append(-1 - first[ref])  # negative: a job inserted now
            ids = self._insert(cur, fresh, now)
            remembered = [
                (job.queue, job.dedupe_key, job_id, now + self._dedupe_ttl_s)
                for job, job_id in zip(fresh, ids, strict=True)
                if job.dedupe_key is not None
            ]
            if remembered:
                cur.executemany(SQL_DEDUPE_PUT, remembered)
        return [str(ids[-1 - slot] if slot < 0 else slot) for slot in slots]

    def _known_keys(self, cur: sqlite3.Cursor, jobs: Sequence[NewJob], now: float) -> dict[tuple[str, str], int]:
        """(queue, key) → job id, for the keys of ``jobs`` still remembered."""
        cur.execute(SQL_DEDUPE_PRUNE, (now,))
        wanted: dict[str, list[str]] = {}
        for job in jobs:
            if job.dedupe_key is not None:
                wanted.setdefault(job.queue, []).append(job.dedupe_key)
        known: dict[tuple[str, str], int] = {}
        for queue, keys in wanted.items():
            for start in range(0, len(keys), _IN_CHUNK):
                chunk = keys[start : start + _IN_CHUNK]
                sql = SQL_DEDUPE_GET_MANY.format(marks=",".join("?" * len(chunk)))
                for key, job_id in cur.execute(sql, (queue, now, *chunk)):
                    known[(queue, key)] = job_id
        return known

    def _insert(self, cur: sqlite3.Cursor, jobs: list[NewJob], now: float) -> list[int]:
        if not jobs:
            return []
        before = self._sequence(cur)
        rows = [(job.queue, now + job.delay_from(now), job.max_attempts, now, job.payload) for job in jobs]
        cur.executemany(SQL_INSERT, rows)
        after = self._sequence(cur)
        if after - before != len(jobs):  # cannot happen under the write lock; never guess ids
            raise QueueError(f"sqlite: {len(jobs)} jobs inserted but the id sequence moved by {after - before}")
        return list(range(before + 1, after + 1))

    @staticmethod
    def _sequence(cur: sqlite3.Cursor) -> int:
        row = cur.execute(SQL_SEQUENCE).fetchone()
        return int(row[0]) if row is not None else 0

    def lease(self, queue: str, worker_id: str, limit: int, visibility_timeout_s: float) -> list[Lease]:
        check_lease_args(queue, worker_id, limit, visibility_timeout_s)
        # Idle pollers look first without the write lock, so they do not queue behind writers.
        with self._read() as conn:
            if conn.execute(SQL_ANY_DUE, (queue, time.time())).fetchone() is None:
                return []
        with self._write() as cur:
            now = time.time()
            cur.execute(SQL_BURY_EXPIRED, {"queue": queue, "now": now})
            cur.execute(SQL_DELETE_EXPIRED, {"queue": queue, "now": now})
            ids = [row[0] for row in cur.execute(SQL_DUE, (queue, now, limit))]
            if not ids:
                return []
            deadline = now + visibility_timeout_s
            claim = SQL_CLAIM.format(marks=",".join("?" * len(ids)))
            rows = cur.execute(claim, (deadline, worker_id, *ids)).fetchall()
        # RETURNING order is unspecified: restore the queue order chosen by SQL_DUE.
        position = {job_id: i for i, job_id in enumerate(ids)}
        rows.sort(key=lambda row: position[row[0]])
        return [Lease(str(i), queue, p, a, m, t, deadline) for i, p, a, m, t in rows]

    def ack(self, leases: Sequence[Lease]) -> int:
        keys = [(key, lease.token) for lease in leases if (key := _row_id(lease.job_id)) is not None]
        if not keys:
            return 0
        with self._write() as cur:
            cur.executemany(SQL_ACK, keys)
            return cur.rowcount

    def nack(self, lease: Lease, delay_s: float = 0.0, error: str = "") -> bool:
        check_delay(delay_s)
        if lease.is_last_attempt:
            return self.dead_letter(lease, error)
        key = (_row_id(lease.job_id), lease.token)
        with self._write() as cur:
            cur.execute(SQL_RETRY, (time.time() + delay_s, clip_error(error), *key))
            return cur.rowcount == 1

    def dead_letter(self, lease: Lease, error: str) -> bool:
        key = (_row_id(lease.job_id), lease.token)
        with self._write() as cur:
            cur.execute(SQL_BURY_ONE, (clip_error(error), time.time(), *key))
            if cur.rowcount == 0:
                return False
            cur.execute(SQL_ACK, key)
            return True

    def extend(self, lease: Lease, visibility_timeout_s: float) -> Lease | None:
        check_timeout(visibility_timeout_s)
        with self._write() as cur:
            deadline = time.time() + visibility_timeout_s
            cur.execute(SQL_EXTEND, (deadline, _row_id(lease.job_id), lease.token))
            held = cur.rowcount == 1
        return dataclasses.replace(lease, deadline=deadline) if held else None

    def depth(self, queue: str) -> Depth:
        # One statement reads one snapshot, so the four counts agree with each other.
        with self._read() as conn:
            row = conn.execute(SQL_DEPTH, {"q": queue, "now": time.time()}).fetchone()
        return Depth(*row)

    def dead_letters(self, queue: str, limit: int = 100, offset: int = 0) -> list[DeadJob]:
        check_page(limit, offset)
        with self._read() as conn:
            rows = conn.execute(SQL_DEAD_LIST, (queue, limit, offset)).fetchall()
        return [DeadJob(str(i), q, p, a, m, e, d) for i, q, p, a, m, e, d in rows]

    def replay(self, job_id: str) -> bool:
        row_id = _row_id(job_id)
        if row_id is None:
            return False
        with self._write() as cur:
            cur.execute(SQL_REPLAY, (time.time(), row_id))
            if cur.rowcount == 0:
                return False
            cur.execute(SQL_DEAD_DELETE, (row_id,))
            return True

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction; IMMEDIATE takes the write lock up front (no upgrade deadlock)."""
        with self._lock, _translate():
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.rollback()
                raise

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, _translate():
            yield self._conn


@contextlib.contextmanager
def _translate() -> Iterator[None]:
    """sqlite3 errors → our errors, at the boundary (see errors.py conventions)."""
    try:
        yield
    except sqlite3.ProgrammingError as exc:  # closed connection, bad bindings
        raise QueueError(f"sqlite: {exc}") from exc
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF in _UNAVAILABLE:
            raise QueueUnavailableError(str(exc), "sqlite") from exc
        raise QueueError(f"sqlite: {exc}") from exc


def _row_id(job_id: str) -> int | None:
    """Our job ids are decimal rowids; anything else (or too big for SQLite) names no job here."""
    return int(job_id) if job_id.isascii() and job_id.isdigit() and len(job_id) <= 18 else None
