"""Runtime figures, Python and TypeScript: warm overhead, cold start, throughput, worker memory.

    .venv/bin/python benchmarks/runtime.py [--warm 3000] [--seconds 5] [--only python|js]

A script, not a test: run it on a quiet machine and copy the tables into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

import appfn.runtime.js  # noqa: F401  (V8 starts on the main thread: the runtime transpiles TypeScript here)
from appfn.runtime.limits import FunctionCode, Limits
from appfn.runtime.pool import Runtime

TRIVIAL = (
    "from appfn import Resp\n"
    "def handler(context):\n"
    "    return Resp.success().set_data({'id': context.payload.data['id']})\n"
)
TRIVIAL_TS = (
    "export default async (context: Customer): Promise<Resp> => {\n"
    "  return Resp.success().setData({ id: context.payload.data.id });\n"
    "};\n"
)
SOURCES = {"python": (TRIVIAL, "handler.py", "# "), "js": (TRIVIAL_TS, "handler.ts", "// ")}


def code_for(runtime: str, tag: str = "") -> FunctionCode:
    source, filename, comment = SOURCES[runtime]
    return FunctionCode(source + (f"{comment}{tag}\n" if tag else ""), filename)


def context_2kb() -> dict:
    data = {"id": 1, "first_name": "Sara", "last_name": "Al-Qahtani", "email": "sara@example.com", "notes": "x" * 1700}
    return {"payload": {"event": "customer.created", "merchant": 1, "created_at": "Tue Jan 25 2022", "data": data},
            "settings": {"crmApiUrl": "https://crm.example"}, "merchant": {"id": 1}}  # fmt: skip


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def settled(runtime: Runtime) -> None:
    """Wait until no spare worker is starting (a spare's start-up would compete for the CPU)."""
    async with asyncio.timeout(60):
        while any(runtime._spare_tasks.values()):
            await asyncio.sleep(0.01)


async def warm(runtime: Runtime, n: int, kind: str) -> list[float]:
    code, ctx, limits = code_for(kind), context_2kb(), Limits(timeout_s=5)
    for _ in range(50):
        await runtime.invoke(code, ctx, limits)
    await settled(runtime)
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        result = await runtime.invoke(code, ctx, limits)
        samples.append((time.perf_counter() - t) * 1000)
        assert result.ok, result.error
    return samples


async def cold(runtime: Runtime, n: int, with_spare: bool, kind: str) -> list[float]:
    samples = []
    for i in range(n):
        if with_spare:  # the state a save leaves behind: a spare is ready
            async with asyncio.timeout(30):
                while not runtime.spares(kind):
                    await asyncio.sleep(0.01)
        await settled(runtime)
        code = code_for(kind, f"version {i} {with_spare}")
        t = time.perf_counter()
        result = await runtime.invoke(code, context_2kb(), Limits(timeout_s=5))
        samples.append((time.perf_counter() - t) * 1000)
        assert result.ok, result.error
    return samples


async def throughput(runtime: Runtime, seconds: float, concurrency: int, kind: str) -> float:
    code, ctx, limits = code_for(kind, "throughput"), context_2kb(), Limits(timeout_s=5)
    await runtime.invoke(code, ctx, limits)
    await settled(runtime)
    done = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            assert (await runtime.invoke(code, ctx, limits)).ok
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            found += [int(c) for c in children]
            todo += [int(c) for c in children]
    return found


def private_mb(pid: int) -> float:
    """Memory only this process holds (USS: private clean + dirty), from smaps_rollup."""
    total = 0.0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1]) / 1024
    return total


async def idle_rss(runtime: Runtime, kind: str) -> tuple[float, float, float]:
    """(RSS and private memory of an idle worker's interpreter, RSS of its tree incl. bwrap) in MB."""
    code = code_for(kind, "rss")
    for _ in range(100):
        await runtime.invoke(code, context_2kb(), Limits(timeout_s=5))
    worker = next(w for w in runtime.idle_workers() if w.code and w.code.key == code.key)
    tree = [worker.pid, *descendants(worker.pid)]
    interpreter = max(tree, key=rss_mb)
    return rss_mb(interpreter), private_mb(interpreter), sum(rss_mb(p) for p in tree)


async def v8_heap_per_context() -> tuple[float, float]:
    """(used, total) V8 heap in MB of one warm context holding the trivial handler (in this process)."""
    from appfn.runtime.js import JsEngine, transpile

    engine = JsEngine()
    function, _ = await engine.load(transpile(TRIVIAL_TS, "handler.ts"), timeout_s=5)

    async def no_fetch(request: dict) -> dict:
        return {}

    for _ in range(100):
        await function.invoke(context_2kb(), fetch=no_fetch, timeout_s=5)
    assert function._channel is not None and function._channel.racer is not None
    stats = function._channel.racer.heap_stats()
    function.dispose()
    engine.shutdown()
    return stats["used_heap_size"] / 2**20, stats["total_heap_size"] / 2**20


async def figures(kind: str, args: argparse.Namespace) -> dict[str, float]:
    out: dict[str, float] = {}
    async with Runtime(max_workers_per_function=2, idle_ttl_s=600, spare_runtimes=(kind,)) as runtime:
        w = await warm(runtime, args.warm, kind)
        out["warm_median"], out["warm_p99"] = statistics.median(w), pct(w, 0.99)
        out["cold_spare"] = statistics.median(await cold(runtime, 20, True, kind))
    async with Runtime(max_workers_per_function=2, idle_ttl_s=600, spare_workers=0) as runtime:
        out["cold_spawn"] = statistics.median(await cold(runtime, 10, False, kind))
        out["throughput"] = await throughput(runtime, args.seconds, 4, kind)
        out["rss"], out["private"], out["rss_tree"] = await idle_rss(runtime, kind)
    return out


def table(kind: str, f: dict[str, float]) -> None:
    name = "Python" if kind == "python" else "TypeScript (JS worker)"
    print(f"\n{name}\n")
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| warm invocation, median | {f['warm_median']:.3f} ms | <= 1 ms |")
    print(f"| warm invocation, p99 | {f['warm_p99']:.3f} ms | <= 5 ms |")
    target = "<= 15 ms" if kind == "js" else "<= 100 ms"
    print(f"| cold start, new version, spare worker ready (median of 20) | {f['cold_spare']:.1f} ms | {target} |")
    print(f"| cold start, new version, no spare: spawn + load (median of 10) | {f['cold_spawn']:.1f} ms | |")
    print(f"| throughput, 2 workers, 4 concurrent callers | {f['throughput']:,.0f} invocations/s | >= 2,000/s |")
    print(f"| idle worker RSS (the interpreter) | {f['rss']:.1f} MB | {'<= 40 MB' if kind == 'python' else ''} |")
    print(f"| idle worker private memory (USS: not shared with other workers) | {f['private']:.1f} MB | |")
    print(f"| idle worker RSS incl. its bwrap processes | {f['rss_tree']:.1f} MB | |")
    if kind == "js":
        print(f"| V8 heap of one warm context, used / total | {f['heap_used']:.2f} / {f['heap_total']:.2f} MB | |")


async def main(args: argparse.Namespace) -> None:
    print(f"sandbox: {Runtime().sandbox.mode}")
    for kind in ("python", "js"):
        if args.only in (None, kind):
            f = await figures(kind, args)
            if kind == "js":
                f["heap_used"], f["heap_total"] = await v8_heap_per_context()
            table(kind, f)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warm", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--only", choices=("python", "js"))
    asyncio.run(main(parser.parse_args()))
