"""The request inspector over real HTTP: what it records and masks, who sees what, requests from
functions answered in-process and attributed, bad input as 4xx, and the configurable bases."""

from __future__ import annotations

import json
from pathlib import Path

from appfn import store
from appfn.demo import inspector
from tests.api.conftest import DEMO_STORE, Server, customer_event, make_tenant, start_server, wait_executions

CALL_INSPECTOR = """
from appfn import Resp
async def handler(context):
    url = context.settings["url"]
    answer = await context.fetch(url + "?api_key=abcdefgh12345678&page=2", method="POST",
                                 headers={"Authorization": "Bearer " + context.settings["key"]},
                                 json={"customer_id": context.payload.data["id"], "password": "hunter2hunter2"})
    return Resp.success().set_data({"status": answer.status, "ack": answer.json()})
"""
SCHEMA = [{"id": "url", "type": "string"}, {"id": "key", "type": "string", "format": "password"}]


def test_json_bodies_are_masked_at_any_depth_and_big_bodies_cut() -> None:
    body, kind, cut = inspector.parse_body(
        json.dumps({"user": {"password": "p4ssw0rd-long-one", "name": "Sara"}, "tokens": [1]}).encode(), ""
    )
    assert kind == "json" and not cut
    assert body == {"user": {"password": "****-one", "name": "Sara"}, "tokens": "****"}
    big = json.dumps({"secret": "x" * 20, "data": "y" * 100_000}).encode()
    text, kind, cut = inspector.parse_body(big, "application/json")
    assert cut and kind == "text" and len(text) == inspector.MAX_BODY_CHARS and "xxxxxxxxxxxx" not in text
    assert inspector.parse_body(b"\xff\xfe\x00", "application/octet-stream") == (None, "binary", False)
    assert inspector.parse_body(b"{not json", "application/json") == ("{not json", "text", False)
    assert inspector.parse_body(b"", "") == (None, "empty", False)


