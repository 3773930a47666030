"""Run App Function invocations in mini-racer (V8) contexts: fresh per invocation, or warm.

The safe invoke pattern (shared/research/deplab.md §1), and one step further (invocation.py):

- Contexts are created on the caller's asyncio loop (one engine per loop).
- The result arrives as an outbox message that settles a *Python* future; the deadline and the
  memory flag are watched on the Python side. On a timeout, an out-of-memory or a host error every
  pending eval is cancelled (which terminates running JS) and the context is closed on a helper
  thread, so that even JS stuck in a builtin that ignores termination cannot stall the loop
  (measured: ``new Array(1.2e8).fill(0)`` went on for 12 s after its deadline; the invocation
  still returned at the deadline).
- Memory: a hard V8 heap limit per context, plus a budget for typed arrays and ArrayBuffers,
  which live outside the heap (see prelude.js).

Two ways to run:

- ``JsEngine.invoke(code, context, ...)``: a fresh context for one invocation (~3-5 ms).
- ``await JsEngine.load(code, ...)`` → ``JsFunction``: the warm path of a worker bound to one
  function version. The module is evaluated once; each ``JsFunction.invoke`` calls its handler in
  the same context (well under a millisecond). Between invocations the prelude stops what the last
  one left behind (timers, host calls, console), so only JS state carries over: module-level
  variables, globals, changed built-ins — as module globals do in a warm Python worker. A
  timeout, an out-of-memory or a host error throws the context away; the next invocation gets a
  new one (the module is evaluated again). A context is never shared by two functions.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from py_mini_racer import MiniRacer

from appfn.errors import HandlerLoadError
from appfn.runtime.js._v8 import ensure_v8
from appfn.runtime.js.hostcalls import Fetch
from appfn.runtime.js.invocation import Channel, Run
from appfn.runtime.js.transpile import WRAPPER_PREFIX, split_source_url

__all__ = ["Fetch", "JsEngine", "JsFunction"]

_RETURN_TYPES = ("Resp", "Shipment")


async def _no_fetch(request: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"kind": "egress_denied", "message": "outbound HTTP is not available while the module loads"}}


class JsEngine:
    """Runs JS invocations on one asyncio loop (one engine per worker process).

    ``closing`` counts contexts still being torn down on helper threads; a value that stays above
    zero means JS is stuck in a builtin that ignores termination, and the worker should recycle.
    """

    def __init__(
        self,
        *,
        console_max_lines: int = 1000,
        console_max_bytes: int = 65536,
        max_fetches: int = 100,
        max_body_bytes: int = 10 * 2**20,
    ) -> None:
        ensure_v8()
        self.console_max_lines = console_max_lines
        self.console_max_bytes = console_max_bytes
        self.max_fetches = max_fetches
        self.max_body_bytes = max_body_bytes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closer = ThreadPoolExecutor(max_workers=4, thread_name_prefix="appfn-js-close")
        self._closing = 0
        self._closing_lock = threading.Lock()
        self._spare: Channel | None = None

    @property
    def closing(self) -> int:
        return self._closing

    def _check_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("a JsEngine serves the event loop it first ran on")

    async def invoke(
        self,
        code: str,
        context: dict[str, Any],
        *,
        fetch: Fetch,
        timeout_s: float,
        heap_mb: int = 128,
        return_type: str = "Resp",
    ) -> dict[str, Any]:
        """Run ``code`` (the output of ``transpile``) with ``context`` in a fresh context.

        ``fetch`` performs the function's HTTP calls, in the wire format of ``appfn.sdk.fetch``:
        it gets ``{"url", "method", "headers", "body_b64", "timeout"}`` (timeout: the signal's time
        left, capped by the invocation's) and answers ``{"status", "headers": [[k, v]], "url",
        "body_b64"}`` or ``{"error": {"kind", "message"}}``; raising a FetchError subclass or
        TimeoutError works too. It is cancelled when the function aborts the request.

        Returns ``{"response", "error", "error_kind", "console"}``: ``response`` is the contract
        dict on success and None otherwise; ``error_kind`` is None, "exception", "timeout",
        "memory", "invalid_return" or "load".
        """
        _check_args(timeout_s, heap_mb, return_type)
        self._check_loop()
        body, filename = split_source_url(code)
        context_json = json.dumps(context, allow_nan=False)
        args = _js_args(context_json, _seed(), self._options(filename, heap_mb))
        script = f"__appfn_run({WRAPPER_PREFIX}{body}\n}}, {args})\n//# sourceURL={filename}"
        deadline = asyncio.get_running_loop().time() + timeout_s
        channel = self._channel(heap_mb)
        run = Run(channel, script, fetch=fetch, deadline=deadline, timeout_s=timeout_s, filename=filename,
                  return_type=return_type)  # fmt: skip
        kind, value = "broken", "the engine failed before the function ran"
        try:
            kind, value = await run.run()
        finally:
            await run.teardown(kind, keep=False)
        return run.result(kind, value, heap_mb)

    async def load(
        self, code: str, *, timeout_s: float, heap_mb: int = 128, return_type: str = "Resp"
    ) -> tuple[JsFunction, list[str]]:
        """Evaluate ``code``'s module in a context of its own, for ``JsFunction.invoke`` to reuse.

        Returns the function and the console lines of the module's top level; raises
        HandlerLoadError (with ``.line`` when known) if the module throws, has no default export
        function, or does not finish within ``timeout_s``.
        """
        _check_args(timeout_s, heap_mb, return_type)
        self._check_loop()
        function = JsFunction(self, code, return_type)
        console = await function._load(timeout_s, heap_mb)
        return function, console

    async def prewarm(self, heap_mb: int = 128) -> None:
        """Make one blank context (prelude evaluated) ahead of ``load``: what a spare worker does."""
        self._check_loop()
        if self._spare is None:
            self._spare = Channel(self, heap_mb)

    def _channel(self, heap_mb: int) -> Channel:
        spare, self._spare = self._spare, None
        if spare is not None and spare.open:
            spare.set_heap(heap_mb)
            return spare
        return Channel(self, heap_mb)

    def _options(self, filename: str, heap_mb: int) -> dict[str, Any]:
        return {
            "filename": filename,
            "limits": {
                "lines": self.console_max_lines,
                "bytes": self.console_max_bytes,
                "extBytes": heap_mb * 2**20,
                "fetches": self.max_fetches,
                "bodyBytes": self.max_body_bytes,
            },
        }

    def _close_later(self, racer: MiniRacer) -> None:
        with self._closing_lock:
            self._closing += 1

        def close() -> None:
            try:
                racer.close()
            finally:
                with self._closing_lock:
                    self._closing -= 1

        self._closer.submit(close)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the close helper threads (``wait`` for the contexts still closing)."""
        if self._spare is not None:
            self._spare.close()
            self._spare = None
        self._closer.shutdown(wait=wait)


