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
_BLOCKED_IMPORTS = {"ctypes", "_ctypes", "pyseccomp", "cffi", "_cffi_backend"}


def apply_rlimits(memory_mb: int, file_mb: int, max_files: int = 64) -> None:
    """Memory (address space), largest file written, open descriptors, no core files."""
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
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


def install_seccomp(bpf: bytes) -> None:
    """Load the platform-built BPF filter (``appfn.runtime.seccomp``) into this process.

    Done here rather than by bwrap because bwrap applies ``--seccomp`` before it executes
    Python, and the filter forbids exactly that exec.
    """
    import ctypes

    class _SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    program = ctypes.create_string_buffer(bpf, len(bpf))
    fprog = _SockFprog(len(bpf) // 8, ctypes.addressof(program))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
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
