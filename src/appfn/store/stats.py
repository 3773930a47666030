"""Read-only aggregates over executions for the console: per-function metrics, the live list's
cheap poll, and dead letters' executions. Import it directly (``from appfn.store import stats``).

Everything here is one bounded query, portable across SQLite and PostgreSQL: time buckets are a
``CASE`` over bound timestamps (no dialect date functions), counts are ``GROUP BY`` in SQL, and
latency percentiles are computed in Python from the most recent ``MAX_DURATIONS`` durations of
the window (exact below that, a recent sample above it).

    with db.read_session() as s:
        report = stats.function_stats(s, partner_id=None, since=now - timedelta(hours=1), until=now, buckets=12)
        for f in report.functions:
            print(f.app_id, f.trigger, f.invocations, f.error_rate, f.p95_ms)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from appfn.store._common import as_utc, check_store_id, owned
from appfn.store.executions import Execution
from appfn.store.models import ExecutionRow

MAX_ROWS = 20_000  # windows up to this many executions are read in one pass
MAX_DURATIONS = 10_000  # beyond it: percentiles of the most recent this many runs
MAX_BUCKETS = 96
FAILED_STATUSES = ("failure", "timeout", "dead")
OK_STATUSES = ("success",)


@dataclass(frozen=True)
class Bucket:
    start: datetime
    ok: int = 0
    failed: int = 0
    mean_ms: float | None = None


@dataclass(frozen=True)
class FunctionStats:
    """One function (app + trigger) over the window."""

    app_id: str
    trigger: str
    invocations: int  # executions (attempts) in the window, every status
    ok: int
    failed: int  # failure, timeout, dead
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    sampled: int  # durations the percentiles were computed from
    buckets: list[Bucket] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        finished = self.ok + self.failed
        return self.failed / finished if finished else 0.0


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    bucket_s: float
    functions: list[FunctionStats]
    truncated: bool  # more than MAX_ROWS executions: percentiles are of the most recent MAX_DURATIONS

    @property
    def invocations(self) -> int:
        return sum(f.invocations for f in self.functions)

    @property
    def failed(self) -> int:
        return sum(f.failed for f in self.functions)


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of already sorted values; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def _bucket_expr(since: datetime, width_s: float, count: int) -> Any:
    column = ExecutionRow.created_at
    whens = [(column < since + timedelta(seconds=width_s * (i + 1)), literal(i)) for i in range(count - 1)]
    return case(*whens, else_=literal(count - 1)) if whens else literal(0)


def function_stats(
    session: Session,
    *,
    partner_id: str | None,
    since: datetime,
    until: datetime,
    buckets: int = 24,
    app_id: str | None = None,
) -> Report:
    """Invocations, failures, latency percentiles and per-bucket counts per function, for
    executions created in ``[since, until)``. One query (two for windows over ``MAX_ROWS``)
    whatever the number of functions."""
    since, until = as_utc(since, "since"), as_utc(until, "until")
    buckets = max(1, min(int(buckets), MAX_BUCKETS))
    width = max((until - since).total_seconds(), 1.0) / buckets
    bucket = _bucket_expr(since, width, buckets).label("bucket")
    where = [ExecutionRow.created_at >= since, ExecutionRow.created_at < until]
    if app_id is not None:
        where.append(ExecutionRow.app_id == app_id)
    # One pass over the most recent rows of the window gives everything when the window holds at
    # most MAX_ROWS executions; beyond that, counts come from a GROUP BY over the whole window and
    # percentiles from the most recent MAX_DURATIONS runs.
    scan = (
        owned(
            select(
                ExecutionRow.app_id, ExecutionRow.trigger, ExecutionRow.status, ExecutionRow.duration_ms, bucket
            ).where(*where),
            ExecutionRow.partner_id,
            partner_id,
        )
        .order_by(ExecutionRow.created_at.desc())
        .limit(MAX_ROWS + 1)
    )
    rows = session.execute(scan).all()
    truncated = len(rows) > MAX_ROWS
    totals: dict[tuple[str, str], list[int]] = {}
    per_bucket: dict[tuple[str, str], dict[int, list[Any]]] = {}
    samples: dict[tuple[str, str], list[float]] = {}
    if truncated:
        _grouped_counts(session, where, bucket, partner_id, totals, per_bucket)
        for app, trigger, _status, duration, _index in rows[:MAX_DURATIONS]:
            if duration is not None:
                samples.setdefault((app, trigger), []).append(duration)
    else:
        for app, trigger, status, duration, index in rows:
            key = (app, trigger)
            total = totals.get(key)
            if total is None:
                total = totals[key] = [0, 0, 0]
                per_bucket[key] = {}
                samples[key] = []
            cell = per_bucket[key].get(index)
            if cell is None:
                cell = per_bucket[key][index] = [0, 0, 0.0, 0]  # ok, failed, sum of durations, timed runs
            total[0] += 1
            if status in OK_STATUSES:
                total[1] += 1
                cell[0] += 1
            elif status in FAILED_STATUSES:
                total[2] += 1
                cell[1] += 1
            if duration is not None:
                samples[key].append(duration)
                cell[2] += duration
                cell[3] += 1
        for cells in per_bucket.values():
            for index, cell in cells.items():
                cells[index] = [cell[0], cell[1], cell[2] / cell[3] if cell[3] else None]

    starts = [since + timedelta(seconds=width * i) for i in range(buckets)]
    functions = []
    for key in sorted(totals, key=lambda k: (-totals[k][0], k)):
        values = sorted(samples.get(key, ()))
        by_index = per_bucket.get(key, {})
        series = [Bucket(start, *by_index.get(i, (0, 0, None))) for i, start in enumerate(starts)]
        count, ok, bad = totals[key]
        functions.append(
            FunctionStats(
                app_id=key[0],
                trigger=key[1],
                invocations=count,
                ok=ok,
                failed=bad,
                p50_ms=percentile(values, 50),
                p95_ms=percentile(values, 95),
                p99_ms=percentile(values, 99),
                sampled=len(values),
                buckets=series,
            )
        )
    return Report(since, until, width, functions, truncated)


def _grouped_counts(
    session: Session,
    where: list[Any],
    bucket: Any,
    partner_id: str | None,
    totals: dict[tuple[str, str], list[int]],
    per_bucket: dict[tuple[str, str], dict[int, list[Any]]],
) -> None:
    failed = case((ExecutionRow.status.in_(FAILED_STATUSES), 1), else_=0)
    okay = case((ExecutionRow.status.in_(OK_STATUSES), 1), else_=0)
    stmt = owned(
        select(
            ExecutionRow.app_id, ExecutionRow.trigger, bucket,
            func.count(), func.sum(okay), func.sum(failed), func.avg(ExecutionRow.duration_ms),
        ).where(*where),
        ExecutionRow.partner_id, partner_id,
    ).group_by(ExecutionRow.app_id, ExecutionRow.trigger, bucket)  # fmt: skip
    for app, trigger, index, count, ok, bad, mean in session.execute(stmt):
        key = (app, trigger)
        total = totals.setdefault(key, [0, 0, 0])
        total[0] += int(count)
        total[1] += int(ok or 0)
        total[2] += int(bad or 0)
        per_bucket.setdefault(key, {})[int(index)] = [int(ok or 0), int(bad or 0), mean]


@dataclass(frozen=True)
class FeedItem:
    id: str
    status: str
    created_at: datetime


def feed(
    session: Session,
    *,
    partner_id: str | None,
    since: datetime,
    limit: int = 50,
    app_id: str | None = None,
    store_id: int | None = None,
    trigger: str | None = None,
    status: Sequence[str] | None = None,
) -> list[FeedItem]:
    """Ids, statuses and times of executions created at or after ``since`` (newest first, at
    most ``limit``): the live list's poll. No JSON columns are read."""
    stmt = owned(
        select(ExecutionRow.id, ExecutionRow.status, ExecutionRow.created_at).where(
            ExecutionRow.created_at >= as_utc(since, "since")
        ),
        ExecutionRow.partner_id,
        partner_id,
    )
    if app_id is not None:
        stmt = stmt.where(ExecutionRow.app_id == app_id)
    if store_id is not None:
        stmt = stmt.where(ExecutionRow.store_id == check_store_id(store_id))
    if trigger is not None:
        stmt = stmt.where(ExecutionRow.trigger == trigger)
    if status:
        stmt = stmt.where(ExecutionRow.status.in_(list(status)))
    stmt = stmt.order_by(ExecutionRow.created_at.desc(), ExecutionRow.id.desc()).limit(max(1, min(limit, 500)))
    return [FeedItem(i, s, c) for i, s, c in session.execute(stmt)]


