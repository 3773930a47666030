"""Run one function once, locally, as the platform would: what ``appfn invoke`` and
``appfn.testing`` share. Bad input raises (CatalogError, ValueError); anything the function
does comes back in the InvocationResult.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appfn.catalog import load_catalog, make_context
from appfn.errors import ContextValidationError
from appfn.runtime.egress import EgressClient, EgressPolicy
from appfn.runtime.languages import EXTENSIONS, language_of
from appfn.runtime.limits import FunctionCode, InvocationResult, Limits
from appfn.runtime.pool import Runtime

SUFFIXES = tuple(ext for exts in EXTENSIONS.values() for ext in exts)


@dataclass(frozen=True)
class LocalRun:
    """Everything one local invocation needs, already read and checked."""

    source: str
    filename: str
    trigger: str
    data: dict[str, Any]
    settings: dict[str, Any] | None = None
    merchant: int | str | None = None
    timeout_s: float | None = None
    memory_mb: int = 256
    heap_mb: int = 128  # JS/TS: V8's heap limit
    allow_egress: Sequence[str] = field(default_factory=tuple)
    sandbox: str = "auto"


def read_source(path: str | Path) -> tuple[str, str]:
    """(source, filename) of a function file (.py, .ts or .js); raises ValueError naming the problem."""
    file = Path(path)
    if language_of(file) is None:
        raise ValueError(f"{file}: a function file ends in .py (Python), .ts (TypeScript) or .js (JavaScript)")
    try:
        return file.read_text(encoding="utf-8"), file.name
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {file}: {exc}") from None


def build_context(run: LocalRun) -> dict[str, Any]:
    """The context the real event would carry; raises ContextValidationError on violations."""
    context = make_context(run.trigger, run.data, settings=run.settings, merchant=run.merchant)
    violations = load_catalog().validate_context(run.trigger, context)
    if violations:
        raise ContextValidationError(violations)
    return context


async def invoke_local(run: LocalRun) -> InvocationResult:
    trigger = load_catalog().get(run.trigger)
    context = build_context(run)
    limits = Limits(timeout_s=run.timeout_s or float(trigger.timeout_s), memory_mb=run.memory_mb, heap_mb=run.heap_mb)
    code = FunctionCode(run.source, run.filename, trigger.return_type)
    policy = EgressPolicy(allow=tuple(run.allow_egress))
    egress = EgressClient(policy)
    try:
        async with Runtime(sandbox=run.sandbox, spare_workers=0) as runtime:  # one run: no spare to keep
            fetcher = egress.fetcher()
            result = await runtime.invoke(code, context, limits, fetch=fetcher.fetch)
            result.requests = fetcher.calls
            return result
    finally:
        await egress.aclose()


def invoke_local_sync(run: LocalRun) -> InvocationResult:
    return asyncio.run(invoke_local(run))
