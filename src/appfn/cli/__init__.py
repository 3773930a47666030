"""The ``appfn`` command line. Each sub-command lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="appfn",
    help="appfn: run sandboxed App Functions on store events.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _register() -> None:
    from appfn.cli import deploy, emit, invoke, keys, logs, preview, scaffold, serve, triggers

    app.add_typer(triggers.app, name="triggers")
    app.command("invoke")(invoke.invoke)
    app.command("init")(scaffold.init)
    app.command("serve")(serve.serve)
    app.command("deploy")(deploy.deploy)
    app.command("logs")(logs.logs)
    app.command("emit")(emit.emit)
    app.command("preview")(preview.preview)
    app.add_typer(keys.app, name="keys")


def main() -> None:
    _register()
    app()
