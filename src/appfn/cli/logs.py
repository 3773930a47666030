"""`appfn logs`: executions (one per attempt) as a table or JSON lines, optionally followed.

The API lists newest first; this prints the newest ``--limit`` oldest first, like a log, and
``--follow`` appends new ones as they are recorded. Following asks for everything recorded
since the newest ``created_at`` seen, minus an overlap of a few seconds (so a transaction that
committed a moment late is not skipped), and prints only the ids it has not printed yet.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from appfn.cli.output import err, fail, out
from appfn.cli.remote import DEFAULT, Key, Url, connect
from appfn.client import Client, ClientError

PAGE = 500
OVERLAP = timedelta(seconds=5)
STATUS_STYLE = {
    "success": "green",
    "failure": "red",
    "timeout": "yellow",
    "dead": "bold red",
    "queued": "dim",
    "running": "cyan",
}
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def logs(
    app_id: Annotated[str | None, typer.Option("--app", "-a", help="Only this app's executions.")] = None,
    store_id: Annotated[int | None, typer.Option("--store", "-s", help="Only this store (merchant id).")] = None,
    trigger: Annotated[str | None, typer.Option("--trigger", "-t", help="Only this trigger.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="success, failure, timeout, dead, queued or running; comma-separated for several."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only those recorded since: ISO time (no offset: local time) or 30s, 10m, 2h, 1d ago."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many of the newest to show first.")] = 50,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new ones until Ctrl-C.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls with --follow.")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per execution, per line.")] = False,
    url: Url = DEFAULT,
    key: Key = None,
) -> None:
    """Show executions: time, trigger, store, status, attempt, duration and the error's first line.

    Prints the newest --limit (one row per attempt), oldest first; --follow appends new ones.

    Exit code: 0 done (Ctrl-C ends --follow); 1 no server answered; 2 bad input.
    """
    if limit < 1:
        fail(f"--limit must be at least 1, got {limit}")
    if interval <= 0:
        fail(f"--interval must be positive, got {interval:g}")
    if store_id is not None and store_id < 1:
        fail(f"--store must be a merchant id (a positive number), got {store_id}")
    filters = {"app_id": app_id, "store_id": store_id, "trigger": trigger, "status": status}
    since_value = _since(since) if since else None
    with connect(url, key) as api:
        first = _newest(api, filters, since_value, limit)
        printer = _Printer(as_json)
        printer.rows(list(reversed(first)))
        if not follow:
            if not first and not as_json:
                err.print("[dim]no executions match[/]")
            return
        if not as_json:
            err.print("[dim]following; Ctrl-C to stop[/]")
        try:
            _follow(api, filters, since_value, first, printer, interval)
        except KeyboardInterrupt:
            return


def _since(raw: str) -> str:
    """An ISO 8601 time with its offset (local time when none is given)."""
    relative = _RELATIVE.match(raw)
    if relative:
        amount, unit = float(relative.group(1)), relative.group(2)
        try:
            moment = datetime.now(UTC) - timedelta(**{_UNITS[unit]: amount})
        except OverflowError:
            fail(f"--since: {raw!r} reaches back before year 1")
    else:
        try:
            moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            fail(f"--since: {raw!r} is neither an ISO time (2025-01-31T09:30) nor a duration (10m, 2h, 1d)")
        if moment.tzinfo is None:
            moment = moment.astimezone()  # local time
    return moment.astimezone(UTC).isoformat()


def _pages(api: Client, filters: dict[str, Any], since: str | None, size: int) -> Iterator[list[dict[str, Any]]]:
    cursor = None
    while True:
        page = api.executions(**filters, since=since, limit=size, cursor=cursor)
        yield page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return


def _newest(api: Client, filters: dict[str, Any], since: str | None, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` executions, newest first."""
    found: list[dict[str, Any]] = []
    for items in _pages(api, filters, since, min(limit, PAGE)):
        found += items
        if len(found) >= limit:
            break
    return found[:limit]


