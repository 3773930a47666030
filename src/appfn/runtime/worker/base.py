"""What every worker shares: frames to the platform, and ``fetch`` calls that travel over them."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from appfn.runtime.protocol import encode


class FrameWorker:
    """A bound worker. Subclasses answer ``invoke`` frames with exactly one ``result`` frame."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.counter = itertools.count(1)

    def send(self, message: dict[str, Any]) -> None:
        self.writer.write(encode(message))

    async def fetch(self, request: dict[str, Any]) -> dict[str, Any]:
        """Have the platform perform one HTTP request (wire format of ``appfn.sdk.fetch``)."""
        n = next(self.counter)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[n] = future
        self.send({"t": "fetch", "n": n, "request": request})
        try:
            return await future
        finally:
            self.pending.pop(n, None)

    def fetch_result(self, message: dict[str, Any]) -> None:
        future = self.pending.get(message.get("n", -1))
        if future is not None and not future.done():
            future.set_result(message.get("response") or {})

    async def invoke(self, message: dict[str, Any]) -> None:
        raise NotImplementedError


async def send_load_error(writer: asyncio.StreamWriter, error: str, line: int | None) -> None:
    writer.write(encode({"t": "load_error", "error": error, "line": line}))
    await writer.drain()
