"""A Runtime living on its own event loop thread, shared by a test module, so a suite
can show that one pool keeps serving after each hostile function."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

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

    def invoke(self, source: str, context: dict[str, Any] | None = None, **limits: Any) -> InvocationResult:
        code = FunctionCode(source)
        return self.call(self.runtime.invoke(code, context or make_context(), Limits(**limits)))

    def close(self) -> None:
        self.call(self.runtime.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


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
