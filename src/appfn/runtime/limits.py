"""What one invocation may use, and what it produced."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from appfn.runtime.languages import DEFAULT_FILENAMES, normalize_language, resolve_language, runtime_of

SYNC_TIMEOUT_S = 5.0
ASYNC_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Limits:
    """Per-invocation limits. ``cpu_s`` defaults to the wall-clock timeout.

    ``memory_mb`` bounds a worker's memory: the address space of a Python worker; for a JS worker
    (V8 reserves terabytes of address space up front) the private writable memory it may add once
    bound. ``heap_mb`` is V8's hard heap limit per JS context, and the separate budget of that
    context's ArrayBuffers and typed arrays (docs/sandbox.md).
    """

    timeout_s: float = ASYNC_TIMEOUT_S
    memory_mb: int = 256
    heap_mb: int = 128
    cpu_s: float | None = None
    tmp_mb: int = 64
    file_mb: int = 32
    console_max_lines: int = 1000
    console_max_bytes: int = 65536

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {self.timeout_s}")
        if self.memory_mb < 64:
            raise ValueError(f"memory_mb must be at least 64 (the interpreter needs it), got {self.memory_mb}")
        if self.heap_mb < 16:
            raise ValueError(f"heap_mb must be at least 16 (a V8 context needs it), got {self.heap_mb}")

    @property
    def cpu_budget_s(self) -> float:
        return self.cpu_s if self.cpu_s is not None else self.timeout_s


@dataclass(frozen=True)
class FunctionCode:
    """One immutable version of a function: the unit a worker is bound to.

    ``language`` (``python``, ``typescript``, ``javascript``; or ``py``, ``ts``, ``js``) defaults
    to what the file name's extension says; given without a file name, the file name becomes
    ``handler.ts`` / ``handler.js``. A name and a language that disagree are a ValueError.
    """

    source: str
    filename: str = DEFAULT_FILENAMES["python"]
    return_type: str = "Resp"
    key: str = ""
    language: str = ""

    def __post_init__(self) -> None:
        filename = self.filename
        if self.language and filename == DEFAULT_FILENAMES["python"]:
            filename = DEFAULT_FILENAMES[normalize_language(self.language)]
        language = resolve_language(filename, self.language or None)
        object.__setattr__(self, "filename", filename)
        object.__setattr__(self, "language", language)
        if not self.key:
            text = f"{language}\0{filename}\0{self.return_type}\0{self.source}"
            object.__setattr__(self, "key", hashlib.sha256(text.encode()).hexdigest()[:20])

    @property
    def runtime(self) -> str:
        """``python`` or ``js``: the kind of worker that runs this code."""
        return runtime_of(self.language)


@dataclass
class InvocationResult:
    """What a preview panel shows: status, response, time, console, error, outbound calls."""

    status: str  # "success" | "failure"
    response: dict[str, Any] | None
    duration_ms: float
    console: list[str] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None  # exception | timeout | memory | cpu | crash | load | invalid_return
    requests: list[dict[str, Any]] = field(default_factory=list)
    startup_ms: float = 0.0  # part of duration_ms spent starting or binding a worker (cold start)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "response": self.response,
            "duration_ms": round(self.duration_ms, 3),
            "console": self.console,
            "error": self.error,
            "error_kind": self.error_kind,
            "requests": self.requests,
            "startup_ms": round(self.startup_ms, 3),
        }
