"""`appfn invoke` end to end: a real subprocess, the real sandbox, a real HTTP receiver."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from appfn.catalog import load_catalog
from tests.cli.receiver import receiver

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CUSTOMER = load_catalog().get("customer.created").example_data


def appfn(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "appfn", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def test_crm_sync_posts_the_documented_record(tmp_path: Path) -> None:
    with receiver({"id": "crm-42"}) as crm:
        settings = write_json(tmp_path / "settings.json", {"crmApiUrl": f"{crm.url}/contacts", "crmApiKey": "k-1"})
        done = appfn(
            "invoke", EXAMPLES / "crm_sync.py", "--trigger", "customer.created", "--example",
            "--settings", settings, "--merchant", "1305146709", "--allow-egress", "127.0.0.1", "--json",
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success"
    assert result["response"]["data"] == {"customer_id": CUSTOMER["id"], "crm_id": "crm-42"}
    [request] = crm.requests
    assert request["path"] == "/contacts"
    assert request["headers"]["Authorization"] == "Bearer k-1"
    assert request["json"] == {
        "external_id": CUSTOMER["id"],
        "first_name": CUSTOMER["first_name"],
        "last_name": CUSTOMER["last_name"],
        "email": CUSTOMER["email"],
        "phone": f"{CUSTOMER['mobile_code']}{CUSTOMER['mobile']}",
        "merchant_id": 1305146709,
        "event_type": "customer.created",
    }
    assert result["requests"][0]["status"] == 200 and result["requests"][0]["method"] == "POST"


def test_welcome_email_posts_the_documented_mail(tmp_path: Path) -> None:
    with receiver({"queued": True}) as mail:
        settings = write_json(tmp_path / "s.json", {"emailApiUrl": f"{mail.url}/send", "emailApiKey": "m-1"})
        done = appfn(
            "invoke", EXAMPLES / "welcome_email.py", "-t", "customer.created", "--example",
            "--settings", settings, "--allow-egress", "127.0.0.1", "--json",
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["response"]["data"] == {"customer_id": CUSTOMER["id"], "email_sent": True}
    [request] = mail.requests
    assert request["headers"]["X-API-Key"] == "m-1"
    assert request["json"] == {
        "to": CUSTOMER["email"],
        "template": "welcome",
        "data": {"name": f"{CUSTOMER['first_name']} {CUSTOMER['last_name']}", "customer_id": CUSTOMER["id"]},
    }


def test_loopback_is_refused_without_allow_egress(tmp_path: Path) -> None:
    with receiver() as crm:
        settings = write_json(tmp_path / "s.json", {"crmApiUrl": f"{crm.url}/contacts", "crmApiKey": "k"})
        done = appfn("invoke", EXAMPLES / "crm_sync.py", "-t", "customer.created", "--example",
                     "--settings", settings, "--json")  # fmt: skip
        assert crm.requests == []
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["response"]["status"] == 503
    assert "egress denied" in result["error"] and "127.0.0.1" in result["error"]


def test_an_upstream_error_is_a_readable_failure(tmp_path: Path) -> None:
    with receiver({"error": "boom"}, status=500) as crm:
        settings = write_json(tmp_path / "s.json", {"crmApiUrl": crm.url, "crmApiKey": "k"})
        done = appfn("invoke", EXAMPLES / "crm_sync.py", "-t", "customer.updated", "--example",
                     "--settings", settings, "--allow-egress", "127.0.0.1", "--json")  # fmt: skip
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"] == "CRM answered HTTP 500"


def test_metadata_address_is_refused_from_a_function(tmp_path: Path) -> None:
    handler = tmp_path / "steal.py"
    handler.write_text(
        "async def handler(context):\n"
        "    r = await context.fetch('http://169.254.169.254/latest/meta-data/')\n"
        "    return {'success': True, 'data': {'body': r.text}}\n"
    )
    done = appfn("invoke", handler, "-t", "order.created", "--example", "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 1
    assert result["error"].startswith("EgressDeniedError: egress denied")
    assert "169.254.169.254" in result["error"]


def test_the_panel_for_people(tmp_path: Path) -> None:
    done = appfn("invoke", EXAMPLES / "greet_customer.py", "--trigger", "customer.created", "--example")
    assert done.returncode == 0, done.stderr
    for label in ("Execution Status", "success", "Execution Time", "Response Data", "Console Logs"):
        assert label in done.stdout


def test_a_failing_function_exits_1_with_its_traceback(tmp_path: Path) -> None:
    handler = tmp_path / "broken.py"
    handler.write_text("def handler(context):\n    total = 0\n    return total / 0\n")
    done = appfn("invoke", handler, "-t", "order.created", "--example", "--json")
    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]
    assert error.startswith("ZeroDivisionError: division by zero")
    assert 'File "broken.py", line 3, in handler' in error


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trigger", "customer.creatd", "--example"], "unknown trigger 'customer.creatd' (did you mean"),
        (["--trigger", "customer.created", "--data", "missing.json"], "--data: cannot read missing.json"),
        (["--trigger", "customer.created", "--data", "bad.json"], "is not valid JSON: Expecting"),
        (["--trigger", "customer.created", "--data", "wrong.json"], "payload.data.email: expected string, got 5"),
        (["--trigger", "customer.created", "--data", "list.json"], "must hold a JSON object, got list"),
        (["--trigger", "customer.created", "--example", "--data", "wrong.json"], "either --data or --example"),
        (["--trigger", "order.created", "--example", "--timeout", "0"], "--timeout must be positive"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "bad.json").write_text('{"id": 1,')
    write_json(tmp_path / "wrong.json", {**CUSTOMER, "email": 5})
    write_json(tmp_path / "list.json", [1])
    done = appfn("invoke", EXAMPLES / "greet_customer.py", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in " ".join(done.stderr.split())


def test_init_writes_a_handler_and_a_passing_test(tmp_path: Path) -> None:
    done = appfn("init", "welcome", "--trigger", "customer.created", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "welcome" / "handler.py").exists()
    ran = appfn("invoke", tmp_path / "welcome" / "handler.py", "-t", "customer.created", "--example", "--json")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "welcome")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout


def test_init_for_shipment_creating_uses_the_shipment_builder(tmp_path: Path) -> None:
    assert appfn("init", "awb", "--trigger", "shipment.creating", cwd=tmp_path).returncode == 0
    source = (tmp_path / "awb" / "handler.py").read_text()
    assert "Shipment.success()" in source and "set_shipment_number" in source
    ran = appfn("invoke", tmp_path / "awb" / "handler.py", "-t", "shipment.creating", "--example", "--json")
    assert ran.returncode == 1  # no accountNumber setting: the template rejects with a message
    assert json.loads(ran.stdout)["error"] == "Set your carrier account number in the app settings"
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "awb")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_every_command_has_help() -> None:
    for command in ([], ["invoke"], ["init"], ["triggers"], ["triggers", "show"]):
        done = appfn(*command, "--help")
        assert done.returncode == 0 and "Usage" in done.stdout, command
