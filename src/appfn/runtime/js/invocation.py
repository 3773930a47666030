"""A V8 context with the prelude (``Channel``) and one run of JS in it (``Run``).

The channel never blocks either side (see prelude.js): JS queues messages in an outbox and rings a
bell — a one-way notification carrying nothing — and the host pulls the outbox with cancelable
evals and answers host calls with more of them. Nothing ever makes a synchronous call, ``.get()``
or ``await`` on a JS promise in a context that may be running user code: a busy isolate would
block the whole loop (measured: ``fetch(); while (true) {}`` after an ``await`` froze it for good).

A run ends when the ``done`` (or ``loaded``) message settles a *Python* future, at the deadline, or
when the memory flag is up. ``Run.teardown`` then either closes the context (fresh runs, and any
timeout, out-of-memory or host error) or, on the warm path, lets what is in flight finish so the
same context can serve the next invocation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from py_mini_racer import JSEvalException, JSOOMException, JSParseException, MiniRacer
from py_mini_racer._context import Context as _MRContext

from appfn.runtime.js import hostcalls
from appfn.runtime.js.hostcalls import Fetch, HostError
from appfn.runtime.js.results import parse_done, returned, v8_load_error
from appfn.runtime.worker.console import Console

if TYPE_CHECKING:
    from appfn.runtime.js.engine import JsEngine

if not hasattr(_MRContext, "_register_js_notification"):  # pragma: no cover - guards an upgrade
    raise ImportError("appfn.runtime.js needs mini-racer 0.14.x (Context._register_js_notification)")

_POLL_S = 0.025  # how often the memory flag is read while waiting
_MAX_INFLIGHT_CALLS = 32  # as MAX_PENDING in prelude.js
_SALVAGE_S = 0.05  # how long a stopped context gets to hand over its console lines
_SETTLE_S = 0.2  # how long evals still in flight get to finish before a warm context is given up
BAD_OUTCOMES = ("timeout", "memory", "broken", "load_js")


@cache
def prelude() -> str:
    pkg = resources.files("appfn.runtime.js")
    return (
        pkg.joinpath("vendor/polyfills.js").read_text(encoding="utf-8")
        + "\n"
        + pkg.joinpath("prelude.js").read_text(encoding="utf-8")
    )


class Channel:
    """One V8 context (its own isolate and thread) with the prelude evaluated and the bell wired.

    Made on the engine's loop; sync calls are safe here because nothing but our code ran in it yet.
    """

    def __init__(self, engine: JsEngine, heap_mb: int) -> None:
        self.engine = engine
        self.listener: Callable[[], None] | None = None
        self.heap_mb = heap_mb
        self.racer: MiniRacer | None = MiniRacer()
        self._notification: Any = None
        try:
            self.racer.set_hard_memory_limit(heap_mb * 2**20)
            # A one-way notification: JS calls it with no arguments, Python only schedules a pull.
            self._notification = self.racer._ctx._register_js_notification(self._on_bell)
            bell = self._notification.__enter__()
            slot = self.racer.eval(prelude())
            slot["bell"] = bell
            del slot, bell
        except BaseException:
            self.close()
            raise

    @property
    def open(self) -> bool:
        return self.racer is not None

    def set_heap(self, heap_mb: int) -> None:
        if self.racer is not None and heap_mb != self.heap_mb:
            self.racer.set_hard_memory_limit(heap_mb * 2**20)
            self.heap_mb = heap_mb

    def _on_bell(self, _args: Any) -> None:
        # Runs on the loop (mini-racer hops here with call_soon_threadsafe).
        if self.listener is not None:
            self.listener()

    def close(self) -> None:
        """Stop the context for good; the isolate is torn down on one of the engine's helper threads."""
        self.listener = None
        if self._notification is not None:
            self._notification.__exit__(None, None, None)
            self._notification = None
        if self.racer is not None:
            self.engine._close_later(self.racer)
            self.racer = None