def test_only_the_newest_records_are_kept(tmp_path: Path) -> None:
    db = store.Database.open(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        for n in range(5):
            with db.session() as s:
                inspector.record_request(
                    s, inspector.NewInspectedRequest("POST", f"http://x/inspect/crm/{n}", []), keep=3
                )
        with db.read_session() as s:
            assert [r.path for r in inspector.list_requests(s, partner_id=None)] == ["/4", "/3", "/2"]
    finally:
        db.dispose()


# --------------------------------------------------------------------------- over HTTP


def test_a_request_over_http_is_recorded_masked_and_acknowledged(server: Server) -> None:
    with server.client("") as anyone:
        answer = anyone.post(
            "/inspect/mail/v3/send?to=sara&token=tok_abcdefghijkl9876",
            headers={"Authorization": "Bearer abcdefghijkl1234", "X-Api-Key": "mk_0123456789ab5678",
                     "Cookie": "sid=abcdefghijklmnopqrst", "X-Request-Id": "r-1"},
            json={"to": "sara@example.com", "api_key": "zzzzzzzzzzzz4321"},
        )  # fmt: skip
    assert answer.status_code == 200 and answer.json()["ok"] is True
    record_id = answer.json()["id"]
    with server.client() as op:
        record = op.get(f"/v1/inspector/requests/{record_id}").json()
        assert op.get("/v1/inspector/requests", params={"bin": "mail"}).json()["items"][0]["id"] == record_id
    assert record["bin"] == "mail" and record["method"] == "POST" and record["path"] == "/v3/send"
    assert record["source"] == "http" and record["app_id"] is None and record["partner_id"] is None
    assert record["query"] == {"to": "sara", "token": "****9876"}
    assert record["url"] == f"{server.url}/inspect/mail/v3/send?to=sara&token=****9876"
    headers = record["headers"]
    assert headers["authorization"] == "Bearer ****1234"
    assert headers["x-api-key"] == "****5678"
    assert headers["cookie"] == "****qrst"
    assert headers["x-request-id"] == "r-1"
    assert record["body"] == {"to": "sara@example.com", "api_key": "****4321"} and record["body_kind"] == "json"
    everything = json.dumps(record)
    for secret in ("abcdefghijkl1234", "mk_0123456789ab5678", "tok_abcdefghijkl9876", "zzzzzzzzzzzz4321"):
        assert secret not in everything


def test_any_method_and_a_text_body(server: Server) -> None:
    with server.client("") as anyone:
        for method in ("GET", "PUT", "PATCH", "DELETE"):
            assert anyone.request(method, "/inspect/any/thing").status_code == 200
        answer = anyone.post("/inspect/text", content="hello", headers={"content-type": "text/plain"})
    with server.client() as op:
        record = op.get(f"/v1/inspector/requests/{answer.json()['id']}").json()
        assert (record["body"], record["body_kind"], record["body_bytes"], record["path"]) == ("hello", "text", 5, "/")
        methods = [r["method"] for r in op.get("/v1/inspector/requests", params={"bin": "any"}).json()["items"]]
        assert methods == ["DELETE", "PATCH", "PUT", "GET"]


def test_bad_input_is_a_4xx(server: Server) -> None:
    with server.client("") as anyone:
        assert anyone.post("/inspect").status_code == 404
        assert anyone.post("/inspect/").status_code == 404
        assert anyone.post("/inspect/bad%20bin/x").json()["ok"] is False
        assert anyone.get("/v1/inspector/requests").status_code == 401
        assert anyone.delete("/v1/inspector/requests").status_code == 401
    with server.client() as op:
        for params in ({"limit": 0}, {"limit": 501}, {"limit": "many"}, {"bin": "a b"}, {"bin": "x" * 65}):
            answer = op.get("/v1/inspector/requests", params=params)
            assert answer.status_code == 422, (params, answer.text)
        assert op.get("/v1/inspector/requests/req_nope").status_code == 404
        assert op.get("/v1/inspector/requests/" + "x" * 300).status_code == 404
        assert op.delete("/v1/inspector/requests", params={"bin": "../x"}).status_code == 422


def test_functions_reach_the_inspector_in_process_attributed_to_their_app(server: Server) -> None:
    settings = {"url": f"{server.url}/inspect/tenant-crm", "key": "crm-key-0123456789"}
    alpha = make_tenant(server, "Inspector A", ["customers.read"], SCHEMA, settings)
    beta = make_tenant(server, "Inspector B", ["customers.read"], SCHEMA, settings)
    assert alpha.deploy("customer.created", CALL_INSPECTOR)["status"] == "COMPLETED"
    event = customer_event("inspector-evt-1", id=424242)
    with server.client() as op:
        assert op.post("/v1/events", json=event).status_code in (200, 202)
    [run] = wait_executions(alpha.client, 1, trigger="customer.created")
    assert run["status"] == "success", run["error"]
    ack = run["response"]["data"]["ack"]
    assert run["response"]["data"]["status"] == 200 and ack["ok"] is True
    [call] = run["requests"]
    assert call["url"].startswith(f"{server.url}/inspect/tenant-crm?") and call["status"] == 200

    [record] = alpha.client.get("/v1/inspector/requests", params={"bin": "tenant-crm"}).json()["items"]
    assert record["id"] == ack["id"]
    assert (record["source"], record["app_id"], record["partner_id"]) == ("function", alpha.app_id, alpha.partner_id)
    assert (record["installation_id"], record["store_id"]) == (alpha.installation_id, DEMO_STORE)
    assert (record["event_id"], record["trigger"]) == ("inspector-evt-1", "customer.created")
    assert record["headers"]["authorization"] == "Bearer ****6789"
    assert record["query"] == {"api_key": "****5678", "page": "2"}
    assert record["body"] == {"customer_id": 424242, "password": "****ter2"}
    # Partners see their own apps' records only; the operator sees all
    assert beta.client.get("/v1/inspector/requests", params={"bin": "tenant-crm"}).json()["items"] == []
    assert beta.client.get(f"/v1/inspector/requests/{record['id']}").status_code == 404
    assert beta.client.delete("/v1/inspector/requests").json()["deleted"] == 0
    with server.client() as op:
        assert op.get(f"/v1/inspector/requests/{record['id']}").status_code == 200
    assert alpha.client.delete("/v1/inspector/requests", params={"bin": "tenant-crm"}).json()["deleted"] == 1
    assert alpha.client.get(f"/v1/inspector/requests/{record['id']}").status_code == 404


def test_a_preview_is_recorded_as_a_preview(server: Server) -> None:
    settings = {"url": f"{server.url}/inspect/preview-crm", "key": "crm-key-0123456789"}
    tenant = make_tenant(server, "Inspector preview", ["customers.read"], SCHEMA, settings)
    with server.client() as op:
        customer = op.post("/admin/v2/customers", headers={"X-Store-Id": str(DEMO_STORE)}, json={
            "first_name": "Huda", "last_name": "Alotaibi", "mobile": "0557654321"}).json()["data"]  # fmt: skip
    answer = tenant.client.post(
        f"/v1/apps/{tenant.app_id}/functions/customer.created/preview",
        json={"store_id": DEMO_STORE, "customer_id": customer["id"], "source": CALL_INSPECTOR},
    ).json()
    assert answer["status"] == "success", answer
    [record] = tenant.client.get("/v1/inspector/requests", params={"bin": "preview-crm"}).json()["items"]
    assert (record["source"], record["app_id"], record["partner_id"]) == ("preview", tenant.app_id, tenant.partner_id)
    assert record["body"]["customer_id"] == customer["id"]


def test_public_url_and_admin_api_base_are_configurable(tmp_path: Path) -> None:
    """Functions reach the inspector at the public URL and the Admin API at its configured base,
    both in-process; the Admin API's pagination links show that base."""
    handle, stop = start_server(
        tmp_path, public_url="https://appfn.example.com/platform", admin_api_base="https://shop.example/api/v2"
    )
    try:
        source = """
from appfn import Resp
async def handler(context):
    page = await context.fetch("https://shop.example/api/v2/customers?per_page=1")
    sent = await context.fetch("https://appfn.example.com/platform/inspect/crm/contacts", method="POST", json={"a": 1})
    return Resp.success().set_data({"links": page.json()["pagination"]["links"], "ack": sent.json()})
"""
        tenant = make_tenant(handle, "Bases", ["customers.read"])
        with handle.client() as op:
            for mobile in ("0551110001", "0551110002"):
                op.post("/admin/v2/customers", headers={"X-Store-Id": str(DEMO_STORE)},
                        json={"first_name": "A", "last_name": "B", "mobile": mobile}).raise_for_status()  # fmt: skip
            customer_id = op.get("/admin/v2/customers", headers={"X-Store-Id": str(DEMO_STORE)}).json()["data"][0]["id"]
        answer = tenant.client.post(
            f"/v1/apps/{tenant.app_id}/functions/customer.created/preview",
            json={"store_id": DEMO_STORE, "customer_id": customer_id, "source": source},
        ).json()
        assert answer["status"] == "success", answer
        data = answer["response"]["data"]
        assert data["links"] == {"next": "https://shop.example/api/v2/customers?page=2&per_page=1"}
        record = tenant.client.get(f"/v1/inspector/requests/{data['ack']['id']}").json()
        assert (record["bin"], record["path"]) == ("crm", "/contacts")
        # The default base is not answered any more: it goes to the internet, which it may not reach
        assert not handle.platform.admin_api.handles("https://api.salla.dev/admin/v2/customers")
    finally:
        stop()
