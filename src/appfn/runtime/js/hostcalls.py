"""What JS asks the host to do: fetch (through the platform's egress) and the Web Crypto primitives."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from appfn.errors import EgressDeniedError, FetchError, FetchTimeoutError, ResponseTooLargeError

Fetch = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

_DIGESTS = {"sha1", "sha256", "sha384", "sha512"}
_FETCH_ERROR_KINDS: dict[type[FetchError], str] = {
    EgressDeniedError: "egress_denied",
    FetchTimeoutError: "timeout",
    ResponseTooLargeError: "too_large",
}


class HostError(Exception):
    """A host call that failed: JS sees ``{kind, message}`` as the rejection."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def crypto(msg: dict[str, Any]) -> Any:
    """``digest``, ``hmac`` and ``hmac_verify`` (synchronous: they only hash bytes)."""
    op = msg.get("op")
    if op == "digest":
        return _b64(hashlib.new(_digest(msg.get("alg")), _unb64(msg.get("data_b64"))).digest())
    if op in ("hmac", "hmac_verify"):
        mac = hmac.new(_unb64(msg.get("key_b64")), _unb64(msg.get("data_b64")), _digest(msg.get("alg")))
        if op == "hmac":
            return _b64(mac.digest())
        return hmac.compare_digest(mac.digest(), _unb64(msg.get("signature_b64")))
    raise HostError("internal", f"unknown host call {op!r}")


def fetch_wire(req: Any, remaining_s: float) -> dict[str, Any]:
    """The request in the wire format of ``appfn.sdk.fetch``, checked; its timeout capped by ``remaining_s``."""
    if not (
        isinstance(req, dict)
        and isinstance(req.get("url"), str)
        and isinstance(req.get("method"), str)
        and isinstance(req.get("headers"), dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in req["headers"].items())
        and (req.get("body_b64") is None or isinstance(req.get("body_b64"), str))
    ):
        raise HostError("internal", "malformed fetch request")
    remaining = max(0.001, remaining_s)
    asked = req.get("timeout")
    timeout = min(float(asked), remaining) if isinstance(asked, int | float) and asked > 0 else remaining
    return {
        "url": req["url"],
        "method": req["method"],
        "headers": dict(req["headers"]),
        "body_b64": req.get("body_b64"),
        "timeout": timeout,
    }


async def perform_fetch(fetch: Fetch, wire: dict[str, Any]) -> dict[str, Any]:
    """Run the host's fetch; its answer checked, its failures turned into HostError."""
    try:
        answer = await fetch(wire)
    except FetchError as exc:
        raise HostError(_FETCH_ERROR_KINDS.get(type(exc), "network"), str(exc)) from None
    except TimeoutError as exc:
        raise HostError("timeout", str(exc) or f"no answer from {wire['url']} in time") from None
    except Exception as exc:
        raise HostError("network", f"{type(exc).__name__}: {exc}") from None
    if not isinstance(answer, dict):
        raise HostError("internal", "the host's fetch answered with something that is not a dict")
    error = answer.get("error")
    if error:
        raise HostError(str(error.get("kind") or "network"), str(error.get("message") or "fetch failed"))
    try:
        return {
            "status": int(answer["status"]),
            "headers": [[str(k), str(v)] for k, v in answer.get("headers") or []],
            "url": str(answer.get("url") or wire["url"]),
            "body_b64": str(answer.get("body_b64") or ""),
        }
    except (KeyError, TypeError, ValueError):
        raise HostError("internal", "the host's fetch answer does not follow the wire format") from None


def _digest(name: Any) -> str:
    if name not in _DIGESTS:
        raise HostError("internal", f"unsupported digest {name!r}")
    return str(name)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    try:
        return base64.b64decode(text or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise HostError("internal", "malformed base64 from the function") from None
