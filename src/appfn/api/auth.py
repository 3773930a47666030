"""``Authorization: Bearer <key>``: who is calling. 401 without a valid key; routes that only an
operator may use answer 403 to partners. Partner-owned lookups pass ``principal.owner`` to the
store, which answers "not found" for another partner's resource (no existence leak)."""

from __future__ import annotations

import asyncio
import time

from fastapi import Depends, Request

from appfn import store
from appfn.api.errors import ApiError

_CACHE_TTL_S = 5.0  # a revoked key stops working within this long on other processes


async def principal(request: Request) -> store.Principal:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "missing API key", "send Authorization: Bearer <key>", {"WWW-Authenticate": "Bearer"})
    platform = request.app.state.platform
    cache: dict[str, tuple[float, store.Principal]] = request.app.state.key_cache
    hit = cache.get(key)
    if hit and time.monotonic() - hit[0] < _CACHE_TTL_S:
        return hit[1]
    found = await asyncio.to_thread(_verify, platform.db, key.strip())
    if found is None:
        raise ApiError(401, "invalid or revoked API key", None, {"WWW-Authenticate": "Bearer"})
    cache[key] = (time.monotonic(), found)
    return found


def _verify(db: store.Database, key: str) -> store.Principal | None:
    with db.session() as session:
        return store.verify_key(session, key)


async def operator(who: store.Principal = Depends(principal)) -> store.Principal:  # noqa: B008
    if not who.is_operator:
        raise ApiError(403, "this needs an operator key")
    return who
