"""A real ``appfn serve`` in a subprocess, on a free loopback port, for end-to-end tests.

    from tests.server import running_server

    with running_server(tmp_path, max_attempts=2) as server:    # or APPFN_MAX_ATTEMPTS="2"
        httpx.get(f"{server.url}/v1/apps", headers=server.headers())
        server.process.kill()                                 # kill -9, if the test wants it

State lives in ``tmp_path / "appfn-data"``. The operator key printed on first start is parsed
from the output and kept in ``tmp_path / "operator-key"``, so a second ``running_server`` on
the same ``tmp_path`` (a restart) has it too. Extra keyword arguments are settings, by name
(``max_attempts=2``) or by variable (``APPFN_MAX_ATTEMPTS="2"``); APPFN_ variables of the
calling environment are not passed on. The shutdown grace defaults to 2 s here (not 10 s) so
tests end quickly. On exit the server gets SIGTERM, then SIGKILL if it has not stopped.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

KEY_RE = re.compile(r"operator key[^\n]*?:\s*(afk_[a-z2-7]+)", re.IGNORECASE)
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


@dataclass
class Server:
    url: str
    operator_key: str | None
    data_dir: Path
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list, repr=False)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        return "".join(self.lines)

    def headers(self, key: str | None = None) -> dict[str, str]:
        chosen = key or self.operator_key
        return {"Authorization": f"Bearer {chosen}"} if chosen else {}

    def client(self, key: str | None = None, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers(key), timeout=30.0, **kwargs)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then SIGKILL if it outlives ``timeout``; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _variable(name: str) -> str:
    return name if name.upper().startswith("APPFN_") else f"APPFN_{name.upper()}"


@contextmanager
def running_server(tmp_path: Path, **env: Any) -> Iterator[Server]:
    data_dir = tmp_path / "appfn-data"
    key_file = tmp_path / "operator-key"
    fresh = not data_dir.exists()
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("APPFN_")}
    environ.update({"APPFN_SHUTDOWN_GRACE_S": "2", "COLUMNS": "200", "PYTHONUNBUFFERED": "1"})
    environ.update({_variable(k): str(v) for k, v in env.items()})
    command = [sys.executable, "-m", "appfn", "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ, cwd=tmp_path
    )
    server = Server(f"http://127.0.0.1:{port}", None, data_dir, process)
    reader = threading.Thread(target=_drain, args=(process, server.lines), daemon=True)
    reader.start()
    try:
        _wait_ready(server)
        found = _wait_key(server) if fresh else KEY_RE.search(server.output())
        if found:
            key_file.write_text(found.group(1), encoding="utf-8")
        if key_file.is_file():
            server.operator_key = key_file.read_text(encoding="utf-8").strip()
        yield server
    finally:
        server.stop()
        reader.join(5)
        if process.stdout:
            process.stdout.close()


def _drain(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)


def _wait_key(server: Server) -> re.Match[str]:
    """A first start prints the operator key before it listens; the reader may lag a moment."""
    deadline = time.monotonic() + 5.0
    while (found := KEY_RE.search(server.output())) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"appfn serve printed no operator key on first start:\n{server.output()}")
        time.sleep(0.05)
    return found


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            time.sleep(0.2)  # let the reader catch the last lines
            raise RuntimeError(f"appfn serve exited with {server.process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"appfn serve did not answer /healthz within {START_TIMEOUT_S:g} s:\n{server.output()}")
