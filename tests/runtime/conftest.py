"""A Runtime living on its own event loop thread, shared by a test module, so a suite
can show that one pool keeps serving after each hostile function."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

import appfn.runtime.js  # noqa: F401  (V8 starts on the main thread: the runtime transpiles TypeScript)
from appfn.runtime.limits import FunctionCode, InvocationResult, Limits
from appfn.runtime.pool import Runtime


class RuntimeThread:
    def __init__(self, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runtime: Runtime = self.call(self._make(options))

    async def _make(self, options: dict[str, Any]) -> Runtime:
        runtime = Runtime(**options)
        await runtime.start()
        return runtime

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def invoke(
        self, source: str, context: dict[str, Any] | None = None, filename: str = "handler.py", **limits: Any
    ) -> InvocationResult:
        code = FunctionCode(source, filename)
        return self.call(self.runtime.invoke(code, context or make_context(), Limits(**limits)))

    def worker_pids(self) -> list[int]:
        """Every process of every worker this runtime holds (bwrap's and the interpreter's), spares too."""
        rt = self.runtime
        tops = [w.pid for w in [*rt.idle_workers(), *(s for ws in rt._spares.values() for s in ws)] if w.pid]
        return [p for top in tops for p in (top, *descendants(top))]

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time used so far by each of those processes, every thread included."""
        return {pid: _cpu(pid) for pid in self.worker_pids()}

    def idle_cpu(self, seconds: float = 0.4) -> float:
        """CPU the workers burn over ``seconds`` while nothing runs, once spares have started."""
        deadline = time.monotonic() + 30
        while any(self.runtime._spare_tasks.values()) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # a thrown-away context gets a moment to close
        before = self.cpu_seconds()
        time.sleep(seconds)
        after = self.cpu_seconds()
        return sum(after[pid] - before[pid] for pid in after.keys() & before.keys())

    def close(self) -> None:
        self.call(self.runtime.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def make_context(data: dict[str, Any] | None = None, event: str = "customer.created") -> dict[str, Any]:
    return {
        "payload": {"event": event, "merchant": 1305146709, "created_at": "Tue Jan 25 2022", "data": data or {}},
        "settings": {"crmApiUrl": "https://crm.example"},
        "merchant": {"id": 1305146709},
    }


@pytest.fixture(scope="module")
def rt() -> Iterator[RuntimeThread]:
    runtime = RuntimeThread(idle_ttl_s=300)
    yield runtime
    runtime.close()
