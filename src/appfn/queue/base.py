"""The broker contract: what every queue backend promises. The docstrings below ARE the spec.

Vocabulary
    job      one unit of work: a queue name, opaque payload bytes, an attempt budget.
    lease    a time-limited claim on a job by one worker. It carries a fencing ``token``; only
             the holder of the current token can ack, nack, extend or dead-letter the job.
    attempt  1-based count of leases granted for a job, counting the current one.

Job states (every backend)::

    enqueue ──► delayed ──(due)──► ready ──lease──► leased ──ack──► (gone)
                  ▲                  ▲                │
                  └──nack(delay>0)───┼────────────────┤ nack(delay=0) / lease expired
                                     │                │ nack on the last attempt,
                                     └──replay── dead ◄┘ dead_letter, expiry on the last attempt

Delivery is **at least once**: a job is leased again when its lease expires, so a handler may
run more than once and must be idempotent. Completion is **at most once**: of two workers that
held leases on the same job, only the holder of the newest lease can ack it (fencing).

Ordering: within one queue, jobs enqueued ready are first leased in enqueue order (FIFO),
within a batch and across calls, and ``lease`` returns them in that order. Delayed, retried,
replayed and redelivered jobs rejoin the line when they become due; nothing stronger is
promised about them, and nothing is promised across queues.

Time: delays and visibility timeouts are durations in seconds measured on the backend's clock
(SQLite: this host; Redis: the server). ``Lease.deadline`` is epoch seconds on that clock and
is informative; the backend decides expiry.

Sync by design: calls are short (SQLite: tens of µs per batch; Redis: one round trip), the
worker processes and the benchmarks are plain threads/processes, and one sync core is easier
to test. Async code wraps a broker in ``appfn.queue.aio.AsyncBroker``, which runs each call
in a thread so a busy SQLite lock or a slow network never stalls the event loop.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_DEDUPE_TTL_S = 24 * 3600.0
MAX_LEASE_BATCH = 1000
MAX_ERROR_CHARS = 8000  # a traceback is plenty; keeps dead-letter rows small
# Queue names become parts of Redis keys: no ':' (the separator), no spaces, bounded length.
QUEUE_NAME = re.compile(r"[A-Za-z0-9_./-]{1,200}")


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to enqueue.

    ``payload`` is opaque bytes: encoding lives above the queue. ``dedupe_key`` makes enqueue
    idempotent per queue: while the key is remembered (the broker's ``dedupe_ttl_s``, default
    24 h, counted from the first enqueue, whether or not the job has finished), enqueuing it
    again creates nothing and returns the first job's id. ``delay_s`` or an absolute
    ``available_at`` (epoch seconds; wins when given) keep the job invisible until due.
    ``max_attempts`` is the number of leases the job may get before it is dead-lettered.
    """

    queue: str  # 1-200 characters of A-Z a-z 0-9 _ . / -
    payload: bytes
    dedupe_key: str | None = None
    delay_s: float = 0.0
    available_at: float | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    def __post_init__(self) -> None:
        _check_queue(self.queue)
        if not isinstance(self.payload, bytes):
            raise TypeError(f"payload must be bytes, not {type(self.payload).__name__}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.delay_s < 0:
            raise ValueError(f"delay_s must be >= 0, got {self.delay_s}")
        if self.dedupe_key == "":
            raise ValueError("dedupe_key must be None or a non-empty string")

    def delay_from(self, now: float) -> float:
        """Seconds from ``now`` until the job is due (0 when due already)."""
        if self.available_at is not None:
            return max(0.0, self.available_at - now)
        return self.delay_s


@dataclass(frozen=True, slots=True)
class Lease:
    """A worker's claim on one job, valid until acked, nacked, dead-lettered or expired."""

    job_id: str
    queue: str
    payload: bytes
    attempt: int
    max_attempts: int
    token: str
    deadline: float

    @property
    def is_last_attempt(self) -> bool:
        """True when a nack now sends the job to the dead letters instead of retrying it."""
        return self.attempt >= self.max_attempts


@dataclass(frozen=True, slots=True)
class Depth:
    """Job counts of one queue at one instant. Expired leases count as ready."""

    ready: int
    delayed: int
    leased: int
    dead: int

    @property
    def pending(self) -> int:
        """Jobs not yet finished: everything except the dead."""
        return self.ready + self.delayed + self.leased


@dataclass(frozen=True, slots=True)
class DeadJob:
    """A job in the dead letters: its last error and how many attempts it used."""

    job_id: str
    queue: str
    payload: bytes
    attempts: int
    max_attempts: int
    error: str
    dead_at: float


class Broker(abc.ABC):
    """A durable job queue with leases, retries and dead letters.

    Implementations are safe to share between threads. Several processes (and for Redis,
    hosts) may open the same store at once. Errors from the store surface as
    ``QueueUnavailableError`` (unreachable, locked) or ``QueueError``. Bad arguments raise
    ``ValueError``/``TypeError``.
    """

    @abc.abstractmethod
    def enqueue(self, jobs: Sequence[NewJob]) -> list[str]:
        """Add jobs atomically, all or none, and return one job id per input, in order.

        A job whose ``dedupe_key`` is remembered for its queue (from an earlier call or
        earlier in the same batch) is not added; its slot in the result holds the existing
        job's id. Job ids are unique strings, never reused by the same store.
        """

    @abc.abstractmethod
    def lease(self, queue: str, worker_id: str, limit: int, visibility_timeout_s: float) -> list[Lease]:
        """Claim up to ``limit`` due jobs of ``queue`` for ``visibility_timeout_s`` seconds.

        Returns at once, possibly an empty list: callers poll. Each granted lease increments
        the job's attempt count and carries a fresh token. Jobs whose lease expired are due
        again; an expired job that already used its last attempt goes to the dead letters
        instead of being leased. ``limit`` is 1..MAX_LEASE_BATCH.
        """

    @abc.abstractmethod
    def ack(self, leases: Sequence[Lease]) -> int:
        """Complete the jobs (they are removed) and return how many leases were still held.

        A stale lease (its job was leased again, finished or dead-lettered) is skipped
        without error: fencing means a job completes once even if two workers ran it.
        A lease past its deadline whose job nobody re-leased is still held.
        """

    @abc.abstractmethod
    def nack(self, lease: Lease, delay_s: float = 0.0, error: str = "") -> bool:
        """Give the job back to be retried after ``delay_s``; False if the lease was stale.

        On the last attempt (``lease.is_last_attempt``) the job goes to the dead letters with
        ``error`` instead. ``error`` is kept (truncated to MAX_ERROR_CHARS) for the dead letter.
        """

    @abc.abstractmethod
    def dead_letter(self, lease: Lease, error: str) -> bool:
        """Move the job to the dead letters now, attempts left or not; False if stale."""

    @abc.abstractmethod
    def extend(self, lease: Lease, visibility_timeout_s: float) -> Lease | None:
        """Heartbeat: reset the lease to expire ``visibility_timeout_s`` from now.

        Returns the lease with its new deadline (same token), or None when the lease is
        stale, in which case the worker should stop: another worker owns the job.
        """

    @abc.abstractmethod
    def depth(self, queue: str) -> Depth:
        """Count ready, delayed, leased and dead jobs of ``queue``, from one snapshot."""

    @abc.abstractmethod
    def dead_letters(self, queue: str, limit: int = 100, offset: int = 0) -> list[DeadJob]:
        """List dead jobs of ``queue``, most recently dead first, for paging with offset.

        ``limit`` and ``offset`` are >= 0; an unknown queue has no dead letters.
        """

    @abc.abstractmethod
    def replay(self, job_id: str) -> bool:
        """Move a dead job back to ready with its attempt count reset; same job id.

        Returns False when ``job_id`` is not in the dead letters.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. Idempotent; do not use the broker afterwards."""

    def __enter__(self) -> Broker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# Argument checks shared by backends: same messages everywhere.


def check_lease_args(queue: str, worker_id: str, limit: int, visibility_timeout_s: float) -> None:
    _check_queue(queue)
    if not worker_id:
        raise ValueError("worker_id must be a non-empty string")
    if not 1 <= limit <= MAX_LEASE_BATCH:
        raise ValueError(f"limit must be 1..{MAX_LEASE_BATCH}, got {limit}")
    check_timeout(visibility_timeout_s)


def check_timeout(visibility_timeout_s: float) -> None:
    if not visibility_timeout_s > 0:
        raise ValueError(f"visibility_timeout_s must be > 0, got {visibility_timeout_s}")


def check_delay(delay_s: float) -> None:
    if delay_s < 0:
        raise ValueError(f"delay_s must be >= 0, got {delay_s}")


def clip_error(error: str) -> str:
    return error if len(error) <= MAX_ERROR_CHARS else error[: MAX_ERROR_CHARS - 3] + "..."


def check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must be >= 0, got limit={limit} offset={offset}")


def _check_queue(queue: str) -> None:
    if not isinstance(queue, str) or not QUEUE_NAME.fullmatch(queue):
        raise ValueError(f"queue name must be 1-200 of A-Z a-z 0-9 _ . / -, got {queue!r}")
