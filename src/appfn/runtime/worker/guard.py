"""Limits a worker applies to itself before any user code runs.

rlimits bound memory, file size and descriptors; ``set_cpu_budget`` moves the CPU-time
limit before each invocation. The audit hook is a *tripwire*, not the boundary: it turns
the common forbidden calls into a clear ``PermissionError`` while the real walls are the
namespaces and seccomp filter set up around the process (see docs/sandbox.md).
"""

from __future__ import annotations

import math
import os
import resource
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PROCESS_EVENTS = {
    "os.system", "os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn",
    "subprocess.Popen", "pty.spawn", "os.startfile",
}  # fmt: skip
_NETWORK_EVENTS = {
    "socket.__new__", "socket.bind", "socket.connect", "socket.sendto", "socket.getaddrinfo",
    "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo",
}  # fmt: skip
_PATH_EVENTS = {
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.truncate",
    "os.chmod", "os.chown", "os.utime", "shutil.rmtree", "shutil.copyfile", "shutil.move",
}  # fmt: skip
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_SYS_SECCOMP = {"x86_64": 317, "aarch64": 277}
_BLOCKED_IMPORTS = {"ctypes", "_ctypes", "pyseccomp", "cffi", "_cffi_backend"}


def apply_rlimits(memory_mb: int, file_mb: int, max_files: int = 64) -> None:
    """Memory (address space), largest file written, open descriptors, no core files."""
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    _apply_common(file_mb, max_files)


def apply_js_rlimits(memory_mb: int, file_mb: int, max_files: int = 64) -> int:
    """A JS worker's limits: ``memory_mb`` of private writable memory on top of what is mapped now.

    V8 reserves about 1.4 TB of address space (its sandbox and pointer cage, PROT_NONE) and a
    512 MB read-write-execute code range when the first isolate is made, so ``RLIMIT_AS`` cannot
    work. ``RLIMIT_DATA`` counts only private writable mappings as they are made or turned
    writable, so it bounds V8's heap pages, ArrayBuffers (inside the V8 sandbox), malloc and
    thread stacks. It is set after the spare's first isolate has reserved the code range, as that
    baseline plus ``memory_mb``; V8 aborts the process ("Fatal process out of memory") when an
    allocation hits it, and the platform reports that as a memory error. Returns the limit in bytes.
    """
    limit = data_bytes() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    _apply_common(file_mb, max_files)
    return limit


def data_bytes() -> int:
    """This process's private writable memory as the kernel counts it for RLIMIT_DATA (VmData)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmData in /proc/self/status")


def _apply_common(file_mb: int, max_files: int) -> None:
    file_size = file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, max_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def set_cpu_budget(seconds: float) -> None:
    """Allow ``seconds`` more CPU time from now; past it the kernel sends SIGXCPU (fatal)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def install_seccomp(bpf: bytes, *, forget_ctypes: bool = True) -> None:
    """Load the platform-built BPF filter (``appfn.runtime.seccomp``) into every thread of this process.

    Done here rather than by bwrap because bwrap applies ``--seccomp`` before it executes
    Python, and the filter forbids exactly that exec. ``prctl(PR_SET_SECCOMP)`` would filter only
    the calling thread; a JS worker already runs V8's threads (the isolate's, mini-racer's loop),
    so the filter goes in with ``seccomp(2)`` and ``SECCOMP_FILTER_FLAG_TSYNC``, which puts every
    thread under it. ``forget_ctypes``: Python workers drop ctypes from ``sys.modules`` so user code
    cannot find it imported; a JS worker keeps it (mini-racer calls V8 through it).
    """
    import ctypes

    class _SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    program = ctypes.create_string_buffer(bpf, len(bpf))
    fprog = _SockFprog(len(bpf) // 8, ctypes.addressof(program))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    number = _SYS_SECCOMP.get(os.uname().machine)
    if number is not None:
        done = libc.syscall(number, _SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC, ctypes.byref(fprog))
        if done != 0:  # -1 with errno, or the id of a thread that could not be synchronised
            raise OSError(ctypes.get_errno(), f"seccomp(SECCOMP_SET_MODE_FILTER, TSYNC) failed ({done})")
    else:
        if threading.active_count() > 1 or len(os.listdir("/proc/self/task")) > 1:
            raise OSError(f"cannot filter every thread on {os.uname().machine}: seccomp(2) number unknown")
        if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
    if forget_ctypes:
        # User code must not find ctypes already imported (the tripwire refuses importing it).
        for name in [m for m in sys.modules if m.split(".")[0] in _BLOCKED_IMPORTS]:
            del sys.modules[name]


def use_private_tmp(tmpdir: str) -> None:
    os.makedirs(tmpdir, exist_ok=True)
    os.chdir(tmpdir)
    tempfile.tempdir = tmpdir
    os.environ["TMPDIR"] = tmpdir


def install_tripwire(tmpdir: str, read_roots: tuple[str, ...] | None = None) -> None:
    """Refuse, with a message that says why, what functions may not do.

    ``read_roots`` (process mode) lists the only directories a function may read from; in
    bwrap mode the mount namespace already hides everything else, so it is None.
    """
    sys.addaudithook(_make_hook(_as_dir(tmpdir), tuple(_as_dir(r) for r in read_roots or ())))


def _make_hook(tmp: str, read_roots: tuple[str, ...]) -> Callable[[str, tuple[Any, ...]], None]:
    def under(path: Any, roots: tuple[str, ...]) -> bool:
        if isinstance(path, int):
            return True  # an fd already opened
        real = os.path.realpath(os.fsdecode(path))
        return any((real + "/").startswith(root) for root in roots)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if path is None:
                return
            if writing and not under(path, (tmp,)):
                raise PermissionError(f"functions may write files only under {tmp.rstrip('/')}: {path}")
            if read_roots and not under(path, (tmp, *read_roots)):
                raise PermissionError(f"functions may not read {path}")
        elif event in _PATH_EVENTS:
            for path in args[:2]:
                if isinstance(path, str | bytes) and not under(path, (tmp,)):
                    raise PermissionError(f"functions may change files only under {tmp.rstrip('/')}: {path}")
        elif event in _PROCESS_EVENTS:
            raise PermissionError(f"functions may not start processes ({event})")
        elif event in _NETWORK_EVENTS:
            raise PermissionError(
                f"functions have no direct network access ({event}); use await context.fetch(url)"
            )
        elif event.startswith("ctypes."):
            raise PermissionError(f"ctypes is not available to functions ({event})")
        elif event == "import" and args[0].split(".")[0] in _BLOCKED_IMPORTS:
            raise PermissionError(f"module {args[0]!r} is not available to functions")
        elif event in ("os.kill", "os.killpg") and args[0] not in (0, os.getpid()):
            raise PermissionError("functions may not signal other processes")

    return hook


def _as_dir(path: str) -> str:
    return os.path.realpath(path).rstrip("/") + "/"
