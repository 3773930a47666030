"""The sandboxed worker process: load one function version, then serve invocations one at a time.

Started by the pool as ``python -I -S -c <bootstrap> FD MODE RUNTIME PATH...`` with a connected
socket on FD; RUNTIME is ``python`` or ``js``. It prepares what its runtime needs (a JS worker
starts V8 on the main thread and makes a blank context), says ``spawned`` and waits for ``load``:
then it applies its limits, loads the code (the first user code to run), says ``ready`` and
answers ``invoke`` frames until the socket closes. A function's ``fetch`` calls travel back over
the same socket and the platform performs them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import traceback
from typing import Any

from appfn.runtime.protocol import encode, read_frame
from appfn.runtime.worker.base import FrameWorker


async def serve(fd: int, mode: str, runtime: str) -> None:
    reader, writer = await asyncio.open_connection(sock=socket.socket(fileno=fd))
    engine: Any = None
    if runtime == "js":
        from appfn.runtime.worker.js import JsWorker

        engine = await JsWorker.prepare()
    writer.write(encode({"t": "spawned"}))  # imports are done: binding costs only the load now
    try:
        load = await read_frame(reader)  # a spare worker waits here until it is bound
    except EOFError:
        return
    worker: FrameWorker | None
    if runtime == "js":
        worker = await JsWorker.bind(writer, load, engine)
    else:
        from appfn.runtime.worker.python import PythonWorker

        worker = await PythonWorker.bind(writer, load, mode)
    if worker is not None:
        await _serve_frames(reader, worker)


async def _serve_frames(reader: asyncio.StreamReader, worker: FrameWorker) -> None:
    # The platform may send the next invoke before this one's result (pipelining): invocations
    # run one at a time, in the order they came, each with its own limits from when it starts.
    # fetch_result frames are answered at once (they belong to the running invocation).
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    runner = asyncio.create_task(_run_invocations(inbox, worker))
    runner.add_done_callback(_exit_on_crash)
    while True:
        try:
            message = await read_frame(reader)
        except EOFError:
            return
        if message["t"] == "invoke":
            inbox.put_nowait(message)
        elif message["t"] == "fetch_result":
            worker.fetch_result(message)


async def _run_invocations(inbox: asyncio.Queue[dict[str, Any]], worker: FrameWorker) -> None:
    while True:
        await worker.invoke(await inbox.get())


def _exit_on_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        # The invocation machinery itself broke: die so the pool replaces this worker.
        traceback.print_exception(task.exception(), file=sys.__stderr__)
        os._exit(70)


def run() -> None:
    fd, mode, runtime = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    if runtime == "js":
        import appfn.runtime.js  # V8 must start on the main thread: see runtime/js/_v8.py
    elif runtime == "python":
        # What a Python function's first invocation needs, imported before the spare waits.
        import appfn.runtime.worker.python  # noqa: F401
    asyncio.run(serve(fd, mode, runtime))
