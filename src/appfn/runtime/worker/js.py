"""The JS worker: one TypeScript/JavaScript function version in a warm V8 context (the JsEngine).

A spare JS worker has V8 started (on the main thread) and one blank context made before it is
bound: the first isolate reserves V8's code range, which the memory limit must count as
baseline (``guard.apply_js_rlimits``), and binding then costs only the module's evaluation.

There is no audit-hook tripwire here: the untrusted code is JS inside V8, which reaches Python only
through the host-call channel (fetch and Web Crypto, checked in ``appfn.runtime.js``). The walls
are the same as for Python — namespaces, the seccomp filter on every thread, rlimits — plus V8's
heap limit. The transpile (TypeScript → JS) was done by the platform; this worker gets JS.
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

from appfn.errors import HandlerLoadError
from appfn.runtime.js import JsEngine, JsFunction
from appfn.runtime.worker import guard
from appfn.runtime.worker.base import FrameWorker, send_load_error

# The kernel's CPU limit is the backstop here (the engine ends runaway JS at the deadline itself):
# give it room, so a spin that the engine stops at the deadline is reported as a timeout.
CPU_GRACE_S = 1.0
_CLOSE_WAIT_S = 0.25  # how long a thrown-away context gets to close before the worker asks to go


class JsWorker(FrameWorker):
    def __init__(self, writer: asyncio.StreamWriter, engine: JsEngine, function: JsFunction, heap_mb: int) -> None:
        super().__init__(writer)
        self.engine = engine
        self.function = function
        self.heap_mb = heap_mb

    @staticmethod
    async def prepare() -> JsEngine:
        """What a spare does before it is bound: the engine and one blank context."""
        engine = JsEngine()
        await engine.prewarm()
        return engine

    @classmethod
    async def bind(cls, writer: asyncio.StreamWriter, load: dict[str, Any], engine: JsEngine) -> JsWorker | None:
        """Apply the limits, then evaluate the module; None (after a load_error frame) if it failed."""
        limits = load["limits"]
        guard.use_private_tmp(limits["tmpdir"])
        guard.apply_js_rlimits(limits["memory_mb"], limits["file_mb"])
        guard.install_seccomp(base64.b64decode(load["seccomp_bpf"]), forget_ctypes=False)
        heap_mb = int(limits.get("heap_mb") or 128)
        engine.console_max_lines = limits["console_max_lines"]
        engine.console_max_bytes = limits["console_max_bytes"]
        try:
            function, console = await engine.load(
                load["code"], timeout_s=float(limits["load_timeout_s"]), heap_mb=heap_mb,
                return_type=load.get("return_type", "Resp"),
            )  # fmt: skip
        except HandlerLoadError as exc:
            await send_load_error(writer, str(exc), exc.line)
            return None
        worker = cls(writer, engine, function, heap_mb)
        worker.send({"t": "ready", "console": console})
        return worker

    async def invoke(self, message: dict[str, Any]) -> None:
        cpu_s = float(message.get("cpu_s", 30))
        guard.set_cpu_budget(cpu_s + CPU_GRACE_S)
        timeout_s = float(message.get("timeout_s") or cpu_s)  # the limit, as configured
        remaining_s = max(0.001, float(message.get("remaining_s") or timeout_s))  # what is left of it now
        heap_mb = int(message.get("heap_mb") or self.heap_mb)
        out = await self.function.invoke(message["context"], fetch=self.fetch, timeout_s=remaining_s, heap_mb=heap_mb)
        if out["error_kind"] == "timeout":
            out["error"] = f"timed out after {timeout_s:g} s"  # the Python worker's words, for one record
        elif out["error_kind"] == "invalid_return":
            out["error"] = f"invalid return value: {out['error']}"
        recycle = not self.function.loaded and not await self._closed()
        self.send({"t": "result", **out, "recycle": recycle})
        await self.writer.drain()

    async def _closed(self) -> bool:
        """Whether the contexts thrown away have closed; one stuck in a builtin means: replace the worker."""
        deadline = time.monotonic() + _CLOSE_WAIT_S
        while self.engine.closing and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        return self.engine.closing == 0
