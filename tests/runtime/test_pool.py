"""The warm pool: results, reuse within a version, isolation across versions, shrinking."""

from __future__ import annotations

import os
import time

from appfn.runtime.limits import FunctionCode, Limits
from tests.runtime.conftest import RuntimeThread, make_context

OK = """
from appfn import Resp
def handler(context):
    return Resp.success().set_data({"id": context.payload.data.get("id"), "store": context.merchant.id})
"""

COUNTER = """
from appfn import Resp
calls = 0
def handler(context):
    global calls
    calls += 1
    return Resp.success().set_data({"calls": calls, "pid": __import__("os").getpid()})
"""


def test_a_plain_handler_returns_its_response(rt: RuntimeThread) -> None:
    result = rt.invoke(OK, make_context({"id": 7}))
    assert result.status == "success", result.error
    assert result.response == {
        "success": True,
        "data": {"id": 7, "store": 1305146709},
        "error": None,
        "status": 200,
        "message": None,
    }
    assert result.duration_ms > 0


def test_async_handlers_and_plain_dict_returns(rt: RuntimeThread) -> None:
    source = "async def handler(context):\n    return {'success': True, 'data': {'n': 1}}\n"
    result = rt.invoke(source)
    assert result.ok and result.response["data"] == {"n": 1} and result.response["status"] == 200


def test_a_version_reuses_its_warm_worker(rt: RuntimeThread) -> None:
    first = rt.invoke(COUNTER)
    second = rt.invoke(COUNTER)
    assert first.ok and second.ok
    assert second.response["data"]["calls"] == first.response["data"]["calls"] + 1


def test_two_versions_never_share_a_process(rt: RuntimeThread) -> None:
    v1 = rt.invoke(COUNTER)
    v2 = rt.invoke(COUNTER + "\n# version 2\n")
    assert v2.response["data"]["calls"] == 1
    assert v1.response["data"]["pid"] != v2.response["data"]["pid"] or rt.runtime.sandbox.mode == "bwrap"


def test_files_written_by_one_function_are_invisible_to_another(rt: RuntimeThread) -> None:
    writer = (
        "def handler(context):\n"
        "    open('/tmp/secret.txt', 'w').write('tenant A')\n"
        "    return {'success': True}\n"
    )
    reader = (
        "import os\n"
        "def handler(context):\n"
        "    return {'success': True, 'data': {'seen': os.path.exists('/tmp/secret.txt')}}\n"
    )
    assert rt.invoke(writer).ok
    result = rt.invoke(reader)
    assert result.ok and result.response["data"] == {"seen": False}


def test_idle_workers_are_stopped_after_the_ttl() -> None:
    runtime = RuntimeThread(idle_ttl_s=0.2, spare_workers=0)
    try:
        assert runtime.invoke(OK).ok
        assert runtime.runtime.worker_count == 1
        pids = [w.pid for w in runtime.runtime.idle_workers()]
        deadline = time.monotonic() + 5
        while runtime.runtime.worker_count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runtime.runtime.worker_count == 0
        time.sleep(0.2)
        assert all(not _alive(pid) for pid in pids)
    finally:
        runtime.close()


def test_the_global_cap_evicts_the_least_recently_used_idle_worker() -> None:
    runtime = RuntimeThread(max_workers=2, spare_workers=0)
    try:
        for i in range(4):
            result = runtime.invoke(OK + f"\n# function {i}\n")
            assert result.ok, result.error
            assert runtime.runtime.worker_count <= 2
    finally:
        runtime.close()


def test_warm_starts_a_worker_before_the_first_invocation(rt: RuntimeThread) -> None:
    code = FunctionCode(OK + "\n# warmed\n")
    rt.call(rt.runtime.warm(code, Limits()))
    started = time.monotonic()
    result = rt.call(rt.runtime.invoke(code, make_context(), Limits()))
    assert result.ok and (time.monotonic() - started) < 1.0


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_spare_is_refilled_after_every_cold_start() -> None:
    runtime = RuntimeThread(spare_workers=1)
    try:
        for i in range(4):
            deadline = time.monotonic() + 10
            while not runtime.runtime.spares("python") and time.monotonic() < deadline:
                time.sleep(0.01)
            assert runtime.runtime.spares("python"), f"no spare worker before cold start {i}"
            result = runtime.invoke(OK + f"\n# cold {i}\n")
            assert result.ok and result.startup_ms > 0
    finally:
        runtime.close()


