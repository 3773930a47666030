"""Tokens, scopes and the per-store rate limit."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from appfn import store
from appfn.demo import TokenCache, admin_state, issue_token, revoke_tokens, token_principal
from appfn.errors import NotFoundError
from tests.demo.conftest import Shop, new_customer


def test_a_token_acts_on_its_installation_store_with_its_scopes(shop: Shop) -> None:
    app = shop.app("Reader", ["customers.read", "orders.read_write"])
    db = shop.server.platform.db

    # The token is stored as a hash only, and says which store, scopes and installation it is
    who = token_principal(db, app.token)
    assert who == (shop.store_id, ("customers.read", "orders.read_write"), app.installation_id)
    with db.read_session() as s:
        from appfn.demo.models import DemoAccessTokenRow

        rows = s.query(DemoAccessTokenRow).filter_by(installation_id=app.installation_id).all()
        assert len(rows) == 1 and app.token not in (rows[0].token_hash, rows[0].prefix)
    assert token_principal(db, "aft_" + "x" * 52) is None and token_principal(db, "nonsense") is None

    # Reads with customers.read work; writes need read_write, and 401 says which scopes would do
    customer = new_customer(shop.admin)
    assert app.api.get(f"/customers/{customer['id']}").json()["data"]["id"] == customer["id"]
    denied = app.api.post("/customers", json={"first_name": "A", "last_name": "B", "mobile": "551230000"})
    assert denied.status_code == 401
    assert denied.json() == {
        "status": 401,
        "success": False,
        "error": {
            "code": "unauthorized",
            "message": "The access token should have access to one of those scopes: customers.read_write",
            "fields": {},
        },
    }
    no_products = app.api.get("/products")
    assert no_products.status_code == 401
    assert no_products.json()["error"]["message"] == (
        "The access token should have access to one of those scopes: products.read_write, products.read"
    )
    shipping = app.api.post("/shipments", json={"order_id": 1})
    assert shipping.json()["error"]["message"].endswith("scopes: shipping.read_write")

    # A changed grant applies (within the credential cache's few seconds); an inactive one stops the token
    app.partner.patch(f"/v1/installations/{app.installation_id}", json={"granted_scopes": ["customers.read_write"]})
    admin_state(shop.server.platform).cache.clear()
    allowed = app.api.post("/customers", json={"first_name": "A", "last_name": "B", "mobile": "551230000"})
    assert allowed.status_code == 201
    app.partner.patch(f"/v1/installations/{app.installation_id}", json={"status": "inactive"})
    admin_state(shop.server.platform).cache.clear()
    gone = app.api.get("/customers")
    assert gone.status_code == 401
    assert gone.json()["error"]["message"] == "The access token is invalid, expired or revoked"


def test_credentials_that_are_refused(shop: Shop) -> None:
    url = f"{shop.server.url}/admin/v2/customers"
    assert httpx.get(url).json()["error"]["message"] == "Send the access token: Authorization: Bearer <token>"
    assert httpx.get(url, headers={"Authorization": "Bearer afk_wrong"}).status_code == 401
    partner = shop.server.client().post("/v1/partners", json={"name": "P"}).json()["key"]["secret"]
    real = shop.server.client().post("/v1/stores", json={"id": 777001, "name": "Real shop"})
    assert real.status_code == 201, real.text
    as_partner = httpx.get(url, headers={"Authorization": f"Bearer {partner}", "X-Store-Id": "777001"})
    assert as_partner.status_code == 401
    assert as_partner.json()["error"]["message"] == (
        "A partner API key acts only on demo stores: use the installation's access token"
    )
    assert as_partner.headers["WWW-Authenticate"] == "Bearer"
    # On a demo store a partner key is the partner's test merchant.
    on_demo = httpx.get(url, headers={"Authorization": f"Bearer {partner}", "X-Store-Id": str(shop.store_id)})
    assert on_demo.status_code == 200


def test_revoke_expire_and_cache(shop: Shop) -> None:
    app = shop.app("Tokens", ["customers.read"])
    db = shop.server.platform.db
    second = issue_token(db, app.installation_id)
    expired = issue_token(db, app.installation_id, expires_in=timedelta(seconds=-1))
    assert token_principal(db, second) is not None and token_principal(db, expired) is None
    assert revoke_tokens(db, app.installation_id) == 3  # the expired one is revoked too
    assert token_principal(db, app.token) is None and token_principal(db, second) is None
    with pytest.raises(NotFoundError):
        issue_token(db, "inst_missing")

    cache = TokenCache()
    first = cache.get(db, app.installation_id)
    assert cache.get(db, app.installation_id) == first and token_principal(db, first) is not None
    cache.forget(app.installation_id)
    assert cache.get(db, app.installation_id) != first

    # Uninstalling removes the tokens with the installation
    app.partner.delete(f"/v1/installations/{app.installation_id}")
    with db.read_session() as s:
        from appfn.demo.models import DemoAccessTokenRow

        assert s.query(DemoAccessTokenRow).filter_by(installation_id=app.installation_id).count() == 0
    with db.read_session() as s, pytest.raises(NotFoundError):
        store.get_installation(s, app.installation_id, partner_id=None)


def test_rate_limit_per_store_answers_429_with_retry_after(shop: Shop) -> None:
    limiter = admin_state(shop.server.platform).limiter
    limit, window = limiter.limit, limiter.window_s
    limiter.configure(3, 60)
    try:
        answers = [shop.admin.get("/customers") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.json()["error"]["code"] == "too_many_requests" and refused.json()["success"] is False
        assert 1 <= int(refused.headers["Retry-After"]) <= 20
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        # Another store has its own bucket
        other = shop.admin.get("/customers", headers={"X-Store-Id": "1305146709"})
        assert other.status_code == 200
    finally:
        limiter.configure(limit, window)