class JsFunction:
    """One function version loaded in a context that later invocations reuse (the warm path)."""

    def __init__(self, engine: JsEngine, code: str, return_type: str) -> None:
        self.engine = engine
        self.body, self.filename = split_source_url(code)
        self.return_type = return_type
        self.contexts = 0  # how many contexts this function has had (1 unless some were thrown away)
        self._channel: Channel | None = None
        self._options: dict[str, Any] = {}  # the options the context has (sent again only when they change)
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> bool:
        return self._channel is not None and self._channel.open

    async def invoke(
        self, context: dict[str, Any], *, fetch: Fetch, timeout_s: float, heap_mb: int = 128
    ) -> dict[str, Any]:
        """One invocation in the function's context; same arguments and result as ``JsEngine.invoke``."""
        _check_args(timeout_s, heap_mb, self.return_type)
        context_json = json.dumps(context, allow_nan=False)
        async with self._lock:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout_s
            console: list[str] = []
            if not self.loaded:
                # The last context was thrown away: evaluate the module again, on this invocation's time.
                try:
                    console = await self._load(timeout_s, heap_mb, deadline)
                except HandlerLoadError as exc:
                    return {"response": None, "error": str(exc), "error_kind": "load", "console": []}
            channel = self._channel
            assert channel is not None
            args = _js_args(context_json)
            options = self.engine._options(self.filename, heap_mb)  # the heap limit is one of them
            if options != self._options:
                channel.set_heap(heap_mb)
                self._options = options
                args = _js_args(context_json, _seed(), options)
            run = Run(channel, f"__appfn_call({args})", fetch=fetch, deadline=deadline, timeout_s=timeout_s,
                      filename=self.filename, return_type=self.return_type)  # fmt: skip
            kind, value = "broken", "the engine failed before the function ran"
            try:
                kind, value = await run.run()
            finally:
                if not await run.teardown(kind, keep=True):
                    self._channel = None
            out = run.result(kind, value, heap_mb)
        if console:
            out["console"] = console + out["console"]
        return out

    async def _load(self, timeout_s: float, heap_mb: int, deadline: float | None = None) -> list[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s if deadline is None else deadline
        channel = self.engine._channel(heap_mb)
        self.contexts += 1
        self._options = self.engine._options(self.filename, heap_mb)
        args = _js_args(_seed(), self._options)
        script = f"__appfn_load({WRAPPER_PREFIX}{self.body}\n}}, {args})\n//# sourceURL={self.filename}"
        run = Run(channel, script, fetch=_no_fetch, deadline=deadline, timeout_s=timeout_s, filename=self.filename,
                  return_type=self.return_type)  # fmt: skip
        kind, value = "broken", "the engine failed before the module was loaded"
        try:
            kind, value = await run.run()
        finally:
            kept = await run.teardown(kind, keep=kind == "loaded")
        out = run.result(kind, value, heap_mb)
        if kind == "loaded" and kept:
            self._channel = channel
            return out["console"]
        if kind == "timeout":
            raise HandlerLoadError(f"{self.filename}: the module's top level did not finish within {timeout_s:g} s")
        if kind == "loaded":
            raise HandlerLoadError(f"{self.filename}: the module left work running that did not stop")
        raise HandlerLoadError(out["error"] or "the module did not load", _error_line(out["error"], self.filename))

    def dispose(self) -> None:
        """Close the function's context (the next invocation would make a new one)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None


def _check_args(timeout_s: float, heap_mb: int, return_type: str) -> None:
    if return_type not in _RETURN_TYPES:
        raise ValueError(f"return_type must be 'Resp' or 'Shipment', got {return_type!r}")
    if timeout_s <= 0 or heap_mb <= 0:
        raise ValueError("timeout_s and heap_mb must be positive")


def _seed() -> str:
    # 44 bytes of host entropy: the key and nonce of the context's ChaCha20 CSPRNG (crypto.getRandomValues).
    return secrets.token_hex(44)


def _js_args(*parts: Any) -> str:
    """Arguments for a prelude entry point: each part a JS string literal (JSON text for objects)."""
    return ", ".join(json.dumps(p if isinstance(p, str) else json.dumps(p)) for p in parts)


def _error_line(error: str | None, filename: str) -> int | None:
    # "handler.ts:3: SyntaxError: ..." or a stack frame "at default (handler.ts:3)"
    match = re.search(re.escape(filename) + r":(\d+)", error or "")
    return int(match.group(1)) if match else None
