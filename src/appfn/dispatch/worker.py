"""The async path: lease jobs, run each job's function, record the execution, then ack,
retry later (exponential backoff with jitter) or dead-letter.

Delivery is at least once: a job leased by a process that dies is leased again when its
visibility timeout passes. Results are written in batches (one transaction for many
executions, one ack for many jobs) so the database is not the bottleneck.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from appfn import metrics, store
from appfn.dispatch.invoker import Invoker
from appfn.dispatch.jobs import JOBS_QUEUE, Job
from appfn.dispatch.retry import RetryPolicy
from appfn.errors import AppFnError
from appfn.queue.base import Broker, Lease
from appfn.runtime.limits import InvocationResult

log = logging.getLogger(__name__)


@dataclass
class _Done:
    lease: Lease
    job: Job | None
    target: store.Target | None
    result: InvocationResult | None
    started: datetime
    problem: str | None = None  # the job could not run at all (bad payload, gone installation)


class Dispatcher:
    def __init__(
        self,
        db: store.Database,
        broker: Broker,
        invoker: Invoker,
        *,
        concurrency: int,
        retry: RetryPolicy,
        timeout_s: float,
        lease_timeout_s: float,
    ) -> None:
        self.db = db
        self.broker = broker
        self.invoker = invoker
        self.directory = invoker.directory
        self.concurrency = concurrency
        self.retry = retry
        self.timeout_s = timeout_s
        self.lease_timeout_s = lease_timeout_s
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # set when enough invocations finished to lease a batch
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._done: list[_Done] = []
        self._flushed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        # Every job leased and not settled yet: its lease and when it was last renewed (monotonic).
        self._held: dict[str, tuple[Lease, float]] = {}
        self._heartbeat: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """New jobs are in the queue: lease now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._heartbeat = loop.create_task(self._keep_leases())
        self._tasks = [loop.create_task(self._lease_loop()), loop.create_task(self._flush_loop()), self._heartbeat]

    async def stop(self, grace_s: float) -> None:
        """Stop leasing; let running invocations finish within ``grace_s``; record them.

        Invocations still running after the grace period are abandoned unrecorded: their jobs
        stay leased and are leased again after the visibility timeout (so nothing is lost).
        """
        self._stopping.set()
        self._wake.set()
        self._room.set()
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=grace_s)
        if self._heartbeat is not None:
            self._heartbeat.cancel()  # what is abandoned now must expire, not be renewed
        for task in list(self._inflight):
            task.cancel()
        await self._flush()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _lease_loop(self) -> None:
        idle_poll = 0.02
        while not self._stopping.is_set():
            free = self.concurrency - len(self._inflight)
            # Lease in batches: one lease call per finished job would cost more than the jobs.
            if free < self._batch and self._inflight:
                self._room.clear()
                await self._room.wait()
                continue
            try:
                leases = await asyncio.to_thread(
                    self.broker.lease, JOBS_QUEUE, self.worker_id, free, self.lease_timeout_s
                )
            except AppFnError as exc:
                log.warning("leasing jobs failed: %s", exc)
                leases = []
            leased_at = time.monotonic()
            for lease in leases:
                self._held[lease.job_id] = (lease, leased_at)
                task = asyncio.get_running_loop().create_task(self._run(lease))
                self._inflight.add(task)
                task.add_done_callback(self._ended)
            if not leases:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), idle_poll)
                idle_poll = min(idle_poll * 2, 0.5)
            else:
                idle_poll = 0.02

    @property
    def _batch(self) -> int:
        return max(1, self.concurrency // 2)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if self.concurrency - len(self._inflight) >= self._batch:
            self._room.set()

    async def _run(self, lease: Lease) -> None:
        try:
            await self._run_job(lease)
        except asyncio.CancelledError:  # abandoned at stop: the lease expires, the job runs again
            self._release(lease)
            raise
        except Exception:  # a bug, not the function's doing: let the lease expire and retry the job
            self._release(lease)
            log.exception("running job %s failed", lease.job_id)

    async def _run_job(self, lease: Lease) -> None:
        started = datetime.now(UTC)
        try:
            job = Job.decode(lease.payload)
        except (ValueError, KeyError, TypeError) as exc:
            self._finish(_Done(lease, None, None, None, started, f"unreadable job payload: {exc}"))
            return
        try:
            target = self.directory.cached_target(job.installation_id, job.function_version_id, job.event.trigger)
            target = target or await asyncio.to_thread(self._target, job)
        except AppFnError as exc:
            self._finish(_Done(lease, job, None, None, started, str(exc)))
            return
        result = await self.invoker.invoke(job.event, target, self.timeout_s, queue=True)
        self._finish(_Done(lease, job, target, result, started))

    def _target(self, job: Job) -> store.Target:
        return self.directory.target(job.installation_id, job.function_version_id, job.event.trigger)

    def _finish(self, done: _Done) -> None:
        self._done.append(done)
        if len(self._done) >= 256:
            self._flushed.set()

    async def _flush_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flushed.wait(), 0.025)
            self._flushed.clear()
            try:
                await self._flush()
            except Exception:  # keep dispatching; the leases will be retried
                log.exception("recording executions failed")

    async def _keep_leases(self) -> None:
        """Heartbeat: renew the lease of every job still here (waiting in its function's line
        or running) once a third of the visibility timeout has passed since it was last renewed,
        so that only the jobs of a process that died are leased again, never one that is merely
        waiting its turn. Checked every sixth of the timeout: a failed renewal is tried again
        well before the lease runs out."""
        age = self.lease_timeout_s / 3
        while True:
            await asyncio.sleep(age / 2)
            due = time.monotonic() - age
            stale = [lease for lease, renewed in list(self._held.values()) if renewed <= due]
            if not stale:
                continue
            try:
                renewed, failed = await asyncio.to_thread(self._renew, stale)
            except Exception:  # keep the heartbeat going whatever happened
                log.exception("renewing %d leases failed", len(stale))
                continue
            if failed:
                log.warning("renewing %d of %d leases failed: %s", len(failed), len(stale), failed[0])
            now = time.monotonic()
            for old, new in renewed:
                held = self._held.get(old.job_id)
                if held is None or held[0].token != old.token:
                    continue  # settled meanwhile, or leased again under a new token
                if new is None:
                    del self._held[old.job_id]  # settled, or lost to another process: not ours to renew
                else:
                    self._held[old.job_id] = (new, now)

    def _renew(self, leases: list[Lease]) -> tuple[list[tuple[Lease, Lease | None]], list[AppFnError]]:
        renewed: list[tuple[Lease, Lease | None]] = []
        failed: list[AppFnError] = []
        for lease in leases:
            try:
                renewed.append((lease, self.broker.extend(lease, self.lease_timeout_s)))
            except AppFnError as exc:  # this one is tried again at the next check
                failed.append(exc)
        return renewed, failed

    def _release(self, lease: Lease) -> None:
        """Stop renewing ``lease`` (not a later lease of the same job)."""
        held = self._held.get(lease.job_id)
        if held is not None and held[0].token == lease.token:
            del self._held[lease.job_id]

    async def _flush(self) -> None:
        if not self._done:
            return
        batch, self._done = self._done, []
        try:
            await asyncio.to_thread(self._record_and_settle, batch)
        finally:  # settled, or left to expire and run again if settling failed: no more renewals
            for d in batch:
                self._release(d.lease)

    def _record_and_settle(self, batch: list[_Done]) -> None:
        """Record every execution in one transaction, then settle each lease."""
        rows = [row for row in (self._execution(d) for d in batch) if row is not None]
        if rows:
            with self.db.session() as session:
                store.record_executions(session, rows)
        succeeded = [d.lease for d in batch if d.result is not None and d.result.ok]
        if succeeded:
            self.broker.ack(succeeded)
        for d in batch:
            if d.result is not None and d.result.ok:
                continue
            error = d.problem or (d.result.error if d.result else None) or "failed"
            if d.problem is not None and d.job is None:
                self.broker.dead_letter(d.lease, error)
            elif d.problem is not None:
                self.broker.ack([d.lease])  # the installation or version is gone: nothing to retry
            elif self.retry.should_retry(d.lease.attempt) and not d.lease.is_last_attempt:
                self.broker.nack(d.lease, self.retry.delay(d.lease.attempt), error)
                metrics.RETRIES.labels(d.job.event.trigger if d.job else "").inc()
            else:
                self.broker.dead_letter(d.lease, error)
                metrics.DEAD_LETTERS.labels(d.job.event.trigger if d.job else "").inc()

    def _execution(self, d: _Done) -> store.NewExecution | None:
        if d.job is None or d.target is None:
            return None
        result = d.result
        assert result is not None
        final_failure = not result.ok and (
            not self.retry.should_retry(d.lease.attempt) or d.lease.is_last_attempt
        )
        status = "success" if result.ok else ("timeout" if result.error_kind == "timeout" else "failure")
        if final_failure:
            status = "dead"
        return store.NewExecution(
            app_id=d.target.app_id,
            partner_id=d.target.partner_id,
            store_id=d.target.store_id,
            trigger=d.job.event.trigger,
            status=status,
            event_id=d.job.event.id,
            function_id=d.target.function_id,
            function_version_id=d.target.function_version_id,
            installation_id=d.target.installation_id,
            attempt=d.lease.attempt,
            response=result.response,
            error=result.error,
            error_kind=result.error_kind,
            console=result.console,
            requests=result.requests,
            duration_ms=result.duration_ms,
            created_at=d.started,  # executions sort by when they ran, not when they were written
            started_at=d.started,
            finished_at=datetime.now(UTC),
            job_id=d.lease.job_id,
        )
