"""The console's sign-in: the API key lives in an HttpOnly cookie, and every state-changing
request carries a CSRF token derived from it.

The cookie holds the key itself (no server-side session table), so a session survives restarts
and works across server processes; revoking the key ends every session that uses it. The CSRF
token is an HMAC of the key under a per-installation secret kept in the data dir: forms send it
as the ``csrf`` field and the console's scripts as the ``X-CSRF-Token`` header. A page on
another origin can make the browser send the cookie but cannot read the token, so it cannot
forge a write (SameSite=Lax stops most of those before they get here anyway).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "appfn_session"
SIGNED_OUT = "appfn_signed_out"  # after "Sign out", the demo's automatic sign-in stays off
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_AGE_S = 7 * 24 * 3600


def load_secret(data_dir: Path) -> bytes:
    """The data dir's console secret, created (mode 0600) on first use."""
    path = data_dir / "console-secret"
    try:
        return bytes.fromhex(path.read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secret.hex())
        return secret


def csrf_token(secret: bytes, key: str) -> str:
    return hmac.new(secret, b"csrf:" + key.encode(), hashlib.sha256).hexdigest()[:40]


def csrf_valid(secret: bytes, key: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(secret, key), token or "")


def session_key(request: Request) -> str | None:
    key = request.cookies.get(COOKIE, "").strip()
    return key or None


def set_session(response: Response, request: Request, key: str) -> None:
    response.set_cookie(
        COOKIE, key, max_age=_MAX_AGE_S, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )
    response.delete_cookie(SIGNED_OUT, path="/")


def clear_session(response: Response, *, signed_out: bool = False) -> None:
    response.delete_cookie(COOKIE, path="/")
    if signed_out:
        response.set_cookie(SIGNED_OUT, "1", httponly=True, samesite="lax", path="/")
