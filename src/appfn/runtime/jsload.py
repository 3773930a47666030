"""The platform side of the JS runtime: transpile TypeScript/JavaScript for a worker.

The platform process runs sucrase in its own V8 (``appfn.runtime.js.transpile``), so V8 must be
started on the process's main thread: mini-racer 0.14.1 crashes the process (SIGSEGV) when V8
was started on another thread and contexts are then made on yet others (runtime/js/_v8.py). Import
``appfn.runtime.js`` (or call ``start_v8()``) from the main thread at start-up; the CLI and the
test suite do. A first use from another thread raises SandboxError instead of risking the crash.
"""

from __future__ import annotations

import sys
import threading

from appfn.errors import SandboxError


def start_v8() -> None:
    """Start V8 in this process now; call it from the main thread (at server start-up)."""
    if threading.current_thread() is not threading.main_thread():
        raise SandboxError("start_v8() must be called from the main thread")
    import appfn.runtime.js  # noqa: F401  (starts V8 at import, on this thread)


def v8_started() -> bool:
    dll = sys.modules.get("py_mini_racer._dll")
    return dll is not None and getattr(dll, "_dll_handle", None) is not None


def ensure_v8() -> None:
    """Start V8 if on the main thread; raise SandboxError if it is not started and this is another thread."""
    if v8_started():
        return
    if threading.current_thread() is threading.main_thread():
        start_v8()
        return
    raise SandboxError(
        "the JS runtime is not started: import appfn.runtime.js (or call appfn.runtime.jsload.start_v8()) "
        "from the main thread at start-up, before TypeScript/JavaScript functions run"
    )


async def transpile_for_worker(source: str, filename: str) -> str:
    """``transpile(source, filename)`` off the event loop; raises HandlerLoadError with line and column."""
    ensure_v8()
    from appfn.runtime.js import transpile_async

    return await transpile_async(source, filename)
