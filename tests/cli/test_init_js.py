"""`appfn init --lang ts|js` and `appfn invoke` on TypeScript/JavaScript files, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.catalog.test_templates import tsc_check

ROOT = Path(__file__).resolve().parents[2]


def appfn(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "appfn", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


def run_pytest(folder: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=folder, check=False)


def test_init_ts_writes_a_handler_its_types_and_a_tsconfig_that_type_checks(tmp_path: Path) -> None:
    done = appfn("init", "crm", "--trigger", "customer.created", "--lang", "ts", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "crm"
    assert sorted(p.name for p in folder.iterdir()) == ["appfn.d.ts", "handler.ts", "test_handler.py", "tsconfig.json"]
    first = (folder / "handler.ts").read_text().splitlines()[0]
    assert first == "export default async (context: Customer): Promise<Resp> => {"
    checked = tsc_check(folder)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ran = appfn("invoke", folder / "handler.ts", "-t", "customer.created", "--example", "--json")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout)["console"] == ["customer.created for store 1305146709"]
    tests = run_pytest(folder)
    assert tests.returncode == 0 and "1 passed" in tests.stdout, tests.stdout + tests.stderr


def test_a_type_error_in_an_init_folder_is_reported_by_tsc(tmp_path: Path) -> None:
    assert appfn("init", "awb", "--trigger", "shipment.creating", "--lang", "ts", cwd=tmp_path).returncode == 0
    handler = tmp_path / "awb" / "handler.ts"
    handler.write_text(handler.read_text().replace("ShipmentStatusEnum.IN_PROGRESS", "'moving'"))
    checked = tsc_check(tmp_path / "awb")
    assert checked.returncode != 0
    assert "handler.ts(" in checked.stdout and "ShipmentStatusEnum" in checked.stdout


def test_init_js_for_shipment_creating_uses_the_shipment_builder(tmp_path: Path) -> None:
    assert appfn("init", "awb", "--trigger", "shipment.creating", "--lang", "js", cwd=tmp_path).returncode == 0
    source = (tmp_path / "awb" / "handler.js").read_text()
    assert source.startswith("export default async (context) => {\n") and "Shipment.success()" in source
    ran = appfn("invoke", tmp_path / "awb" / "handler.js", "-t", "shipment.creating", "--example", "--json")
    assert ran.returncode == 1  # no accountNumber setting: the template rejects with a message
    assert json.loads(ran.stdout)["error"] == "Set your carrier account number in the app settings"
    tests = run_pytest(tmp_path / "awb")
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_init_refuses_an_unknown_language(tmp_path: Path) -> None:
    done = appfn("init", "x", "--trigger", "customer.created", "--lang", "rb", cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown language 'rb'" in done.stderr


def test_invoke_reports_a_typescript_syntax_error_with_line_and_column(tmp_path: Path) -> None:
    handler = tmp_path / "broken.ts"
    handler.write_text("export default async (context: Customer): Promise<Resp> => {\n  const x = [1, 2;\n};\n")
    done = appfn("invoke", handler, "-t", "customer.created", "--example", "--json")
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert (result["status"], result["error_kind"]) == ("failure", "load")
    assert result["error"] == 'the function failed to load: broken.ts:2:18: SyntaxError: Unexpected token, expected ","'


def test_invoke_shows_the_panel_for_a_js_file_and_exits_1_on_a_throw(tmp_path: Path) -> None:
    handler = tmp_path / "throws.js"
    handler.write_text(
        "export default async (context) => {\n  console.log('before');\n  throw new Error('no stock');\n};\n"
    )
    done = appfn("invoke", handler, "-t", "order.created", "--example")
    assert done.returncode == 1
    for label in ("Execution Status", "failure", "Console Logs", "before", "Errors", "Error: no stock"):
        assert label in done.stdout, label
    assert "throws.js:3" in done.stdout


@pytest.mark.parametrize("name", ["handler.rb", "handler"])
def test_invoke_refuses_a_file_of_no_known_language(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("x")
    done = appfn("invoke", tmp_path / name, "-t", "order.created", "--example")
    assert done.returncode == 2
    assert "a function file ends in .py (Python), .ts (TypeScript) or .js (JavaScript)" in " ".join(done.stderr.split())
