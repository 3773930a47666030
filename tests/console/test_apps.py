"""Console apps section in a real browser: create an app with a settings schema (a password field
among them), field errors named next to the field, edit, delete; a partner sees only its apps."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from tests.console.conftest import shot, sign_in
from tests.server import Server


def new_partner(server: Server, name: str) -> tuple[str, str]:
    """A partner and its key, through the operator API."""
    with server.client() as client:
        answer = client.post("/v1/partners", json={"name": name})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return body["id"], body["key"]["secret"]


def shown(field: dict) -> dict:
    """A settings field as the API lists it, without its unset (None) keys."""
    return {k: v for k, v in field.items() if v is not None}


def open_as(page, key: str, path: str) -> None:
    """Sign in with ``key`` and land on ``path`` (with --demo, a page opened without a session
    would sign in as the demo partner on its own)."""
    page.goto(f"/login?next={quote(path, safe='')}")
    sign_in(page, key)
    assert page.url.endswith(path), page.url


def add_field(page, index: int, field_id: str, kind: str, *, label: str = "", required: bool = False,
              default: str = "") -> None:  # fmt: skip
    page.click("#schema-add")
    row = page.locator("#schema-rows tr").nth(index)
    row.locator(".f-id").fill(field_id)
    if label:
        row.locator(".f-label").fill(label)
    row.locator(".f-type").select_option(kind)
    if required:
        row.locator(".f-required").check()
    if default:
        row.locator(".f-default").fill(default)


def test_create_app_with_a_settings_schema(page, console_server: Server) -> None:
    _, key = new_partner(console_server, "Schema Co")
    open_as(page, key, "/apps/new")
    page.fill("input[name=name]", "CRM Connector")
    page.check("input[name=scope][value='customers.read']")
    page.check("input[name=scope][value='orders.read']")
    add_field(page, 0, "crmApiUrl", "string:url", label="CRM URL", required=True)
    add_field(page, 1, "crmApiKey", "string:password", label="CRM API key", required=True)
    add_field(page, 2, "crmApiUrl", "boolean", label="VIP only", default="false")  # a duplicate id
    page.click("button:has-text('Create app')")

    # The API's error names settings_schema[2].id: shown next to that input, the form stays.
    error = page.locator("#schema-rows tr:nth-child(3) .field-error")
    error.wait_for()
    assert "already used by settings_schema[0]" in error.inner_text()
    assert page.locator("#schema-rows tr:nth-child(3) .f-id").get_attribute("aria-invalid") == "true"
    assert page.url.endswith("/apps/new")
    shot(page, "apps-01-schema-error")

    page.locator("#schema-rows tr:nth-child(3) .f-id").fill("vipOnly")
    page.click("button:has-text('Create app')")
    page.wait_for_url("**/apps/app_*")
    app_id = page.url.rsplit("/", 1)[1]
    assert page.inner_text("h1") == "CRM Connector"
    assert page.is_visible("text=No functions yet")
    assert page.get_attribute("a:has-text('Add function') >> nth=0", "href") == f"/apps/{app_id}/functions/new"
    shot(page, "apps-02-detail")

    with console_server.client(key) as client:
        app = client.get(f"/v1/apps/{app_id}").json()
    assert app["scopes"] == ["customers.read", "orders.read"]
    assert [shown(f) for f in app["settings_schema"]] == [
        {"id": "crmApiUrl", "type": "string", "format": "url", "label": "CRM URL", "required": True},
        {"id": "crmApiKey", "type": "string", "format": "password", "label": "CRM API key", "required": True},
        {"id": "vipOnly", "type": "boolean", "label": "VIP only", "default": False, "required": False},
    ]

    page.click("nav.mainnav >> text=Apps")
    row = page.locator(f"tr[data-app-id='{app_id}']")
    assert "CRM Connector" in row.inner_text()
    assert "customers.read" in row.inner_text()
    shot(page, "apps-03-list")


def test_edit_and_delete_an_app(page, console_server: Server) -> None:
    _, key = new_partner(console_server, "Edit Co")
    with console_server.client(key) as client:
        app = client.post(
            "/v1/apps",
            json={
                "name": "Editable",
                "settings_schema": [
                    {"id": "apiKey", "type": "string", "format": "password"},
                    {"id": "limit", "type": "integer"},
                ],
            },
        )
    app_id = app.json()["id"]
    open_as(page, key, f"/apps/{app_id}")
    form = page.locator("#app-form")
    assert form.locator("#schema-rows tr").count() == 2
    assert form.locator("#schema-rows tr:nth-child(2) .f-type").input_value() == "integer"

    # A default of the wrong type: the API's message sits next to that row's default.
    form.locator("#schema-rows tr:nth-child(2) .f-default").fill("many")
    form.locator("button:has-text('Save app')").click()
    error = form.locator("#schema-rows tr:nth-child(2) .field-error")
    error.wait_for()
    assert "expected an integer" in error.inner_text()

    form.locator("#schema-rows tr:nth-child(2) .f-default").fill("10")
    form.locator("#schema-rows tr:nth-child(1) .f-remove").click()
    form.locator("input[name=name]").fill("Edited")
    form.locator("button:has-text('Save app')").click()
    page.wait_for_function("document.querySelector('h1').textContent.trim() === 'Edited'")
    with console_server.client(key) as client:
        schema = client.get(f"/v1/apps/{app_id}").json()["settings_schema"]
    assert [shown(f) for f in schema] == [{"id": "limit", "type": "integer", "default": 10, "required": False}]

    page.click("#app-delete")  # the confirm dialog is accepted by the fixture
    page.wait_for_url("**/apps")
    assert page.locator(f"tr[data-app-id='{app_id}']").count() == 0
    with console_server.client(key) as client:
        assert client.get(f"/v1/apps/{app_id}").status_code == 404


def test_name_error_is_shown_next_to_the_name(page, console_server: Server) -> None:
    _, key = new_partner(console_server, "Name Co")
    open_as(page, key, "/apps/new")
    page.click("button:has-text('Create app')")  # an empty name
    error = page.locator("input[name=name] + .field-error")
    error.wait_for()
    assert error.inner_text()
    assert page.url.endswith("/apps/new")


def test_a_partner_sees_only_its_own_apps(page, console_server: Server) -> None:
    _, mine = new_partner(console_server, "Mine")
    _, theirs = new_partner(console_server, "Theirs")
    with console_server.client(mine) as client:
        my_app = client.post("/v1/apps", json={"name": "My app"}).json()["id"]
    with console_server.client(theirs) as client:
        their_app = client.post("/v1/apps", json={"name": "Their secret app"}).json()["id"]

    open_as(page, mine, "/apps")
    assert page.locator(f"tr[data-app-id='{my_app}']").count() == 1
    assert page.locator(f"tr[data-app-id='{their_app}']").count() == 0
    assert "Their secret app" not in page.content()

    answer = page.goto(f"/apps/{their_app}")
    assert answer is not None and answer.status == 404
    assert page.is_visible("text=Not found")
    assert "Their secret app" not in page.content()
    shot(page, "apps-04-other-partner-404")

    # The operator sees both, with the owner.
    with httpx.Client(base_url=console_server.url) as client:
        client.post("/login", data={"key": console_server.operator_key, "next": "/"})
        listed = client.get("/apps").text
        assert my_app in listed and their_app in listed
        assert "Theirs" in client.get(f"/apps/{their_app}").text


def test_operator_creates_an_app_for_a_partner(page, console_server: Server) -> None:
    partner_id, _ = new_partner(console_server, "Owned By Operator Choice")
    open_as(page, console_server.operator_key, "/apps/new")
    page.fill("input[name=name]", "Operator-made")
    page.select_option("select[name=partner_id]", partner_id)
    page.click("button:has-text('Create app')")
    page.wait_for_url("**/apps/app_*")
    assert page.is_visible(f"text={partner_id}")
