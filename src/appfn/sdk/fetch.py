"""Outbound HTTP for functions. The function builds a request; the *host* performs it.

Inside the sandbox there is no network: ``context.fetch`` serialises the request, hands it
to the platform over the worker's channel and gets the response back. The host applies the
egress policy, the per-call timeout and the size cap (see ``appfn.runtime.egress``).
"""

from __future__ import annotations

import base64
import json as jsonlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from appfn.errors import EgressDeniedError, FetchError, FetchTimeoutError, ResponseTooLargeError

Transport = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

_ERRORS: dict[str, type[FetchError]] = {
    "egress_denied": EgressDeniedError,
    "timeout": FetchTimeoutError,
    "too_large": ResponseTooLargeError,
}


class FetchResponse:
    """What ``context.fetch`` returns: ``status``, ``ok``, ``headers``, ``text``, ``json()``."""

    def __init__(self, status: int, headers: Mapping[str, str], content: bytes, url: str) -> None:
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.content = content
        self.url = url

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode(_charset(self.headers.get("content-type", "")), errors="replace")

    def json(self) -> Any:
        try:
            return jsonlib.loads(self.content)
        except ValueError as exc:
            raise FetchError(f"response from {self.url} is not JSON: {exc}", self.url) from None

    def raise_for_status(self) -> FetchResponse:
        if not self.ok:
            raise FetchError(f"{self.url} answered HTTP {self.status}", self.url)
        return self

    def __repr__(self) -> str:
        return f"<FetchResponse {self.status} {self.url}>"


def build_request(
    url: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    body: str | bytes | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """The wire form of a fetch call; validates the arguments where the author made them."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise FetchError(f"fetch needs an absolute http(s) URL, got {url!r}", str(url))
    if json is not None and body is not None:
        raise FetchError("pass either json= or body=, not both", url)
    out_headers = {str(k): str(v) for k, v in (headers or {}).items()}
    payload: bytes | None = None
    if json is not None:
        payload = jsonlib.dumps(json).encode()
        if not any(k.lower() == "content-type" for k in out_headers):
            out_headers["Content-Type"] = "application/json"
    elif body is not None:
        payload = body.encode() if isinstance(body, str) else bytes(body)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        raise FetchError(f"timeout must be a positive number of seconds, got {timeout!r}", url)
    return {
        "url": url,
        "method": str(method).upper(),
        "headers": out_headers,
        "body_b64": base64.b64encode(payload).decode() if payload is not None else None,
        "timeout": float(timeout) if timeout is not None else None,
    }


def parse_response(wire: dict[str, Any], url: str) -> FetchResponse:
    """A FetchResponse from the host's answer, or the FetchError subclass the host named."""
    error = wire.get("error")
    if error:
        cls = _ERRORS.get(error.get("kind", ""), FetchError)
        raise cls(error.get("message", "fetch failed"), url)
    headers: dict[str, str] = {}
    for key, value in wire.get("headers", []):
        key = key.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    content = base64.b64decode(wire.get("body_b64") or "")
    return FetchResponse(int(wire["status"]), headers, content, wire.get("url", url))


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"
