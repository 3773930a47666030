"""TypeScript and JavaScript functions in the sandboxed worker pool: results, the warm context
and what carries over in it, version isolation, load errors, and the sandbox around V8."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from appfn.runtime.limits import FunctionCode, Limits
from tests.runtime.conftest import RuntimeThread, descendants, make_context


def ts(body: str) -> str:
    return f"export default async (context: any): Promise<Resp> => {{\n{body}\n}};\n"


def test_a_typescript_handler_runs_in_a_worker(rt: RuntimeThread) -> None:
    source = ts(
        "const customer = context.payload.data as { id: number };\n"
        "console.log('hello', customer.id);\n"
        "return Resp.success().setData({ id: customer.id, store: context.merchant.id });"
    )
    result = rt.invoke(source, make_context({"id": 7}), filename="handler.ts")
    assert result.status == "success", result.error
    assert result.response == {
        "success": True, "data": {"id": 7, "store": 1305146709}, "error": None, "status": 200, "message": None,
    }  # fmt: skip
    assert result.console == ["hello 7"]


def test_javascript_and_plain_object_returns(rt: RuntimeThread) -> None:
    source = "export default async (context) => {\n  return { success: true, data: { n: 1 } };\n};\n"
    result = rt.invoke(source, filename="handler.js")
    assert result.ok and result.response["data"] == {"n": 1} and result.response["status"] == 200


def test_the_language_can_be_given_instead_of_a_file_name(rt: RuntimeThread) -> None:
    code = FunctionCode(ts("return Resp.success();"), language="ts")
    assert (code.filename, code.language, code.runtime) == ("handler.ts", "typescript", "js")
    assert FunctionCode(code.source, language="js").key != code.key  # the key includes the language
    result = rt.call(rt.runtime.invoke(code, make_context(), Limits()))
    assert result.ok, result.error


def test_an_error_and_a_throw_are_failures_with_the_users_lines(rt: RuntimeThread) -> None:
    error = rt.invoke(ts("return Resp.error().setMessage('Upstream timeout').setStatus(504);"), filename="e.ts")
    assert (error.status, error.error, error.response["status"]) == ("failure", "Upstream timeout", 504)
    thrown = rt.invoke(ts("const x: any = null;\nreturn x.boom;"), filename="t.ts")
    assert thrown.error_kind == "exception"
    assert thrown.error.startswith("TypeError: Cannot read properties of null (reading 'boom')")
    assert "t.ts:3" in thrown.error


def test_an_invalid_return_is_named(rt: RuntimeThread) -> None:
    result = rt.invoke(ts("return 'done';"), filename="r.ts")
    assert result.error_kind == "invalid_return"
    assert result.error.startswith("invalid return value: the handler returned str")


def test_a_syntax_error_fails_the_load_with_line_and_column(rt: RuntimeThread) -> None:
    result = rt.invoke(ts("const a = ;"), filename="broken.ts")
    assert (result.status, result.error_kind) == ("failure", "load")
    assert result.error == "the function failed to load: broken.ts:2:11: SyntaxError: Unexpected token"


def test_a_module_that_throws_while_loading_is_a_load_error(rt: RuntimeThread) -> None:
    source = "const table = JSON.parse('{');\n" + ts("return Resp.success();")
    result = rt.invoke(source, filename="top.ts")
    assert result.error_kind == "load"
    assert "SyntaxError" in result.error and "top.ts:1" in result.error


def test_warm_state_carries_over_within_a_version_never_across(rt: RuntimeThread) -> None:
    counter = (
        "let calls = 0;\n"
        "export default async (context: any): Promise<Resp> => {\n"
        "  calls += 1;\n"
        "  return Resp.success().setData({ calls });\n"
        "};\n"
    )
    first = rt.invoke(counter, filename="counter.ts")
    second = rt.invoke(counter, filename="counter.ts")
    assert second.response["data"]["calls"] == first.response["data"]["calls"] + 1
    other = rt.invoke(counter + "// version 2\n", filename="counter.ts")
    assert other.response["data"]["calls"] == 1
    as_js = rt.invoke(counter.replace(": any", "").replace(": Promise<Resp>", ""), filename="counter.js")
    assert as_js.response["data"]["calls"] == 1


def test_what_an_invocation_leaves_running_never_reaches_the_next(rt: RuntimeThread) -> None:
    source = ts(
        "if (context.payload.data.first) {\n"
        "  setInterval(() => console.log('tick from the first'), 1);\n"
        "  setTimeout(() => { while (true) {} }, 5);\n"
        "  (async () => { await null; await null; console.log('late line'); })();\n"
        "  return Resp.success();\n"
        "}\n"
        "await new Promise((r) => setTimeout(r, 30));\n"
        "console.log('second');\n"
        "return Resp.success();"
    )
    assert rt.invoke(source, make_context({"first": True}), filename="left.ts").ok
    second = rt.invoke(source, make_context({"first": False}), filename="left.ts")
    assert second.ok, second.error
    assert second.console == ["second"]


class _Recorder:
    def __init__(self) -> None:
        self.paths: list[str] = []

    def __enter__(self) -> _Recorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_fetch_made_after_the_answer_is_never_sent(rt: RuntimeThread) -> None:
    from appfn.runtime.egress import EgressClient, EgressPolicy

    # The detached chain calls fetch a few microtasks after the handler has answered: by then the
    # invocation is over, so the call never leaves the context.
    source = ts(
        "const url = context.settings.url;\n"
        "(async () => { for (let i = 0; i < 10; i++) await null; fetch(url + '/late'); })();\n"
        "return Resp.success();"
    )

    async def run(url: str) -> list:
        egress = EgressClient(EgressPolicy(allow=("127.0.0.1",)))
        try:
            fetcher = egress.fetcher()
            context = {**make_context(), "settings": {"url": url}}
            result = await rt.runtime.invoke(FunctionCode(source, "late.ts"), context, Limits(), fetch=fetcher.fetch)
            assert result.ok, result.error
            import asyncio

            await asyncio.sleep(0.2)
            return fetcher.calls
        finally:
            await egress.aclose()

    with _Recorder() as upstream:
        calls = rt.call(run(upstream.url))
    assert "/late" not in upstream.paths
    assert all(not c["url"].endswith("/late") for c in calls)


def _interpreter_pid(rt: RuntimeThread, filename: str) -> int:
    worker = next(w for w in rt.runtime.idle_workers() if w.code and w.code.filename == filename)
    assert worker.pid is not None
    tree = [worker.pid, *descendants(worker.pid)]
    return max(tree, key=lambda pid: len(list(Path(f"/proc/{pid}/task").iterdir())))


def test_every_thread_of_a_js_worker_is_under_the_seccomp_filter(rt: RuntimeThread) -> None:
    assert rt.invoke(ts("return Resp.success();"), filename="threads.ts").ok
    pid = _interpreter_pid(rt, "threads.ts")
    tasks = list(Path(f"/proc/{pid}/task").iterdir())
    assert len(tasks) >= 2  # the interpreter (mini-racer's loop runs on it) and the isolate's thread
    for task in tasks:
        status = dict(line.split(":\t", 1) for line in (task / "status").read_text().splitlines() if ":\t" in line)
        assert status["Seccomp"].strip() == "2", (task.name, status["Name"])
        assert status["NoNewPrivs"].strip() == "1"


def test_a_js_worker_bounds_its_data_not_its_address_space(rt: RuntimeThread) -> None:
    assert rt.invoke(ts("return Resp.success();"), filename="limits.ts").ok
    pid = _interpreter_pid(rt, "limits.ts")
    limits = {line[:26].strip(): line[26:].split() for line in Path(f"/proc/{pid}/limits").read_text().splitlines()}
    assert limits["Max address space"][0] == "unlimited"  # V8 reserves ~1.4 TB up front
    data_limit = int(limits["Max data size"][0])
    status = Path(f"/proc/{pid}/status").read_text()
    vm_data = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmData:"))
    assert 0 < data_limit - vm_data <= 256 * 2**20  # room for memory_mb (256 MB), not more
    assert limits["Max open files"][0] == "64"


@pytest.fixture(scope="module")
def prt() -> Iterator[RuntimeThread]:
    runtime = RuntimeThread(sandbox="process", spare_workers=0)
    yield runtime
    runtime.close()


def test_typescript_runs_in_process_mode_too(prt: RuntimeThread) -> None:
    result = prt.invoke(ts("return Resp.success().setData({ ok: typeof fetch === 'function' });"), filename="p.ts")
    assert result.ok and result.response["data"] == {"ok": True}, result.error


def test_a_js_spare_makes_the_first_invocation_of_a_new_version_cheap(rt: RuntimeThread) -> None:
    import time

    deadline = time.monotonic() + 20
    while not rt.runtime.spares("js") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rt.runtime.spares("js") == 1
    result = rt.invoke(ts("return Resp.success();") + "// cold\n", filename="cold.ts")
    assert result.ok and 0 < result.startup_ms < 250  # ~5 ms on the build machine; CI machines are slower