def test_callers_waiting_for_a_busy_pool_are_served_in_turn() -> None:
    # Four callers, two workers: one that has just checked its worker in must not take it again
    # ahead of those already waiting (before the fix two callers starved until their deadline).
    import asyncio

    runtime = RuntimeThread(max_workers_per_function=2, spare_workers=0)
    try:
        code = FunctionCode(OK + "\n# busy pool\n")

        async def callers() -> list[int]:
            counts = [0, 0, 0, 0]
            stop = time.monotonic() + 2.0

            async def caller(i: int) -> None:
                while time.monotonic() < stop:
                    result = await runtime.runtime.invoke(code, make_context(), Limits(timeout_s=1))
                    assert result.ok, result.error
                    counts[i] += 1

            await asyncio.gather(*(caller(i) for i in range(4)))
            return counts

        counts = runtime.call(callers())
        assert min(counts) > sum(counts) / 4 / 3, counts
    finally:
        runtime.close()


# Pipelining: queue=True hands an invocation to a busy worker, to run after the current one.

SLEEPY = """
import os, time
from appfn import Resp
def handler(context):
    data = context.payload.data
    if data.get("exit"):
        time.sleep(data.get("sleep", 0))
        os._exit(3)
    if data.get("spin"):
        while True:
            pass
    time.sleep(data.get("sleep", 0))
    if data.get("big"):
        return Resp.success().set_data({"id": data.get("id"), "blob": "x" * data["big"]})
    return Resp.success().set_data({"id": data.get("id"), "pid": os.getpid()})
"""


def _queued(rt: RuntimeThread, contexts: list[dict], timeout_s: float = 5, cancel: int | None = None) -> list:
    """Invoke SLEEPY once per context, all at once, queue=True; ``cancel``: index of one to cancel."""
    import asyncio

    code = FunctionCode(SLEEPY)
    assert rt.invoke(SLEEPY, make_context({"id": 0})).ok  # warm: the first one is handed to a busy worker

    async def run() -> list:
        tasks = []
        for context in contexts:
            call = rt.runtime.invoke(code, context, Limits(timeout_s=timeout_s), queue=True)
            tasks.append(asyncio.ensure_future(call))
            await asyncio.sleep(0.01)  # in this order
        if cancel is not None:
            await asyncio.sleep(0.05)
            tasks[cancel].cancel()
        return await asyncio.gather(*tasks, return_exceptions=True)

    return rt.call(run(), timeout=60)


def test_queued_invocations_share_one_busy_worker_in_order() -> None:
    rt = RuntimeThread(max_workers_per_function=1, prefetch=1)
    try:
        started = time.monotonic()
        a, b = _queued(rt, [make_context({"id": 1, "sleep": 0.3}), make_context({"id": 2})])
        assert a.ok and b.ok, (a.error, b.error)
        assert a.response["data"]["pid"] == b.response["data"]["pid"]
        assert b.duration_ms >= 250  # waited for the first one, on the same worker
        assert time.monotonic() - started < 5
        assert rt.runtime.worker_count == 1
    finally:
        rt.close()


def test_a_queued_invocations_clock_starts_when_it_starts() -> None:
    """The second one waits 0.7 s behind the first, then runs 0.5 s of its 1 s: no timeout;
    then one that spins times out after its own second, and only it."""
    rt = RuntimeThread(max_workers_per_function=1, prefetch=1)
    try:
        a, b = _queued(rt, [make_context({"id": 1, "sleep": 0.7}), make_context({"id": 2, "sleep": 0.5})], 1)
        assert a.ok and b.ok, (a.error, b.error)
        started = time.monotonic()
        c, d = _queued(rt, [make_context({"id": 3, "sleep": 0.5}), make_context({"id": 4, "spin": True})], 1)
        assert c.ok, c.error
        assert d.status == "failure" and d.error_kind in ("timeout", "cpu"), d.error
        assert time.monotonic() - started >= 1.4
    finally:
        rt.close()


