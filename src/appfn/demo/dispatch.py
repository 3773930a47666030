"""Which events a change emits besides its own: stock crossings and sync actions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from appfn.demo import outbox
from appfn.demo.models import DemoProductRow
from appfn.demo.records import products
from appfn.dispatch.jobs import EventRecord


def stock_events(
    session: Session, row: DemoProductRow, before: int | None, data: dict[str, Any], default_threshold: int
) -> list[EventRecord]:
    """``product.quantity.low`` when the stock just fell below the product's threshold,
    ``product.available`` when it came back from zero."""
    events = []
    if products.fell_below(before, row.quantity, products.threshold(row, default_threshold)):
        events.append(outbox.add(session, row.store_id, "product.quantity.low", data))
    if products.became_available(before, row.quantity):
        events.append(outbox.add(session, row.store_id, "product.available", data))
    return events


async def run_action(platform: Any, store_id: int, trigger: str, data: dict[str, Any]) -> Any:
    """Run a sync action (``shipment.creating`` / ``shipment.cancelling``) on the installed
    functions and return the platform's ``ActionDecision``."""
    return await platform.actions.run(outbox.event_record(store_id, trigger, data))


def rejection_message(decision: Any) -> str:
    """What the merchant reads when the functions refused: each one's own message."""
    messages = list(dict.fromkeys(str(e.get("message") or "") for e in decision.errors if e.get("message")))
    return "; ".join(messages) or "The operation was rejected by an installed app"


def courier_app(decision: Any) -> str | None:
    """The app whose function set the shipment number (the newest one when several did)."""
    found = None
    for result in decision.results:
        response = result.get("response") or {}
        if response.get("success") and "shipment_number" in (response.get("data") or {}):
            found = result.get("app_id")
    return found
