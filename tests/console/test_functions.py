"""Console functions: Add function, the editor (save, deploy progress, error markers, versions,
diff, rollback) and the preview panel, in Chromium against ``appfn serve --demo``; plus plain HTTP
checks (404s, redirects, render time) and the vendored editor bundle's manifest.

The app under test is created through the JSON API (the apps pages have their own tests)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from importlib import resources
from typing import Any

import httpx
import pytest

from tests.console.conftest import shot, sign_in

PY_OK = """from appfn import Resp
from appfn.sdk import CustomerContext


async def handler(context: CustomerContext) -> Resp:
    data = context.payload.data
    print(f"customer {data.get('id')} is {data.get('first_name')}")
    found = await context.api.get(f"customers/{data.get('id')}")
    return Resp.success().set_data({"id": data.get("id"), "email": found["data"]["email"]})
"""


def demo_info(server: Any) -> dict[str, Any]:
    return json.loads((server.data_dir / "demo.json").read_text())


@pytest.fixture(scope="module")
def demo(console_server: Any) -> dict[str, Any]:
    """The demo partner, its store, and a fresh app (customers.read) installed on that store."""
    info = demo_info(console_server)
    with console_server.client(info["partner_key"]) as client:
        app = client.post("/v1/apps", json={"name": "Functions test", "scopes": ["customers.read"]}).json()
        client.post("/v1/installations", json={"app_id": app["id"], "store_id": info["store_id"]}).raise_for_status()
        other = client.post("/v1/apps", json={"name": "Not installed", "scopes": []}).json()
    with console_server.client() as client:  # the operator reads the demo store's Admin API
        customer = client.get("/admin/v2/customers?per_page=1", headers={"X-Store-Id": str(info["store_id"])}).json()
    return {**info, "app": app["id"], "other_app": other["id"], "customer": customer["data"][0]}


@pytest.fixture
def partner_page(page: Any, demo: dict[str, Any]) -> Any:
    page.goto("/login")
    sign_in(page, demo["partner_key"])
    return page


def snap(page: Any, name: str) -> None:
    """A screenshot without the toasts (they would hide the panels the docs show)."""
    page.evaluate("document.getElementById('toasts')?.replaceChildren()")
    shot(page, name)


def editor_text(page: Any) -> str:
    return page.evaluate("window.appfnFunction.editor.getValue()")


def replace_source(page: Any, text: str) -> None:
    """Select everything in the editor and paste ``text`` (no auto-indent, like a paste)."""
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def wait_deploy(page: Any, status: str) -> None:
    page.wait_for_selector(f"#deploy[data-status='{status}']", timeout=30_000)


# --- plain HTTP ----------------------------------------------------------------------------------


def test_editor_bundle_matches_its_manifest() -> None:
    vendor = resources.files("appfn.console").joinpath("static", "vendor")
    manifest = json.loads(vendor.joinpath("MANIFEST.json").read_text())
    assert manifest["packages"]["@codemirror/view"]
    assert "@codemirror/lint" in manifest["packages"] and "@codemirror/merge" in manifest["packages"]
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256(vendor.joinpath(name).read_bytes()).hexdigest() == digest, name
    assert "MIT" in vendor.joinpath("LICENSES.txt").read_text()


def test_pages_answer_fast_and_404_cleanly(console_server: Any, demo: dict[str, Any]) -> None:
    app = demo["app"]
    with console_server.client(demo["partner_key"]) as api:
        api.put(f"/v1/apps/{app}/functions/customer.updated", json={"source": PY_OK}).raise_for_status()
    cookies = _session_cookies(console_server, demo["partner_key"])
    with httpx.Client(base_url=console_server.url, cookies=cookies, follow_redirects=False) as client:
        for path in (f"/apps/{app}/functions/new", f"/apps/{app}/functions/customer.updated",
                     f"/apps/{app}/functions/order.created"):  # fmt: skip
            client.get(path)  # warm up
            started = time.perf_counter()
            answer = client.get(path)
            elapsed = time.perf_counter() - started
            assert answer.status_code == 200, (path, answer.text[:300])
            assert elapsed < 0.3, (path, elapsed)
        assert client.get(f"/apps/{app}/functions/no.such.trigger").status_code == 404
        assert client.get("/apps/app_nope/functions/customer.created").status_code == 404
        assert client.get(f"/apps/{app}/functions/customer.updated?version=9").status_code == 404
        redirect = client.get(f"/apps/{app}/functions/new?trigger=order.created&language=ts")
        assert redirect.status_code == 303
        assert redirect.headers["location"] == f"/apps/{app}/functions/order.created?language=typescript"
        new = client.get(f"/apps/{app}/functions/order.created?language=typescript").text
        assert "export default async" in new and "Order ID" in new
        # a trigger the demo store keeps no records for: the panel says so instead of a form
        other = client.get(f"/apps/{app}/functions/cart.viewed").text
        assert 'id="preview-field"' not in other and "sample data" in other


def _session_cookies(server: Any, key: str) -> httpx.Cookies:
    with httpx.Client(base_url=server.url, follow_redirects=False) as client:
        answer = client.post("/login", data={"key": key})
        assert answer.status_code in (302, 303), answer.text[:300]
        return client.cookies


# --- browser -------------------------------------------------------------------------------------


def test_add_function_filters_the_catalog_and_opens_the_template(partner_page: Any, demo: dict[str, Any]) -> None:
    page = partner_page
    page.goto(f"/apps/{demo['app']}/functions/new")
    assert page.locator("li[data-search]").count() == 80
    page.fill("#trigger-filter", "order status")
    visible = page.locator("li[data-search]:not(.hidden)")
    assert visible.count() == 1
    assert "order.status.updated" in visible.inner_text()
    page.fill("#trigger-filter", "shipment.c")
    names = page.locator("li[data-search]:not(.hidden) code").all_inner_texts()
    assert set(names) == {"shipment.creating", "shipment.cancelling", "shipment.created", "shipment.cancelled"}
    creating = page.locator("li[data-search]:not(.hidden)", has_text="shipment.creating")
    assert "sync" in creating.locator(".tag").inner_text() and "5 s" in creating.inner_text()
    page.fill("#trigger-filter", "zzz-nothing")
    assert page.is_visible("#no-trigger")
    page.fill("#trigger-filter", "customer.created")
    page.check("input[name=language][value=typescript]")
    page.check("input[name=trigger][value='customer.created']")
    snap(page, "functions-add")
    page.click("#open-editor")
    page.wait_for_url(re.compile(r"/functions/customer\.created\?language=typescript$"))
    page.wait_for_selector(".cm-content")
    assert editor_text(page).startswith("export default async (context: Customer): Promise<Resp> => {")
    assert page.input_value("#fn-language") == "typescript"
    assert page.inner_text("#fn-dirty") == "not saved yet"


def test_save_break_marker_diff_rollback(partner_page: Any, demo: dict[str, Any]) -> None:
    page = partner_page
    page.goto(f"/apps/{demo['app']}/functions/customer.login")
    page.wait_for_selector(".cm-content")
    assert "async def handler" in editor_text(page)
    replace_source(page, PY_OK)
    page.click("#fn-save")
    wait_deploy(page, "COMPLETED")
    page.wait_for_selector("#versions tr[data-version='1'] .active-tag")
    assert "Version 1 deployed" in page.inner_text("#deploy-title")
    assert "active: version 1" in page.inner_text("#fn-status")

    # break line 7 (a syntax error): the deploy fails and names that line; the marker sits on it
    broken = PY_OK.replace('    print(f"customer', '    print(f"customer" +', 1)
    assert broken.splitlines()[6].startswith('    print(f"customer" +')
    replace_source(page, broken)
    assert page.inner_text("#fn-dirty") == "unsaved changes"
    page.keyboard.press("Control+s")
    wait_deploy(page, "FAILED")
    assert "(line 7)" in page.inner_text("#deploy-title")
    assert page.is_visible("#deploy-error")
    page.wait_for_selector(".cm-lintRange-error")
    marked = page.locator(".cm-line", has=page.locator(".cm-lintRange-error"))
    assert marked.count() == 1 and 'print(f"customer" +' in marked.inner_text()
    assert page.locator(".cm-gutter-lint .cm-lint-marker-error").count() == 1
    assert page.inner_text(".cm-activeLineGutter").strip() == "7"
    assert "active: version 1" in page.inner_text("#fn-status")
    snap(page, "functions-error-marker")

    # reloading shows the failed version with its marker again
    page.reload()
    page.wait_for_selector(".cm-lintRange-error")
    assert page.locator("#versions tr").count() == 2

    # diff version 1 -> 2
    page.click("#versions tr[data-version='2'] button[data-action=diff]")
    page.wait_for_selector("#diff .cm-mergeView")
    assert "version 1 → version 2" in page.inner_text("#diff-title")
    assert page.locator("#diff .cm-changedLine").count() >= 1
    page.click("#diff-close")

    # roll back to version 1: the editor shows its code, no marker, the URL opens it again
    page.click("#versions tr[data-version='1'] button[data-action=rollback]")
    page.wait_for_url(re.compile(r"\?version=1$"))
    page.wait_for_function("!document.querySelector('.cm-lintRange-error')")
    assert editor_text(page) == PY_OK
    assert "Rolled back" in page.inner_text("#deploy-title")
    page.reload()
    page.wait_for_selector(".cm-content")
    assert editor_text(page) == PY_OK


def test_preview_with_picker_draft_and_saved(partner_page: Any, demo: dict[str, Any]) -> None:
    page = partner_page
    customer = demo["customer"]
    page.goto(f"/apps/{demo['app']}/functions/customer.created")
    page.wait_for_selector(".cm-content")
    assert page.input_value("#preview-store") == str(demo["store_id"])
    # picker: search the store's customers by e-mail and pick one
    page.click("#picker-toggle")
    page.fill("#picker-search", customer["email"])
    page.click(f"#picker-results button[data-id='{customer['id']}']")
    assert page.input_value("#preview-field") == str(customer["id"])

    replace_source(page, PY_OK)
    page.click("#preview-draft")
    page.wait_for_selector("#preview-result[data-state='success']")
    response = json.loads(page.inner_text("#preview-response"))
    assert response["data"] == {"id": customer["id"], "email": customer["email"]}
    assert f"customer {customer['id']} is {customer['first_name']}" in page.inner_text("#preview-console")
    assert "draft" in page.inner_text("#preview-what")
    assert re.match(r"\d+\.\d ms", page.inner_text("#preview-time"))
    request_row = page.locator("#preview-requests tr")
    assert request_row.count() == 1 and f"/customers/{customer['id']}" in request_row.inner_text()
    assert page.is_hidden("#preview-errors-box")
    assert page.locator("#versions tr").count() == 0  # a draft preview saves nothing

    # a draft that raises: Errors shows the traceback, a warning marker on the user's line
    line = "    data = context.payload.data\n"
    replace_source(page, PY_OK.replace(line, line + "    1 / 0\n"))
    page.click("#preview-draft")
    page.wait_for_selector("#preview-result[data-state='failure']")
    assert "ZeroDivisionError" in page.inner_text("#preview-errors")
    page.wait_for_selector(".cm-lintRange-warning")
    assert "1 / 0" in page.locator(".cm-line", has=page.locator(".cm-lintRange-warning")).inner_text()

    # Save and Preview: saves version 1, waits for its deploy, runs the deployed code
    replace_source(page, PY_OK)
    page.click("#preview-save")
    page.wait_for_selector("#preview-result[data-state='success']", timeout=30_000)
    assert "active version" in page.inner_text("#preview-what")
    assert page.locator("#versions tr[data-version='1'] .active-tag").count() == 1
    snap(page, "functions-preview")


def test_preview_needs_an_installation(partner_page: Any, demo: dict[str, Any]) -> None:
    page = partner_page
    page.goto(f"/apps/{demo['other_app']}/functions/customer.created")
    page.wait_for_selector(".cm-content")
    assert page.is_visible("#preview-no-store")
    option = page.locator("#preview-store option").first
    assert option.is_disabled() and "not installed" in option.inner_text()


def test_typescript_template_lines_and_syntax_errors_are_marked(partner_page: Any, demo: dict[str, Any]) -> None:
    page = partner_page
    page.goto(f"/apps/{demo['app']}/functions/customer.otp.request?language=typescript")
    page.wait_for_selector(".cm-content")
    template = editor_text(page)
    lines = template.splitlines()
    # the first line is the template's: changing it is refused on save (422) and marked at line 1
    replace_source(page, template.replace(lines[0], "export default async (context: any) => {", 1))
    page.click("#fn-save")
    page.wait_for_selector("#deploy[data-status='FAILED']")
    assert "Not saved" in page.inner_text("#deploy-title")
    page.wait_for_selector(".cm-lintRange-error")
    assert page.inner_text(".cm-activeLineGutter").strip() == "1"
    # a syntax error in the body: saved, the deploy fails at its line
    body_line = next(i for i, text in enumerate(lines) if "console.log" in text)
    broken = "\n".join([*lines[:body_line], "  const = ;", *lines[body_line + 1 :]]) + "\n"
    replace_source(page, broken)
    page.click("#fn-save")
    page.wait_for_selector("#deploy[data-status='FAILED']")
    page.wait_for_function("document.querySelector('#deploy-title').textContent.includes('failed to deploy')")
    page.wait_for_selector(".cm-lintRange-error")
    assert "const = ;" in page.locator(".cm-line", has=page.locator(".cm-lintRange-error")).inner_text()
    # the template again: deploys; the draft preview runs TypeScript
    replace_source(page, template)
    page.click("#fn-save")
    page.wait_for_selector("#deploy[data-status='COMPLETED']", timeout=30_000)
    page.fill("#preview-field", str(demo["customer"]["id"]))
    page.click("#preview-draft")
    page.wait_for_selector("#preview-result[data-state='success']")
    assert "customer.otp.request for store" in page.inner_text("#preview-console")
