"""Durable job queue: one ``Broker`` contract (``base.py``), one module per backend.

    broker = open_broker("sqlite:////var/appfn/queue.db")    # embedded default (absolute path)
    broker = open_broker("redis://127.0.0.1:6379/0")          # distributed, needs appfn[redis]

Backends are imported lazily, so the Redis client is only needed by those who use it.
"""

from __future__ import annotations

import importlib
from typing import Any

from appfn.errors import QueueConfigError, QueueError, QueueUnavailableError
from appfn.queue.aio import AsyncBroker
from appfn.queue.base import Broker, DeadJob, Depth, Lease, NewJob

# scheme → (backend module, the optional extra that provides its dependency)
BACKENDS: dict[str, tuple[str, str | None]] = {
    "sqlite": ("appfn.queue.sqlite", None),
    "redis": ("appfn.queue.redis", "redis"),
    "rediss": ("appfn.queue.redis", "redis"),
}


def open_broker(url: str, **options: Any) -> Broker:
    """Open the broker a URL names; ``options`` go to the backend (e.g. ``dedupe_ttl_s``)."""
    scheme, sep, _ = url.partition("://")
    if not sep or scheme not in BACKENDS:
        known = ", ".join(f"{s}://" for s in BACKENDS)
        raise QueueConfigError(f"unknown queue URL {url!r}: expected one of {known}")
    module_name, extra = BACKENDS[scheme]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if extra is None or exc.name == module_name:
            raise
        raise QueueConfigError(
            f"the {scheme}:// queue needs the {exc.name!r} package: pip install 'appfn[{extra}]'"
        ) from exc
    broker: Broker = module.from_url(url, **options)
    return broker


__all__ = [
    "BACKENDS",
    "AsyncBroker",
    "Broker",
    "DeadJob",
    "Depth",
    "Lease",
    "NewJob",
    "QueueConfigError",
    "QueueError",
    "QueueUnavailableError",
    "open_broker",
]
