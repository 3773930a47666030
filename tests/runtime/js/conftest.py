"""One JsEngine on its own event-loop thread, shared by the JS tests (as a worker would hold it),
plus a fake host fetcher: the platform's boundary, so faking it here is fair."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from appfn.runtime.js import JsEngine, transpile


def make_context(data: dict[str, Any] | None = None, event: str = "customer.created") -> dict[str, Any]:
    return {
        "payload": {"event": event, "merchant": 1305146709, "created_at": "Tue Jan 25 2022", "data": data or {}},
        "settings": {"crmApiUrl": "https://crm.example", "crmApiKey": "k-123"},
        "merchant": {"id": 1305146709},
    }


def wire_response(
    body: bytes | str | Any = b"", status: int = 200, headers: list[list[str]] | None = None, url: str = ""
) -> dict[str, Any]:
    if not isinstance(body, bytes | str):
        body = json.dumps(body)
        headers = headers or [["Content-Type", "application/json"]]
    raw = body.encode() if isinstance(body, str) else body
    return {"status": status, "headers": headers or [], "url": url, "body_b64": base64.b64encode(raw).decode()}


class FakeHost:
    """Answers fetch requests from a handler function and records them."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any] | None = None, delay_s: float = 0.0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.cancelled = 0
        self.answer = answer or (lambda req: wire_response({"id": 42}, url=req["url"]))
        self.delay_s = delay_s

    async def __call__(self, req: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(req)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        result = self.answer(req)
        if isinstance(result, BaseException):
            raise result
        return result


class Harness:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="js-test-loop", daemon=True)
        self.thread.start()
        self.engine = JsEngine()

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run(
        self,
        source: str,
        context: dict[str, Any] | None = None,
        *,
        fetch: Callable[[dict[str, Any]], Any] | None = None,
        timeout_s: float = 2.0,
        heap_mb: int = 64,
        return_type: str = "Resp",
        filename: str = "handler.ts",
    ) -> dict[str, Any]:
        code = transpile(source, filename)
        return self.call(
            self.engine.invoke(
                code,
                make_context() if context is None else context,
                fetch=fetch or FakeHost(),
                timeout_s=timeout_s,
                heap_mb=heap_mb,
                return_type=return_type,
            )
        )

    def body(self, body: str, **kw: Any) -> dict[str, Any]:
        """Run a handler body inside the original's template."""
        return self.run(f"export default async (context: any): Promise<Resp> => {{\n{body}\n}};\n", **kw)

    def close(self) -> None:
        self.engine.shutdown(wait=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="session")
def js() -> Iterator[Harness]:
    harness = Harness()
    yield harness
    harness.close()
