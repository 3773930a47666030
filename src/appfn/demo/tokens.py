"""Admin API access tokens: one installation (an app on a store) each.

A token reads ``aft_`` + 52 base32 characters. Only its SHA-256 and first 12 characters
(indexed, to find candidates) are stored; the token itself is returned once by
``issue_token``. ``token_principal`` answers for which store and with which scopes it acts:
the scopes are the installation's *current* grant, so a changed grant applies at once, and a
token of an inactive or removed installation (rows cascade) stops working.

    token = issue_token(db, installation.id)                 # store it nowhere but the caller
    who = token_principal(db, token)                         # TokenPrincipal or None
    cache = TokenCache(); cache.get(db, installation.id)     # one token per process, reused

Several tokens per installation may be valid at once (each process that injects tokens into
function requests keeps its own); ``revoke_tokens`` ends them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from appfn import store
from appfn.demo.models import DemoAccessTokenRow
from appfn.store._common import new_id, utcnow
from appfn.store.models import InstallationRow

TOKEN_PREFIX = "aft_"
TOKEN_BYTES = 32
LOOKUP_PREFIX_LEN = 12


class TokenPrincipal(NamedTuple):
    store_id: int
    granted_scopes: tuple[str, ...]
    installation_id: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, installation_id: str, *, expires_in: timedelta | None = None) -> str:
    """Like ``issue_token`` inside the caller's transaction."""
    store.get_installation(session, installation_id, partner_id=None)  # NotFoundError if none
    token = TOKEN_PREFIX + base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii").rstrip("=").lower()
    now = utcnow()
    session.add(
        DemoAccessTokenRow(
            id=new_id("tok"),
            installation_id=installation_id,
            prefix=token[:LOOKUP_PREFIX_LEN],
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + expires_in if expires_in is not None else None,
        )
    )
    session.flush()
    return token


def issue_token(db: store.Database, installation_id: str, *, expires_in: timedelta | None = None) -> str:
    """A new access token for the installation (NotFoundError if there is none). Never stored."""
    with db.session() as session:
        return create_token(session, installation_id, expires_in=expires_in)


def principal_of(session: Session, token: str) -> TokenPrincipal | None:
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _hash(token)
    rows = session.execute(
        select(DemoAccessTokenRow, InstallationRow)
        .join(InstallationRow, InstallationRow.id == DemoAccessTokenRow.installation_id)
        .where(DemoAccessTokenRow.prefix == token[:LOOKUP_PREFIX_LEN])
    ).all()
    match = None
    for row, installation in rows:  # compare them all: the time taken does not tell which matched
        if hmac.compare_digest(row.token_hash, digest) and match is None:
            match = (row, installation)
    if match is None:
        return None
    row, installation = match
    if row.revoked_at is not None or installation.status != "active":
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return TokenPrincipal(installation.store_id, tuple(installation.granted_scopes), installation.id)


def token_principal(db: store.Database, token: str) -> TokenPrincipal | None:
    """``(store_id, granted_scopes, installation_id)`` of a valid token, else None (never raises
    on bad input)."""
    with db.read_session() as session:
        return principal_of(session, token)


def revoke_tokens(db: store.Database, installation_id: str) -> int:
    """Revoke every token of the installation; returns how many it revoked (expired ones included)."""
    with db.session() as session:
        result = session.execute(
            update(DemoAccessTokenRow)
            .where(DemoAccessTokenRow.installation_id == installation_id, DemoAccessTokenRow.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class TokenCache:
    """One token per installation for this process, issued on first use and renewed before it
    expires: what a host adds to a function's Admin API requests (the function never sees it).
    Revoked tokens are not detected here: call ``forget`` after ``revoke_tokens``."""

    def __init__(self, lifetime: timedelta = timedelta(hours=24)) -> None:
        self.lifetime = lifetime
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, db: store.Database, installation_id: str) -> str:
        with self._lock:
            hit = self._tokens.get(installation_id)
            if hit is not None and hit[1] - utcnow() > self.lifetime / 10:
                return hit[0]
        token = issue_token(db, installation_id, expires_in=self.lifetime)
        with self._lock:
            self._tokens[installation_id] = (token, utcnow() + self.lifetime)
        return token

    def forget(self, installation_id: str) -> None:
        with self._lock:
            self._tokens.pop(installation_id, None)
