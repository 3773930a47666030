"""A function's outbound HTTP for one invocation: the egress policy for the internet, and the
store's Admin API with automatic authentication.

Requests aimed at the Admin API base (the original's ``https://api.salla.dev/admin/v2``, which
``context.api`` uses too) never leave the process: they are answered by the demo store's Admin
API in-process, with the installation's access token added by the host. The function never sees
the token, and the egress policy needs no hole for the platform's own address.
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import httpx

from appfn import store
from appfn.runtime.egress import EgressClient, Fetcher

ADMIN_API_BASE = "https://api.salla.dev/admin/v2"
_INTERNAL = "http://admin.appfn.internal"  # the Admin API app is called directly: its routes start at /


class AdminApi:
    """The in-process route to the Admin API; ``attach`` it to the mounted Admin API app."""

    def __init__(self, db: store.Database, base: str = ADMIN_API_BASE) -> None:
        from appfn.demo.tokens import TokenCache

        self.db = db
        self.base = base.rstrip("/")
        self.tokens = TokenCache()
        self._client: httpx.AsyncClient | None = None

    def attach(self, admin_app: Any) -> None:
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=admin_app), timeout=30)

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
        url = _INTERNAL + request["url"][len(self.base) :]
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

    def __init__(self, egress: EgressClient, admin: AdminApi | None, installation_id: str | None) -> None:
        self.fetcher: Fetcher = egress.fetcher()
        self.admin = admin
        self.installation_id = installation_id
        self._admin_calls: list[dict[str, Any]] = []

    async def fetch(self, request: dict[str, Any], deadline: float | None = None) -> dict[str, Any]:
        url = request.get("url") if isinstance(request, dict) else None
        if self.admin is None or not isinstance(url, str) or not self.admin.handles(url):
            return await self.fetcher.fetch(request, deadline)
        started = time.monotonic()
        answer = await self.admin.fetch(
            request, deadline, self.installation_id, self.fetcher.policy.max_response_bytes
        )
        self._admin_calls.append(
            {
                "method": str(request.get("method") or "GET"),
                "url": url,
                "status": answer.get("status"),
                "duration_ms": round((time.monotonic() - started) * 1000, 3),
                "error": answer.get("error"),
            }
        )
        return answer

    @property
    def calls(self) -> list[dict[str, Any]]:
        return [*self.fetcher.calls, *self._admin_calls]


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"kind": kind, "message": message}}