class Run:
    """One evaluation of ``script`` on a channel, with the host calls it makes, until it settles."""

    def __init__(
        self,
        channel: Channel,
        script: str,
        *,
        fetch: Fetch,
        deadline: float,
        timeout_s: float,
        filename: str,
        return_type: str,
    ) -> None:
        engine = channel.engine
        self.engine = engine
        self.channel = channel
        self.script = script
        self.fetch = fetch
        self.loop = asyncio.get_running_loop()
        self.deadline = deadline
        self.timeout_s = timeout_s
        self.filename = filename
        self.return_type = return_type
        self.outcome: asyncio.Future[tuple[str, Any]] = self.loop.create_future()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.calls: dict[int, asyncio.Task[Any]] = {}
        self.replying: set[int] = set()
        self.console = Console(engine.console_max_lines, engine.console_max_bytes)
        self.js_dropped = 0
        self.fetches = 0
        self.draining = False
        self.rebell = False

    @property
    def racer(self) -> MiniRacer:
        assert self.channel.racer is not None
        return self.channel.racer

    async def run(self) -> tuple[str, Any]:
        """(kind, value): ``done``/``loaded``, or one of BAD_OUTCOMES."""
        self.channel.listener = self._on_bell
        self._spawn(self._start())
        # Queue a pull of the outbox right behind the script: a handler that answers without
        # waiting on the host is done when it runs (microtasks run at the end of each eval), which
        # saves waiting for the bell and a round trip between threads.
        self.draining = True
        self._spawn(self._drain())
        return await self._wait()

    async def _wait(self) -> tuple[str, Any]:
        while True:
            remaining = self.deadline - self.loop.time()
            if remaining <= 0:
                return ("timeout", None)
            done, _ = await asyncio.wait({self.outcome}, timeout=min(remaining, _POLL_S))
            if done:
                return self.outcome.result()
            if self.racer.was_hard_memory_limit_reached():
                return ("memory", None)

    async def teardown(self, kind: str, keep: bool) -> bool:
        """End the run. ``keep``: leave the context usable if it is; returns whether it is still open."""
        self._settle("ended")  # from here on no host call starts and no reply is delivered
        if keep and kind not in BAD_OUTCOMES and await self._quiet():
            self.channel.listener = None
            return True
        for task in self.tasks:
            task.cancel()
        if self.tasks:
            # Cancelling an eval task cancels its V8 task, which terminates JS that is running.
            await asyncio.wait(self.tasks, timeout=0.2)
        if kind in ("timeout", "memory") and self.channel.open:
            # JS stopped that way (a loop in the handler's first synchronous part, say) can still
            # hand over the console lines it wrote; JS still spinning in a microtask cannot.
            try:
                out = await asyncio.wait_for(self.racer.eval_cancelable("__appfn_take()"), _SALVAGE_S)
                self._take(out, console_only=True)
            except (TimeoutError, JSEvalException):
                pass
        self.channel.close()
        return False

    async def _quiet(self) -> bool:
        """Warm path: cancel host calls still waiting for the host, let evals in flight finish."""
        for call_id, task in list(self.calls.items()):
            if call_id not in self.replying:
                task.cancel()
        if not self.tasks:
            return True
        _, pending = await asyncio.wait(self.tasks, timeout=_SETTLE_S)
        return not pending

    def _settle(self, kind: str, value: Any = None) -> None:
        if not self.outcome.done():
            self.outcome.set_result((kind, value))

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = self.loop.create_task(coro)  # type: ignore[arg-type]
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # ------------------------------------------------------------------ the channel
    async def _start(self) -> None:
        try:
            out = await self.racer.eval_cancelable(self.script)
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

    def _on_bell(self) -> None:
        if self.outcome.done() or not self.channel.open:
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
            elif kind == "loaded":
                self._settle("loaded")
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
        if self.outcome.done() or not isinstance(call_id, int) or call_id in self.calls:
            return
        if len(self.calls) >= _MAX_INFLIGHT_CALLS:
            # The prelude never lets this many through; only code that broke it gets here.
            self._settle("broken", f"over {_MAX_INFLIGHT_CALLS} host calls in flight")
            return
        self.calls[call_id] = self._spawn(self._call(call_id, msg))

    async def _call(self, call_id: int, msg: dict[str, Any]) -> None:
        try:
            value = await self._perform(msg)
        except HostError as exc:
            await self._reply(call_id, error=exc)
        else:
            await self._reply(call_id, value=value)

    async def _reply(self, call_id: int, *, value: Any = None, error: HostError | None = None) -> None:
        self.calls.pop(call_id, None)
        if not self.channel.open or self.outcome.done():
            return
        reply: dict[str, Any] = {"id": call_id, "ok": error is None}
        if error is None:
            reply["value"] = value
        else:
            reply["error"] = {"kind": error.kind, "message": error.message}
        self.replying.add(call_id)
        try:
            await self.racer.eval_cancelable(f"__appfn_deliver({json.dumps(json.dumps(reply))})")
        except JSOOMException:
            self._settle("memory")
        except JSEvalException:
            pass  # the context is failing anyway; the outcome or the deadline decides
        finally:
            self.replying.discard(call_id)

    async def _perform(self, msg: dict[str, Any]) -> Any:
        if msg.get("op") != "fetch":
            return hostcalls.crypto(msg)
        self.fetches += 1
        if self.fetches > self.engine.max_fetches:
            raise HostError("too_many", f"over {self.engine.max_fetches} fetch calls in one invocation")
        wire = hostcalls.fetch_wire(msg.get("req"), self.deadline - self.loop.time())
        return await hostcalls.perform_fetch(self.fetch, wire)

    # ------------------------------------------------------------------ the result
    def result(self, kind: str, value: Any, heap_mb: int) -> dict[str, Any]:
        """``{"response", "error", "error_kind", "console"}`` for how the run ended."""
        response: dict[str, Any] | None = None
        error: str | None = None
        error_kind: str | None = None
        if kind == "timeout":
            error_kind, error = "timeout", f"timed out: the function did not finish within {self.timeout_s:g} s"
        elif kind == "memory":
            error_kind, error = "memory", f"out of memory: the function went over its {heap_mb} MB limit"
        elif kind == "load_js":
            error_kind, error = "load", v8_load_error(str(value), self.filename)
        elif kind == "broken":
            error_kind = "exception"
            error = f"the function broke the runtime's host channel: {value}"
        elif kind == "done":
            response, error_kind, error = returned(parse_done(value), self.return_type)
        self.console.dropped += self.js_dropped
        return {"response": response, "error": error, "error_kind": error_kind, "console": self.console.finish()}
