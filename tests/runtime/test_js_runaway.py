"""Runaway TypeScript through the sandboxed JS worker: each ends at its deadline or limit with a
clear error, the pool keeps serving (the same version and others), and nothing burns CPU after."""

from __future__ import annotations

import time

import pytest

from tests.runtime.conftest import RuntimeThread

NEXT = "export default async (context: any): Promise<Resp> => {\n  return Resp.success().setData({ next: 'ok' });\n};\n"


def ts(body: str) -> str:
    return f"export default async (context: any): Promise<Resp> => {{\n{body}\n}};\n"


def assert_still_serves(rt: RuntimeThread, source: str) -> None:
    again = rt.invoke(NEXT, filename="next.ts")
    assert again.ok, again.error
    # The same version too: its worker was kept (a new context) or replaced.
    same = rt.invoke(source, filename="runaway.ts", timeout_s=0.5)
    assert same.error_kind in ("timeout", "memory"), same.to_dict()


DEADLINE_S = 0.5

RUNAWAYS = {
    "while (true)": "while (true) {}",
    "loop after await": "await null;\nwhile (true) {}",
    "promise spin": "for (;;) { await null; }",
    "microtask spin": "const spin = () => queueMicrotask(spin);\nspin();\nawait new Promise(() => {});",
    "setTimeout loop": "const tick = () => setTimeout(tick, 0);\ntick();\nawait new Promise(() => {});",
    "spin inside a timer": "setTimeout(() => { while (true) {} }, 1);\nawait new Promise(() => {});",
}


@pytest.mark.parametrize("body", RUNAWAYS.values(), ids=RUNAWAYS.keys())
def test_runaway_code_ends_at_the_deadline(rt: RuntimeThread, body: str) -> None:
    source = ts(f"console.log('started');\n{body}")
    started = time.monotonic()
    result = rt.invoke(source, filename="runaway.ts", timeout_s=DEADLINE_S)
    elapsed = time.monotonic() - started
    assert (result.status, result.error_kind) == ("failure", "timeout"), result.to_dict()
    assert result.error == f"timed out after {DEADLINE_S:g} s"
    assert result.console == ["started"] or "spin" in body or "await" in body
    assert elapsed < DEADLINE_S + 0.9  # the engine stops it, not the platform's SIGKILL a second later
    assert rt.idle_cpu() < 0.05
    assert_still_serves(rt, source)
    assert rt.idle_cpu() < 0.05


BOMBS = {
    "heap": "const keep: any[] = [];\nwhile (true) keep.push(new Array(1e5).fill(1.5));",
    "heap after await": "await null;\nconst keep: any[] = [];\nwhile (true) keep.push({ a: Math.random(), b: [1] });",
    "typed arrays": "const keep: any[] = [];\nwhile (true) keep.push(new Uint8Array(1e7).fill(1));",
    "string doubling": (
        "let s = 'x'.repeat(1 << 20);\nconst keep: string[] = [];\n"
        "while (true) { keep.push(s + keep.length); s += 'y'; }"
    ),
}


@pytest.mark.parametrize("body", BOMBS.values(), ids=BOMBS.keys())
def test_memory_bombs_end_at_the_heap_limit(rt: RuntimeThread, body: str) -> None:
    source = ts(body)
    started = time.monotonic()
    result = rt.invoke(source, filename="runaway.ts", timeout_s=5, heap_mb=32)
    assert time.monotonic() - started < 3
    assert (result.status, result.error_kind) == ("failure", "memory"), result.to_dict()
    assert result.error == "out of memory: the function went over its 32 MB limit"
    assert rt.idle_cpu() < 0.05
    again = rt.invoke(NEXT, filename="next.ts")
    assert again.ok, again.error


def test_a_heap_limit_above_the_worker_limit_ends_in_a_memory_error_too(rt: RuntimeThread) -> None:
    # V8 may grow past the worker's memory limit (RLIMIT_DATA) here: V8 aborts the process, the
    # platform reads why from its last words and says so; the pool replaces the worker.
    source = ts("const keep: any[] = [];\nwhile (true) keep.push(new Array(1e5).fill(1.5));")
    result = rt.invoke(source, filename="bomb.ts", timeout_s=10, heap_mb=1024, memory_mb=96)
    assert (result.status, result.error_kind) == ("failure", "memory"), result.to_dict()
    assert "out of memory" in result.error
    assert rt.invoke(NEXT, filename="next.ts").ok


def test_a_runaway_keeps_its_worker_and_gets_a_fresh_context(rt: RuntimeThread) -> None:
    counter = ts(
        "(globalThis as any).n = ((globalThis as any).n ?? 0) + 1;\n"
        "if (context.payload.data.spin) { while (true) {} }\n"
        "return Resp.success().setData({ n: (globalThis as any).n });"
    )
    first = rt.invoke(counter, filename="counter.ts")
    second = rt.invoke(counter, filename="counter.ts")
    assert (first.response["data"]["n"], second.response["data"]["n"]) == (1, 2)  # warm: state carries over
    from tests.runtime.conftest import make_context

    spun = rt.invoke(counter, make_context({"spin": True}), filename="counter.ts", timeout_s=0.4)
    assert spun.error_kind == "timeout"
    after = rt.invoke(counter, filename="counter.ts")
    assert after.ok and after.response["data"]["n"] == 1  # the context was thrown away with its state


def test_js_stuck_in_a_builtin_past_the_deadline_gets_its_worker_replaced(rt: RuntimeThread) -> None:
    # V8 does not interrupt Array.prototype.fill: the context cannot close at the deadline, so the
    # worker asks to be replaced (and is killed), rather than burning a core for seconds.
    source = ts("const a = new Array(1.2e8).fill(0);\nreturn Resp.success();")
    started = time.monotonic()
    result = rt.invoke(source, filename="fill.ts", timeout_s=0.3, heap_mb=2048, memory_mb=4096)
    assert time.monotonic() - started < 2.5
    assert result.error_kind in ("timeout", "memory"), result.to_dict()
    assert rt.idle_cpu() < 0.05
    assert rt.invoke(NEXT, filename="next.ts").ok
