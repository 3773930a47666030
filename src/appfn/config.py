"""Settings of the platform: one name per setting, an ``APPFN_...`` variable and a flag.

``Settings.from_env(environ)`` reads an injected mapping (tests pass their own); the CLI
overrides fields from its flags with ``dataclasses.replace``. The README's table lists them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("appfn-data")
    database_url: str = ""  # default: sqlite under data_dir
    queue_url: str = ""  # default: sqlite under data_dir
    host: str = "127.0.0.1"
    port: int = 8700
    sandbox: str = "auto"
    dispatch_concurrency: int = 64  # async invocations in flight per server process
    # Async invocations a busy worker holds queued behind its running one, so it never waits
    # for the platform between two jobs (sync actions never queue).
    prefetch: int = 4
    max_attempts: int = 3
    retry_base_s: float = 2.0
    retry_max_s: float = 300.0
    max_backlog: int = 100_000  # ready jobs past which ingestion answers 429
    max_body_bytes: int = 1_048_576
    max_batch_events: int = 500
    max_batch_bytes: int = 16_777_216
    shutdown_grace_s: float = 10.0
    lease_timeout_s: float = 90.0  # a job leased by a process that died is run again after this
    idle_ttl_s: float = 60.0
    max_workers: int = 0  # 0: 4 x CPUs
    max_workers_per_function: int = 2
    sync_timeout_s: float = 5.0
    async_timeout_s: float = 30.0
    memory_mb: int = 256
    allow_egress: tuple[str, ...] = field(default_factory=tuple)
    demo: bool = False  # seed a demo store with sample records on start
    demo_store_id: int = 1305146709
    # Where people and functions reach this server; default http://<host>:<port> (127.0.0.1 for a
    # wildcard host). Functions' requests to <public_url>/inspect/... are answered in-process.
    public_url: str = ""
    # The Admin API base functions call (context.api, or fetch without a token): answered in-process
    # by the demo store's Admin API with the installation's token added.
    admin_api_base: str = "https://api.salla.dev/admin/v2"
    inspector_max_requests: int = 1000  # the request inspector keeps this many, newest first

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'appfn.db').resolve()}"

    @property
    def resolved_queue_url(self) -> str:
        return self.queue_url or f"sqlite:///{(self.data_dir / 'queue.db').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``APPFN_<NAME>`` variables; a bad value names the variable."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = env_name(f.name)
            if key in environ:
                values[f.name] = _parse(key, environ[key], f.default if f.default is not field else ())
        return cls(**values)


def env_name(setting: str) -> str:
    return f"APPFN_{setting.upper()}"


def _parse(key: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(raw)
        if isinstance(default, tuple):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return raw
    except ValueError:
        raise ValueError(f"{key}={raw!r} is not a valid {type(default).__name__}") from None
