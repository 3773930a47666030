"""Keys and isolation: partner A cannot see or touch partner B's anything."""

from __future__ import annotations

from tests.api.conftest import Server, customer_event, make_tenant, wait_executions

SOURCE = "def handler(context):\n    return {'success': True}\n"


def test_no_key_or_a_wrong_key_is_401(server: Server) -> None:
    assert server.client("").get("/v1/apps").status_code == 401
    wrong = server.client("afk_not_a_real_key").get("/v1/apps")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid or revoked API key"


def test_partners_cannot_use_operator_routes(server: Server) -> None:
    tenant = make_tenant(server, "Curious", ["customers.read"])
    assert tenant.client.post("/v1/partners", json={"name": "x"}).status_code == 403
    assert tenant.client.post("/v1/stores", json={"id": 5, "name": "x"}).status_code == 403
    assert tenant.client.get("/v1/partners").status_code == 403


def test_partner_a_cannot_see_partner_b(server: Server) -> None:
    a = make_tenant(server, "Alpha", ["customers.read"])
    b = make_tenant(server, "Beta", ["customers.read"])
    deploy = a.deploy("customer.created", SOURCE)
    a.client.post("/v1/events", json=customer_event("evt-alpha"))
    [execution] = wait_executions(a.client, 1, event_id="evt-alpha")
    fn = a.client.get(f"/v1/apps/{a.app_id}/functions/customer.created").json()

    for path in (
        f"/v1/apps/{a.app_id}",
        f"/v1/apps/{a.app_id}/functions",
        f"/v1/apps/{a.app_id}/functions/customer.created",
        f"/v1/apps/{a.app_id}/functions/customer.created/versions/1",
        f"/v1/installations/{a.installation_id}",
        f"/v1/executions/{execution['id']}",
        f"/v1/deploys/{deploy['id']}",
    ):
        answer = b.client.get(path)
        assert answer.status_code == 404, (path, answer.status_code, answer.text)
        missing = b.client.get(path.replace(a.app_id, "app_doesnotexist00"))
        assert missing.status_code == 404  # the same answer as for something that does not exist

    assert b.client.get("/v1/executions", params={"app_id": a.app_id}).json()["items"] == []
    assert a.app_id not in [app["id"] for app in b.client.get("/v1/apps").json()["items"]]
    assert b.client.put(f"/v1/apps/{a.app_id}/functions/customer.created", json={"source": SOURCE}).status_code == 404
    assert b.client.patch(f"/v1/installations/{a.installation_id}", json={"status": "inactive"}).status_code == 404
    assert b.client.delete(f"/v1/apps/{a.app_id}").status_code == 404
    assert b.client.post(f"/v1/executions/{execution['id']}/replay").status_code == 404
    assert a.client.get(f"/v1/apps/{a.app_id}").status_code == 200
    assert fn["id"]


def test_keys_can_be_made_and_revoked(server: Server) -> None:
    tenant = make_tenant(server, "Rotator", ["customers.read"])
    created = tenant.client.post("/v1/keys", json={"name": "ci"}).json()
    fresh = server.client(created["secret"])
    assert fresh.get("/v1/apps").status_code == 200
    assert "secret" not in str(tenant.client.get("/v1/keys").json())
    assert tenant.client.delete(f"/v1/keys/{created['id']}").status_code == 204
    assert fresh.get("/v1/apps").status_code == 401
