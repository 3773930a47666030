"""The object a handler receives: ``context.payload``, ``context.settings``, ``context.merchant``.

``Context`` is generic in the type of ``payload.data`` so that editors can complete fields:
``def handler(context: CustomerContext)`` (see ``appfn.sdk.types``). At run time ``data``
and ``settings`` are plain dicts, exactly as the event carried them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from appfn.errors import FetchError
from appfn.sdk.api import AdminApiClient
from appfn.sdk.fetch import FetchResponse, Transport, build_request, parse_response

if TYPE_CHECKING:  # asyncio is imported lazily: `import appfn` stays fast for the CLI
    import asyncio

D = TypeVar("D")


@dataclass(frozen=True)
class Merchant:
    id: int | str


@dataclass(frozen=True)
class Payload(Generic[D]):
    event: str
    merchant: int | str
    created_at: str | None
    data: D


@dataclass
class Context(Generic[D]):
    """What the platform passes to ``handler(context)``."""

    payload: Payload[D]
    settings: dict[str, Any]
    merchant: Merchant
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    _transport: Transport | None = field(default=None, repr=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)

    @classmethod
    def from_dict(
        cls,
        context: Mapping[str, Any],
        transport: Transport | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> Context[Any]:
        payload = context.get("payload") or {}
        merchant = context.get("merchant") or {"id": payload.get("merchant")}
        return cls(
            payload=Payload(
                event=payload.get("event", ""),
                merchant=payload.get("merchant"),
                created_at=payload.get("created_at"),
                data=payload.get("data") if payload.get("data") is not None else {},
            ),
            settings=dict(context.get("settings") or {}),
            merchant=Merchant(id=merchant.get("id")),
            raw=dict(context),
            _transport=transport,
            _loop=loop,
        )

    @property
    def api(self) -> AdminApiClient:
        """The store's Admin API, authenticated by the platform: ``await context.api.get("/customers/1")``."""
        return AdminApiClient(self)

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        body: str | bytes | None = None,
        timeout: float | None = None,
    ) -> FetchResponse:
        """Make an HTTP request through the platform (egress policy, timeout and size cap apply).

        Raises ``EgressDeniedError``, ``FetchTimeoutError``, ``ResponseTooLargeError`` or
        ``FetchError``; an HTTP error status is a normal response (check ``.ok``).
        """
        request = build_request(url, method, headers, json, body, timeout)
        if self._transport is None:
            raise FetchError("fetch is only available while the function runs on appfn", url)
        return parse_response(await self._transport(request), url)

    def fetch_sync(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        body: str | bytes | None = None,
        timeout: float | None = None,
    ) -> FetchResponse:
        """``fetch`` for plain ``def`` handlers: the same request, waited for in place."""
        if self._loop is None:
            raise FetchError("fetch_sync is only available while the function runs on appfn", url)
        import asyncio

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:  # waiting here would block the loop that carries the request
            raise FetchError(
                "fetch_sync cannot wait on the worker's event loop: in an async handler use "
                "`await context.fetch(...)`; in a plain def handler call context.fetch_sync by name "
                "in the function's source (the platform then runs the handler on its own thread)",
                url,
            )
        coro = self.fetch(url, method=method, headers=headers, json=json, body=body, timeout=timeout)
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()
