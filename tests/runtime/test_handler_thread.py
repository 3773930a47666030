"""Where a Python handler runs in its worker: a plain ``def`` on the worker's main thread unless
it names ``fetch_sync``; ``fetch_sync`` reached from the event loop's thread
fails at once with a FetchError that says why (it used to wait until the timeout)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from appfn.runtime.egress import EgressClient, EgressPolicy
from appfn.runtime.limits import FunctionCode, InvocationResult, Limits
from tests.runtime.conftest import RuntimeThread, make_context

WHERE = """
import threading
def handler(context):
    return {"success": True, "data": {"main": threading.current_thread() is threading.main_thread()}}
"""

FETCH_SYNC = """
import threading
def handler(context):
    answer = context.fetch_sync(context.settings["url"] + "/hello")
    main = threading.current_thread() is threading.main_thread()
    return {"success": True, "data": {"got": answer.json(), "main": main}}
"""

HIDDEN_FETCH_SYNC = """
def handler(context):
    wait = getattr(context, "fetch" + "_sync")
    return {"success": True, "data": {"got": wait(context.settings["url"] + "/hello").json()}}
"""

ASYNC_CALLS_FETCH_SYNC = """
async def handler(context):
    return {"success": True, "data": {"got": context.fetch_sync(context.settings["url"] + "/hello").json()}}
"""


class _Hello(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def invoke_with_egress(rt: RuntimeThread, source: str, url: str, timeout_s: float = 10) -> InvocationResult:
    async def run() -> InvocationResult:
        egress = EgressClient(EgressPolicy(allow=("127.0.0.1",)))
        try:
            context = {**make_context(), "settings": {"url": url}}
            limits = Limits(timeout_s=timeout_s)
            return await rt.runtime.invoke(FunctionCode(source), context, limits, fetch=egress.fetcher().fetch)
        finally:
            await egress.aclose()

    return rt.call(run())


def test_a_plain_handler_runs_on_the_workers_main_thread(rt: RuntimeThread) -> None:
    result = rt.invoke(WHERE)
    assert result.ok, result.error
    assert result.response["data"] == {"main": True}


def test_a_plain_handler_naming_fetch_sync_runs_on_its_own_thread_and_fetches(rt: RuntimeThread, upstream: str) -> None:
    result = invoke_with_egress(rt, FETCH_SYNC, upstream)
    assert result.ok, result.error
    assert result.response["data"] == {"got": {"path": "/hello"}, "main": False}
    assert [call["status"] for call in result.requests or []] in ([], [200])


def test_fetch_sync_reached_without_its_name_fails_at_once_saying_why(rt: RuntimeThread, upstream: str) -> None:
    started = time.monotonic()
    result = invoke_with_egress(rt, HIDDEN_FETCH_SYNC, upstream, timeout_s=10)
    assert time.monotonic() - started < 5  # not the 10 s timeout
    assert result.error_kind == "exception"
    assert "fetch_sync cannot wait on the worker's event loop" in (result.error or "")
    assert "FetchError" in (result.error or "")


def test_fetch_sync_in_an_async_handler_fails_at_once_saying_why(rt: RuntimeThread, upstream: str) -> None:
    started = time.monotonic()
    result = invoke_with_egress(rt, ASYNC_CALLS_FETCH_SYNC, upstream, timeout_s=10)
    assert time.monotonic() - started < 5
    assert result.error_kind == "exception"
    assert "await context.fetch(...)" in (result.error or "")
