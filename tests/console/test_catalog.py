"""The catalog browser: every trigger by category, search as you type, a trigger's page with
its schema, example, templates in three languages and its .d.ts."""

from __future__ import annotations

import httpx

from appfn.catalog import load_catalog
from tests.console.conftest import shot, sign_in
from tests.server import Server


def test_catalog_lists_every_trigger_and_searches(page, console_server: Server) -> None:
    sign_in(page, console_server.operator_key)
    page.goto("/catalog")
    rows = page.locator("tr[data-trigger]")
    assert rows.count() == len(load_catalog())
    assert page.locator("section.catalog-group").count() == len(load_catalog().categories())
    sync = page.locator('tr[data-trigger="shipment.creating"]')
    assert "sync" in sync.inner_text() and "shipping.read" in sync.inner_text()
    assert "30 s" in page.locator('tr[data-trigger="customer.created"]').inner_text()
    page.fill("#catalog-search", "shipment")
    visible = page.locator("tr[data-trigger]:not(.hidden)")
    names = visible.evaluate_all("rows => rows.map(r => r.dataset.trigger)")
    assert names and all("shipment" in n for n in names)
    assert "shipment.creating" in names
    assert page.inner_text("#catalog-count").startswith(f"{len(names)} of")
    shot(page, "50-catalog-search")
    page.fill("#catalog-search", "no such thing at all")
    assert page.is_visible("#catalog-empty")
    page.goto("/catalog?q=customer created")  # without JavaScript's help too
    assert page.locator('tr[data-trigger="customer.created"]:not(.hidden)').count() == 1


def test_trigger_page_has_schema_example_templates_and_types(page, console_server: Server) -> None:
    sign_in(page, console_server.operator_key)
    page.goto("/catalog")
    page.click('a[href="/catalog/shipment.creating"]')
    page.wait_for_url("**/catalog/shipment.creating")
    facts = page.inner_text("#trigger-facts")
    assert "sync" in facts and "shipping.read" in facts and "Shipment" in facts
    assert '"type"' in page.inner_text("#schema")
    assert page.inner_text("#example").strip().startswith("{")
    assert page.is_visible("#code-py") and "def handler" in page.inner_text("#code-py")
    assert not page.is_visible("#code-ts")
    page.click("#tab-ts")
    assert page.is_visible("#code-ts") and not page.is_visible("#code-py")
    assert page.inner_text("#code-ts").startswith("export default async (context: Shipments): Promise<Shipment>")
    page.click("#tab-js")
    assert page.is_visible("#code-js")
    page.click("#tab-dts")
    assert "interface" in page.inner_text("#code-dts") or "type " in page.inner_text("#code-dts")
    shot(page, "51-catalog-trigger")


def test_unknown_trigger_is_a_404_with_suggestions(console_server: Server) -> None:
    client = httpx.Client(base_url=console_server.url, timeout=30)
    client.post("/login", data={"key": console_server.operator_key, "next": "/"})
    answer = client.get("/catalog/customer.create")
    client.close()
    assert answer.status_code == 404
    assert "customer.created" in answer.text
