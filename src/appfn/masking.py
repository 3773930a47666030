"""Secrets out of sight: what the request inspector records and what the console shows of a
function's context. One rule for both, so a value masked in one place is masked in the other.

A key, header or query parameter whose *name* looks like a credential (``authorization``,
``x-api-key``, ``*token*``, ``*secret*``, ``*passw*``, ``*_key``...) has its value replaced by
``****`` plus its last 4 characters when it is at least 12 long (``Bearer ****9c2e``: the scheme
stays, so a reader can still tell which kind of credential went out); shorter ones are masked
whole.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

MASK = "****"
SHOWN_TAIL = 4  # characters of a secret kept at its end ...
SHOWN_MIN_LEN = 12  # ... when it is at least this long (a short secret is masked whole)

_SECRET_PARTS = (
    "authorization", "token", "secret", "passw", "passwd", "pwd", "apikey", "api-key", "api_key", "credential",
    "cookie", "session", "signature", "private", "access-key", "access_key",
)  # fmt: skip
_SECRET_NAMES = frozenset({"auth", "key", "pin", "otp", "x-auth", "sig"})
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_+.-]*) +(\S.*)$")


def is_secret_name(name: str) -> bool:
    """Whether a header, query parameter or JSON key of this name holds a credential."""
    lowered = name.strip().lower()
    return (
        lowered in _SECRET_NAMES
        or any(part in lowered for part in _SECRET_PARTS)
        or lowered.endswith(("-key", "_key", ".key", "-auth", "_auth"))
    )


def mask_secret(value: Any) -> str:
    """``Bearer abcdefgh12345678`` -> ``Bearer ****5678``; a short secret -> ``****``."""
    if not isinstance(value, str):
        return MASK
    text = value.strip()
    scheme, secret = "", text
    found = _SCHEME_RE.match(text)
    if found and " " not in found.group(2):  # "Bearer x", "Basic x"; not a cookie list or prose
        scheme, secret = found.group(1) + " ", found.group(2)
    tail = secret[-SHOWN_TAIL:] if len(secret) >= SHOWN_MIN_LEN else ""
    return f"{scheme}{MASK}{tail}"


def mask_json(value: Any, secret_keys: Collection[str] = ()) -> Any:
    """A copy of the JSON value with the values of credential-like keys masked, at any depth;
    ``secret_keys`` names more keys to mask (e.g. an app's ``password`` settings)."""
    if isinstance(value, dict):
        # A credential-like key is masked whole, whatever it holds ("tokens": [...] too).
        return {
            k: mask_secret(v) if k in secret_keys or is_secret_name(str(k)) else mask_json(v, secret_keys)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_json(v, secret_keys) for v in value]
    return value
