"""Fixtures for the queue tests: one ``make_broker`` factory per backend.

Redis is the real server at APPFN_TEST_REDIS_URL (default redis://127.0.0.1:6379/0). When it
is unreachable the Redis cases skip on a laptop but FAIL under CI=true, so CI never passes by
silently testing less. Each test gets its own key prefix, deleted afterwards.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from appfn.queue import Broker, open_broker

REDIS_URL = os.environ.get("APPFN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = ["sqlite", "redis"]

BrokerFactory = Callable[..., Broker]
WORKER_SCRIPT = Path(__file__).with_name("queue_worker.py")


def require_redis() -> Any:
    """Return a redis-py client for REDIS_URL, or skip (locally) / fail (CI) if there is none."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
    except Exception as exc:
        message = f"Redis not usable at {REDIS_URL}: {type(exc).__name__}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return client


@pytest.fixture
def redis_client() -> Iterator[Any]:
    """A redis-py client on the test Redis (skips locally / fails in CI when there is none)."""
    client = require_redis()
    yield client
    client.close()


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_client: Any) -> Iterator[str]:
    """A fresh key prefix on the test Redis; every key under it is deleted after the test."""
    prefix = f"appfn-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        redis_client.delete(*keys)


def broker_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    prefix = request.getfixturevalue("redis_prefix")
    return f"{REDIS_URL}?prefix={prefix}"


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty store for each backend; every broker opened on it shares the data."""
    return broker_url(request.param, tmp_path, request)


@pytest.fixture
def make_broker(backend_url: str) -> Iterator[BrokerFactory]:
    """Open brokers on the test store (``options`` as for open_broker); all closed at teardown."""
    opened: list[Broker] = []

    def make(**options: Any) -> Broker:
        broker = open_broker(backend_url, **options)
        opened.append(broker)
        return broker

    yield make
    for broker in opened:
        broker.close()


@pytest.fixture
def broker(make_broker: BrokerFactory) -> Broker:
    return make_broker()


class WorkerProcess:
    """queue_worker.py in a child process; its stdout lines are read by a thread."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[tuple[str, list[str]]] = []
        self._collected = False
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def expect(self, word: str, timeout: float = 30.0) -> list[str]:
        """Wait for the next line starting with ``word``; return the rest of it, split."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(f"worker exited with {self.proc.wait()}: {self._stderr()}")
            kind, _, rest = line.partition(" ")
            self.events.append((kind, rest.split()))
            if kind == word:
                return rest.split()

    def finish(self, timeout: float = 60.0) -> list[tuple[str, list[str]]]:
        """Wait for a clean exit and return every event the worker reported."""
        code = self.proc.wait(timeout)
        self._collect_rest()
        assert code == 0, self._stderr()
        return self.events

    def ids(self, kind: str) -> list[str]:
        return [job_id for seen, ids in self.events if seen == kind for job_id in ids]

    def kill(self) -> None:
        """SIGKILL, then record every line it printed before dying."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._collect_rest()

    def _collect_rest(self) -> None:
        if self._collected:
            return
        while (line := self._lines.get(timeout=10)) is not None:
            kind, _, rest = line.partition(" ")
            self.events.append((kind, rest.split()))
        self._collected = True

    def _stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read()


@pytest.fixture
def spawn_worker() -> Iterator[Callable[..., WorkerProcess]]:
    """Start queue_worker.py processes; any still running at teardown are killed."""
    started: list[WorkerProcess] = []

    def spawn(*args: str) -> WorkerProcess:
        worker = WorkerProcess(*args)
        started.append(worker)
        return worker

    yield spawn
    for worker in started:
        worker.kill()
