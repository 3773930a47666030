"""`appfn serve --demo` as a newcomer meets it: a real server process on loopback, real SQLite.

The first start seeds a demo partner (its key in demo.json, mode 0600) and three apps whose
settings point at the request inspector; creating a customer through the Admin API runs CRM Sync
and Welcome Mail, the inspector has what the CRM and the mail provider would have received, the
preview runs on that customer. A second start (on another port) seeds nothing, prints the same
information and the inspector URLs follow the new address."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import httpx

from appfn.demo.demo_apps import function_source
from tests.server import Server, running_server

STORE = 1305146709
ROOT = Path(__file__).resolve().parents[2]


def _demo(server: Server) -> dict[str, Any]:
    return json.loads((server.data_dir / "demo.json").read_text())


def _wait(client: httpx.Client, path: str, params: dict[str, Any], count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        answer = client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        if len(items) >= count:
            return items
        time.sleep(0.1)
    raise AssertionError(f"{path} {params}: expected {count}, got {items}")


def _create_customer(server: Server, mobile: str, email: str) -> dict[str, Any]:
    with server.client() as op:
        created = op.post(
            "/admin/v2/customers", headers={"X-Store-Id": str(STORE)},
            json={"first_name": "Sara", "last_name": "Alharbi", "mobile": mobile, "email": email},
        )  # fmt: skip
    assert created.status_code == 201, created.text
    return created.json()["data"]


def _apps(demo: dict[str, Any]) -> dict[str, str]:
    return {a["name"]: a["app_id"] for a in demo["apps"]}


def test_the_seeded_demo_runs_end_to_end_and_is_seeded_once(tmp_path: Path) -> None:
    with running_server(tmp_path, demo=True) as server:
        demo = _demo(server)
        mode = stat.S_IMODE((server.data_dir / "demo.json").stat().st_mode)
        assert mode == 0o600, oct(mode)
        key = demo["partner_key"]
        output = server.output()
        for shown in (key, f"{server.url}/docs", f"{server.url}/v1/inspector/requests", "curl -s", "appfn preview",
                      _apps(demo)["CRM Sync"]):  # fmt: skip
            assert shown in output, (shown, output)
        assert set(_apps(demo)) == {"CRM Sync", "Welcome Mail", "Shipping Rules"}

        with server.client(key) as partner:
            # The functions were deployed through the normal save + deploy path
            for name, triggers in (
                ("CRM Sync", {"customer.created", "customer.updated"}),
                ("Welcome Mail", {"customer.created"}),
                ("Shipping Rules", {"shipment.creating"}),
            ):
                functions = partner.get(f"/v1/apps/{_apps(demo)[name]}/functions").json()["items"]
                assert {f["trigger"] for f in functions} == triggers, (name, functions)
                assert all(f["active_version_id"] for f in _wait_active(partner, _apps(demo)[name], len(triggers)))
            installed = partner.get("/v1/installations").json()["items"]
            crm_install = next(i for i in installed if i["app_id"] == _apps(demo)["CRM Sync"])
            assert crm_install["settings"] == {"crmApiUrl": f"{server.url}/inspect/crm", "crmApiKey": "********"}

            # A customer created through the Admin API: CRM Sync and Welcome Mail run
            customer = _create_customer(server, "0551234567", "sara@example.com")
            runs = _wait(partner, "/v1/executions", {"trigger": "customer.created"}, 2)
            assert {r["app_id"] for r in runs} == {_apps(demo)["CRM Sync"], _apps(demo)["Welcome Mail"]}
            assert all(r["status"] == "success" for r in runs), runs
            crm_run = next(r for r in runs if r["app_id"] == _apps(demo)["CRM Sync"])
            [crm] = _wait(partner, "/v1/inspector/requests", {"bin": "crm"}, 1)
            assert crm_run["response"]["data"] == {"customer_id": customer["id"], "crm_id": crm["id"]}
            assert crm_run["requests"][0]["url"] == f"{server.url}/inspect/crm"
            assert crm["method"] == "POST" and crm["headers"]["authorization"] == "Bearer ****9c2e"
            assert crm["body"] == {
                "external_id": customer["id"], "first_name": "Sara", "last_name": "Alharbi",
                "email": "sara@example.com", "phone": "+966551234567", "merchant_id": STORE,
                "event_type": "customer.created",
            }  # fmt: skip
            assert (crm["event_id"], crm["trigger"]) == (crm_run["event_id"], "customer.created")
            [mail] = _wait(partner, "/v1/inspector/requests", {"bin": "mail"}, 1)
            assert mail["headers"]["x-api-key"] == "****8e4f"
            assert mail["body"] == {"to": "sara@example.com", "template": "welcome",
                                    "data": {"name": "Sara Alharbi", "customer_id": customer["id"]}}  # fmt: skip
            assert "demo-crm-key" not in json.dumps(crm) and "demo-mail-key" not in json.dumps(mail)

            # Preview with that customer's id
            preview = partner.post(
                f"/v1/apps/{_apps(demo)['CRM Sync']}/functions/customer.created/preview",
                json={"store_id": STORE, "customer_id": customer["id"]},
            ).json()
            assert preview["status"] == "success", preview
            assert preview["response"]["data"]["customer_id"] == customer["id"]

            # customer.updated reaches the CRM too
            with server.client() as op:
                op.put(f"/admin/v2/customers/{customer['id']}", headers={"X-Store-Id": str(STORE)},
                       json={"city": "Jeddah"}).raise_for_status()  # fmt: skip
            updated = _wait(partner, "/v1/inspector/requests", {"bin": "crm", "limit": 10}, 3)
            assert "customer.updated" in {r["body"]["event_type"] for r in updated}

            # A shipment: Shipping Rules asks the "carrier" and sets the number it answered
            with server.client() as op:
                merchant = {"X-Store-Id": str(STORE)}
                order = op.get("/admin/v2/orders", headers=merchant, params={"per_page": 1}).json()["data"][0]
                shipment = op.post("/admin/v2/shipments", headers=merchant, json={"order_id": order["id"]})
            assert shipment.status_code == 201, shipment.text
            [carrier] = partner.get("/v1/inspector/requests", params={"bin": "carrier"}).json()["items"]
            assert shipment.json()["data"]["shipping_number"] == carrier["id"]
            assert carrier["headers"]["authorization"] == "Bearer ****2a91"

            # The partner changes a function: a restart must not put the demo's back
            changed = function_source("crm_sync.py").replace('print(f"customer', 'print(f"changed: customer')
            saved = partner.put(f"/v1/apps/{_apps(demo)['CRM Sync']}/functions/customer.updated",
                                json={"source": changed})  # fmt: skip
            assert saved.status_code == 202, saved.text

    with running_server(tmp_path, demo=True) as again:  # another free port: the URLs follow
        assert "demo store 1305146709: already seeded" in again.output()
        assert _demo(again) == demo
        assert demo["partner_key"] in again.output() and f"{again.url}/v1/inspector/requests" in again.output()
        with again.client(demo["partner_key"]) as partner:
            assert [a["name"] for a in partner.get("/v1/apps").json()["items"]] == [
                "CRM Sync", "Welcome Mail", "Shipping Rules"]  # fmt: skip
            assert len(partner.get("/v1/installations").json()["items"]) == 3
            function = partner.get(f"/v1/apps/{_apps(demo)['CRM Sync']}/functions/customer.created").json()
            assert len(function["versions"]) == 1
            function = partner.get(f"/v1/apps/{_apps(demo)['CRM Sync']}/functions/customer.updated").json()
            assert len(function["versions"]) == 2 and "changed: customer" in function["source"]
            _create_customer(again, "0557654321", "huda@example.com")
            urls = {r["url"] for r in _wait(partner, "/v1/inspector/requests", {"bin": "crm", "limit": 10}, 4)}
            assert f"{again.url}/inspect/crm" in urls
        with again.client() as op:
            partners = [p for p in op.get("/v1/partners").json()["items"] if p["name"] == "Demo partner"]
            assert len(partners) == 1


def _wait_active(client: httpx.Client, app_id: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    functions: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        functions = client.get(f"/v1/apps/{app_id}/functions").json()["items"]
        if len(functions) == count and all(f["active_version_id"] for f in functions):
            return functions
        time.sleep(0.1)
    raise AssertionError(f"functions of {app_id} not deployed: {functions}")


def test_the_demo_functions_are_the_examples() -> None:
    """The README tutorial edits examples/crm_sync.py: it is what the demo deployed. The
    examples are links to the packaged functions (the package ships them), so they cannot drift."""
    packaged = ROOT / "src" / "appfn" / "demo" / "functions"
    for name in ("crm_sync.py", "welcome_email.py", "shipping_rules.py"):
        example = ROOT / "examples" / name
        assert example.is_symlink() and example.resolve() == (packaged / name).resolve(), name
        assert function_source(name) == example.read_text(encoding="utf-8"), name
