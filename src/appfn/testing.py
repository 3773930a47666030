"""Helpers for testing functions with pytest: run a handler in the real sandbox.

    from appfn.testing import invoke

    def test_welcome():
        result = invoke("handler.py", "customer.created", example=True, settings={...})
        assert result.status == "success"

The handler file may be Python (``.py``), TypeScript (``.ts``) or JavaScript (``.js``). Call it
from the main thread (pytest does): TypeScript is transpiled in V8, which must start there.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from appfn.catalog import load_catalog
from appfn.runtime.limits import InvocationResult
from appfn.runtime.local import LocalRun, invoke_local_sync, read_source

__all__ = ["invoke"]


def invoke(
    handler: str | Path,
    trigger: str,
    data: dict[str, Any] | None = None,
    *,
    example: bool = False,
    settings: dict[str, Any] | None = None,
    merchant: int | str | None = None,
    timeout_s: float | None = None,
    allow_egress: Sequence[str] = (),
    sandbox: str = "auto",
) -> InvocationResult:
    """Run the handler file (.py, .ts or .js) once on ``trigger`` with ``data`` (or the catalog example).

    Raises ContextValidationError when the context breaks the trigger's schema; a function that
    fails (a syntax error included) comes back as a result with ``status == "failure"``.
    """
    source, filename = read_source(handler)
    if example:
        data = load_catalog().get(trigger).example_data or {}
    run = LocalRun(
        source=source,
        filename=filename,
        trigger=trigger,
        data=data if data is not None else {},
        settings=settings,
        merchant=merchant,
        timeout_s=timeout_s,
        allow_egress=tuple(allow_egress),
        sandbox=sandbox,
    )
    return invoke_local_sync(run)
