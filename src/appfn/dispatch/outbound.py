"""A function's outbound HTTP for one invocation: the egress policy for the internet, the
store's Admin API with automatic authentication, and the request inspector.

Requests aimed at the Admin API base (``Settings.admin_api_base``, by default the original's
``https://api.salla.dev/admin/v2``, which ``context.api`` uses too) never leave the process: they
are answered by the demo store's Admin API in-process, with the installation's access token added
by the host. The function never sees the token, and the egress policy needs no hole for the
platform's own address. Requests to ``<public_url>/inspect/...`` are recorded by the request
inspector in-process too (``appfn.demo.inspector``), attributed to the calling function. Both
appear in the execution's call records like any other fetch.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from appfn import store
from appfn.runtime.egress import EgressClient, Fetcher

if TYPE_CHECKING:
    from appfn.demo.inspector import Inspector

ADMIN_API_BASE = "https://api.salla.dev/admin/v2"


@dataclass(frozen=True)
class Caller:
    """Who makes an invocation's requests, for the inspector's records. A preview knows only the
    installation (``source="preview"``); the dispatcher and sync actions know the event."""

    installation_id: str | None
    app_id: str | None = None
    partner_id: str | None = None
    store_id: int | None = None
    event_id: str | None = None
    trigger: str | None = None
    source: str = "function"


class AdminApi:
    """The in-process route to the Admin API; ``attach`` it to the mounted Admin API app.

    The Admin API app is called with the request's own URL and the base's path as ASGI
    ``root_path``, so what it answers (pagination links) shows the configured base, not an
    internal host. ``inspector`` is the platform's other in-process route: it hangs here so that
    every ``Outbound`` built from the platform's ``AdminApi`` (dispatch, sync actions, preview)
    reaches both.
    """

    def __init__(self, db: store.Database, base: str = ADMIN_API_BASE) -> None:
        from appfn.demo.tokens import TokenCache

        self.db = db
        self.base = base.rstrip("/")
        self.tokens = TokenCache()
        self.inspector: Inspector | None = None
        self._client: httpx.AsyncClient | None = None

    def attach(self, admin_app: Any) -> None:
        root_path = urlsplit(self.base).path.rstrip("/")
        transport = httpx.ASGITransport(app=admin_app, root_path=root_path)
        self._client = httpx.AsyncClient(transport=transport, timeout=30)

    def handles(self, url: str) -> bool:
        return self._client is not None and (url == self.base or url.startswith(self.base + "/"))

    async def fetch(
        self, request: dict[str, Any], deadline: float | None, installation_id: str | None, max_bytes: int
    ) -> dict[str, Any]:
        assert self._client is not None
        if installation_id is None:
            return _error("egress_denied", "the Admin API is only reachable from an installed app's functions")
        token = await asyncio.to_thread(self.tokens.get, self.db, installation_id)
        headers = {k: v for k, v in (request.get("headers") or {}).items() if k.lower() != "authorization"}
        headers["Authorization"] = f"Bearer {token}"  # added here: the function never sees it
        url = request["url"]
        body = base64.b64decode(request["body_b64"]) if request.get("body_b64") else None
        timeout = request.get("timeout") or 10.0
        if deadline is not None:
            timeout = min(timeout, max(0.0, deadline - time.monotonic()))
        try:
            async with asyncio.timeout(timeout):
                answer = await self._client.request(
                    str(request.get("method") or "GET"), url, headers=headers, content=body
                )
        except TimeoutError:
            return _error("timeout", f"{request['url']} did not answer within {timeout:g} s")
        if len(answer.content) > max_bytes:
            return _error("too_large", f"{request['url']} answered more than {max_bytes} bytes")
        return {
            "status": answer.status_code,
            "headers": [[k, v] for k, v in answer.headers.items()],
            "url": request["url"],
            "body_b64": base64.b64encode(answer.content).decode(),
        }

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


class Outbound:
    """What ``Runtime.invoke(fetch=...)`` gets for one invocation, and the record of its calls."""

    def __init__(
        self,
        egress: EgressClient,
        admin: AdminApi | None,
        installation_id: str | None,
        caller: Caller | None = None,
    ) -> None:
        self.fetcher: Fetcher = egress.fetcher()
        self.admin = admin
        self.inspector = admin.inspector if admin is not None else None
        self.installation_id = installation_id
        # Without a caller (preview builds an Outbound from the installation alone) the
        # inspector records the requests as a preview's.
        self.caller = caller or Caller(installation_id, source="preview")
        self._local_calls: list[dict[str, Any]] = []

    async def fetch(self, request: dict[str, Any], deadline: float | None = None) -> dict[str, Any]:
        url = request.get("url") if isinstance(request, dict) else None
        if not isinstance(url, str):
            return await self.fetcher.fetch(request, deadline)
        started = time.monotonic()
        if self.admin is not None and self.admin.handles(url):
            answer = await self.admin.fetch(
                request, deadline, self.installation_id, self.fetcher.policy.max_response_bytes
            )
        elif self.inspector is not None and self.inspector.handles(url):
            answer = await self._inspect(request, deadline)
        else:
            return await self.fetcher.fetch(request, deadline)
        self._local_calls.append(
            {
                "method": str(request.get("method") or "GET"),
                "url": url,
                "status": answer.get("status"),
                "duration_ms": round((time.monotonic() - started) * 1000, 3),
                "error": answer.get("error"),
                "request_bytes": _b64_size(request.get("body_b64")),
                "response_bytes": _b64_size(answer.get("body_b64")),
            }
        )
        return answer

    async def _inspect(self, request: dict[str, Any], deadline: float | None) -> dict[str, Any]:
        assert self.inspector is not None
        timeout = request.get("timeout") or 10.0
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            return _error("invalid", f"timeout for {request['url']} must be a positive number of seconds")
        if deadline is not None:
            timeout = min(timeout, max(0.0, deadline - time.monotonic()))
        try:
            async with asyncio.timeout(timeout):
                return await self.inspector.fetch(request, self.caller)
        except TimeoutError:
            return _error("timeout", f"{request['url']} did not answer within {timeout:g} s")

    @property
    def calls(self) -> list[dict[str, Any]]:
        return [*self.fetcher.calls, *self._local_calls]


def _b64_size(text: Any) -> int:
    if not isinstance(text, str) or not text:
        return 0
    return len(text) * 3 // 4 - text[-2:].count("=")


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"kind": kind, "message": message}}
