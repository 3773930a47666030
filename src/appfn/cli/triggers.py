"""`appfn triggers`: browse the event catalog.

    appfn triggers [--category C] [--json]   list the triggers (a table, or a JSON array)
    appfn triggers show NAME [--json]        one trigger: its details, payload.data schema, example

An unknown trigger or category prints one line naming it (with close matches) and exits with 2.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from appfn.catalog import Catalog, Trigger, load_catalog
from appfn.errors import CatalogError

app = typer.Typer(
    help="List the triggers of the event catalog, or show one with its payload.data schema and example.",
    invoke_without_command=True,
    no_args_is_help=False,
)

USAGE_ERROR = 2


def _fail(error: Exception) -> typer.Exit:
    # One plain line on stderr (no Rich wrapping), exit code 2 like other usage errors.
    typer.echo(f"Error: {error}", err=True)
    return typer.Exit(code=USAGE_ERROR)


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _timeout(trigger: Trigger) -> str:
    return f"{trigger.timeout_s:g} s"


@app.callback()
def list_triggers(
    ctx: typer.Context,
    category: Annotated[
        str | None,
        typer.Option(
            "--category",
            "-c",
            help="Only this category: merchant_actions, merchant_events, ecommerce_events, "
            "communication_events.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array (one object per trigger) instead of a table.")
    ] = False,
) -> None:
    """List the triggers of the event catalog (name, category, execution, timeout)."""
    if ctx.invoked_subcommand is not None:
        return
    catalog = load_catalog()
    try:
        triggers = catalog.by_category(category) if category is not None else list(catalog)
    except CatalogError as error:
        raise _fail(error) from None
    if as_json:
        _print_json([t.to_dict() for t in triggers])
        return
    _print_table(catalog, triggers, category)


def _print_table(catalog: Catalog, triggers: list[Trigger], category: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    sync = sum(1 for t in triggers if t.is_sync)
    title = f"Triggers: {category}" if category else f"Triggers ({len(catalog.categories())} categories)"
    table = Table(title=title, caption=f"{len(triggers)} triggers, {sync} sync", header_style="bold")
    table.add_column("name", no_wrap=True, style="cyan")
    table.add_column("category", no_wrap=True)
    table.add_column("execution", no_wrap=True)
    table.add_column("timeout", justify="right", no_wrap=True)
    for t in triggers:
        execution = "[bold yellow]sync[/]" if t.is_sync else "async"
        table.add_row(t.name, t.category, execution, _timeout(t))
    console = Console()
    console.print(table)
    console.print("[dim]Schema and example of one trigger: appfn triggers show NAME[/]")


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Trigger name, e.g. customer.login.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: details, schema, example_data.")
    ] = False,
) -> None:
    """Show one trigger: its details, its payload.data JSON Schema and its documented example."""
    try:
        trigger = load_catalog().get(name)
    except CatalogError as error:
        raise _fail(error) from None
    schema = trigger.data_schema()
    if as_json:
        _print_json(
            {
                **trigger.to_dict(),
                "schema_basis": trigger.schema_basis,
                "example_basis": trigger.example_basis,
                "schema": schema,
                "example_data": trigger.example_data,
                "extra_examples": dict(trigger.extra_examples),
            }
        )
        return
    _print_details(trigger, schema)


def _print_details(trigger: Trigger, schema: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.json import JSON
    from rich.rule import Rule
    from rich.table import Table

    console = Console()
    console.print(f"[bold cyan]{trigger.name}[/]  {trigger.title}")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    execution = (
        f"sync: blocks the operation, {_timeout(trigger)} limit"
        if trigger.is_sync
        else f"async: runs in the background, {_timeout(trigger)} limit"
    )
    rows = [
        ("category", f"{trigger.category} ({trigger.group}, audience {trigger.audience})"),
        ("execution", execution),
        ("context type", trigger.context_type or "-"),
        ("returns", trigger.return_type),
        ("preview form", f"store_id, {', '.join(trigger.preview_form)} ({trigger.preview_form_basis})"),
        ("documented", f"yes, docs page {trigger.doc_page}" if trigger.documented else "no (live list only)"),
        ("scope hint", trigger.scope_hint or "-"),
        ("schema", trigger.schema_basis),
    ]
    if trigger.notes:
        rows.append(("notes", trigger.notes))
    for key, value in rows:
        facts.add_row(key, value)
    console.print(facts)

    console.print(Rule("payload.data schema (JSON Schema 2020-12)"))
    console.print(JSON.from_data(schema, indent=2, ensure_ascii=False))
    console.print(Rule("example payload.data"))
    if trigger.example_data is None:
        console.print("No documented example: any object is accepted.")
    else:
        if trigger.example_basis:
            console.print(f"[dim]{trigger.example_basis}[/]")
        console.print(JSON.from_data(trigger.example_data, indent=2, ensure_ascii=False))
    for label, data in trigger.extra_examples.items():
        console.print(Rule(f"further example: {label}"))
        console.print(JSON.from_data(data, indent=2, ensure_ascii=False))
