"""Prometheus metrics of the platform, in one registry served at ``GET /metrics``."""

from __future__ import annotations

import functools
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

INVOCATIONS = Counter(
    "appfn_invocations", "Function invocations by trigger and outcome.", ["trigger", "status"], registry=REGISTRY
)
DURATION = Histogram(
    "appfn_invocation_duration_seconds",
    "Wall-clock time of an invocation, cold starts included.",
    ["trigger"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
RETRIES = Counter("appfn_retries", "Async invocations scheduled to run again.", ["trigger"], registry=REGISTRY)
DEAD_LETTERS = Counter("appfn_dead_letters", "Jobs moved to the dead letters.", ["trigger"], registry=REGISTRY)
EVENTS = Counter("appfn_events", "Events accepted by ingestion (duplicates excluded).", ["trigger"], registry=REGISTRY)
QUEUE_DEPTH = Gauge("appfn_queue_depth", "Jobs in the queue by state.", ["state"], registry=REGISTRY)


def invocation(trigger: str, status: str, seconds: float) -> None:
    """Count one invocation and observe its duration."""
    _counter(trigger, status).inc()
    _timer(trigger).observe(seconds)


# The labelled children, looked up once per trigger and status (``labels()`` takes a lock and
# builds a key on every call).
@functools.cache
def _counter(trigger: str, status: str) -> Any:
    return INVOCATIONS.labels(trigger, status)


@functools.cache
def _timer(trigger: str) -> Any:
    return DURATION.labels(trigger)
