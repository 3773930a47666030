"""``Authorization: Bearer <key>``: who is calling. 401 without a valid key; routes that only an
operator may use answer 403 to partners. The web console's session cookie is accepted too (the
console's scripts use this API), with its CSRF token required on every write
(``appfn.console.session``). Partner-owned lookups pass ``principal.owner`` to the
store, which answers "not found" for another partner's resource (no existence leak)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import Depends, Request

from appfn import store
from appfn.api.errors import ApiError
from appfn.console import session

_CACHE_TTL_S = 5.0  # a revoked key stops working within this long on other processes


async def principal(request: Request) -> store.Principal:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if not header and (cookie_key := session.session_key(request)):
        key = _console_key(request, cookie_key)
    elif scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "missing API key", "send Authorization: Bearer <key>", {"WWW-Authenticate": "Bearer"})
    return await verify(request, key)


async def verify(request: Request, key: str) -> store.Principal:
    """The principal of ``key`` (cached a few seconds); 401 when it is unknown or revoked."""
    hit = cached_principal(request.app.state, key)
    if hit is not None:
        return hit
    found = await asyncio.to_thread(_verify, request.app.state.platform.db, key.strip())
    if found is None:
        raise ApiError(401, "invalid or revoked API key", None, {"WWW-Authenticate": "Bearer"})
    request.app.state.key_cache[key] = (time.monotonic(), found)
    return found


def cached_principal(state: Any, key: str) -> store.Principal | None:
    """The principal of ``key`` if it was verified within the cache's TTL (``state``: the app's)."""
    hit = state.key_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < _CACHE_TTL_S:
        return hit[1]
    return None


def _console_key(request: Request, key: str) -> str:
    if request.method not in session.SAFE_METHODS:
        token = request.headers.get(session.CSRF_HEADER)
        if not session.csrf_valid(request.app.state.console_secret, key, token):
            raise ApiError(403, "missing or wrong CSRF token", f"the console sends it as {session.CSRF_HEADER}")
    return key


def _verify(db: store.Database, key: str) -> store.Principal | None:
    with db.session() as s:
        return store.verify_key(s, key)


async def operator(who: store.Principal = Depends(principal)) -> store.Principal:  # noqa: B008
    if not who.is_operator:
        raise ApiError(403, "this needs an operator key")
    return who
