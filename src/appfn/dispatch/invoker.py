"""Run one installation's function for one event: the context it would get, the limits of its
trigger, outbound HTTP (with the Admin API route) and the metrics. Shared by the async
dispatcher and sync actions."""

from __future__ import annotations

from appfn import metrics, store
from appfn.catalog import load_catalog, make_context
from appfn.dispatch.directory import Directory
from appfn.dispatch.jobs import EventRecord
from appfn.dispatch.outbound import AdminApi, Caller, Outbound
from appfn.runtime.egress import EgressClient
from appfn.runtime.limits import InvocationResult, Limits
from appfn.runtime.pool import Runtime


class Invoker:
    def __init__(self, runtime: Runtime, egress: EgressClient, directory: Directory, *, memory_mb: int) -> None:
        self.runtime = runtime
        self.egress = egress
        self.directory = directory
        self.memory_mb = memory_mb
        self.admin: AdminApi | None = None  # set by the platform once the Admin API app exists

    async def invoke(
        self, event: EventRecord, target: store.Target, timeout_s: float, *, queue: bool = False
    ) -> InvocationResult:
        """``timeout_s`` is the platform's cap for the execution type; the trigger's own is lower or equal.
        ``queue``: may wait in a busy worker's line (``Runtime.invoke``; async events, not sync actions)."""
        trigger = load_catalog().get(event.trigger)
        context = make_context(
            event.trigger, event.data, settings=target.settings, merchant=event.store_id,
            created_at=event.created_at, copy=False,
        )  # fmt: skip
        limits = Limits(timeout_s=min(timeout_s, float(trigger.timeout_s)), memory_mb=self.memory_mb)
        caller = Caller(
            target.installation_id, target.app_id, target.partner_id, target.store_id, event.id, event.trigger
        )  # who sent what the request inspector records
        outbound = Outbound(self.egress, self.admin, target.installation_id, caller)
        code = self.directory.code(target, trigger.return_type)
        result = await self.runtime.invoke(code, context, limits, fetch=outbound.fetch, queue=queue)
        result.requests = outbound.calls
        metrics.invocation(event.trigger, result.status, result.duration_ms / 1000)
        return result
