"""What travels through the queue: one job per (event, installation), JSON-encoded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

JOBS_QUEUE = "invocations"


@dataclass(frozen=True)
class EventRecord:
    """An accepted event, as ingestion normalised it."""

    id: str
    trigger: str
    store_id: int
    created_at: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Job:
    event: EventRecord
    installation_id: str
    function_version_id: str

    @property
    def dedupe_key(self) -> str:
        return f"{self.event.id}:{self.installation_id}"

    def encode(self) -> bytes:
        event = self.event  # by hand: dataclasses.asdict deep-copies data and costs more than the JSON
        body = {
            "event": {
                "id": event.id, "trigger": event.trigger, "store_id": event.store_id,
                "created_at": event.created_at, "data": event.data,
            },
            "installation_id": self.installation_id,
            "function_version_id": self.function_version_id,
        }  # fmt: skip
        try:
            return orjson.dumps(body)
        except TypeError:  # integers past 64 bits, non-string keys: what the stdlib encoder takes
            return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Job:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:  # written by the stdlib encoder (see encode)
            body = json.loads(raw)
        return cls(EventRecord(**body["event"]), body["installation_id"], body["function_version_id"])
