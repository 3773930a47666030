"""Turn whatever a handler returned into the response contract, or say why it cannot be."""

from __future__ import annotations

import json
from typing import Any

from appfn.errors import ResponseContractError
from appfn.sdk.response import DEFAULT_ERROR_STATUS, DEFAULT_SUCCESS_STATUS, Resp, Shipment

_HINT = "return Resp.success(), Resp.error('...') or a dict like {'success': True, 'data': {}}"


def normalize_response(value: Any, return_type: str = "Resp") -> dict[str, Any]:
    """The contract dict ``{success, data, error, status, message}`` for a handler's return value.

    ``return_type`` is the catalog's builder for the trigger (``Resp`` or ``Shipment``).
    Raises ResponseContractError with a message that names what was wrong.
    """
    if value is None:
        raise ResponseContractError(f"the handler returned nothing (None); {_HINT}")
    if isinstance(value, Resp):
        body = value.to_dict()
        if return_type == "Shipment" and body["success"] and not isinstance(value, Shipment):
            raise ResponseContractError(
                "this trigger needs a Shipment: Shipment.success().set_shipment_number(...)"
            )
    elif isinstance(value, dict):
        body = _from_dict(value)
        if return_type == "Shipment" and body["success"] and "shipment_number" not in body["data"]:
            raise ResponseContractError(
                "a successful shipment needs data.shipment_number "
                "(or use Shipment.success().set_shipment_number(...))"
            )
    else:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise ResponseContractError(f"the handler returned {type(value).__name__} ({shown}); {_HINT}")
    ensure_json(body["data"], "data")
    return body


def _from_dict(value: dict[str, Any]) -> dict[str, Any]:
    success = value.get("success")
    if not isinstance(success, bool):
        raise ResponseContractError(
            f"the returned dict needs a boolean 'success', got {success!r}; {_HINT}"
        )
    data = value.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ResponseContractError(f"'data' must be an object (dict), got {type(data).__name__}")
    status = value.get("status", DEFAULT_SUCCESS_STATUS if success else DEFAULT_ERROR_STATUS)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ResponseContractError(f"'status' must be an HTTP status code, got {status!r}")
    message = value.get("message")
    error = value.get("error")
    for name, text in (("message", message), ("error", error)):
        if text is not None and not isinstance(text, str):
            raise ResponseContractError(f"'{name}' must be a string, got {type(text).__name__}")
    if not success and not error:
        error = message or "the function returned an error"
    return {
        "success": success,
        "data": data,
        "error": None if success else error,
        "status": status,
        "message": message,
    }


def ensure_json(value: Any, path: str) -> None:
    """Raise ResponseContractError naming the first value on ``path`` that JSON cannot carry."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ResponseContractError(
            f"{_first_bad_path(value, path) or path} is not JSON-serialisable: {exc}"
        ) from None


def _first_bad_path(value: Any, path: str) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} (key {key!r} is not a string)"
            found = _first_bad_path(item, f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _first_bad_path(item, f"{path}[{i}]")
            if found:
                return found
        return None
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if value == value and value not in (float("inf"), float("-inf")) else path
    return path