def executions_by_ids(session: Session, ids: Sequence[str], *, partner_id: str | None) -> list[Execution]:
    """Full executions for ``ids`` (those the caller may see), newest first; one query."""
    if not ids:
        return []
    stmt = owned(select(ExecutionRow).where(ExecutionRow.id.in_(list(ids))), ExecutionRow.partner_id, partner_id)
    stmt = stmt.order_by(ExecutionRow.created_at.desc(), ExecutionRow.id.desc())
    names = [f.name for f in fields(Execution)]
    return [Execution(**{n: getattr(r, n) for n in names}) for r in session.execute(stmt).scalars()]


@dataclass(frozen=True)
class JobExecution:
    job_id: str
    execution_id: str
    app_id: str
    partner_id: str
    status: str


def executions_of_jobs(
    session: Session, jobs: Sequence[tuple[str, str]], *, partner_id: str | None
) -> dict[str, JobExecution]:
    """The latest execution of each queue job, given ``(job_id, event_id)`` pairs (those the
    caller may see), by job id; one query (the event id uses its index: job_id has none).
    Dead letters name jobs; replay and ownership go through their executions."""
    if not jobs:
        return {}
    job_ids = [j for j, _ in jobs]
    event_ids = sorted({e for _, e in jobs})
    stmt = owned(
        select(
            ExecutionRow.job_id, ExecutionRow.id, ExecutionRow.app_id, ExecutionRow.partner_id, ExecutionRow.status
        ).where(ExecutionRow.event_id.in_(event_ids), ExecutionRow.job_id.in_(job_ids)),
        ExecutionRow.partner_id,
        partner_id,
    ).order_by(ExecutionRow.created_at, ExecutionRow.id)
    out: dict[str, JobExecution] = {}
    for job, ident, app, partner, status in session.execute(stmt):
        out[job] = JobExecution(job, ident, app, partner, status)  # later rows win: the latest attempt
    return out
