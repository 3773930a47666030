"""Events of the demo store's changes, handed to the platform only after the change committed.

``add`` writes the event in the change's own transaction; after the commit ``Outbox.emit``
gives it to ``platform.ingestor.accept`` and deletes it. If that fails (queue full, database
busy) the event stays and the next successful emission, or ``flush_outbox`` at start, sends it
again: a change is never committed without its event. Sending twice is harmless: the event id
is the platform's dedupe key.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from appfn import store
from appfn.catalog import js_date_string
from appfn.demo.models import DemoOutboxRow
from appfn.dispatch.ingest import Ingestor, parse_event
from appfn.dispatch.jobs import EventRecord
from appfn.store._common import utcnow

log = logging.getLogger(__name__)
FLUSH_BATCH = 500


def event_record(store_id: int, trigger: str, data: dict[str, Any]) -> EventRecord:
    """The event, checked like any event the platform receives (an invalid one is our bug)."""
    parsed = parse_event(
        {"id": f"demo-{uuid.uuid4().hex}", "event": trigger, "merchant": store_id, "created_at": js_date_string(),
         "data": data}
    )  # fmt: skip
    if isinstance(parsed, list):
        problems = "; ".join(str(v) for v in parsed)
        raise RuntimeError(f"the demo store built an invalid {trigger} payload: {problems}")
    return parsed


def add(session: Session, store_id: int, trigger: str, data: dict[str, Any]) -> EventRecord:
    record = event_record(store_id, trigger, data)
    session.add(
        DemoOutboxRow(id=record.id, store_id=store_id, trigger=trigger, data=record.data,
                      created_at=record.created_at or "", queued_at=utcnow())
    )  # fmt: skip
    return record


class Outbox:
    def __init__(self, db: store.Database, ingestor: Ingestor) -> None:
        self.db = db
        self.ingestor = ingestor
        self.dirty = True  # rows may be left over from an earlier run: look once

    async def emit(self, records: list[EventRecord]) -> None:
        """Hand committed events to the platform; on failure they wait in the outbox."""
        if records:
            try:
                await self.ingestor.accept(records)
            except Exception as exc:  # the change is committed: never fail the merchant's request for this
                log.warning("demo store: %d event(s) kept in the outbox, will retry: %s", len(records), exc)
                self.dirty = True
                return
            await asyncio.to_thread(self._delete, [r.id for r in records])
        if self.dirty:
            await self.flush()

    async def flush(self) -> int:
        """Send whatever is waiting, oldest first; returns how many were handed over."""
        sent = 0
        while True:
            rows = await asyncio.to_thread(self._pending)
            if not rows:
                self.dirty = False
                return sent
            try:
                await self.ingestor.accept(rows)
            except Exception as exc:
                log.warning("demo store: outbox still holds events: %s", exc)
                return sent
            await asyncio.to_thread(self._delete, [r.id for r in rows])
            sent += len(rows)

    def _pending(self) -> list[EventRecord]:
        with self.db.read_session() as session:
            rows = session.execute(
                select(DemoOutboxRow).order_by(DemoOutboxRow.queued_at, DemoOutboxRow.id).limit(FLUSH_BATCH)
            ).scalars()
            return [EventRecord(r.id, r.trigger, r.store_id, r.created_at or None, r.data) for r in rows]

    def _delete(self, ids: list[str]) -> None:
        with self.db.session() as session:
            session.execute(delete(DemoOutboxRow).where(DemoOutboxRow.id.in_(ids)))


async def flush_outbox(platform: Any) -> int:
    """Send events a previous run left in the outbox (call once the platform has started)."""
    return await Outbox(platform.db, platform.ingestor).flush()
