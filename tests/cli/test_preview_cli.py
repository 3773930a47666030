"""`appfn preview` against a real `appfn serve --demo`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.server import running_server

STORE = 1305146709
GREET = "def handler(context):\n    print('hi', context.payload.data['first_name'])\n    return {'success': True}\n"


def appfn(*args: str, env_url: str, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appfn", *args, "--url", env_url, "--key", key],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_preview_runs_the_deployed_version_and_a_draft(tmp_path: Path) -> None:
    with running_server(tmp_path, demo=True) as server, server.client() as op:
        partner = op.post("/v1/partners", json={"name": "CLI"}).json()
        key = partner["key"]["secret"]
        client = server.client(key)
        app = client.post("/v1/apps", json={"name": "cli", "scopes": ["customers.read"]}).json()
        client.post("/v1/installations", json={"app_id": app["id"], "store_id": STORE}).raise_for_status()
        job = client.put(f"/v1/apps/{app['id']}/functions/customer.created", json={"source": GREET}).json()["deploy"]
        while client.get(f"/v1/deploys/{job['id']}").json()["status"] == "PENDING":
            time.sleep(0.05)
        customer = op.get("/admin/v2/customers", headers={"X-Store-Id": str(STORE)}).json()["data"][0]

        ran = appfn("preview", "--app", app["id"], "-t", "customer.created", "-s", str(STORE),
                    "--customer-id", str(customer["id"]), env_url=server.url, key=key)  # fmt: skip
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "Execution Status" in ran.stdout and f"hi {customer['first_name']}" in ran.stdout

        draft = tmp_path / "draft.py"
        draft.write_text("def handler(context):\n    raise ValueError('draft broke')\n")
        failed = appfn("preview", "--app", app["id"], "-t", "customer.created", "-s", str(STORE),
                       "--id", f"customer_id={customer['id']}", "--draft", str(draft), "--json",
                       env_url=server.url, key=key)  # fmt: skip
        assert failed.returncode == 1
        assert json.loads(failed.stdout)["error"].startswith("ValueError: draft broke")

        missing = appfn("preview", "--app", app["id"], "-t", "customer.created", "-s", str(STORE),
                        env_url=server.url, key=key)  # fmt: skip
        assert missing.returncode == 2 and "Missing required form field(s): customer_id" in missing.stderr
