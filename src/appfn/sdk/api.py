"""``context.api``: the store's Admin API, already authenticated.

    customer = (await context.api.get(f"/customers/{customer_id}"))["data"]

Paths are relative to the Admin API base (the original's ``https://api.salla.dev/admin/v2``,
which a plain ``context.fetch`` may also call). The platform adds the installation's access
token: the function never holds it. An answer with ``success: false`` raises AdminApiError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from appfn.errors import AdminApiError

if TYPE_CHECKING:
    from appfn.sdk.context import Context

ADMIN_API_BASE = "https://api.salla.dev/admin/v2"


class AdminApiClient:
    def __init__(self, context: Context[Any]) -> None:
        self._context = context

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """The parsed JSON answer (``{status, success, data, ...}``); AdminApiError on ``success: false``."""
        url = f"{ADMIN_API_BASE}/{path.lstrip('/')}"
        if params:
            url += "?" + urlencode(params, doseq=True)
        answer = await self._context.fetch(url, method=method, json=json, timeout=timeout)
        body = answer.json()
        if isinstance(body, dict) and body.get("success") is False:
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            raise AdminApiError(
                f"Admin API {method.upper()} {path} answered {answer.status}: {error.get('message') or 'failed'}",
                url,
                status=answer.status,
                code=error.get("code"),
                fields=error.get("fields"),
            )
        return body

    async def get(self, path: str, *, params: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        return await self.request("GET", path, params=params, timeout=timeout)

    async def post(self, path: str, json: Any = None, *, timeout: float | None = None) -> Any:
        return await self.request("POST", path, json=json, timeout=timeout)

    async def put(self, path: str, json: Any = None, *, timeout: float | None = None) -> Any:
        return await self.request("PUT", path, json=json, timeout=timeout)

    async def delete(self, path: str, *, timeout: float | None = None) -> Any:
        return await self.request("DELETE", path, timeout=timeout)