def _follow(
    api: Client,
    filters: dict[str, Any],
    since: str | None,
    shown: list[dict[str, Any]],
    printer: _Printer,
    interval: float,
) -> None:
    seen = _Seen()
    for item in shown:
        seen.add(item)
    if seen.newest is not None:
        # Those already there near the newest shown are not new (--limit may have left them out).
        top = seen.newest
        for items in _pages(api, filters, (top - OVERLAP).isoformat(), PAGE):
            for item in items:
                if _created(item) <= top:
                    seen.add(item)
    warned = False
    while True:
        time.sleep(interval)
        after = (seen.newest - OVERLAP).isoformat() if seen.newest else since
        try:
            found = [item for items in _pages(api, filters, after, PAGE) for item in items]
        except ClientError as exc:
            if not exc.unreachable:
                raise
            if not warned:
                err.print(f"[yellow]{exc.message}; retrying[/]")
                warned = True
            continue
        warned = False
        fresh = sorted((item for item in found if item["id"] not in seen), key=lambda i: (_created(i), i["id"]))
        printer.rows(fresh)
        for item in fresh:
            seen.add(item)
        seen.prune()


class _Seen:
    """Ids printed (or known) lately, and the newest ``created_at`` among them."""

    def __init__(self) -> None:
        self.ids: dict[str, datetime] = {}
        self.newest: datetime | None = None

    def __contains__(self, ident: object) -> bool:
        return ident in self.ids

    def add(self, item: dict[str, Any]) -> None:
        at = _created(item)
        self.ids[item["id"]] = at
        if self.newest is None or at > self.newest:
            self.newest = at

    def prune(self) -> None:
        """Forget ids too old for the next poll (which asks from ``newest - OVERLAP``) to return."""
        if self.newest is not None:
            horizon = self.newest - 2 * OVERLAP
            self.ids = {ident: at for ident, at in self.ids.items() if at >= horizon}


def _created(item: dict[str, Any]) -> datetime:
    at = datetime.fromisoformat(item["created_at"])
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class _Printer:
    """Rows as a table (the header once, columns of fixed width so followed rows line up) or JSON lines."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.header = True

    def rows(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        if self.as_json:
            for item in items:
                print(json.dumps(item, ensure_ascii=False), flush=True)
            return
        table = Table(box=box.SIMPLE_HEAD, show_header=self.header, show_edge=False, pad_edge=False)
        table.add_column("time", width=19, no_wrap=True)
        table.add_column("trigger", width=24, no_wrap=True, overflow="ellipsis")
        table.add_column("store", width=10, justify="right", no_wrap=True)
        table.add_column("status", width=7, no_wrap=True)
        table.add_column("try", width=3, justify="right", no_wrap=True)
        table.add_column("took", width=9, justify="right", no_wrap=True)
        table.add_column("error", no_wrap=True, overflow="ellipsis")
        for item in items:
            table.add_row(
                _time(item.get("created_at")),
                str(item.get("trigger", "")),
                str(item.get("store_id", "")),
                Text(str(item.get("status", "")), style=STATUS_STYLE.get(str(item.get("status")), "")),
                str(item.get("attempt", "")),
                _duration(item.get("duration_ms")),
                Text(_first_line(item.get("error")), style="red"),
            )
        _console().print(table)
        self.header = False


def _console() -> Console:
    """``out``, or when the output is a pipe or a file, a console that does not wrap at 80 columns."""
    return out if out.is_terminal else Console(width=max(out.width, 160), highlight=False, soft_wrap=False)


def _time(value: Any) -> str:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _duration(ms: Any) -> str:
    if not isinstance(ms, int | float):
        return "-"
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def _first_line(error: Any) -> str:
    if not error:
        return ""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    # A traceback's last line says what happened; other errors lead with it.
    if lines and lines[0].startswith("Traceback"):
        return lines[-1]
    return lines[0] if lines else ""
