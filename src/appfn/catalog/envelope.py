"""Build the context a real event would carry: ``{payload, settings, merchant}``."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

# The store id of the docs' Customer Events example, used when no merchant is given.
DEMO_MERCHANT_ID = 1305146709

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def js_date_string(moment: datetime | None = None) -> str:
    """``moment`` in JS ``Date.toString()`` form as the real samples show it.

    e.g. ``Tue Jan 25 2022 12:36:49 GMT+0300``. Naive datetimes are taken as local time; the
    default is now. Names are spelled out here so the result does not depend on the locale.
    """
    if moment is None:
        moment = datetime.now().astimezone()
    elif moment.tzinfo is None:
        moment = moment.astimezone()
    offset = moment.strftime("%z") or "+0000"
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} {moment.year:04d} "
        f"{moment:%H:%M:%S} GMT{offset}"
    )


def make_context(
    trigger_name: str,
    data: Mapping[str, Any] | None,
    settings: Mapping[str, Any] | None = None,
    merchant: int | str | None = None,
    created_at: str | datetime | None = None,
    *,
    copy: bool = True,
) -> dict[str, Any]:
    """The context a real ``trigger_name`` event would carry around ``data``.

    ``data=None`` uses the trigger's documented example (``{}`` when there is none). ``merchant``
    (default: the demo store) fills both ``payload.merchant`` and ``merchant.id``; ``settings``
    defaults to ``{}`` as for a merchant who saved nothing; ``created_at`` defaults to now. Data
    and settings are copied, so the result can be changed freely (``copy=False`` skips that on
    hot paths that only read or serialise the context). The trigger name is checked
    (UnknownTriggerError); the data is not: call ``check_context`` for that.
    """
    from appfn.catalog.model import load_catalog

    trigger = load_catalog().get(trigger_name)
    if data is None:
        data = trigger.example() or {}
    store = DEMO_MERCHANT_ID if merchant is None else merchant
    when = created_at if isinstance(created_at, str) else js_date_string(created_at)
    return {
        "payload": {
            "event": trigger.name,
            "merchant": store,
            "created_at": when,
            # Copied as given: a non-object here is left for check_context to report.
            "data": _plain_copy(data) if copy else data,
        },
        "settings": (_plain_copy(settings) if copy else settings) if settings is not None else {},
        "merchant": {"id": store},
    }


def _plain_copy(value: Any) -> Any:
    # Mappings become dicts (the context must be plain JSON types); everything is deep-copied.
    if isinstance(value, Mapping) and not isinstance(value, dict):
        value = dict(value)
    return copy.deepcopy(value)
