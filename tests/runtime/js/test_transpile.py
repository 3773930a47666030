"""TypeScript → JS with the vendored sucrase: types go, lines stay, syntax errors name line and column."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from importlib import resources

import pytest

from appfn.errors import HandlerLoadError
from appfn.runtime.js import split_source_url, transpile, transpile_async

TS_HANDLER = """\
import type { Customer } from "./types";

interface CrmRecord<T = string> {
  external_id: T;
  phone?: string;
}

enum Channel { Sms = "sms", Email = "email" }

class Mapper<T extends { id: number }> {
  constructor(private readonly prefix: string) {}
  map(item: T): CrmRecord<number> {
    return { external_id: item.id, phone: this.prefix };
  }
}

export default async (context: Customer): Promise<Resp> => {
  const customer = context.payload.data as { id: number; mobile?: number };
  const record = new Mapper<typeof customer>("+966").map(customer);
  const city = (context.payload.data as any)?.city?.name ?? "unknown";
  const first = <T,>(xs: T[]): T | undefined => xs[0];
  return Resp.success().setData({ ...record, city, channel: Channel.Email, first: first([7, 8])! });
};
"""


def test_typescript_features_are_stripped_and_the_handler_runs(js) -> None:
    out = js.run(TS_HANDLER, {"payload": {"data": {"id": 7}}})
    assert out["error"] is None, out
    assert out["response"]["data"] == {
        "external_id": 7, "phone": "+966", "city": "unknown", "channel": "email", "first": 7,
    }  # fmt: skip


def test_line_numbers_are_preserved() -> None:
    code, filename = split_source_url(transpile(TS_HANDLER, "customer.ts"))
    assert filename == "customer.ts"
    source_lines = TS_HANDLER.split("\n")
    out_lines = code.split("\n")
    assert len(out_lines) == len(source_lines)
    target = next(i for i, line in enumerate(source_lines) if "new Mapper" in line)
    assert "new Mapper" in out_lines[target]
    # ES syntax is left for V8 (disableESTransforms): ?. and ?? survive as written.
    assert "?.city?.name ??" in code


def test_plain_javascript_passes_through() -> None:
    code, _ = split_source_url(transpile("export default async (context) => ({ success: true, data: {} });\n"))
    assert "exports. default = async (context) =>" in code or "exports.default = async (context) =>" in code


def test_sucrase_syntax_error_names_line_and_column() -> None:
    source = "export default async (context: any) => {\n  const a = ;\n};\n"
    with pytest.raises(HandlerLoadError) as info:
        transpile(source, "handler.ts")
    assert info.value.line == 2
    # 1-based column of the ';' that sucrase did not expect
    assert str(info.value) == "handler.ts:2:13: SyntaxError: Unexpected token"


def test_v8_only_syntax_error_is_found_at_transpile_time_with_its_position() -> None:
    # The docs' own sample declares `const response` twice: sucrase accepts it, V8 does not.
    source = (
        "export default async (context: any): Promise<Resp> => {\n"
        "  const response = await fetch('https://crm.example');\n"
        "  const response: number = 2;\n"
        "  return Resp.success();\n"
        "};\n"
    )
    with pytest.raises(HandlerLoadError) as info:
        transpile(source, "handler.ts")
    assert info.value.line == 3
    assert str(info.value) == ("handler.ts:3:9: SyntaxError: Identifier 'response' has already been declared")


def test_v8_error_column_is_mapped_back_through_removed_types() -> None:
    source = "export default async (c: any) => {\n  let q: string = 'a'; const r = /(/;\n};\n"
    with pytest.raises(HandlerLoadError) as info:
        transpile(source, "handler.ts")
    # In the source the regex starts at column 34; in sucrase's output (": string" gone) at 26.
    assert str(info.value).startswith("handler.ts:2:34: SyntaxError: Invalid regular expression")


def test_results_and_failures_are_cached() -> None:
    source = "export default async () => Resp.success(); // cache-probe\n"
    first = transpile(source, "c.ts")
    start = time.perf_counter()
    for _ in range(200):
        assert transpile(source, "c.ts") is first
    assert time.perf_counter() - start < 0.2
    broken = "export default async () => {\n  return (;\n};\n"
    errors = []
    for _ in range(2):
        with pytest.raises(HandlerLoadError) as info:
            transpile(broken, "c.ts")
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_filename_is_sanitised_for_the_source_url() -> None:
    _, filename = split_source_url(transpile("export default async () => 1;\n", "my handler (1).ts"))
    assert filename == "my_handler__1_.ts"
    assert split_source_url("exports.default = () => 1;") == ("exports.default = () => 1;", "handler.js")


def test_transpile_async_runs_off_the_loop() -> None:
    code = asyncio.run(transpile_async("export default async (c: {a: number}) => c.a;\n", "a.ts"))
    assert code.endswith("//# sourceURL=a.ts")


def test_oversized_source_is_refused() -> None:
    with pytest.raises(HandlerLoadError, match="over 1,000,000 characters"):
        transpile("//" + "x" * 1_000_001)


def test_vendored_assets_match_their_manifest() -> None:
    vendor = resources.files("appfn.runtime.js").joinpath("vendor")
    manifest = json.loads(vendor.joinpath("MANIFEST.json").read_text())
    assert manifest["packages"]["sucrase"] == "3.35.1"
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256(vendor.joinpath(name).read_bytes()).hexdigest() == digest, name
