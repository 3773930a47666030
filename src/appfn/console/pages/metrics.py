"""Console section: metrics (``/stats``; ``/metrics`` is Prometheus). Per function (app +
trigger) over a window: invocations, error rate, latency percentiles, and two small inline SVG
charts drawn here on the server (invocations per time bucket, ok stacked on failed; mean latency
per bucket). Aggregates come from ``appfn.store.stats`` in two queries whatever the number of
functions; the queue depth from the broker. A report is reused for a few seconds (``cache_s``
of the window: 2 s for the last hour, up to 60 s for 7 days) so reloads stay cheap."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from starlette.responses import Response

from appfn import store
from appfn.console import web
from appfn.store import stats

router = APIRouter()


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    span: timedelta
    buckets: int
    bucket_label: str
    cache_s: float  # a report this recent is shown again rather than recomputed


WINDOWS = {
    "1h": Window("1h", "Last hour", timedelta(hours=1), 12, "5 min", 2.0),
    "24h": Window("24h", "Last 24 hours", timedelta(hours=24), 24, "1 h", 15.0),
    "7d": Window("7d", "Last 7 days", timedelta(days=7), 28, "6 h", 60.0),
}
_CACHE: dict[tuple[Any, ...], tuple[float, stats.Report]] = {}
_CACHE_MAX = 64
CHART_W, CHART_H = 168, 36


@router.get("/stats")
async def metrics_page(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    window = WINDOWS.get(request.query_params.get("window") or "1h", WINDOWS["1h"])
    app_id = request.query_params.get("app") or None
    # The window ends at the next whole bucket so the buckets line up on round times.
    width = window.span / window.buckets
    now = datetime.now(UTC)
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    until = epoch + ((now - epoch) // width + 1) * width
    since = until - window.span

    key = (who.partner_id, window.key, app_id, until)

    def load(s: Session) -> tuple[stats.Report, dict[str, str]]:
        cached = _CACHE.get(key)
        if cached is not None and time.monotonic() - cached[0] < window.cache_s:
            report = cached[1]
        else:
            report = stats.function_stats(
                s, partner_id=who.partner_id, since=since, until=until, buckets=window.buckets, app_id=app_id
            )
            if len(_CACHE) >= _CACHE_MAX:
                _CACHE.clear()
            _CACHE[key] = (time.monotonic(), report)
        return report, {a.id: a.name for a in store.list_apps(s, partner_id=who.partner_id)}

    (report, names), depth = await asyncio.gather(
        web.call(web.read(request, load)), request.app.state.platform.queue_depth()
    )
    rows = [
        {
            "f": f,
            "name": names.get(f.app_id, f.app_id),
            "bars": bars_svg(f.buckets, window),
            "spark": sparkline_svg([b.mean_ms for b in f.buckets], window),
        }
        for f in report.functions
    ]
    return web.render(
        request, "metrics/index.html", who, nav="metrics", report=report, rows=rows, window=window,
        windows=WINDOWS.values(), depth=depth, names=names, app_id=app_id,
    )  # fmt: skip


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def bars_svg(buckets: list[stats.Bucket], window: Window) -> Markup:
    """Invocations per bucket: successes (bottom) and failures (top), one bar per bucket."""
    peak = max((b.ok + b.failed for b in buckets), default=0) or 1
    step = CHART_W / max(len(buckets), 1)
    gap = 1 if step > 3 else 0
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {CHART_W} {CHART_H}" width="{CHART_W}" height="{CHART_H}" role="img" '
        f'aria-label="invocations per {window.bucket_label}">'
    ]
    for i, b in enumerate(buckets):
        x = i * step
        ok_h = CHART_H * b.ok / peak
        bad_h = CHART_H * b.failed / peak
        title = escape(f"{_time(b.start)} UTC: {b.ok} ok, {b.failed} failed")
        parts.append(f"<g><title>{title}</title>")
        parts.append(f'<rect x="{x:.1f}" y="0" width="{step - gap:.1f}" height="{CHART_H}" class="hit"/>')
        if b.ok:
            parts.append(
                f'<rect x="{x:.1f}" y="{CHART_H - ok_h:.1f}" width="{step - gap:.1f}" height="{ok_h:.1f}" class="ok"/>'
            )
        if b.failed:
            y = CHART_H - ok_h - bad_h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{step - gap:.1f}" height="{bad_h:.1f}" class="failed"/>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline_svg(values: list[Any], window: Window) -> Markup:
    """Mean latency per bucket as a line; buckets without runs break the line."""
    known = [v for v in values if v is not None]
    label = f"mean latency per {window.bucket_label}"
    head = (
        f'<svg class="chart spark" viewBox="0 0 {CHART_W} {CHART_H}" width="{CHART_W}" height="{CHART_H}" '
        f'role="img" aria-label="{label}">'
    )
    if not known:
        return Markup(head + "</svg>")
    top = max(known) or 1.0
    step = CHART_W / max(len(values) - 1, 1)
    segments: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((i * step, CHART_H - 2 - (CHART_H - 4) * v / top))
    parts = [head, f"<title>{escape(label)}: peak {top:.1f} ms</title>"]
    for seg in segments:
        if len(seg) == 1:
            x, y = seg[0]
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.6"/>')
        elif seg:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in seg)
            parts.append(f'<polyline points="{points}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
