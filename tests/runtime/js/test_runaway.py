"""Runaway code ends at the deadline, leaves no thread burning CPU, and the next run is normal."""

from __future__ import annotations

import asyncio
import time

import pytest

from appfn.runtime.js import transpile

from .conftest import FakeHost, make_context, wire_response

DEADLINE_S = 0.4
SLACK_S = 0.3


def cpu_burned_while_idle(seconds: float = 0.3) -> float:
    time.sleep(0.05)  # let the context finish closing on its helper thread
    start = time.process_time()
    time.sleep(seconds)
    return time.process_time() - start


def assert_engine_still_serves(js) -> None:
    out = js.body("await new Promise((r) => setTimeout(r, 1));\nreturn Resp.success().setData({ next: 'ok' });")
    assert out["response"] == {"success": True, "data": {"next": "ok"}, "error": None, "status": 200, "message": None}


RUNAWAYS = {
    "sync loop": "while (true) {}",
    "loop after await": "await null;\nwhile (true) {}",
    "microtask spin": "const spin = () => queueMicrotask(spin);\nspin();\nawait new Promise(() => {});",
    "promise spin": "for (;;) { await null; }",
    "timer loop": "const tick = () => setTimeout(tick, 0);\ntick();\nawait new Promise(() => {});",
    "spin inside a timer": "setTimeout(() => { while (true) {} }, 1);\nawait new Promise(() => {});",
    "fetch then spin": "await null;\nfetch('https://x.example');\nwhile (true) {}",
    "fetch answered into a spin": "fetch('https://x.example');\nconst t0 = Date.now();\nwhile (true) {}",
    "never settles": "await new Promise(() => {});",
}


@pytest.mark.parametrize("body", RUNAWAYS.values(), ids=RUNAWAYS.keys())
def test_runaway_ends_at_the_deadline(js, body: str) -> None:
    start = time.perf_counter()
    out = js.body(f"console.log('started');\n{body}", timeout_s=DEADLINE_S, fetch=FakeHost())
    elapsed = time.perf_counter() - start
    assert out["error_kind"] == "timeout", out
    assert out["error"] == f"timed out: the function did not finish within {DEADLINE_S:g} s"
    assert out["response"] is None
    assert out["console"] == ["started"]
    assert DEADLINE_S <= elapsed < DEADLINE_S + SLACK_S
    assert cpu_burned_while_idle() < 0.05
    assert js.engine.closing == 0
    assert_engine_still_serves(js)


BOMBS = {
    "heap": "const keep: any[] = [];\nwhile (true) keep.push(new Array(1e5).fill(1.5));",
    "heap after await": "await null;\nconst keep: any[] = [];\nwhile (true) keep.push({ a: Math.random(), b: [1] });",
    "typed arrays": "const keep: any[] = [];\nwhile (true) keep.push(new Uint8Array(1e7).fill(1));",
    "caught typed-array error": (
        "const keep: any[] = [];\n"
        "try { while (true) keep.push(new Float64Array(1e6)); } catch {}\n"
        "return Resp.success();"
    ),
    "buffer slices": "const big = new Uint8Array(2e7);\nconst keep: any[] = [];\nwhile (true) keep.push(big.slice());",
    "copies by toReversed": "const big = new Uint8Array(2e7);\nconst k = [];\nwhile (true) k.push(big.toReversed());",
    "base64 decoding": (
        "const b64 = new Uint8Array(3e6).toBase64();\nconst keep: any[] = [];\n"
        "while (true) keep.push(Uint8Array.fromBase64(b64));"
    ),
    "string doubling": (
        "let s = 'x'.repeat(1 << 20);\nconst keep: string[] = [];\n"
        "while (true) { keep.push(s + keep.length); s += 'y'; }"
    ),
}


@pytest.mark.parametrize("body", BOMBS.values(), ids=BOMBS.keys())
def test_memory_bomb_is_a_memory_error(js, body: str) -> None:
    start = time.perf_counter()
    out = js.body(body, timeout_s=3.0, heap_mb=32)
    elapsed = time.perf_counter() - start
    assert out["error_kind"] == "memory", out
    assert out["error"] == "out of memory: the function went over its 32 MB limit"
    assert elapsed < 2.0
    assert cpu_burned_while_idle() < 0.05
    assert_engine_still_serves(js)


def test_binary_data_that_is_released_does_not_count(js) -> None:
    out = js.body(
        "let total = 0;\n"
        "for (let i = 0; i < 40; i++) {\n"
        "  total += new Uint8Array(4e6).length;\n"
        "  await new Promise((r) => setTimeout(r, 1));\n"
        "}\n"
        "return Resp.success().setData({ total });",
        timeout_s=5.0,
        heap_mb=32,
    )
    # 160 MB allocated in all, never more than a few MB alive at once.
    assert out["error"] is None, out
    assert out["response"]["data"] == {"total": 160_000_000}


def test_work_left_running_after_the_answer_is_stopped(js) -> None:
    out = js.body("setTimeout(() => { while (true) {} }, 5);\nreturn Resp.success();")
    assert out["error"] is None
    assert cpu_burned_while_idle() < 0.05
    assert_engine_still_serves(js)


def test_concurrent_invocations_are_isolated_and_a_runaway_does_not_stall_the_others(js) -> None:
    spin = transpile("export default async () => { await null; while (true) {} };\n")
    work = transpile(
        "export default async (context: any) => {\n"
        "  (globalThis as any).mine = context.payload.data.n;\n"
        "  const r = await fetch('https://a.example/' + context.payload.data.n);\n"
        "  await new Promise((res) => setTimeout(res, 20));\n"
        "  return Resp.success().setData({ n: (globalThis as any).mine, url: (await r.json()).url });\n"
        "};\n"
    )
    host = FakeHost(lambda req: wire_response({"url": req["url"]}), delay_s=0.05)

    async def timed(code: str, context: dict) -> tuple[dict, float]:
        start = time.perf_counter()
        out = await js.engine.invoke(code, context, fetch=host, timeout_s=1.0)
        return out, time.perf_counter() - start

    async def all_at_once() -> list[tuple[dict, float]]:
        runs = [timed(spin, make_context())]
        runs += [timed(work, make_context({"n": i})) for i in range(6)]
        return await asyncio.gather(*runs)

    results = js.call(all_at_once())
    assert results[0][0]["error_kind"] == "timeout"
    for i, (out, elapsed) in enumerate(results[1:]):
        assert out["error"] is None, out
        assert out["response"]["data"] == {"n": i, "url": f"https://a.example/{i}"}
        assert elapsed < 0.5  # the spinning isolate next door did not hold them up
    assert cpu_burned_while_idle() < 0.05
