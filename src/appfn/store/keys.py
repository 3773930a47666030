"""Partners and API keys.

A key reads ``afk_`` + 52 base32 characters (32 random bytes), e.g. ``afk_mfrggzdfmztwq2lk…``.
The store keeps its first 12 characters (``prefix``, indexed, shown in listings so a person
can tell keys apart) and the SHA-256 of the whole key; the key itself is returned once, by
``create_key``, and never stored. ``verify_key`` finds candidates by prefix and compares
hashes in constant time. A partner key acts for its partner; an operator key for the
platform (``Principal.partner_id`` is None: it sees every partner's records).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from appfn.errors import ValidationError
from appfn.store._common import check_choice, check_name, new_id, one_or_404, owned, utcnow
from appfn.store.models import KEY_ROLES, ApiKeyRow, PartnerRow

KEY_PREFIX = "afk_"
KEY_BYTES = 32
LOOKUP_PREFIX_LEN = 12
# verify_key writes last_used_at at most this often per key, so that reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    """A key's record. The key itself is not here: ``create_key`` returns it once, beside this."""

    id: str
    partner_id: str | None
    role: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class Principal:
    """Who a verified key speaks for."""

    key_id: str
    role: str
    partner_id: str | None

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    @property
    def owner(self) -> str | None:
        """What to pass as ``partner_id=`` to the ownership-checked lookups (None: sees all)."""
        return None if self.is_operator else self.partner_id


def _partner(row: PartnerRow) -> Partner:
    return Partner(id=row.id, name=row.name, created_at=row.created_at)


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        partner_id=row.partner_id,
        role=row.role,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


# --- partners -----------------------------------------------------------------------------------


def create_partner(session: Session, name: str) -> Partner:
    row = PartnerRow(id=new_id("ptn"), name=check_name(name), created_at=utcnow())
    session.add(row)
    session.flush()
    return _partner(row)


def get_partner(session: Session, partner_id: str) -> Partner:
    return _partner(one_or_404(session, select(PartnerRow).where(PartnerRow.id == partner_id), "partner", partner_id))


def list_partners(session: Session) -> list[Partner]:
    rows = session.execute(select(PartnerRow).order_by(PartnerRow.created_at, PartnerRow.id)).scalars()
    return [_partner(r) for r in rows]


# --- keys ---------------------------------------------------------------------------------------


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def generate_key() -> str:
    """A new random key (not stored anywhere)."""
    body = base64.b32encode(secrets.token_bytes(KEY_BYTES)).decode("ascii").rstrip("=").lower()
    return KEY_PREFIX + body


def create_key(session: Session, role: str, partner_id: str | None = None, *, name: str) -> tuple[ApiKey, str]:
    """Make a key; returns its record and the plaintext key, which is never available again."""
    check_choice(role, KEY_ROLES, "role")
    if role == "operator" and partner_id is not None:
        raise ValidationError("partner_id", "an operator key belongs to no partner")
    if role == "partner":
        if partner_id is None:
            raise ValidationError("partner_id", "a partner key needs the partner it acts for")
        get_partner(session, partner_id)
    plaintext = generate_key()
    row = ApiKeyRow(
        id=new_id("key"),
        partner_id=partner_id,
        role=role,
        name=check_name(name),
        prefix=plaintext[:LOOKUP_PREFIX_LEN],
        key_hash=hash_key(plaintext),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _key(row), plaintext


def verify_key(session: Session, plaintext: str, *, touch: bool = True) -> Principal | None:
    """The principal of a valid, unrevoked key; None for anything else (never raises on bad input).

    With ``touch`` (in a write session: ``db.session()``) it records ``last_used_at``, at most
    once a minute per key; in a ``db.read_session()`` pass ``touch=False``.
    """
    if not isinstance(plaintext, str) or not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 200:
        return None
    digest = hash_key(plaintext)
    candidates = session.execute(select(ApiKeyRow).where(ApiKeyRow.prefix == plaintext[:LOOKUP_PREFIX_LEN])).scalars()
    match = None
    for row in candidates:
        # Compare every candidate, so the time taken does not tell which one matched.
        if hmac.compare_digest(row.key_hash, digest) and match is None:
            match = row
    if match is None or match.revoked_at is not None:
        return None
    now = utcnow()
    if touch and (match.last_used_at is None or now - match.last_used_at >= LAST_USED_RESOLUTION):
        match.last_used_at = now
        session.flush()
    return Principal(key_id=match.id, role=match.role, partner_id=match.partner_id)


def get_key(session: Session, key_id: str, *, partner_id: str | None) -> ApiKey:
    stmt = owned(select(ApiKeyRow).where(ApiKeyRow.id == key_id), ApiKeyRow.partner_id, partner_id)
    return _key(one_or_404(session, stmt, "api key", key_id))


def list_keys(session: Session, *, partner_id: str | None, include_revoked: bool = True) -> list[ApiKey]:
    """Keys in creation order: one partner's, or (``partner_id=None``) every key."""
    stmt = owned(select(ApiKeyRow), ApiKeyRow.partner_id, partner_id)
    if not include_revoked:
        stmt = stmt.where(ApiKeyRow.revoked_at.is_(None))
    rows = session.execute(stmt.order_by(ApiKeyRow.created_at, ApiKeyRow.id)).scalars()
    return [_key(r) for r in rows]


def revoke_key(session: Session, key_id: str, *, partner_id: str | None) -> ApiKey:
    """Revoke a key (idempotent: revoking twice keeps the first time)."""
    stmt = owned(select(ApiKeyRow).where(ApiKeyRow.id == key_id), ApiKeyRow.partner_id, partner_id)
    row = one_or_404(session, stmt, "api key", key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return _key(row)
