"""Python runtime figures: warm overhead, cold start, throughput, idle worker memory.

    .venv/bin/python benchmarks/runtime.py [--warm 3000] [--seconds 5]

A script, not a test: run it on a quiet machine and copy the table into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from appfn.runtime.limits import FunctionCode, Limits
from appfn.runtime.pool import Runtime

TRIVIAL = (
    "from appfn import Resp\n"
    "def handler(context):\n"
    "    return Resp.success().set_data({'id': context.payload.data['id']})\n"
)


def context_2kb() -> dict:
    data = {"id": 1, "first_name": "Sara", "last_name": "Al-Qahtani", "email": "sara@example.com", "notes": "x" * 1700}
    return {"payload": {"event": "customer.created", "merchant": 1, "created_at": "Tue Jan 25 2022", "data": data},
            "settings": {"crmApiUrl": "https://crm.example"}, "merchant": {"id": 1}}  # fmt: skip


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def warm(runtime: Runtime, n: int) -> list[float]:
    code, ctx, limits = FunctionCode(TRIVIAL), context_2kb(), Limits(timeout_s=5)
    for _ in range(50):
        await runtime.invoke(code, ctx, limits)
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        result = await runtime.invoke(code, ctx, limits)
        samples.append((time.perf_counter() - t) * 1000)
        assert result.ok, result.error
    return samples


async def cold(runtime: Runtime, n: int, with_spare: bool) -> list[float]:
    samples = []
    for i in range(n):
        if with_spare:  # the state a save leaves behind: a spare is ready
            async with asyncio.timeout(15):
                while not runtime._spares:
                    await asyncio.sleep(0.01)
        code = FunctionCode(TRIVIAL + f"# version {i} {with_spare}\n")
        t = time.perf_counter()
        result = await runtime.invoke(code, context_2kb(), Limits(timeout_s=5))
        samples.append((time.perf_counter() - t) * 1000)
        assert result.ok, result.error
    return samples


async def throughput(runtime: Runtime, seconds: float, concurrency: int) -> float:
    code, ctx, limits = FunctionCode(TRIVIAL + "# throughput\n"), context_2kb(), Limits(timeout_s=5)
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


async def idle_rss(runtime: Runtime) -> tuple[float, float]:
    """(RSS of the idle Python worker, RSS of the whole process tree incl. bwrap) in MB."""
    await runtime.invoke(FunctionCode(TRIVIAL + "# rss\n"), context_2kb(), Limits(timeout_s=5))
    worker = next(w for w in runtime.idle_workers() if w.code and w.code.source.endswith("# rss\n"))
    tree = [worker.pid, *descendants(worker.pid)]
    python = max(tree, key=rss_mb)
    return rss_mb(python), sum(rss_mb(p) for p in tree)


async def main(args: argparse.Namespace) -> None:
    async with Runtime(max_workers_per_function=2, idle_ttl_s=600) as runtime:
        print(f"sandbox: {runtime.sandbox.mode}")
        w = await warm(runtime, args.warm)
        c_spare = await cold(runtime, 20, with_spare=True)
    async with Runtime(max_workers_per_function=2, idle_ttl_s=600, spare_workers=0) as runtime:
        c_spawn = await cold(runtime, 10, with_spare=False)
        tput = await throughput(runtime, args.seconds, concurrency=4)
        python_rss, tree_rss = await idle_rss(runtime)
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| warm invocation, median | {statistics.median(w):.3f} ms | <= 1 ms |")
    print(f"| warm invocation, p99 | {pct(w, 0.99):.3f} ms | <= 5 ms |")
    spare, spawn = statistics.median(c_spare), statistics.median(c_spawn)
    print(f"| cold start, new version, spare worker ready (median of 20) | {spare:.1f} ms | <= 100 ms |")
    print(f"| cold start, new version, no spare: spawn + load (median of 10) | {spawn:.1f} ms | |")
    print(f"| throughput, 2 workers, 4 concurrent callers | {tput:,.0f} invocations/s | >= 2,000/s |")
    print(f"| idle worker RSS (Python process) | {python_rss:.1f} MB | <= 40 MB |")
    print(f"| idle worker RSS incl. its bwrap processes | {tree_rss:.1f} MB | |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warm", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=5.0)
    asyncio.run(main(parser.parse_args()))
