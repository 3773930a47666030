"""`appfn triggers`: browse the event catalog (being written)."""

import typer

app = typer.Typer(help="List the triggers of the event catalog.")
