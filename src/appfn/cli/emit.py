"""`appfn emit`: send one event to a server, as a store would.

An async trigger is posted to ``/v1/events`` (answered 202 once queued: ``appfn logs`` shows
the executions that follow); a sync action (``shipment.creating``...) to
``/v1/actions/{trigger}``, which runs the installed functions inline and answers the decision.
Which one a trigger is comes from the server's catalog (``GET /v1/triggers/{name}``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from appfn.cli.output import fail, out
from appfn.cli.remote import DEFAULT, EXIT_FAILED, Key, Url, connect


def emit(
    trigger: Annotated[str, typer.Argument(help="Trigger name, e.g. customer.created or shipment.creating.")],
    store_id: Annotated[int, typer.Option("--store", "-s", help="The store (merchant id) the event is from.")],
    data: Annotated[
        Path | None, typer.Option("--data", "-d", help="JSON file holding the event's payload.data ('-': stdin).")
    ] = None,
    example: Annotated[bool, typer.Option("--example", help="Use the catalog's example payload.data.")] = False,
    event_id: Annotated[
        str | None, typer.Option("--id", help="The event's id (a resend with the same id is accepted once).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the server's answer as JSON.")] = False,
    url: Url = DEFAULT,
    key: Key = None,
) -> None:
    """Send TRIGGER from a store, with payload.data from --data FILE or the catalog's --example.

    An async event is queued: `appfn logs` shows its executions.
    A sync action (shipment.creating...) runs now and answers the decision:
    proceed or reject, the merged data, the errors and each function's result.

    Exit code: 0 accepted, or the action proceeds; 1 the action was rejected or no server answered;
    2 bad input (file, trigger, store, payload schema, key).
    """
    if (data is None) == (not example):
        fail("pass --data FILE or --example (one of them)")
    if store_id < 1:
        fail(f"--store must be a merchant id (a positive number), got {store_id}")
    payload = _read_data(data) if data is not None else None
    with connect(url, key) as api:
        spec = api.trigger(trigger)
        if payload is None:
            payload = spec.get("example")
            if not isinstance(payload, dict):
                fail(f"{trigger} has no documented example: pass --data FILE")
        body: dict[str, Any] = {"merchant": store_id, "data": payload}
        if event_id is not None:
            body["id"] = event_id
        if spec.get("execution") == "sync":
            answer = api.run_action(trigger, body)
        else:
            answer = api.send_event({**body, "event": trigger})
    if as_json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    if spec.get("execution") == "sync":
        if not as_json:
            out.print(decision_panel(trigger, store_id, answer))
        raise typer.Exit(0 if answer.get("proceed") else EXIT_FAILED)
    if not as_json:
        _print_accepted(trigger, store_id, answer)


def _read_data(path: Path) -> dict[str, Any]:
    name = "stdin" if str(path) == "-" else str(path)
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"--data: {name}: no such file")
    except IsADirectoryError:
        fail(f"--data: {name}: is a directory")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"--data: cannot read {name}: {exc}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"--data: {name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    if not isinstance(value, dict):
        fail(f"--data: {name} must hold a JSON object (the event's payload.data), got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def _print_accepted(trigger: str, store_id: int, answer: dict[str, Any]) -> None:
    jobs = answer.get("jobs", 0)
    if answer.get("duplicate"):
        out.print(f"[yellow]duplicate[/]: event {answer.get('id')} was accepted before; nothing new was queued")
        return
    runs = f"{jobs} function{'s' if jobs != 1 else ''} queued" if jobs else "no installed function listens to it"
    out.print(f"[bold green]✔ accepted[/] {trigger} event {answer.get('id')} from store {store_id}: {runs}")
    if jobs:
        out.print(f"[dim]see them run: appfn logs --trigger {trigger} --store {store_id}[/]")


def decision_panel(trigger: str, store_id: int, answer: dict[str, Any]) -> Panel:
    """A sync action's decision: proceed/reject, merged data, errors and per-function results."""
    proceed = bool(answer.get("proceed"))
    head = Table.grid(padding=(0, 2))
    verdict = Text("✔ proceed", style="bold green") if proceed else Text("✘ reject", style="bold red")
    head.add_row(Text("Decision", style="bold"), verdict)
    took = answer.get("duration_ms")
    if isinstance(took, int | float):
        head.add_row(Text("Took", style="bold"), Text(f"{took:.1f} ms"))
    parts: list[Any] = [head, Text("\nData", style="bold")]
    merged = answer.get("data") or {}
    body = json.dumps(merged, indent=2, ensure_ascii=False) if merged else "(none)"
    parts.append(Syntax(body, "json", theme="ansi_dark", background_color="default"))
    errors = answer.get("errors") or []
    if errors:
        parts.append(Text("\nErrors", style="bold red"))
        for problem in errors:
            parts.append(Text(f"{problem.get('app_id', '?')}: {problem.get('message', '')}", style="red"))
    results = answer.get("results") or []
    parts.append(Text("\nFunctions", style="bold"))
    if results:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for column in ("app", "version", "status", "took", "error"):
            table.add_column(column, justify="right" if column in ("version", "took") else "left")
        for result in results:
            ok = result.get("status") == "success"
            took_ms = result.get("duration_ms")
            table.add_row(
                str(result.get("app_id", "")),
                str(result.get("version", "")),
                Text(str(result.get("status", "")), style="green" if ok else "red"),
                f"{took_ms:.1f} ms" if isinstance(took_ms, int | float) else "-",
                _first_line(result.get("error")),
            )
        parts.append(table)
    else:
        parts.append(Text("no installed function handles it on this store: the operation proceeds", style="dim"))
    return Panel(
        Group(*parts), title=f"{trigger} · store {store_id}", border_style="green" if proceed else "red", expand=False
    )


def _first_line(error: Any) -> str:
    lines = [line for line in str(error or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines and lines[0].startswith("Traceback") else (lines[0].strip() if lines else "")
