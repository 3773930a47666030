"""Sign in, sign out, CSRF: the console's session over real HTTP and in a real browser."""

from __future__ import annotations

import httpx

from tests.console.conftest import shot, sign_in
from tests.server import Server

SIGNED_OUT = {"appfn_signed_out": "1"}  # what Sign out leaves: the demo's automatic sign-in stays off


def test_demo_opens_straight_into_the_demo_partner(console_server: Server) -> None:
    with httpx.Client(base_url=console_server.url) as client:
        home = client.get("/")
        assert home.status_code == 200 and "appfn_session=" in home.headers["set-cookie"]
        assert client.get("/apps").status_code == 200  # the cookie set by the first answer
        partner_apps = client.get("/v1/apps").json()
    assert {app["name"] for app in partner_apps["items"]} >= {"CRM Sync", "Welcome Mail", "Shipping Rules"}


def test_pages_need_a_session(console_server: Server) -> None:
    with httpx.Client(base_url=console_server.url, cookies=SIGNED_OUT) as client:
        answer = client.get("/?x=1")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=%2F%3Fx%3D1"
        offered = client.get("/login")
        assert "Continue as the demo partner" in offered.text
        again = client.post("/login/demo")
        assert again.status_code == 303 and "appfn_session=" in again.headers["set-cookie"]


def test_wrong_key_is_refused_with_a_message(console_server: Server) -> None:
    with httpx.Client(base_url=console_server.url) as client:
        answer = client.post("/login", data={"key": "afk_nope", "next": "/"})
    assert answer.status_code == 401
    assert "not valid" in answer.text


def test_session_cookie_is_httponly_and_next_stays_on_site(console_server: Server) -> None:
    with httpx.Client(base_url=console_server.url) as client:
        answer = client.post("/login", data={"key": console_server.operator_key, "next": "//evil.example/x"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_api_writes_with_the_cookie_need_the_csrf_token(console_server: Server) -> None:
    with httpx.Client(base_url=console_server.url) as client:
        client.post("/login", data={"key": console_server.operator_key, "next": "/"})
        assert client.get("/v1/apps").status_code == 200  # reads: the cookie is enough
        refused = client.post("/v1/partners", json={"name": "Forged"})
        assert refused.status_code == 403
        assert refused.json()["error"] == "missing or wrong CSRF token"
        home = client.get("/")
        token = home.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        created = client.post("/v1/partners", json={"name": "Real"}, headers={"X-CSRF-Token": token})
        assert created.status_code == 201
        assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
        assert client.post("/logout", data={"csrf": token}).status_code == 303


def test_sign_in_and_out_in_the_browser(page, console_server: Server) -> None:
    page.context.add_cookies([{"name": "appfn_signed_out", "value": "1", "url": console_server.url}])
    page.goto("/?from=test")
    assert "/login" in page.url
    shot(page, "00-sign-in")
    sign_in(page, console_server.operator_key)
    assert page.url.endswith("/?from=test")
    assert page.is_visible("text=Latest executions")
    page.click("text=Sign out")
    page.wait_for_url("**/login")
    page.goto("/")
    assert "/login" in page.url


def test_admin_api_with_the_console_session(console_server: Server) -> None:
    """The console's store pages call the demo store's Admin API with the session cookie."""
    with httpx.Client(base_url=console_server.url) as client:
        client.post("/login", data={"key": console_server.operator_key, "next": "/"})
        token = client.get("/").text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        store = {"X-Store-Id": "1305146709"}
        listed = client.get("/admin/v2/customers", headers=store)
        assert listed.status_code == 200 and listed.json()["data"]
        body = {"first_name": "Huda", "last_name": "Saleh", "mobile": "+966501234567", "email": "huda@example.com"}
        refused = client.post("/admin/v2/customers", json=body, headers=store)
        assert refused.status_code == 403
        created = client.post("/admin/v2/customers", json=body, headers={**store, "X-CSRF-Token": token})
        assert created.status_code == 201, created.text
