"""`appfn invoke`: run a function file once, locally, in the sandbox (the local preview)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from appfn.catalog import load_catalog
from appfn.cli.output import fail, out, preview_panel
from appfn.errors import CatalogError, ContextValidationError, SandboxUnavailableError

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def invoke(
    path: Annotated[Path, typer.Argument(help="The function file: handler.py, handler.ts or handler.js.")],
    trigger: Annotated[str, typer.Option("--trigger", "-t", help="Trigger name, e.g. customer.created.")],
    data: Annotated[
        Path | None, typer.Option(help="JSON file holding the event's payload.data.")
    ] = None,
    example: Annotated[bool, typer.Option("--example", help="Use the catalog's example payload.data.")] = False,
    settings: Annotated[
        Path | None, typer.Option(help="JSON file with the merchant's settings values.")
    ] = None,
    merchant: Annotated[str | None, typer.Option(help="Merchant (store) id.")] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Wall-clock limit in seconds (default: the trigger's).")
    ] = None,
    memory: Annotated[int, typer.Option(help="Memory limit in MB.")] = 256,
    heap: Annotated[int, typer.Option(help="TypeScript/JavaScript: V8 heap limit in MB.")] = 128,
    allow_egress: Annotated[
        list[str] | None,
        typer.Option("--allow-egress", help="Host, IP or CIDR the function may reach even if private."),
    ] = None,
    sandbox: Annotated[str, typer.Option(help="auto, bwrap or process (docs/sandbox.md).")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run PATH's handler on a trigger's context and show what a preview panel shows.

    PATH is Python (def handler(context)) or TypeScript/JavaScript in the original's template form
    (export default async (context) => { ... };). Exit code 0 when the function succeeded, 1 when
    it failed (a syntax error included: the error names line and column), 2 on bad input.
    """
    from appfn.runtime.local import LocalRun, invoke_local_sync, read_source

    if data is not None and example:
        fail("pass either --data or --example, not both")
    if timeout is not None and timeout <= 0:
        fail(f"--timeout must be positive, got {timeout}")
    try:
        load_catalog().get(trigger)
        source, filename = read_source(path)
        run = LocalRun(
            source=source,
            filename=filename,
            trigger=trigger,
            data=_payload_data(trigger, data, example),
            settings=_json_object(settings, "--settings") if settings else None,
            merchant=_merchant(merchant),
            timeout_s=timeout,
            memory_mb=memory,
            heap_mb=heap,
            allow_egress=tuple(allow_egress or ()),
            sandbox=sandbox,
        )
        result = invoke_local_sync(run)
    except ContextValidationError as exc:
        fail(f"the context does not match {trigger}'s schema:\n" + "\n".join(f"  {v}" for v in exc.violations))
    except (CatalogError, SandboxUnavailableError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        out.print(preview_panel(result, f"{filename} · {trigger}"))
    raise typer.Exit(0 if result.ok else EXIT_FAILED)


def _payload_data(trigger: str, data: Path | None, example: bool) -> dict[str, Any]:
    if example:
        sample = load_catalog().get(trigger).example_data
        if sample is None:
            raise ValueError(f"{trigger} has no documented example; pass --data FILE.json")
        return sample
    if data is None:
        return {}
    return _json_object(data, "--data")


def _json_object(path: Path, option: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{option}: cannot read {path}: {exc}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ValueError(f"{option}: {path} is not valid JSON: {exc.msg} ({where})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{option}: {path} must hold a JSON object, got {type(value).__name__}")
    return value


def _merchant(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value
