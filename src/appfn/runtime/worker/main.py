"""The sandboxed worker: load one function version, then serve invocations one at a time.

Started by the pool as ``python -I -S -c <bootstrap> FD MODE PATH...`` with a connected
socket on FD. It applies its limits, loads the handler (the first user code to run), says
``ready`` and then answers ``invoke`` frames until the socket closes. A function's
``fetch`` calls travel back over the same socket and the platform performs them.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import itertools
import os
import socket
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from appfn.errors import HandlerLoadError, ResponseContractError
from appfn.runtime.loader import load_handler
from appfn.runtime.protocol import encode, read_frame
from appfn.runtime.worker import guard
from appfn.runtime.worker.console import Console, captured, install_logging
from appfn.sdk.context import Context
from appfn.sdk.contract import normalize_response


class Worker:
    def __init__(self, writer: asyncio.StreamWriter, load: dict[str, Any]) -> None:
        self.writer = writer
        self.filename: str = load["filename"]
        self.return_type: str = load.get("return_type", "Resp")
        limits = load["limits"]
        self.console = Console(limits["console_max_lines"], limits["console_max_bytes"])
        self.handler: Any = None
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="handler")
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.counter = itertools.count(1)

    def send(self, message: dict[str, Any]) -> None:
        self.writer.write(encode(message))

    async def fetch(self, request: dict[str, Any]) -> dict[str, Any]:
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


async def serve(fd: int, mode: str) -> None:
    reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=fd))
    writer.write(encode({"t": "spawned"}))  # imports are done: binding costs only the load now
    try:
        load = await read_frame(reader)  # a spare worker waits here until it is bound
    except EOFError:
        return
    worker = Worker(writer, load)
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
    except HandlerLoadError as exc:
        writer.write(encode({"t": "load_error", "error": str(exc), "line": exc.line}))
        await writer.drain()
        return
    except MemoryError:
        writer.write(encode({"t": "load_error", "error": "memory limit exceeded while loading", "line": None}))
        await writer.drain()
        return
    worker.send({"t": "ready", "console": worker.console.finish()})
    await _serve_frames(reader, worker)


async def _serve_frames(reader: asyncio.StreamReader, worker: Worker) -> None:
    running: asyncio.Task[None] | None = None
    while True:
        try:
            message = await read_frame(reader)
        except EOFError:
            return
        if message["t"] == "invoke":
            running = asyncio.create_task(worker.invoke(message))
            running.add_done_callback(_exit_on_crash)
        elif message["t"] == "fetch_result":
            worker.fetch_result(message)


def _exit_on_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        # The invocation machinery itself broke: die so the pool replaces this worker.
        traceback.print_exception(task.exception(), file=sys.__stderr__)
        os._exit(70)


def run() -> None:
    fd, mode = int(sys.argv[1]), sys.argv[2]
    asyncio.run(serve(fd, mode))
