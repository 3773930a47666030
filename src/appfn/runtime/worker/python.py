"""The Python worker: load the handler module once, then call ``handler(context)`` per invocation."""

from __future__ import annotations

import asyncio
import base64
import inspect
import os
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from appfn.errors import HandlerLoadError, ResponseContractError
from appfn.runtime.loader import load_handler
from appfn.runtime.worker import guard
from appfn.runtime.worker.base import FrameWorker, send_load_error
from appfn.runtime.worker.console import Console, captured, install_logging
from appfn.sdk.context import Context
from appfn.sdk.contract import normalize_response


class PythonWorker(FrameWorker):
    def __init__(self, writer: asyncio.StreamWriter, load: dict[str, Any]) -> None:
        super().__init__(writer)
        self.filename: str = load["filename"]
        self.return_type: str = load.get("return_type", "Resp")
        limits = load["limits"]
        self.console = Console(limits["console_max_lines"], limits["console_max_bytes"])
        self.handler: Any = None
        # Where a plain ``def`` handler runs: on this thread unless it may block waiting for the
        # loop (see _needs_thread). A hand-off to a thread and back cost ~170 us per invocation
        # here, four times the rest of the worker's work for a trivial function.
        self.inline = False
        self.executor: ThreadPoolExecutor | None = None

    @classmethod
    async def bind(cls, writer: asyncio.StreamWriter, load: dict[str, Any], mode: str) -> PythonWorker | None:
        """Apply the limits, then load the handler (the first user code to run); None if it failed."""
        worker = cls(writer, load)
        # drain() then waits until a result is sent whole: a plain handler runs on this thread, so
        # a tail left in the buffer would otherwise wait behind the next queued invocation.
        writer.transport.set_write_buffer_limits(high=0)
        limits = load["limits"]
        guard.use_private_tmp(limits["tmpdir"])
        guard.apply_rlimits(limits["memory_mb"], limits["file_mb"])
        install_logging(worker.console)
        guard.install_seccomp(base64.b64decode(load["seccomp_bpf"]))
        read_roots = None
        if mode == "process":
            read_roots = (*(load.get("read_roots") or ()), f"/proc/{os.getpid()}")
        guard.install_tripwire(limits["tmpdir"], read_roots)
        try:
            with captured(worker.console):
                worker.handler = load_handler(load["source"], worker.filename)
                worker.inline = not _needs_thread(worker.handler, load["source"])
        except HandlerLoadError as exc:
            await send_load_error(writer, str(exc), exc.line)
            return None
        except MemoryError:
            await send_load_error(writer, "memory limit exceeded while loading", None)
            return None
        worker.send({"t": "ready", "console": worker.console.finish()})
        return worker

    async def invoke(self, message: dict[str, Any]) -> None:
        guard.set_cpu_budget(float(message.get("cpu_s", 30)))
        loop = asyncio.get_running_loop()
        context = Context.from_dict(message["context"], transport=self.fetch, loop=loop)
        outcome: dict[str, Any] = {"response": None, "error": None, "error_kind": None, "recycle": False}
        with captured(self.console):
            try:
                outcome["response"] = normalize_response(await self._call(context), self.return_type)
            except ResponseContractError as exc:
                outcome.update(error=f"invalid return value: {exc}", error_kind="invalid_return")
            except MemoryError:
                outcome.update(error="memory limit exceeded", error_kind="memory", recycle=True)
            except (Exception, SystemExit, KeyboardInterrupt) as exc:
                outcome.update(error=self._describe(exc), error_kind="exception")
                outcome["recycle"] = not isinstance(exc, Exception)
        outcome["console"] = self.console.finish()
        self.send({"t": "result", **outcome})
        await self.writer.drain()

    async def _call(self, context: Context[Any]) -> Any:
        if inspect.iscoroutinefunction(self.handler):
            return await self.handler(context)
        if self.inline:
            value = self.handler(context)
        else:
            self.executor = self.executor or ThreadPoolExecutor(1, thread_name_prefix="handler")
            value = await asyncio.get_running_loop().run_in_executor(self.executor, self.handler, context)
        return await value if inspect.isawaitable(value) else value

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, SystemExit):
            return f"the handler called sys.exit({exc.code!r}); return a response instead"
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == self.filename]
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if frames:
            text += "\nTraceback (your code, most recent call last):\n"
            text += "".join(traceback.format_list(frames)).rstrip()
        return text


def _needs_thread(handler: Any, source: str) -> bool:
    """Whether a plain ``def`` handler must run off the event loop's thread: it names
    ``fetch_sync``, which waits for the loop to carry the request. Reached any other way,
    ``fetch_sync`` raises a FetchError that says so instead of waiting for the timeout."""
    return not inspect.iscoroutinefunction(handler) and "fetch_sync" in source
