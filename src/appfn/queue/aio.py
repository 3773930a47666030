"""``AsyncBroker``: the broker contract for asyncio code (the API server, async workers).

Each call runs the sync broker in a worker thread (``asyncio.to_thread``). Backends are
thread-safe, calls are short, and a lock wait or a network stall then costs a thread, not the
event loop. Semantics are exactly those of ``appfn.queue.base.Broker``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from appfn.queue.base import Broker, DeadJob, Depth, Lease, NewJob


class AsyncBroker:
    """Awaitable twin of a ``Broker``; see ``Broker`` for what each method promises."""

    def __init__(self, broker: Broker) -> None:
        self.sync = broker

    async def enqueue(self, jobs: Sequence[NewJob]) -> list[str]:
        return await asyncio.to_thread(self.sync.enqueue, jobs)

    async def lease(self, queue: str, worker_id: str, limit: int, visibility_timeout_s: float) -> list[Lease]:
        return await asyncio.to_thread(self.sync.lease, queue, worker_id, limit, visibility_timeout_s)

    async def ack(self, leases: Sequence[Lease]) -> int:
        return await asyncio.to_thread(self.sync.ack, leases)

    async def nack(self, lease: Lease, delay_s: float = 0.0, error: str = "") -> bool:
        return await asyncio.to_thread(self.sync.nack, lease, delay_s, error)

    async def dead_letter(self, lease: Lease, error: str) -> bool:
        return await asyncio.to_thread(self.sync.dead_letter, lease, error)

    async def extend(self, lease: Lease, visibility_timeout_s: float) -> Lease | None:
        return await asyncio.to_thread(self.sync.extend, lease, visibility_timeout_s)

    async def depth(self, queue: str) -> Depth:
        return await asyncio.to_thread(self.sync.depth, queue)

    async def dead_letters(self, queue: str, limit: int = 100, offset: int = 0) -> list[DeadJob]:
        return await asyncio.to_thread(self.sync.dead_letters, queue, limit, offset)

    async def replay(self, job_id: str) -> bool:
        return await asyncio.to_thread(self.sync.replay, job_id)

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)