def test_a_hung_invocation_fails_alone_and_the_one_queued_behind_runs_elsewhere() -> None:
    rt = RuntimeThread(max_workers_per_function=1, prefetch=1)
    try:
        a, b = _queued(rt, [make_context({"id": 1, "spin": True}), make_context({"id": 2})], 1)
        assert a.status == "failure" and a.error_kind in ("timeout", "cpu"), a.error
        assert b.ok, b.error  # it waited a second behind the hung one: its own time was untouched
        assert rt.invoke(SLEEPY, make_context({"id": 3})).ok
    finally:
        rt.close()


def test_a_worker_that_dies_fails_only_its_running_invocation() -> None:
    rt = RuntimeThread(max_workers_per_function=1, prefetch=1)
    try:
        a, b = _queued(rt, [make_context({"id": 1, "exit": True, "sleep": 0.2}), make_context({"id": 2})])
        assert a.status == "failure" and a.error_kind == "crash", a.error
        assert b.ok, b.error
    finally:
        rt.close()


def test_cancelling_a_queued_invocation_leaves_the_running_one_alone() -> None:
    import asyncio

    rt = RuntimeThread(max_workers_per_function=1, prefetch=1)
    try:
        a, b = _queued(rt, [make_context({"id": 1, "sleep": 0.4}), make_context({"id": 2})], cancel=1)
        assert a.ok, a.error
        assert isinstance(b, asyncio.CancelledError)
        again = rt.invoke(SLEEPY, make_context({"id": 3}))
        assert again.ok and again.response["data"]["pid"] == a.response["data"]["pid"]
    finally:
        rt.close()


def test_without_queue_a_busy_worker_is_not_shared() -> None:
    rt = RuntimeThread(max_workers_per_function=1, prefetch=1)
    try:
        code = FunctionCode(SLEEPY)
        assert rt.invoke(SLEEPY).ok

        async def run() -> list:
            import asyncio

            first = asyncio.ensure_future(rt.runtime.invoke(code, make_context({"sleep": 0.3}), Limits()))
            await asyncio.sleep(0.05)
            second = asyncio.ensure_future(rt.runtime.invoke(code, make_context({}), Limits()))
            await asyncio.sleep(0.05)
            loads = [w.load for pool in rt.runtime._pools.values() for w in pool.busy]
            return [await first, await second, loads]

        first, second, loads = rt.call(run())
        assert first.ok and second.ok and loads == [1]  # the second waited in the pool's line
    finally:
        rt.close()


def test_a_large_answer_is_sent_whole_before_the_next_queued_invocation_runs() -> None:
    """A 230 KB answer does not fit the socket at once: its end must not wait in the worker
    behind the next handler, queued meanwhile and run on the worker's main thread (it did: the
    first one timed out)."""
    import asyncio

    rt = RuntimeThread(max_workers_per_function=1, prefetch=1)
    try:
        code = FunctionCode(SLEEPY)
        assert rt.invoke(SLEEPY, make_context({"id": 0})).ok

        async def run() -> list:
            context = make_context({"id": 1, "big": 230_000, "sleep": 0.2})
            big = asyncio.ensure_future(rt.runtime.invoke(code, context, Limits(timeout_s=1), queue=True))
            await asyncio.sleep(0.01)
            slow = rt.runtime.invoke(code, make_context({"id": 2, "sleep": 1.5}), Limits(timeout_s=5), queue=True)
            return await asyncio.gather(big, slow)

        a, b = rt.call(run(), timeout=60)
        assert a.ok, a.error
        assert len(a.response["data"]["blob"]) == 230_000
        assert b.ok, b.error
    finally:
        rt.close()
