"""Partners and API keys: stored hashed, verified in constant time, revocable."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from appfn import store
from appfn.errors import NotFoundError, ValidationError
from appfn.store.keys import KEY_PREFIX, LOOKUP_PREFIX_LEN
from appfn.store.models import ApiKeyRow

from .conftest import World


def test_key_is_stored_as_a_hash_never_in_clear(db: store.Database, world: World) -> None:
    partner = world.partner()
    with db.session() as s:
        record, key = store.create_key(s, "partner", partner.id, name="ci")
    assert key.startswith(KEY_PREFIX) and len(key) == len(KEY_PREFIX) + 52
    assert record.prefix == key[:LOOKUP_PREFIX_LEN]
    with db.read_session() as s:
        row = s.execute(select(ApiKeyRow)).scalar_one()
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        dump = " ".join(str(v) for v in s.execute(text("SELECT * FROM api_keys")).one())
    assert key not in dump
    assert key[LOOKUP_PREFIX_LEN:] not in dump


def test_verify_partner_and_operator_keys(db: store.Database, world: World) -> None:
    partner = world.partner()
    with db.session() as s:
        p_key, p_plain = store.create_key(s, "partner", partner.id, name="partner key")
        o_key, o_plain = store.create_key(s, "operator", name="root")
    with db.session() as s:
        p = store.verify_key(s, p_plain)
        o = store.verify_key(s, o_plain)
    assert p == store.Principal(key_id=p_key.id, role="partner", partner_id=partner.id)
    assert not p.is_operator and p.owner == partner.id
    assert o == store.Principal(key_id=o_key.id, role="operator", partner_id=None)
    assert o.is_operator and o.owner is None


@pytest.mark.parametrize(
    "candidate",
    ["", "afk_", "not-a-key", "afk_" + "a" * 52, None, 42, "afk_" + "x" * 500],
)
def test_verify_refuses_anything_else(db: store.Database, world: World, candidate: object) -> None:
    with db.session() as s:
        store.create_key(s, "operator", name="root")
        assert store.verify_key(s, candidate) is None  # type: ignore[arg-type]


def test_verify_refuses_a_key_that_differs_after_the_prefix(db: store.Database) -> None:
    with db.session() as s:
        _, key = store.create_key(s, "operator", name="root")
    tampered = key[:-1] + ("a" if key[-1] != "a" else "b")
    with db.session() as s:
        assert store.verify_key(s, tampered) is None
        assert store.verify_key(s, key) is not None


def test_verify_marks_last_used_at_most_once_a_minute(db: store.Database) -> None:
    with db.session() as s:
        record, key = store.create_key(s, "operator", name="root")
    assert record.last_used_at is None
    with db.read_session() as s:
        store.verify_key(s, key, touch=False)
    with db.read_session() as s:
        assert store.get_key(s, record.id, partner_id=None).last_used_at is None
    with db.session() as s:
        store.verify_key(s, key)
    with db.read_session() as s:
        first = store.get_key(s, record.id, partner_id=None).last_used_at
    assert first is not None
    with db.session() as s:
        store.verify_key(s, key)
    with db.read_session() as s:
        assert store.get_key(s, record.id, partner_id=None).last_used_at == first
    with db.session() as s:  # a minute later it moves again
        s.execute(ApiKeyRow.__table__.update().values(last_used_at=first - timedelta(minutes=2)))
    with db.session() as s:
        store.verify_key(s, key)
    with db.read_session() as s:
        assert store.get_key(s, record.id, partner_id=None).last_used_at > first - timedelta(minutes=1)


def test_revoked_key_no_longer_verifies(db: store.Database, world: World) -> None:
    partner = world.partner()
    with db.session() as s:
        record, key = store.create_key(s, "partner", partner.id, name="ci")
    with db.session() as s:
        revoked = store.revoke_key(s, record.id, partner_id=partner.id)
        assert revoked.revoked and revoked.revoked_at is not None
        again = store.revoke_key(s, record.id, partner_id=None)
        assert again.revoked_at == revoked.revoked_at  # idempotent: the first time is kept
    with db.session() as s:
        assert store.verify_key(s, key) is None


def test_list_keys_by_partner_and_operator(db: store.Database, world: World) -> None:
    a, b = world.partner("A"), world.partner("B")
    with db.session() as s:
        ka, _ = store.create_key(s, "partner", a.id, name="a1")
        kb, _ = store.create_key(s, "partner", b.id, name="b1")
        ko, _ = store.create_key(s, "operator", name="root")
        store.revoke_key(s, kb.id, partner_id=b.id)
    with db.read_session() as s:
        assert [k.id for k in store.list_keys(s, partner_id=a.id)] == [ka.id]
        assert [k.id for k in store.list_keys(s, partner_id=b.id, include_revoked=False)] == []
        assert [k.id for k in store.list_keys(s, partner_id=None)] == [ka.id, kb.id, ko.id]
        with pytest.raises(NotFoundError):
            store.get_key(s, ka.id, partner_id=b.id)
    with pytest.raises(NotFoundError), db.session() as s:
        store.revoke_key(s, ka.id, partner_id=b.id)  # B cannot revoke A's key


def test_create_key_checks_role_and_partner(db: store.Database, world: World) -> None:
    partner = world.partner()
    with db.session() as s:
        with pytest.raises(ValidationError) as exc:
            store.create_key(s, "admin", name="x")
        assert exc.value.field == "role"
        with pytest.raises(ValidationError) as exc:
            store.create_key(s, "partner", name="x")
        assert exc.value.field == "partner_id"
        with pytest.raises(ValidationError) as exc:
            store.create_key(s, "operator", partner.id, name="x")
        assert exc.value.field == "partner_id"
        with pytest.raises(NotFoundError):
            store.create_key(s, "partner", "ptn_missing", name="x")
        with pytest.raises(ValidationError) as exc:
            store.create_key(s, "operator", name="  ")
        assert exc.value.field == "name"


def test_partners(db: store.Database) -> None:
    with db.session() as s:
        a = store.create_partner(s, "  Acme  ")
        b = store.create_partner(s, "Beta")
        assert a.name == "Acme" and a.id.startswith("ptn_")
    with db.read_session() as s:
        assert store.list_partners(s) == [a, b]
        with pytest.raises(NotFoundError, match="partner 'ptn_nope' not found"):
            store.get_partner(s, "ptn_nope")
