"""Rich rendering shared by commands: the preview panel of an invocation, error lines."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from appfn.runtime.limits import InvocationResult

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> None:
    """Print one clear error line to stderr and exit with ``code`` (2: bad input)."""
    import typer

    err.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def print_json(value: Any) -> None:
    out.print_json(json.dumps(value, ensure_ascii=False), indent=2) if out.is_terminal else print(
        json.dumps(value, ensure_ascii=False, indent=2)
    )


def preview_panel(result: InvocationResult, title: str) -> Panel:
    """What a preview shows: status, time, response, console, errors and outbound requests."""
    ok = result.status == "success"
    status = Text("✔ success" if ok else "✘ failure", style="bold green" if ok else "bold red")
    head = Table.grid(padding=(0, 2))
    head.add_row(Text("Execution Status", style="bold"), status)
    took = f"{result.duration_ms:.1f} ms"
    if result.startup_ms:
        took += f" (of which {result.startup_ms:.1f} ms starting the sandboxed worker)"
    head.add_row(Text("Execution Time", style="bold"), Text(took))
    parts: list[Any] = [head, Text("\nResponse Data", style="bold")]
    body = json.dumps(result.response, indent=2, ensure_ascii=False) if result.response else "(none)"
    parts.append(Syntax(body, "json", theme="ansi_dark", background_color="default"))
    parts.append(Text("\nConsole Logs", style="bold"))
    parts.append(Text("\n".join(result.console) if result.console else "(none)", style="dim"))
    if result.error:
        parts.append(Text("\nErrors", style="bold red"))
        parts.append(Text(result.error, style="red"))
    if result.requests:
        parts.append(Text("\nOutbound Requests", style="bold"))
        for call in result.requests:
            status_text = call.get("status") or call.get("error") or "-"
            parts.append(Text(f"{call.get('method')} {call.get('url')} → {status_text}"))
    return Panel(Group(*parts), title=title, border_style="green" if ok else "red", expand=False)
