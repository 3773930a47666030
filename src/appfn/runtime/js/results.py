"""From what the JS side answered to the contract dict, with the SDK's rules applied as they are."""

from __future__ import annotations

import json
from typing import Any

from appfn.errors import ResponseContractError
from appfn.sdk.contract import normalize_response
from appfn.sdk.response import Resp, Shipment

ErrorKind = str  # "exception" | "timeout" | "memory" | "invalid_return" | "load"


def returned(ret: dict[str, Any], return_type: str) -> tuple[dict[str, Any] | None, ErrorKind | None, str | None]:
    """(response, error_kind, error) for the ``done`` record the prelude posts."""
    t = ret.get("t")
    if t == "throw":
        return None, "exception", str(ret.get("error"))
    if t == "load":
        return None, "load", str(ret.get("error"))
    if t == "unserialisable":
        return None, "invalid_return", f"the returned value cannot be turned into JSON: {ret.get('message')}"
    try:
        if t == "builder":
            value: Any = rebuild(ret["builder"], ret["state"])
        elif t == "value":
            value = ret.get("value")
        else:
            value = None
        return normalize_response(value, return_type), None, None
    except (ResponseContractError, KeyError, TypeError, ValueError) as exc:
        return None, "invalid_return", str(exc)


def parse_done(value: Any) -> dict[str, Any]:
    try:
        ret = json.loads(value)
    except (TypeError, ValueError):
        ret = {"t": "unserialisable", "message": "unreadable result"}
    return ret if isinstance(ret, dict) else {}


def rebuild(builder: str, state: dict[str, Any]) -> Resp:
    """The Python builder equal to a JS Resp/Shipment, so that the SDK's rules apply as they are."""
    success = bool(state.get("success"))
    message = state.get("message")
    if builder == "Shipment":
        shipment = Shipment(success, message)
        shipment.set_http_status(state["status"])
        _restore_common(shipment, state)
        fields = state.get("shipment") or {}
        setters = {
            "shipment_number": shipment.set_shipment_number,
            "tracking_number": shipment.set_tracking_number,
            "tracking_link": shipment.set_tracking_link,
            "status": shipment.set_status,
            "status_note": shipment.set_status_note,
            "cost": shipment.set_cost,
        }
        for key, value in fields.items():
            if key == "label":
                shipment.set_pdf_label(value["url"])
            elif key in setters:
                setters[key](value)
        return shipment
    resp = Resp(success, message)
    resp.set_status(state["status"])
    _restore_common(resp, state)
    return resp


def _restore_common(resp: Resp, state: dict[str, Any]) -> None:
    resp.set_data(state.get("data") if state.get("data") is not None else {})
    if state.get("fields") is not None:
        resp.set_fields(state.get("message") or "", state["fields"])


def v8_load_error(text: str, filename: str) -> str:
    """``handler.ts:3: SyntaxError: ...`` from mini-racer's ``<anonymous>:3: SyntaxError: ...``."""
    first = text.split("\n", 1)[0]
    if first.startswith("<anonymous>:"):
        return filename + first[len("<anonymous>") :]
    return first
