"""Who calls the Admin API and what they may do.

* ``Authorization: Bearer aft_...``: an installation's access token (``appfn.demo.tokens``),
  acting on that installation's store with its granted scopes;
* ``Authorization: Bearer afk_...`` with an API key and ``X-Store-Id``: the merchant, with every
  scope: the **operator key** on any store (seeding, operations), a **partner key** on a demo
  store only (the partner's test merchant, as in the original's demo stores);
* the web console's session cookie (``appfn.console.session``) with ``X-Store-Id``: the same
  rules as the key it holds; writes need the console's CSRF token.

Routes declare the resource and whether they write: reads need ``<resource>.read`` or
``<resource>.read_write``, writes need ``<resource>.read_write``; a token without it gets 401
"The access token should have access to one of those scopes: ...". Then the store's rate
limit is taken (429 with ``Retry-After`` when exhausted).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from appfn import store
from appfn.catalog.scopes import satisfies
from appfn.console import session
from appfn.demo.api.common import state_of
from appfn.demo.errors import AdminError
from appfn.demo.tokens import TOKEN_PREFIX, token_principal
from appfn.store.keys import KEY_PREFIX

CACHE_TTL_S = 5.0  # a revoked token or a changed grant applies within this long
STORE_HEADER = "X-Store-Id"


@dataclass(frozen=True)
class Access:
    store_id: int
    scopes: tuple[str, ...]
    installation_id: str | None  # None: the operator acting as the merchant

    def allows(self, scope: str) -> bool:
        return self.installation_id is None or satisfies(self.scopes, scope)


def _unauthorized(message: str) -> AdminError:
    return AdminError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(request: Request) -> Access:
    header = request.headers.get("authorization", "")
    if not header and (cookie_key := session.session_key(request)):
        return await _console(request, cookie_key)
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise _unauthorized("Send the access token: Authorization: Bearer <token>")
    state = state_of(request)
    if credential.startswith(KEY_PREFIX):
        return await _merchant(request, credential, state.platform.db, state.cache)
    if not credential.startswith(TOKEN_PREFIX):
        raise _unauthorized("The access token is invalid")
    found = await _cached(state.cache, credential, lambda: asyncio.to_thread(token_principal, state.platform.db,
                                                                              credential))  # fmt: skip
    if found is None:
        raise _unauthorized("The access token is invalid, expired or revoked")
    return Access(found.store_id, found.granted_scopes, found.installation_id)


async def _console(request: Request, key: str) -> Access:
    state = state_of(request)
    if request.method not in session.SAFE_METHODS:
        secret = state.cache.get("console:secret") or session.load_secret(state.platform.settings.data_dir)
        state.cache["console:secret"] = secret
        if not session.csrf_valid(secret, key, request.headers.get(session.CSRF_HEADER)):
            raise AdminError(403, "csrf", f"Missing or wrong CSRF token (the console sends {session.CSRF_HEADER})")
    return await _merchant(request, key, state.platform.db, state.cache)


async def _merchant(request: Request, key: str, db: store.Database, cache: dict) -> Access:
    """An API key acting as the merchant of the store in ``X-Store-Id``."""
    found = await _cached(cache, key, lambda: asyncio.to_thread(_verify_key, db, key))
    if found is None:
        raise _unauthorized("The API key is invalid or revoked")
    raw = request.headers.get(STORE_HEADER, "").strip()
    if not raw.isdigit() or int(raw) <= 0:
        raise AdminError(400, "store_required", f"The operator key acts on the store named by the {STORE_HEADER} "
                         "header", {STORE_HEADER: ["must be the store's numeric id"]})  # fmt: skip
    store_id = int(raw)
    is_demo = await _cached(cache, f"store:{store_id}", lambda: asyncio.to_thread(_store_is_demo, db, store_id))
    if is_demo is None:
        raise AdminError(404, "not_found", f"The store {store_id} does not exist", {STORE_HEADER: ["unknown store"]})
    if not found.is_operator and not is_demo:
        raise _unauthorized("A partner API key acts only on demo stores: use the installation's access token")
    return Access(store_id, (), None)


async def _cached(cache: dict, key: str, load: Callable[[], Awaitable[object]]) -> object:
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_TTL_S:
        return hit[1]
    value = await load()
    if len(cache) > 10_000:  # bounded: a flood of random tokens must not grow it forever
        cache.clear()
    cache[key] = (time.monotonic(), value)
    return value


def _verify_key(db: store.Database, key: str) -> store.Principal | None:
    with db.read_session() as s:
        return store.verify_key(s, key, touch=False)


def _store_is_demo(db: store.Database, store_id: int) -> bool | None:
    """Whether the store is a demo store; None when it does not exist."""
    from appfn.errors import NotFoundError

    with db.read_session() as s:
        try:
            return store.get_store(s, store_id).is_demo
        except NotFoundError:
            return None


def scopes_for(resource: str, write: bool) -> list[str]:
    """The scopes that would do, in the order the message lists them."""
    return [f"{resource}.read_write"] if write else [f"{resource}.read_write", f"{resource}.read"]


def require(resource: str, *, write: bool) -> Callable[[Request], Awaitable[Access]]:
    """A dependency: the caller, holding a scope of ``resource`` that allows reading (or writing)."""
    needed = scopes_for(resource, write)

    async def dependency(request: Request) -> Access:
        access = await authenticate(request)
        remaining, retry_after = state_of(request).limiter.take(access.store_id)
        if retry_after:
            limit = str(state_of(request).limiter.limit)
            raise AdminError(
                429, "too_many_requests", f"Too many requests for this store: retry in {retry_after} s",
                headers={"Retry-After": str(retry_after), "X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "0"},
            )  # fmt: skip
        if not any(access.allows(scope) for scope in needed):
            raise _unauthorized(f"The access token should have access to one of those scopes: {', '.join(needed)}")
        request.state.rate_remaining = remaining
        return access

    return dependency
