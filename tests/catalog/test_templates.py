"""Templates per trigger and language, and the generated TypeScript declarations, checked with a
real TypeScript compiler (npm typescript@5.9.3: from js/node_modules after ``npm --prefix js ci``,
else installed into a temp directory; skipped only when npm cannot reach its registry, never
when CI=true)."""

from __future__ import annotations

import ast
import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from appfn.catalog import load_catalog
from appfn.catalog.schema import payload_models
from appfn.catalog.templates import LAST_LINE, context_type_name, first_line, template
from appfn.catalog.typescript import FILENAME, context_types, pascal, render, tsconfig
from appfn.errors import HandlerLoadError
from appfn.runtime.checks import TemplateMismatchError, check_function

ROOT = Path(__file__).resolve().parents[2]
TS_VERSION = "5.9.3"
TRIGGERS = [t.name for t in load_catalog()]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the TypeScript compiler is needed in CI: {reason}")
    pytest.skip(f"no TypeScript compiler: {reason}")


@functools.cache
def _compiler() -> tuple[str | None, str]:
    node = shutil.which("node")
    if node is None:
        return None, "node is not installed"
    local = ROOT / "js" / "node_modules" / "typescript"
    if (local / "package.json").exists() and json.loads((local / "package.json").read_text())["version"] == TS_VERSION:
        return str(local / "bin" / "tsc"), ""
    target = Path(tempfile.gettempdir()) / f"appfn-typescript-{TS_VERSION}"
    tsc = target / "node_modules" / "typescript" / "bin" / "tsc"
    if not tsc.exists():
        npm = shutil.which("npm")
        if npm is None:
            return None, "npm is not installed"
        done = subprocess.run(
            [npm, "install", "--prefix", str(target), "--no-save", "--ignore-scripts", "--no-audit", "--no-fund",
             f"typescript@{TS_VERSION}"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not tsc.exists():
            return None, f"npm install typescript@{TS_VERSION} failed (registry unreachable?): {done.stderr[-500:]}"
    return str(tsc), ""


def typescript_compiler() -> list[str]:
    """``[node, tsc]`` for typescript@5.9.3, or skip (fail in CI) when it cannot be had."""
    tsc, reason = _compiler()
    if tsc is None:
        _unavailable(reason)
    return [str(shutil.which("node")), str(tsc)]


def tsc_check(folder: Path) -> subprocess.CompletedProcess[str]:
    command = [*typescript_compiler(), "--noEmit", "-p", str(folder)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, cwd=folder)


# ------------------------------------------------------------------------------------ templates


@pytest.mark.parametrize("name", TRIGGERS)
def test_every_template_passes_the_save_check_of_its_language(name: str) -> None:
    for lang, filename in (("ts", "handler.ts"), ("js", "handler.js"), ("py", "handler.py")):
        source = template(name, lang)
        check_function(source, filename, trigger=name)
        if lang != "py":
            lines = source.rstrip("\n").split("\n")
            assert lines[0] == first_line(name, lang) and lines[-1] == LAST_LINE
        else:
            ast.parse(source)


def test_the_first_line_is_the_originals_template_form() -> None:
    assert first_line("customer.created", "ts") == "export default async (context: Customer): Promise<Resp> => {"
    assert first_line("shipment.creating", "ts") == (
        "export default async (context: Shipments): Promise<Shipment> => {"
    )
    assert first_line("shipment.cancelling", "ts").endswith("Promise<Resp> => {")
    assert first_line("customer.created", "js") == "export default async (context) => {"


def test_triggers_without_a_catalog_context_type_get_a_name() -> None:
    assert context_type_name("product.created") == "Product"
    assert context_type_name("product.list.viewed") == "ProductListViewedEvent"
    assert context_type_name("signed.up") == "SignedUpEvent"
    assert context_type_name("communication.sms.send") == "CommunicationEvent"


def test_a_wrong_first_or_last_line_names_the_expected_lines() -> None:
    body = "  return Resp.success();\n"
    with pytest.raises(TemplateMismatchError) as first:
        check_function(f"export default async (context: Order): Promise<Resp> => {{\n{body}}};\n", "h.ts",
                       trigger="customer.created")  # fmt: skip
    assert first.value.line == 1
    assert first.value.expected_first == "export default async (context: Customer): Promise<Resp> => {"
    assert "expected 'export default async (context: Customer): Promise<Resp> => {'" in str(first.value)
    with pytest.raises(TemplateMismatchError) as last:
        check_function(f"{first_line('customer.created', 'ts')}\n{body}}}\n\n", "h.ts", trigger="customer.created")
    assert last.value.line == 3 and last.value.expected_last == "};"
    assert "the last line must be the template's closing line '};', got '}'" in str(last.value)


def test_a_syntax_error_in_the_body_fails_the_save_with_line_and_column() -> None:
    source = f"{first_line('customer.created', 'ts')}\n  const total = 1 +;\n  return Resp.success();\n}};\n"
    with pytest.raises(HandlerLoadError) as error:
        check_function(source, "handler.ts", trigger="customer.created")
    assert error.value.line == 2
    assert str(error.value) == "handler.ts:2:20: SyntaxError: Unexpected token"


def test_code_pasted_from_the_original_may_name_its_own_type_where_the_catalog_has_none() -> None:
    source = "export default async (context: ProductCreated): Promise<Resp> => {\n  return Resp.success();\n};\n"
    check_function(source, "handler.ts", trigger="product.created")
    with pytest.raises(TemplateMismatchError):
        check_function(source, "handler.ts", trigger="customer.created")


def test_python_is_checked_by_the_python_rules() -> None:
    with pytest.raises(HandlerLoadError, match="no function named 'handler'"):
        check_function("def main(context):\n    pass\n", "handler.py")
    with pytest.raises(HandlerLoadError, match=r"line 1, column"):
        check_function("def handler(context:\n", language="python")
    with pytest.raises(ValueError, match="needs the trigger"):
        check_function(template("customer.created", "ts"), "handler.ts")


# --------------------------------------------------------------------------------- declarations


def test_the_declarations_come_from_the_catalog_schemas() -> None:
    text = render()
    for name in payload_models()["$defs"]:
        assert f" {pascal(name)} " in text, name
    for name, triggers in context_types().items():
        assert f"interface {name} extends AppFunctionContext<" in text
        assert all(json.dumps(t) in text for t in triggers)
    statuses = load_catalog().raw["builders"]["ShipmentStatusEnum"]
    for status in statuses:
        assert f'  {status} = "{status.lower()}",' in text
    assert "declare const Resp: RespConstructor;" in text and "declare const Shipment: ShipmentConstructor;" in text
    assert "fetch" not in text.split("AppFunctionResponse", 1)[1].split("declare namespace Data")[0]  # from DOM


def test_a_subset_holds_only_what_its_context_types_need() -> None:
    customer = render(["Customer"])
    assert "interface Customer extends" in customer and "interface Order extends" not in customer
    assert "interface OtpRequest" in customer and "interface Invoice " not in customer
    with pytest.raises(ValueError, match="unknown context type"):
        render(["Nope"])


def test_every_template_and_example_type_checks_with_the_typescript_compiler(tmp_path: Path) -> None:
    (tmp_path / FILENAME).write_text(render(), encoding="utf-8")
    (tmp_path / "tsconfig.json").write_text(json.dumps(tsconfig()), encoding="utf-8")
    for name in TRIGGERS:
        (tmp_path / f"{name.replace('.', '_')}.ts").write_text(template(name, "ts"), encoding="utf-8")
    for example in (ROOT / "examples").glob("*.ts"):
        shutil.copy(example, tmp_path / f"example_{example.name}")
    done = tsc_check(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compiler_really_checks_against_the_declarations(tmp_path: Path) -> None:
    (tmp_path / FILENAME).write_text(render(["Customer"]), encoding="utf-8")
    (tmp_path / "tsconfig.json").write_text(json.dumps(tsconfig()), encoding="utf-8")
    (tmp_path / "bad.ts").write_text(
        "export default async (context: Customer): Promise<Resp> => {\n"
        "  const phone: number = context.payload.data.emial;\n"
        "  return Resp.success().setStatus('ok');\n"
        "};\n",
        encoding="utf-8",
    )
    done = tsc_check(tmp_path)
    assert done.returncode != 0
    assert "bad.ts(2,46): error TS2551: Property 'emial' does not exist" in done.stdout
    assert "bad.ts(3,35): error TS2345" in done.stdout
