"""Records as JSON for the API: dates as ISO strings, secrets never included."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from appfn import store


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def installation(item: store.Installation) -> dict[str, Any]:
    body = plain(item)
    body.pop("settings_schema", None)
    body["settings"] = item.public_settings()
    return body


def version(item: store.FunctionVersion, with_source: bool = False) -> dict[str, Any]:
    body = plain(item)
    if not with_source:
        body.pop("source", None)
    return body


def key(item: store.ApiKey) -> dict[str, Any]:
    body = plain(item)
    body.pop("hash", None)
    return body
