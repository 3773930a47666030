"""Per-invocation capture of ``print`` and ``logging`` output, capped in lines and bytes."""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

MAX_LINE_CHARS = 4096


class Console:
    def __init__(self, max_lines: int = 1000, max_bytes: int = 65536) -> None:
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.lines: list[str] = []
        self.dropped = 0
        self._size = 0
        self._partial = ""

    def write(self, text: str) -> int:
        with self._lock:
            parts = (self._partial + text).split("\n")
            self._partial = parts.pop()
            if len(self._partial) > MAX_LINE_CHARS:
                parts.append(self._partial)
                self._partial = ""
            for part in parts:
                self._add(part)
        return len(text)

    def _add(self, line: str) -> None:
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + f"... [line cut at {MAX_LINE_CHARS} characters]"
        if len(self.lines) >= self.max_lines or self._size + len(line) > self.max_bytes:
            self.dropped += 1
            return
        self.lines.append(line)
        self._size += len(line) + 1

    def finish(self) -> list[str]:
        with self._lock:
            if self._partial:
                self._add(self._partial)
                self._partial = ""
            out = list(self.lines)
            if self.dropped:
                out.append(f"[console output truncated: {self.dropped} more line(s) not shown]")
            return out


class _Stream(io.TextIOBase):
    def __init__(self, console: Console) -> None:
        self._console = console

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self._console.write(str(text))


class _Handler(logging.Handler):
    def __init__(self, console: Console) -> None:
        super().__init__(logging.DEBUG)
        self._console = console
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._console.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def install_logging(console: Console) -> None:
    root = logging.getLogger()
    root.handlers[:] = [_Handler(console)]
    root.setLevel(logging.INFO)


@contextmanager
def captured(console: Console) -> Iterator[Console]:
    console.reset()
    stream = _Stream(console)
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = stream
    try:
        yield console
    finally:
        sys.stdout, sys.stderr = saved
