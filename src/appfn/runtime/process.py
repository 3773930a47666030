"""One sandboxed worker process, seen from the platform: start, invoke, kill.

A worker is bound to one function version for its whole life. Anything unexpected from
it (a crash, a bad frame, a timeout) kills it; the pool starts another when needed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import shutil
import signal
import socket
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from appfn.errors import HandlerLoadError, SandboxError
from appfn.runtime import sandbox as sb
from appfn.runtime.limits import FunctionCode, Limits
from appfn.runtime.protocol import ProtocolError, encode, read_frame
from appfn.runtime.seccomp import exported_bpf

FetchFn = Callable[[dict[str, Any], float], Awaitable[dict[str, Any]]]

_BOOT = "import sys;sys.path[:0]=sys.argv[4:];from appfn.runtime.worker.main import run;run()"
_STDERR_TAIL = 2048
_SPAWN_TIMEOUT_S = 15
# A JS worker ends runaway JS at the deadline itself and stays warm; the platform's SIGKILL waits
# this much longer, as the backstop for an isolate that does not stop.
JS_DEADLINE_GRACE_S = 1.0
_V8_OOM = re.compile(rb"Fatal (?:process|JavaScript) out of memory|Fatal JavaScript invalid size")
_REAPING: set[asyncio.Task[None]] = set()


async def reap_all() -> None:
    """Wait until every worker killed from this event loop has been collected (a runtime on
    another loop, e.g. another test's, waits for its own: its tasks cannot be awaited here)."""
    loop = asyncio.get_running_loop()
    while mine := [task for task in _REAPING if task.get_loop() is loop]:
        await asyncio.gather(*mine, return_exceptions=True)


class WorkerDied(Exception):
    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class NotStarted(Exception):
    """The invocation was queued behind another on a worker that died or was stopped before
    its turn (or, when the platform stopped the worker, before it answered): run it elsewhere.
    ``budget_s``: what was left of its time when it was handed over."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        super().__init__("the worker stopped before this invocation started")


@dataclass(eq=False)
class _Call:
    """One invocation handed to a worker."""

    future: asyncio.Future[dict[str, Any]]
    fetch: FetchFn
    budget: float  # seconds it may run, counted from when it starts
    limits: Limits
    deadline: float = 0.0  # time.monotonic() deadline, once started
    timer: asyncio.TimerHandle | None = None
    fetches: set[asyncio.Task[None]] = field(default_factory=set)

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for task in self.fetches:
            task.cancel()


class WorkerProcess:
    """Spawned blank (``spawn``), then bound to one function version for life (``bind``).

    Spawning is the slow part (bubblewrap, interpreter start, imports); the runtime keeps
    a spare blank worker so that a new function's first invocation only pays for ``bind``.
    """

    def __init__(self, sandbox: sb.Sandbox, tmp_mb: int, runtime: str = "python") -> None:
        if runtime not in ("python", "js"):
            raise ValueError(f"runtime must be 'python' or 'js', got {runtime!r}")
        self.sandbox = sandbox
        self.tmp_mb = tmp_mb
        self.runtime = runtime
        self.v8_out_of_memory = False  # V8 aborted the process for want of memory (RLIMIT_DATA)
        self.code: FunctionCode | None = None
        self.limits = Limits(tmp_mb=tmp_mb)
        self.proc: asyncio.subprocess.Process | None = None
        self.last_used = time.monotonic()
        self.invocations = 0
        self._stderr = b""
        self._tmpdir: str | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._drain: asyncio.Task[None] | None = None
        self._calls: deque[_Call] = deque()  # handed over, not answered; the first one runs
        self._results: asyncio.Task[None] | None = None
        self._killed = False
        self.checked_out = 0  # callers the pool has handed this worker to (Runtime's bookkeeping)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    async def spawn(self) -> None:
        """Start the sandboxed interpreter; it imports the worker and waits for ``load``."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            await self._spawn(child)
        finally:
            child.close()
        self._reader, self._writer = await asyncio.open_connection(sock=parent)
        try:
            async with asyncio.timeout(_SPAWN_TIMEOUT_S):
                hello = await read_frame(self._reader)
        except (EOFError, ProtocolError, TimeoutError) as exc:
            died = await self._death(exc)
            self.kill()
            raise SandboxError(f"the worker failed to start: {died[1]}") from None
        if hello["t"] != "spawned":
            self.kill()
            raise SandboxError(f"worker sent {hello['t']!r} instead of spawned")

    async def bind(self, code: FunctionCode, limits: Limits, js: str | None = None) -> list[str]:
        """Load ``code`` (limits applied first); returns the console of the module load.

        ``js``: for TypeScript/JavaScript, the transpiled code (``appfn.runtime.js.transpile``).
        """
        assert self._reader is not None and self._writer is not None and self.code is None
        if code.runtime != self.runtime:
            raise ValueError(f"a {self.runtime} worker cannot run {code.language} code")
        if self.runtime == "js" and js is None:
            raise ValueError("a JS worker is bound to transpiled code: pass js=transpile(...)")
        self.code, self.limits = code, limits
        self._writer.write(encode(self._load_message(js)))
        try:
            async with asyncio.timeout(limits.timeout_s + 10):
                reply = await read_frame(self._reader)
        except (EOFError, ProtocolError, TimeoutError) as exc:
            died = await self._death(exc)
            self.kill()
            raise SandboxError(f"the worker failed to start: {died[1]}") from None
        if reply["t"] == "load_error":
            self.kill()
            raise HandlerLoadError(str(reply.get("error")), reply.get("line"))
        if reply["t"] != "ready":
            self.kill()
            raise SandboxError(f"worker sent {reply['t']!r} instead of ready")
        return [str(line) for line in reply.get("console") or []]

    async def _spawn(self, child: socket.socket) -> None:
        python = [sb.python_executable(), "-I", "-S", "-B", "-c", _BOOT, str(child.fileno())]
        mode = self.sandbox.mode
        roots = sb.worker_sys_path()
        if self.runtime == "js":
            roots += sb.js_sys_path(mode)
        if mode == "bwrap":
            binds = sb.js_binds() if self.runtime == "js" else None
            prefix = sb.bwrap_command(self.sandbox.bwrap or "bwrap", self.tmp_mb * 1024 * 1024, binds)
            self.proc = await self._exec([*prefix, *python, mode, self.runtime, *roots], (child.fileno(),), None)
        else:
            self._tmpdir = tempfile.mkdtemp(prefix="appfn-worker-")
            env = {"MALLOC_ARENA_MAX": "2", "PATH": "/usr/bin:/bin", "TMPDIR": self._tmpdir}
            self.proc = await self._exec([*python, mode, self.runtime, *roots], (child.fileno(),), env)
        self._drain = asyncio.get_running_loop().create_task(self._drain_stderr())

    async def _exec(self, cmd: list[str], fds: tuple[int, ...], env: dict[str, str] | None):
        return await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=fds,
            env=env if env is not None else {},
            start_new_session=True,
        )

    def _load_message(self, js: str | None) -> dict[str, Any]:
        tmpdir = sb.SANDBOX_TMP if self.sandbox.mode == "bwrap" else self._tmpdir
        limits = {
            "memory_mb": self.limits.memory_mb,
            "heap_mb": self.limits.heap_mb,
            "file_mb": self.limits.file_mb,
            "tmpdir": tmpdir,
            "console_max_lines": self.limits.console_max_lines,
            "console_max_bytes": self.limits.console_max_bytes,
            "load_timeout_s": self.limits.timeout_s,
        }
        assert self.code is not None
        message: dict[str, Any] = {
            "t": "load",
            "language": self.code.language,
            "filename": self.code.filename,
            "return_type": self.code.return_type,
            "limits": limits,
        }
        if self.runtime == "js":
            message["code"] = js
        else:
            message["source"] = self.code.source
        if self.sandbox.mode == "process":
            message["read_roots"] = _process_read_roots()
            # No PID namespace here: also keep the worker from signalling anyone but itself.
            message["seccomp_bpf"] = base64.b64encode(exported_bpf(self.pid)).decode()
        else:
            message["seccomp_bpf"] = base64.b64encode(exported_bpf()).decode()
        return message

    @property
    def load(self) -> int:
        """Invocations handed to this worker and not answered yet (the running one and those
        queued behind it)."""
        return len(self._calls)

    async def invoke(
        self, context: dict[str, Any], fetch: FetchFn, deadline: float, limits: Limits | None = None
    ) -> dict[str, Any]:
        """Run one invocation; returns the worker's result frame or raises WorkerDied.

        ``limits``: this invocation's (its timeout, CPU budget and heap may differ from those the
        worker was bound with; memory and /tmp are the worker's own).

        Invocations may be handed over while another one runs (pipelining): the worker runs them
        one at a time, in order. One handed over behind another keeps what was left of its time
        when it was handed over (``deadline - now``) and its clock starts when it starts, that
        is when the one before it has answered; if the worker dies or is stopped before that,
        it raises ``NotStarted`` and can run elsewhere.
        """
        assert self._reader is not None and self._writer is not None
        if not self.alive:
            raise NotStarted(deadline - time.monotonic())
        self.invocations += 1
        limits = limits or self.limits
        budget = deadline - time.monotonic()
        frame = {
            "t": "invoke",
            "context": context,
            "cpu_s": limits.cpu_budget_s,
            "timeout_s": limits.timeout_s,
            "remaining_s": budget,
            "heap_mb": limits.heap_mb,
        }
        call = _Call(asyncio.get_running_loop().create_future(), fetch, budget, limits)
        self._writer.write(encode(frame))
        self._calls.append(call)
        if len(self._calls) == 1:
            self._start(call)
        if self._results is None:
            self._results = asyncio.get_running_loop().create_task(self._read_results())
        try:
            return await call.future
        except asyncio.CancelledError:
            if self._calls and self._calls[0] is call:
                self.kill()  # it is running: as before pipelining, the worker goes with it
            # Queued: it runs when its turn comes and its answer is dropped (the future is done).
            raise
        finally:
            self.last_used = time.monotonic()

    def _start(self, call: _Call) -> None:
        """``call`` is now the one the worker runs: its time starts."""
        call.deadline = time.monotonic() + call.budget
        grace = JS_DEADLINE_GRACE_S if self.runtime == "js" else 0.0
        loop = asyncio.get_running_loop()
        call.timer = loop.call_at(_loop_time(call.deadline + grace), self._timed_out, call)

    def _timed_out(self, call: _Call) -> None:
        if not self._calls or self._calls[0] is not call:
            return
        self._fail(WorkerDied("timeout", f"timed out after {call.limits.timeout_s:g} s"))
        self.kill()

    def _fail(self, head_error: BaseException | None) -> None:
        """The worker is going: the running invocation gets ``head_error`` (None: NotStarted like
        the others), those queued behind it never started (NotStarted)."""
        calls, self._calls = self._calls, deque()
        for i, call in enumerate(calls):
            call.stop()
            if not call.future.done():
                error = head_error if i == 0 and head_error is not None else NotStarted(call.budget)
                call.future.set_exception(error)

    async def _read_results(self) -> None:
        """The worker's frames, in order: ``fetch`` calls of the running invocation and its
        ``result``, after which the next one (if any) starts."""
        assert self._reader is not None
        while True:
            try:
                frame = await read_frame(self._reader)
                if not self._calls:
                    raise ProtocolError(f"unexpected frame {frame['t']!r} between invocations")
                call = self._calls[0]
                if frame["t"] == "result":
                    self._calls.popleft()
                    call.stop()
                    if not call.future.done():
                        call.future.set_result(frame)
                    if self._calls:
                        self._start(self._calls[0])
                elif frame["t"] == "fetch":
                    task = asyncio.get_running_loop().create_task(self._fetch(frame, call.fetch, call.deadline))
                    call.fetches.add(task)
                    task.add_done_callback(call.fetches.discard)
                else:
                    raise ProtocolError(f"unexpected frame {frame['t']!r} during an invocation")
            except (EOFError, ProtocolError) as exc:
                if self._calls:
                    head = self._calls[0]
                    for call in self._calls:
                        call.stop()  # no timeout while the cause of death is looked up
                    reason = await self._death(exc, head.limits)
                    self._fail(WorkerDied(reason[0], reason[1]))
                self.kill()
                return

    async def _fetch(self, frame: dict[str, Any], fetch: FetchFn, deadline: float) -> None:
        request = frame.get("request")
        if not isinstance(request, dict):
            response: dict[str, Any] = {"error": {"kind": "invalid", "message": "malformed fetch request"}}
        else:
            response = await fetch(request, deadline)
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(encode({"t": "fetch_result", "n": frame.get("n"), "response": response}))

    async def _death(self, exc: BaseException, limits: Limits | None = None) -> tuple[str, str]:
        """Why the worker stopped answering: (error_kind, message)."""
        if isinstance(exc, ProtocolError):
            return "crash", f"worker broke the protocol: {exc}"
        code = None
        if self.proc is not None:
            with contextlib.suppress(TimeoutError):
                code = await asyncio.wait_for(self.proc.wait(), 2)
            if self._drain is not None:
                with contextlib.suppress(TimeoutError, Exception):
                    await asyncio.wait_for(asyncio.shield(self._drain), 0.5)
        if self.v8_out_of_memory:
            return "memory", f"out of memory: the worker went over its {self.limits.memory_mb} MB memory limit"
        return _exit_reason(code, limits or self.limits, self._stderr.decode(errors="replace"))

    async def _drain_stderr(self) -> None:
        stream = self.proc.stderr if self.proc else None
        while stream is not None:
            chunk = await stream.read(4096)
            if not chunk:
                return
            if not self.v8_out_of_memory and _V8_OOM.search(self._stderr[-64:] + chunk):
                self.v8_out_of_memory = True
            self._stderr = (self._stderr + chunk)[-_STDERR_TAIL:]

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None and not self._killed

    async def wait(self) -> None:
        """Wait for the process to be gone (after kill)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                await self.proc.wait()
        if self._drain is not None:
            with contextlib.suppress(Exception):
                await self._drain

    def kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        if self._calls:
            # Stopped by the platform (a call before them was cancelled or asked for a fresh
            # worker): those still waiting for an answer run again elsewhere.
            self._fail(None)
        if self._results is not None and self._results is not asyncio.current_task():
            self._results.cancel()
        if self._writer is not None:
            self._writer.close()
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            # Collect the exit status soon, so the dead process leaves no zombie behind.
            reaping = asyncio.get_running_loop().create_task(self.wait())
            _REAPING.add(reaping)
            reaping.add_done_callback(_REAPING.discard)
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None


def _exit_reason(code: int | None, limits: Limits, stderr: str) -> tuple[str, str]:
    if code is None:
        return "crash", "the worker stopped answering"
    if 128 < code < 128 + 65:
        code = -(code - 128)  # bwrap reports its child's fatal signal as 128 + signal
    if code == -signal.SIGXCPU:
        return "cpu", f"CPU time limit exceeded ({limits.cpu_budget_s:g} s)"
    if code == -signal.SIGKILL:
        return "memory", "the worker was killed (most likely out of memory)"
    if code < 0:
        return "crash", f"the worker crashed ({signal.Signals(-code).name})"
    tail = stderr.strip().splitlines()[-1:] if stderr.strip() else []
    detail = f": {tail[0]}" if tail else ""
    return "crash", f"the worker exited with code {code}{detail}"


def _process_read_roots() -> list[str]:
    import sys

    roots = {os.path.realpath(sys.base_prefix), *sb.worker_sys_path()}
    return sorted(roots | {"/usr/lib", "/usr/share/zoneinfo", "/dev/urandom", "/dev/null"})


def _loop_time(deadline: float) -> float:
    """Convert a time.monotonic() deadline to the running loop's clock."""
    loop = asyncio.get_running_loop()
    return loop.time() + (deadline - time.monotonic())
