"""The original's testing flow, end to end through the console only (Chromium, real
``appfn serve --demo``): sign in, create an app, install it on the demo store, add a function for
``customer.created``, save (the deploy completes), create a customer in the demo store's page, see
the execution appear live on /executions, preview with that customer's id, break the function and
see the error at the right line, roll back. A screenshot of each step goes to
test-artifacts/console/flow-NN-*.png (a few of them are in docs/console/)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.console.conftest import shot, sign_in

SOURCE = """from appfn import Resp
from appfn.sdk import CustomerContext


async def handler(context: CustomerContext) -> Resp:
    data = context.payload.data
    print(f"welcome {data.get('first_name')} (customer {data.get('id')})")
    found = await context.api.get(f"customers/{data.get('id')}")
    return Resp.success().set_data({"id": data.get("id"), "email": found["data"]["email"]})
"""
BROKEN_LINE = 8  # the Admin API call: its closing parenthesis gets deleted


def snap(page: Any, name: str) -> None:
    """A screenshot without the toasts (they would hide the panels the docs show)."""
    page.evaluate("document.getElementById('toasts')?.replaceChildren()")
    shot(page, name)


def editor_text(page: Any) -> str:
    return page.evaluate("window.appfnFunction.editor.getValue()")


def test_the_whole_flow_in_the_console(page: Any, console_server: Any) -> None:
    demo = json.loads((console_server.data_dir / "demo.json").read_text())
    store_id = demo["store_id"]

    # 1. sign in with the demo partner's API key
    page.goto("/login")
    page.fill("input[name=key]", demo["partner_key"])
    snap(page, "flow-01-sign-in")
    sign_in(page, demo["partner_key"])
    assert page.is_visible("text=partner")

    # 2. create an app that may read customers
    page.goto("/apps/new")
    page.fill("#app-form input[name=name]", "Welcome Flow")
    page.check("#app-form input[name=scope][value='customers.read']")
    page.click("#app-form button[type=submit]")
    page.wait_for_url(re.compile(r"/apps/app_[a-z0-9]+$"))
    app_id = page.url.rsplit("/", 1)[1]
    snap(page, "flow-02-app-created")

    # 3. install it on the demo store (its scopes granted, active)
    page.goto(f"/installations/new?app_id={app_id}&store_id={store_id}")
    page.click("#install-form button[type=submit]")
    page.wait_for_url(re.compile(r"/installations/inst_[a-z0-9]+"))
    snap(page, "flow-03-installed")

    # 4. add a function for customer.created (the catalog filter, Python)
    page.goto(f"/apps/{app_id}")
    page.click("a:has-text('Add function')")
    page.wait_for_url(f"**/apps/{app_id}/functions/new")
    page.fill("#trigger-filter", "customer.created")
    page.check("input[name=trigger][value='customer.created']")
    page.check("input[name=language][value=python]")
    snap(page, "flow-04-add-function")
    page.click("#open-editor")
    page.wait_for_url(re.compile(r"/functions/customer\.created"))
    page.wait_for_selector(".cm-content")
    assert "async def handler(context: CustomerContext) -> Resp:" in editor_text(page)

    # 5. write the handler (pasted over the template) and save: version 1 deploys
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(SOURCE)
    page.click("#fn-save")
    page.wait_for_selector("#deploy[data-status='COMPLETED']", timeout=30_000)
    page.wait_for_selector("#versions tr[data-version='1'] .active-tag")
    snap(page, "flow-05-deployed")
    editor_url = page.url

    # 6. watch the executions list (live) in a second tab, then create a customer in the demo store
    executions = page.context.new_page()
    executions.goto(f"/executions?app={app_id}")
    executions.wait_for_selector("text=Live", timeout=15_000)
    assert executions.locator("tr[data-execution-id]").count() == 0
    page.goto(f"/stores/{store_id}/customers/new")
    page.fill("#customer-form input[name=first_name]", "Noura")
    page.fill("#customer-form input[name=last_name]", "Alqahtani")
    page.fill("#customer-form input[name=mobile]", "501234987")
    page.fill("#customer-form input[name=email]", "noura.flow@example.com")
    snap(page, "flow-06-new-customer")
    page.click("#customer-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/stores/{store_id}/customers/\d+$"))
    customer_id = int(page.url.rsplit("/", 1)[1])

    # 7. the execution appears on /executions without a reload, and succeeds
    row = executions.locator("tr[data-execution-id][data-status='success']", has_text="customer.created")
    row.first.wait_for(timeout=30_000)
    assert "Welcome Flow" in row.first.inner_text()
    snap(executions, "flow-07-execution-live")
    executions.close()

    # 8. preview with that customer's id (found with the picker), the deployed version
    page.goto(editor_url)
    page.wait_for_selector(".cm-content")
    page.select_option("#preview-store", str(store_id))
    page.click("#picker-toggle")
    page.fill("#picker-search", "noura.flow")
    page.click(f"#picker-results button[data-id='{customer_id}']")
    assert page.input_value("#preview-field") == str(customer_id)
    page.click("#preview-save")
    page.wait_for_selector("#preview-result[data-state='success']", timeout=30_000)
    answer = json.loads(page.inner_text("#preview-response"))
    assert answer["data"] == {"id": customer_id, "email": "noura.flow@example.com"}
    assert f"welcome Noura (customer {customer_id})" in page.inner_text("#preview-console")
    assert f"/customers/{customer_id}" in page.inner_text("#preview-requests")
    snap(page, "flow-08-preview")

    # 9. break it: delete the closing parenthesis of line 8, save; the deploy fails at line 8
    line = page.locator(".cm-line").nth(BROKEN_LINE - 1)
    assert line.inner_text().endswith('get("id")}")') or line.inner_text().endswith('}")')
    line.click()
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.click("#fn-save")
    page.wait_for_selector("#deploy[data-status='FAILED']", timeout=30_000)
    assert f"(line {BROKEN_LINE})" in page.inner_text("#deploy-title")
    assert "SyntaxError" in page.inner_text("#deploy-error")
    page.wait_for_selector(".cm-lintRange-error")
    marked = page.locator(".cm-line", has=page.locator(".cm-lintRange-error"))
    assert "context.api.get" in marked.inner_text()
    assert page.inner_text(".cm-activeLineGutter").strip() == str(BROKEN_LINE)
    assert "active: version 1" in page.inner_text("#fn-status")  # the failed version never runs
    snap(page, "flow-09-error-marker")

    # 10. roll back to version 1: its code is back in the editor and it stays the active version
    page.click("#versions tr[data-version='1'] button[data-action=rollback]")
    page.wait_for_url(re.compile(r"\?version=1$"))
    page.wait_for_function("!document.querySelector('.cm-lintRange-error')")
    assert editor_text(page) == SOURCE
    assert page.locator("#versions tr[data-version='1'] .active-tag").count() == 1
    snap(page, "flow-10-rolled-back")
