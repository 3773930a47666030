"""Run one App Function invocation in a fresh mini-racer (V8) context.

The safe invoke pattern (shared/research/deplab.md §1), and one step further:

- The context is created on the caller's asyncio loop and lives for one invocation only.
- Nothing ever makes a synchronous call, ``.get()`` or ``await`` on a JS promise in a context that
  may be running user code: a busy isolate would block the whole loop. That also rules out
  mini-racer's ``wrap_py_function``, whose Python side reads its arguments and resolves its
  promise with synchronous calls (measured: ``fetch(); while (true) {}`` after an ``await`` froze
  the loop for good). Instead JS rings a bell — a one-way notification carrying nothing — and the
  host pulls the outbox and answers with cancelable evals (see prelude.js).
- The result arrives as an outbox message that settles a *Python* future; the deadline and the
  memory flag are watched on the Python side. At the end every pending eval is cancelled (which
  terminates running JS) and the context is closed on a helper thread, so that even JS stuck in
  a builtin that ignores termination cannot stall the loop (measured: ``new Array(1.2e8).fill(0)``
  went on for 12 s after its deadline; the invocation still returned at the deadline).
- Memory: a hard V8 heap limit per context, plus a budget for typed arrays and ArrayBuffers,
  which live outside the heap (see prelude.js).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib import resources
from typing import Any

from py_mini_racer import JSEvalException, JSOOMException, JSParseException, MiniRacer
from py_mini_racer._context import Context as _MRContext

from appfn.errors import (
    EgressDeniedError,
    FetchError,
    FetchTimeoutError,
    ResponseContractError,
    ResponseTooLargeError,
)
from appfn.runtime.js._v8 import ensure_v8
from appfn.runtime.js.transpile import WRAPPER_PREFIX, split_source_url
from appfn.runtime.worker.console import Console
from appfn.sdk.contract import normalize_response
from appfn.sdk.response import Resp, Shipment

Fetch = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
ErrorKind = str  # "exception" | "timeout" | "memory" | "invalid_return" | "load"

if not hasattr(_MRContext, "_register_js_notification"):  # pragma: no cover - guards an upgrade
    raise ImportError("appfn.runtime.js needs mini-racer 0.14.x (Context._register_js_notification)")

_DIGESTS = {"sha1", "sha256", "sha384", "sha512"}
_FETCH_ERROR_KINDS: dict[type[FetchError], str] = {
    EgressDeniedError: "egress_denied",
    FetchTimeoutError: "timeout",
    ResponseTooLargeError: "too_large",
}
_POLL_S = 0.025  # how often the memory flag is read while waiting
_MAX_INFLIGHT_CALLS = 32  # as MAX_PENDING in prelude.js
_SALVAGE_S = 0.05  # how long a stopped context gets to hand over its console lines


@cache
def _prelude() -> str:
    pkg = resources.files("appfn.runtime.js")
    return (
        pkg.joinpath("vendor/polyfills.js").read_text(encoding="utf-8")
        + "\n"
        + pkg.joinpath("prelude.js").read_text(encoding="utf-8")
    )


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

    @property
    def closing(self) -> int:
        return self._closing

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
        """Run ``code`` (the output of ``transpile``) with ``context``.

        ``fetch`` performs the function's HTTP calls, in the wire format of ``appfn.sdk.fetch``:
        it gets ``{"url", "method", "headers", "body_b64", "timeout"}`` (timeout: the signal's time
        left, capped by the invocation's) and answers ``{"status", "headers": [[k, v]], "url",
        "body_b64"}`` or ``{"error": {"kind", "message"}}``; raising a FetchError subclass or
        TimeoutError works too. It is cancelled when the function aborts the request.

        Returns ``{"response", "error", "error_kind", "console"}``: ``response`` is the contract
        dict on success and None otherwise; ``error_kind`` is None, "exception", "timeout",
        "memory", "invalid_return" or "load".
        """
        if return_type not in ("Resp", "Shipment"):
            raise ValueError(f"return_type must be 'Resp' or 'Shipment', got {return_type!r}")
        if timeout_s <= 0 or heap_mb <= 0:
            raise ValueError("timeout_s and heap_mb must be positive")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("a JsEngine serves the event loop it first ran on")
        context_json = json.dumps(context, allow_nan=False)
        run = _Invocation(self, loop, code, context_json, fetch, timeout_s, heap_mb, return_type)
        return await run.run()

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
        self._closer.shutdown(wait=wait)


class _HostError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class _Invocation:
    def __init__(
        self,
        engine: JsEngine,
        loop: asyncio.AbstractEventLoop,
        code: str,
        context_json: str,
        fetch: Fetch,
        timeout_s: float,
        heap_mb: int,
        return_type: str,
    ) -> None:
        self.engine = engine
        self.loop = loop
        self.code, self.filename = split_source_url(code)
        self.context_json = context_json
        self.fetch = fetch
        self.timeout_s = timeout_s
        self.heap_mb = heap_mb
        self.return_type = return_type
        self.deadline = loop.time() + timeout_s
        self.outcome: asyncio.Future[tuple[str, Any]] = loop.create_future()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.calls: dict[int, asyncio.Task[Any]] = {}
        self.console = Console(engine.console_max_lines, engine.console_max_bytes)
        self.js_dropped = 0
        self.fetches = 0
        self.draining = False
        self.rebell = False
        self.racer: MiniRacer | None = None

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> dict[str, Any]:
        notification = None
        kind, value = "broken", "the engine failed before the function ran"
        try:
            self.racer = racer = MiniRacer()
            racer.set_hard_memory_limit(self.heap_mb * 2**20)
            # A one-way notification: JS calls it with no arguments, Python only schedules a pull.
            notification = racer._ctx._register_js_notification(self._on_bell)
            bell = notification.__enter__()
            slot = racer.eval(_prelude())  # fresh context, our code only: sync calls are safe here
            slot["bell"] = bell
            del slot, bell
            args = ", ".join(
                json.dumps(a) for a in (self.context_json, secrets.token_hex(44), json.dumps(self._options()))
            )
            script = f"__appfn_run({WRAPPER_PREFIX}{self.code}\n}}, {args})\n//# sourceURL={self.filename}"
            self._spawn(self._start(script))
            kind, value = await self._wait()
        finally:
            await self._teardown(notification, salvage=kind in ("timeout", "memory"))
        return self._result(kind, value)

    def _options(self) -> dict[str, Any]:
        e = self.engine
        return {
            "filename": self.filename,
            "limits": {
                "lines": e.console_max_lines,
                "bytes": e.console_max_bytes,
                "extBytes": self.heap_mb * 2**20,
                "fetches": e.max_fetches,
                "bodyBytes": e.max_body_bytes,
            },
        }

    async def _wait(self) -> tuple[str, Any]:
        assert self.racer is not None
        while True:
            remaining = self.deadline - self.loop.time()
            if remaining <= 0:
                return ("timeout", None)
            done, _ = await asyncio.wait({self.outcome}, timeout=min(remaining, _POLL_S))
            if done:
                return self.outcome.result()
            if self.racer.was_hard_memory_limit_reached():
                return ("memory", None)

    async def _teardown(self, notification: Any, salvage: bool) -> None:
        for task in self.tasks:
            task.cancel()
        if self.tasks:
            # Cancelling an eval task cancels its V8 task, which terminates JS that is running.
            await asyncio.wait(self.tasks, timeout=0.2)
        if salvage and self.racer is not None:
            # JS stopped that way (a loop in the handler's first synchronous part, say) can still
            # hand over the console lines it wrote; JS still spinning in a microtask cannot.
            try:
                out = await asyncio.wait_for(self.racer.eval_cancelable("__appfn_take()"), _SALVAGE_S)
                self._take(out, console_only=True)
            except (TimeoutError, JSEvalException):
                pass
        if notification is not None:
            notification.__exit__(None, None, None)
        if self.racer is not None:
            self.engine._close_later(self.racer)
            self.racer = None

    def _settle(self, kind: str, value: Any = None) -> None:
        if not self.outcome.done():
            self.outcome.set_result((kind, value))

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = self.loop.create_task(coro)  # type: ignore[arg-type]
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # ------------------------------------------------------------------ the channel
    async def _start(self, script: str) -> None:
        assert self.racer is not None
        try:
            out = await self.racer.eval_cancelable(script)
        except JSParseException as exc:
            self._settle("load_js", str(exc))
            return
        except JSOOMException:
            self._settle("memory")
            return
        except JSEvalException as exc:
            self._settle("load_js", str(exc))
            return
        self._take(out)

    def _on_bell(self, _args: Any) -> None:
        # Runs on the loop (mini-racer hops here with call_soon_threadsafe).
        if self.outcome.done() or self.racer is None:
            return
        if self.draining:
            self.rebell = True
            return
        self.draining = True
        self._spawn(self._drain())

    async def _drain(self) -> None:
        try:
            while True:
                self.rebell = False
                assert self.racer is not None
                out = await self.racer.eval_cancelable("__appfn_take()")
                self._take(out)
                if not self.rebell or self.outcome.done():
                    return
        except JSOOMException:
            self._settle("memory")
        except JSEvalException as exc:
            self._settle("broken", str(exc))
        finally:
            self.draining = False

    def _take(self, out: Any, console_only: bool = False) -> None:
        try:
            batch = json.loads(out)
            if not isinstance(batch, dict):
                raise ValueError(type(batch).__name__)
        except (TypeError, ValueError) as exc:
            self._settle("broken", f"unreadable outbox ({exc})")
            return
        self._add_console(batch.get("l") or [], int(batch.get("d") or 0))
        for msg in [] if console_only else batch.get("m") or []:
            kind = msg.get("k") if isinstance(msg, dict) else None
            if kind == "done":
                self._settle("done", msg.get("r"))
            elif kind == "oom":
                self._settle("memory")
            elif kind == "call":
                self._start_call(msg)
            elif kind == "cancel":
                task = self.calls.pop(msg.get("id"), None)
                if task is not None:
                    task.cancel()

    def _add_console(self, lines: list[Any], js_dropped: int) -> None:
        # JS applies the same caps (so it keeps no more than it may send); the host's hold.
        self.js_dropped = max(self.js_dropped, js_dropped)
        for line in lines:
            self.console.write(f"{line}\n")

    # ------------------------------------------------------------------ host calls
    def _start_call(self, msg: dict[str, Any]) -> None:
        call_id = msg.get("id")
        if not isinstance(call_id, int) or call_id in self.calls:
            return
        if len(self.calls) >= _MAX_INFLIGHT_CALLS:
            # The prelude never lets this many through; only code that broke it gets here.
            self._settle("broken", f"over {_MAX_INFLIGHT_CALLS} host calls in flight")
            return
        self.calls[call_id] = self._spawn(self._call(call_id, msg))

    async def _call(self, call_id: int, msg: dict[str, Any]) -> None:
        try:
            value = await self._perform(msg)
        except _HostError as exc:
            await self._reply(call_id, error=exc)
        else:
            await self._reply(call_id, value=value)

    async def _reply(self, call_id: int, *, value: Any = None, error: _HostError | None = None) -> None:
        self.calls.pop(call_id, None)
        if self.racer is None or self.outcome.done():
            return
        reply: dict[str, Any] = {"id": call_id, "ok": error is None}
        if error is None:
            reply["value"] = value
        else:
            reply["error"] = {"kind": error.kind, "message": error.message}
        try:
            await self.racer.eval_cancelable(f"__appfn_deliver({json.dumps(json.dumps(reply))})")
        except JSOOMException:
            self._settle("memory")
        except JSEvalException:
            pass  # the context is failing anyway; the outcome or the deadline decides

    async def _perform(self, msg: dict[str, Any]) -> Any:
        op = msg.get("op")
        if op == "fetch":
            return await self._fetch(msg.get("req"))
        if op == "digest":
            return _b64(hashlib.new(_digest(msg.get("alg")), _unb64(msg.get("data_b64"))).digest())
        if op in ("hmac", "hmac_verify"):
            mac = hmac.new(_unb64(msg.get("key_b64")), _unb64(msg.get("data_b64")), _digest(msg.get("alg")))
            if op == "hmac":
                return _b64(mac.digest())
            return hmac.compare_digest(mac.digest(), _unb64(msg.get("signature_b64")))
        raise _HostError("internal", f"unknown host call {op!r}")

    async def _fetch(self, req: Any) -> dict[str, Any]:
        self.fetches += 1
        if self.fetches > self.engine.max_fetches:
            raise _HostError("too_many", f"over {self.engine.max_fetches} fetch calls in one invocation")
        if not (
            isinstance(req, dict)
            and isinstance(req.get("url"), str)
            and isinstance(req.get("method"), str)
            and isinstance(req.get("headers"), dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in req["headers"].items())
            and (req.get("body_b64") is None or isinstance(req.get("body_b64"), str))
        ):
            raise _HostError("internal", "malformed fetch request")
        remaining = max(0.001, self.deadline - self.loop.time())
        asked = req.get("timeout")
        timeout = min(float(asked), remaining) if isinstance(asked, int | float) and asked > 0 else remaining
        wire = {
            "url": req["url"],
            "method": req["method"],
            "headers": dict(req["headers"]),
            "body_b64": req.get("body_b64"),
            "timeout": timeout,
        }
        try:
            answer = await self.fetch(wire)
        except FetchError as exc:
            raise _HostError(_FETCH_ERROR_KINDS.get(type(exc), "network"), str(exc)) from None
        except TimeoutError as exc:
            raise _HostError("timeout", str(exc) or f"no answer from {wire['url']} in time") from None
        except Exception as exc:
            raise _HostError("network", f"{type(exc).__name__}: {exc}") from None
        if not isinstance(answer, dict):
            raise _HostError("internal", "the host's fetch answered with something that is not a dict")
        error = answer.get("error")
        if error:
            raise _HostError(str(error.get("kind") or "network"), str(error.get("message") or "fetch failed"))
        try:
            return {
                "status": int(answer["status"]),
                "headers": [[str(k), str(v)] for k, v in answer.get("headers") or []],
                "url": str(answer.get("url") or wire["url"]),
                "body_b64": str(answer.get("body_b64") or ""),
            }
        except (KeyError, TypeError, ValueError):
            raise _HostError("internal", "the host's fetch answer does not follow the wire format") from None

    # ------------------------------------------------------------------ the result
    def _result(self, kind: str, value: Any) -> dict[str, Any]:
        response: dict[str, Any] | None = None
        error: str | None = None
        error_kind: ErrorKind | None = None
        if kind == "timeout":
            error_kind, error = "timeout", f"timed out: the function did not finish within {self.timeout_s:g} s"
        elif kind == "memory":
            error_kind, error = "memory", f"out of memory: the function went over its {self.heap_mb} MB limit"
        elif kind == "load_js":
            error_kind, error = "load", _v8_load_error(str(value), self.filename)
        elif kind == "broken":
            error_kind = "exception"
            error = f"the function broke the runtime's host channel: {value}"
        else:
            try:
                ret = json.loads(value)
            except (TypeError, ValueError):
                ret = {"t": "unserialisable", "message": "unreadable result"}
            response, error_kind, error = self._returned(ret if isinstance(ret, dict) else {})
        self.console.dropped += self.js_dropped
        return {"response": response, "error": error, "error_kind": error_kind, "console": self.console.finish()}

    def _returned(self, ret: dict[str, Any]) -> tuple[dict[str, Any] | None, ErrorKind | None, str | None]:
        t = ret.get("t")
        if t == "throw":
            return None, "exception", str(ret.get("error"))
        if t == "load":
            return None, "load", str(ret.get("error"))
        if t == "unserialisable":
            return None, "invalid_return", f"the returned value cannot be turned into JSON: {ret.get('message')}"
        try:
            if t == "builder":
                value: Any = _rebuild(ret["builder"], ret["state"])
            elif t == "value":
                value = ret.get("value")
            else:
                value = None
            return normalize_response(value, self.return_type), None, None
        except (ResponseContractError, TypeError, ValueError) as exc:
            return None, "invalid_return", str(exc)


def _rebuild(builder: str, state: dict[str, Any]) -> Resp:
    """The Python builder equal to a JS Resp/Shipment, so that the SDK's rules apply as they are."""
    success = bool(state.get("success"))
    message = state.get("message")
    if builder == "Shipment":
        shipment = Shipment(success, message)
        shipment.set_http_status(state["status"])
        _restore_common(shipment, state)
        fields = state.get("shipment") or {}
        setters = {
            "shipment_number": shipment.set_shipment_number,
            "tracking_number": shipment.set_tracking_number,
            "tracking_link": shipment.set_tracking_link,
            "status": shipment.set_status,
            "status_note": shipment.set_status_note,
            "cost": shipment.set_cost,
        }
        for key, value in fields.items():
            if key == "label":
                shipment.set_pdf_label(value["url"])
            elif key in setters:
                setters[key](value)
        return shipment
    resp = Resp(success, message)
    resp.set_status(state["status"])
    _restore_common(resp, state)
    return resp


def _restore_common(resp: Resp, state: dict[str, Any]) -> None:
    resp.set_data(state.get("data") if state.get("data") is not None else {})
    if state.get("fields") is not None:
        resp.set_fields(state.get("message") or "", state["fields"])


def _v8_load_error(text: str, filename: str) -> str:
    """``handler.ts:3: SyntaxError: ...`` from mini-racer's ``<anonymous>:3: SyntaxError: ...``."""
    first = text.split("\n", 1)[0]
    if first.startswith("<anonymous>:"):
        return filename + first[len("<anonymous>") :]
    return first


def _digest(name: Any) -> str:
    if name not in _DIGESTS:
        raise _HostError("internal", f"unsupported digest {name!r}")
    return str(name)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    try:
        return base64.b64decode(text or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise _HostError("internal", "malformed base64 from the function") from None
