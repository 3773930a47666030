"""Warm pools of sandboxed workers, one pool per function version.

A worker serves one invocation at a time and stays warm afterwards, like a reused
container: module-level state of a function survives between invocations *of the same
version*, never across versions or apps. Pools grow on demand up to
``max_workers_per_function``; all pools together hold at most ``max_workers`` processes
(the least recently used idle worker of another function makes room). Workers idle for
``idle_ttl_s`` are stopped, so a thousand deployed functions cost nothing while quiet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from appfn.errors import HandlerLoadError, SandboxError
from appfn.runtime import sandbox as sb
from appfn.runtime.limits import FunctionCode, InvocationResult, Limits
from appfn.runtime.process import FetchFn, NotStarted, WorkerDied, WorkerProcess, reap_all

log = logging.getLogger(__name__)


@dataclass
class _Pool:
    idle: list[WorkerProcess] = field(default_factory=list)
    busy: list[WorkerProcess] = field(default_factory=list)  # running at least one invocation
    starting: int = 0
    # Callers waiting for a worker, first come first served: a caller that has just checked a
    # worker in must not take it again ahead of those already waiting (measured: with 4 callers
    # on 2 workers, two callers starved for 20 s).
    queue: deque[asyncio.Event] = field(default_factory=deque)


async def _no_egress(request: dict[str, Any], deadline: float) -> dict[str, Any]:
    return {"error": {"kind": "egress_denied", "message": "outbound HTTP is disabled for this invocation"}}


class Runtime:
    """Runs Python, TypeScript and JavaScript functions in sandboxed worker processes.

    Use as ``async with Runtime() as rt: result = await rt.invoke(code, context, limits)``.

    ``spare_workers`` blank workers are kept started for each runtime in ``spare_runtimes``
    (``python``, ``js``): a JS spare has V8 started and a blank context made, which a Python
    worker cannot carry (V8's address-space reservations rule out its RLIMIT_AS), so each
    runtime has its own. TypeScript is transpiled here, before a worker is bound, and cached
    by source (``appfn.runtime.js.transpile``).
    """

    def __init__(
        self,
        sandbox: str = "auto",
        max_workers: int | None = None,
        max_workers_per_function: int = 2,
        idle_ttl_s: float = 60.0,
        spare_workers: int = 1,
        spare_runtimes: tuple[str, ...] = ("python", "js"),
        prefetch: int = 1,
    ) -> None:
        self.sandbox = sb.resolve_sandbox(sandbox)
        self.max_workers = max_workers or max(4, 4 * (os.cpu_count() or 1))
        self.max_workers_per_function = max_workers_per_function
        self.idle_ttl_s = idle_ttl_s
        self.spare_workers = spare_workers
        self.prefetch = prefetch  # invocations a busy worker may hold behind its running one (queue=True)
        unknown = set(spare_runtimes) - {"python", "js"}
        if unknown:
            raise ValueError(f"spare_runtimes: unknown runtime(s) {sorted(unknown)}; expected python, js")
        self.spare_runtimes = tuple(spare_runtimes)
        self._spares: dict[str, list[WorkerProcess]] = {r: [] for r in ("python", "js")}
        self._spare_tasks: dict[str, set[asyncio.Task[None]]] = {r: set() for r in ("python", "js")}
        self._pools: dict[tuple[str, int, int], _Pool] = {}
        self._total = 0
        self._reaper: asyncio.Task[None] | None = None
        self._warmup: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def worker_count(self) -> int:
        return self._total

    def idle_workers(self) -> list[WorkerProcess]:
        return [w for pool in self._pools.values() for w in pool.idle]

    async def invoke(
        self,
        code: FunctionCode,
        context: dict[str, Any],
        limits: Limits | None = None,
        fetch: FetchFn | None = None,
        *,
        queue: bool = False,
    ) -> InvocationResult:
        """Run ``code``'s handler on ``context``; never raises for anything the function did.

        ``queue=True`` (throughput over latency, the async dispatcher's choice): when every
        worker the function may have is busy, the invocation may be handed to one of them at
        once, to run as soon as the current one has answered (up to ``prefetch`` waiting per
        worker), so that the worker does not wait for the platform between invocations. Its
        timeout starts when it starts. If that worker dies or is stopped first, it runs on
        another worker, not queued this time.
        """
        limits = limits or Limits()
        started = time.monotonic()
        deadline = started + limits.timeout_s
        while True:
            try:
                return await self._invoke_once(code, context, limits, fetch, started, deadline, queue)
            except NotStarted as exc:
                deadline, queue = time.monotonic() + exc.budget_s, False

    async def _invoke_once(
        self,
        code: FunctionCode,
        context: dict[str, Any],
        limits: Limits,
        fetch: FetchFn | None,
        started: float,
        deadline: float,
        queue: bool,
    ) -> InvocationResult:
        try:
            worker = await self._checkout(code, limits, queue)
        except HandlerLoadError as exc:
            # (JS errors start with "handler.ts:3:14: ..." already.)
            said = exc.line is None or str(exc).startswith(f"{code.filename}:{exc.line}")
            where = "" if said else f" (line {exc.line})"
            return _failure(started, f"the function failed to load{where}: {exc}", "load")
        except SandboxError as exc:
            return _failure(started, str(exc), "crash")
        healthy = False
        startup_ms = (time.monotonic() - started) * 1000 if worker.invocations == 0 else 0.0
        try:
            frame = await worker.invoke(context, fetch or _no_egress, deadline, limits)
            healthy = not frame.get("recycle")
            result = _from_frame(frame, started)
        except WorkerDied as exc:
            result = _failure(started, str(exc), exc.kind)
        except NotStarted:
            startup_ms = 0.0
            raise
        except asyncio.CancelledError:
            # Cancelled while running: the worker was stopped with it (below, if not already).
            # Cancelled while queued behind another invocation: that one carries on.
            healthy = worker.alive
            raise
        finally:
            self._checkin(code, limits, worker, healthy)
            if startup_ms:
                # Only now: a spare starting up would compete with this cold start for the CPU.
                self._refill_spares()
        result.startup_ms = startup_ms
        return result

    async def warm(self, code: FunctionCode, limits: Limits | None = None) -> None:
        """Start one worker for ``code`` ahead of its first invocation (raises HandlerLoadError)."""
        limits = limits or Limits()
        worker = await self._checkout(code, limits)
        self._checkin(code, limits, worker, True)
        self._refill_spares()

    async def _checkout(self, code: FunctionCode, limits: Limits, queue: bool = False) -> WorkerProcess:
        self._ensure_started()
        pool = self._pools.setdefault(_pool_key(code, limits), _Pool())
        # Each caller waits on its own ticket; only the head of a pool's line is woken when
        # something changes (waking every waiter cost O(waiters) task switches per checkin).
        # No lock: nothing below awaits between looking at the pool and changing it.
        ticket = asyncio.Event()
        pool.queue.append(ticket)
        try:
            while True:
                if pool.queue[0] is ticket:
                    while pool.idle:
                        worker = pool.idle.pop()
                        if worker.alive:
                            pool.busy.append(worker)
                            worker.checked_out += 1
                            return worker
                        worker.kill()
                        self._total -= 1
                    room = len(pool.busy) + pool.starting < self.max_workers_per_function
                    if room and (self._total < self.max_workers or self._evict_idle()):
                        break
                    if queue and self.prefetch > 0:
                        # Behind the least loaded busy worker that has room in its line.
                        ready = [w for w in pool.busy if w.alive and w.checked_out <= self.prefetch]
                        if ready:
                            worker = min(ready, key=lambda w: w.checked_out)
                            worker.checked_out += 1
                            return worker
                ticket.clear()
                await ticket.wait()
            pool.starting += 1
            self._total += 1
        finally:
            pool.queue.remove(ticket)
            if pool.queue:
                self._notify()  # the next in line looks again
        try:
            # TypeScript/JavaScript is transpiled before a blank worker is taken (a syntax error
            # costs none); the transpiler caches by source, so a version's later workers reuse it.
            js = await _transpiled(code) if code.runtime == "js" else None
            worker = await self._blank_worker(code.runtime, limits.tmp_mb)
            await worker.bind(code, limits, js)
        except BaseException:
            self._refill_spares()
            pool.starting -= 1
            self._total -= 1
            self._notify()
            raise
        pool.starting -= 1
        pool.busy.append(worker)
        worker.checked_out += 1
        return worker

    async def _blank_worker(self, runtime: str, tmp_mb: int) -> WorkerProcess:
        """A spawned, unbound worker of ``runtime``: the spare when it fits (waiting for one
        being spawned rather than racing it for the CPU), else a new one."""
        spares, tasks = self._spares[runtime], self._spare_tasks[runtime]
        if tmp_mb == Limits().tmp_mb:
            while spares or tasks:
                if not spares:
                    await asyncio.wait(set(tasks))
                    continue
                spare = spares.pop()
                if spare.alive:
                    return spare
                spare.kill()
        worker = WorkerProcess(self.sandbox, tmp_mb, runtime)
        await worker.spawn()
        return worker

    def spares(self, runtime: str = "python") -> int:
        """How many blank workers of ``runtime`` are ready now."""
        return len(self._spares[runtime])

    def _refill_spares(self) -> None:
        loop = asyncio.get_running_loop()
        for runtime in self.spare_runtimes:
            tasks = self._spare_tasks[runtime]
            while len(self._spares[runtime]) + len(tasks) < self.spare_workers:
                task = loop.create_task(self._spawn_spare(runtime))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def _spawn_spare(self, runtime: str) -> None:
        worker = WorkerProcess(self.sandbox, Limits().tmp_mb, runtime)
        try:
            await worker.spawn()
            # Stop counting this task as "spawning" the moment its worker is a spare: the done
            # callback runs later, and a refill in between would otherwise see one too many.
            self._spare_tasks[runtime].discard(asyncio.current_task())  # type: ignore[arg-type]
            self._spares[runtime].append(worker)
        except asyncio.CancelledError:
            worker.kill()
            raise
        except Exception as exc:  # a failed spare only costs the next cold start, but say why
            worker.kill()
            log.warning("could not start a spare %s worker: %s", runtime, exc)

    def _checkin(self, code: FunctionCode, limits: Limits, worker: WorkerProcess, healthy: bool) -> None:
        pool = self._pools[_pool_key(code, limits)]
        worker.checked_out -= 1
        if worker in pool.busy:  # (not when an earlier checkin of a call on it stopped it)
            if not healthy or not worker.alive:
                pool.busy.remove(worker)
                worker.kill()  # those queued behind on it raise NotStarted and run elsewhere
                self._total -= 1
            elif worker.checked_out == 0:
                pool.busy.remove(worker)
                pool.idle.append(worker)
        self._notify()

    def _evict_idle(self) -> bool:
        """Stop the least recently used idle worker of any pool; False when there is none."""
        candidates = [(w.last_used, key) for key, p in self._pools.items() for w in p.idle]
        if not candidates:
            return False
        _, key = min(candidates)
        pool = self._pools[key]
        victim = min(pool.idle, key=lambda w: w.last_used)
        pool.idle.remove(victim)
        victim.kill()
        self._total -= 1
        return True

    def _notify(self) -> None:
        """Something changed (a worker checked in, stopped, or a slot freed): the first caller
        in each pool's line looks again. Those behind it wait for their turn at the head."""
        for pool in self._pools.values():
            if pool.queue:
                pool.queue[0].set()

    def _ensure_started(self) -> None:
        if self._reaper is None or self._reaper.done():
            loop = asyncio.get_running_loop()
            self._reaper = loop.create_task(self._reap_idle())
            self._refill_spares()
            if "js" in self.spare_runtimes and self.spare_workers > 0 and self._warmup is None:
                self._warmup = loop.create_task(_warm_transpiler())

    async def start(self) -> None:
        """Start the spare worker now, so the first invocation does not pay for spawning it."""
        self._ensure_started()

    async def _reap_idle(self) -> None:
        while True:
            await asyncio.sleep(max(0.05, min(self.idle_ttl_s / 2, 5.0)))
            self.shrink()

    def shrink(self, now: float | None = None) -> int:
        """Stop workers idle for longer than ``idle_ttl_s``; returns how many were stopped."""
        now = time.monotonic() if now is None else now
        stopped = 0
        for key, pool in list(self._pools.items()):
            for worker in [w for w in pool.idle if now - w.last_used >= self.idle_ttl_s]:
                pool.idle.remove(worker)
                worker.kill()
                self._total -= 1
                stopped += 1
            if not pool.idle and not pool.busy and not pool.starting and not pool.queue:
                del self._pools[key]
        if stopped:
            self._notify()
        return stopped

    async def close(self) -> None:
        for task in [t for tasks in self._spare_tasks.values() for t in tasks]:
            task.cancel()
        if self._warmup is not None and not self._warmup.done():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._warmup
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        spares = [w for workers in self._spares.values() for w in workers]
        workers = [*spares, *(w for pool in self._pools.values() for w in pool.idle)]
        for kept in self._spares.values():
            kept.clear()
        self._pools.clear()
        self._total = 0
        for worker in workers:
            worker.kill()
        await reap_all()


def _pool_key(code: FunctionCode, limits: Limits) -> tuple[str, int, int]:
    return (code.key, limits.memory_mb, limits.tmp_mb)


async def _warm_transpiler() -> None:
    """Start sucrase now (about 40 ms, once per process) rather than in the first cold start."""
    from appfn.runtime.jsload import transpile_for_worker, v8_started

    if v8_started():  # never start V8 from here: this may not be the main thread
        with contextlib.suppress(Exception):
            await transpile_for_worker("export default async (context) => {\n  return Resp.success();\n};\n", "w.js")


async def _transpiled(code: FunctionCode) -> str:
    """The JS a worker runs for TypeScript/JavaScript ``code``; HandlerLoadError names line and column."""
    from appfn.runtime.jsload import transpile_for_worker

    return await transpile_for_worker(code.source, code.filename)


def _failure(started: float, error: str, kind: str) -> InvocationResult:
    return InvocationResult("failure", None, (time.monotonic() - started) * 1000, [], error, kind)


def _from_frame(frame: dict[str, Any], started: float) -> InvocationResult:
    duration = (time.monotonic() - started) * 1000
    response = frame.get("response")
    console = [str(line) for line in frame.get("console") or []]
    error = frame.get("error")
    if response is not None and not isinstance(response, dict):
        response, error = None, "the worker returned a malformed response"
    ok = bool(response and response.get("success") is True and not error)
    if response is not None and not response.get("success") and not error:
        error = response.get("error") or response.get("message")
    return InvocationResult(
        "success" if ok else "failure", response, duration, console, error, frame.get("error_kind")
    )
