"""The warm path of the engine: one context per function version, reused by its invocations."""

from __future__ import annotations

import time

import pytest

from appfn.errors import HandlerLoadError
from appfn.runtime.js import transpile

from .conftest import FakeHost, make_context

COUNTER = """\
let calls = 0;
console.log('module loaded');
export default async (context: any): Promise<Resp> => {
  calls += 1;
  if (context.payload.data.spin) { while (true) {} }
  if (context.payload.data.bomb) { const keep: any[] = []; while (true) keep.push(new Array(1e5).fill(1)); }
  return Resp.success().setData({ calls, random: crypto.randomUUID() });
};
"""


def load(js, source: str, **kw):
    return js.call(js.engine.load(transpile(source, "counter.ts"), timeout_s=kw.pop("timeout_s", 2), **kw))


def call(js, fn, data=None, **kw):
    kw.setdefault("timeout_s", 2)
    return js.call(fn.invoke(make_context(data or {}), fetch=kw.pop("fetch", FakeHost()), **kw))


def test_the_module_loads_once_and_its_state_carries_over(js) -> None:
    fn, console = load(js, COUNTER)
    assert console == ["module loaded"]
    first, second = call(js, fn), call(js, fn)
    assert (first["response"]["data"]["calls"], second["response"]["data"]["calls"]) == (1, 2)
    assert first["response"]["data"]["random"] != second["response"]["data"]["random"]  # one stream, not reseeded
    assert first["console"] == second["console"] == []
    assert fn.contexts == 1
    fn.dispose()


@pytest.mark.parametrize(("data", "kind"), [({"spin": True}, "timeout"), ({"bomb": True}, "memory")])
def test_a_timeout_or_out_of_memory_throws_the_context_away(js, data: dict, kind: str) -> None:
    fn, _ = load(js, COUNTER)
    call(js, fn)
    failed = call(js, fn, data, timeout_s=0.4, heap_mb=32)
    assert failed["error_kind"] == kind
    assert not fn.loaded
    after = call(js, fn)  # a new context: the module runs again, its console comes with this invocation
    assert after["response"]["data"]["calls"] == 1
    assert after["console"] == ["module loaded"]
    assert fn.contexts == 2
    fn.dispose()


def test_an_exception_keeps_the_context(js) -> None:
    fn, _ = load(js, "let n = 0;\nexport default async () => { n++; if (n === 1) throw new Error('once'); "
                     "return Resp.success().setData({ n }); };\n")  # fmt: skip
    assert call(js, fn)["error"].startswith("Error: once")
    assert call(js, fn)["response"]["data"] == {"n": 2}
    fn.dispose()


def test_timers_and_host_calls_of_a_finished_invocation_never_reach_the_next(js) -> None:
    source = """\
export default async (context: any): Promise<Resp> => {
  if (context.payload.data.first) {
    setInterval(() => console.log('tick'), 1);
    fetch('https://late.example/never-awaited');
    return Resp.success();
  }
  await new Promise((r) => setTimeout(r, 30));
  return Resp.success();
};
"""
    fn, _ = load(js, source)
    host = FakeHost(delay_s=0.05)
    call(js, fn, {"first": True}, fetch=host)
    second = call(js, fn, {}, fetch=host)
    assert second["error"] is None and second["console"] == []
    # The host had started that fetch; the answer cancelled it, and its reply reached no one.
    assert [r["url"] for r in host.requests] == ["https://late.example/never-awaited"] and host.cancelled == 1
    fn.dispose()


def test_nothing_can_schedule_work_outside_an_invocation(js) -> None:
    out = js.body("return Resp.success().setData({ waitAsync: typeof Atomics.waitAsync });")
    assert out["response"]["data"] == {"waitAsync": "undefined"}


def test_a_module_that_throws_or_exports_nothing_does_not_load(js) -> None:
    with pytest.raises(HandlerLoadError, match=r"counter\.ts:2"):
        load(js, "const a = 1;\nthrow new Error('at load');\nexport default async () => Resp.success();\n")
    with pytest.raises(HandlerLoadError, match="no default export function"):
        load(js, "export const handler = async () => Resp.success();\n")


def test_a_module_whose_top_level_never_ends_does_not_load(js) -> None:
    started = time.perf_counter()
    with pytest.raises(HandlerLoadError, match=r"top level did not finish within 0\.3 s"):
        load(js, "while (true) {}\nexport default async () => Resp.success();\n", timeout_s=0.3)
    assert time.perf_counter() - started < 1.0


def test_per_invocation_caps_start_afresh_each_invocation(js) -> None:
    source = (
        "export default async () => {\n"
        "  for (let i = 0; i < 60; i++) await fetch('https://x.example/' + i);\n"
        "  console.count('run');\n"
        "  return Resp.success();\n"
        "};\n"
    )
    fn, _ = load(js, source)
    for _ in range(3):  # 180 fetches in all, 60 per invocation: under the cap of 100 each time
        out = call(js, fn, fetch=FakeHost())
        assert out["error"] is None, out
        assert out["console"] == ["run: 1"]
    fn.dispose()
