"""Sync actions (``shipment.creating``, ``shipment.cancelling``): run every matching
installation's function inline, within one budget, and decide whether the operation goes on.

Decision rules (docs/dispatch.md):

* every function runs concurrently, all under the same deadline (the trigger's 5 s);
* the operation proceeds only if **every** function succeeded; a failure, a timeout, an
  invalid return or a function that could not load rejects it, and each one's message is in
  ``errors`` for the merchant;
* ``data`` is the shallow merge of the successful functions' ``data`` in installation order
  (oldest installation first), so on a key two functions both set, the newer installation wins;
* no matching function: the operation proceeds with ``data: {}``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from appfn import store
from appfn.dispatch.invoker import Invoker
from appfn.dispatch.jobs import EventRecord
from appfn.runtime.limits import InvocationResult


@dataclass
class ActionDecision:
    proceed: bool
    data: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "proceed": self.proceed,
            "data": self.data,
            "errors": self.errors,
            "results": self.results,
            "duration_ms": round(self.duration_ms, 3),
        }


class ActionRunner:
    def __init__(
        self,
        db: store.Database,
        invoker: Invoker,
        *,
        timeout_s: float,
    ) -> None:
        self.db = db
        self.invoker = invoker
        self.directory = invoker.directory
        self.timeout_s = timeout_s

    async def run(self, event: EventRecord) -> ActionDecision:
        started = time.monotonic()
        targets = await asyncio.to_thread(self._targets, event)
        began = datetime.now(UTC)
        results = await asyncio.gather(*(self.invoker.invoke(event, t, self.timeout_s) for t in targets))
        decision = _decide(targets, results)
        decision.duration_ms = (time.monotonic() - started) * 1000
        await asyncio.to_thread(self._record, event, targets, results, began)
        return decision

    def _targets(self, event: EventRecord) -> list[store.Target]:
        with self.db.read_session() as session:
            return self.directory.targets(session, event.store_id, event.trigger)

    def _record(
        self,
        event: EventRecord,
        targets: list[store.Target],
        results: list[InvocationResult],
        began: datetime,
    ) -> None:
        if not targets:
            return
        rows = [
            store.NewExecution(
                app_id=t.app_id,
                partner_id=t.partner_id,
                store_id=t.store_id,
                trigger=event.trigger,
                status=_status(r),
                event_id=event.id,
                function_id=t.function_id,
                function_version_id=t.function_version_id,
                installation_id=t.installation_id,
                attempt=1,
                response=r.response,
                error=r.error,
                error_kind=r.error_kind,
                console=r.console,
                requests=r.requests,
                duration_ms=r.duration_ms,
                created_at=began,
                started_at=began,
                finished_at=datetime.now(UTC),
            )
            for t, r in zip(targets, results, strict=True)
        ]
        with self.db.session() as session:
            recorded = store.NewEvent(event.id, event.trigger, event.store_id, event.data, event.created_at)
            store.record_events(session, [recorded])
            store.record_executions(session, rows)


def _status(result: InvocationResult) -> str:
    if result.ok:
        return "success"
    return "timeout" if result.error_kind == "timeout" else "failure"


def _decide(targets: list[store.Target], results: list[InvocationResult]) -> ActionDecision:
    merged: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    per_function: list[dict[str, Any]] = []
    for target, result in zip(targets, results, strict=True):
        per_function.append(
            {
                "app_id": target.app_id,
                "installation_id": target.installation_id,
                "function_id": target.function_id,
                "version": target.version_number,
                "status": result.status,
                "response": result.response,
                "error": result.error,
                "duration_ms": round(result.duration_ms, 3),
            }
        )
        if result.ok and result.response is not None:
            merged.update(result.response.get("data") or {})
        else:
            errors.append({"app_id": target.app_id, "message": _merchant_message(result)})
    return ActionDecision(not errors, merged, errors, per_function)


def _merchant_message(result: InvocationResult) -> str:
    """What the merchant reads: the function's own message, else what went wrong."""
    if result.response is not None and not result.response.get("success"):
        return result.response.get("error") or result.response.get("message") or "the app rejected the operation"
    if result.error_kind == "timeout":
        return "the app did not answer in time"
    return f"the app failed: {(result.error or 'unknown error').splitlines()[0]}"
