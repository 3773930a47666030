"""`appfn serve`: the platform in one process: HTTP API, dispatcher and sandboxed workers."""

from __future__ import annotations

import dataclasses
import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from appfn.cli.output import fail, out
from appfn.config import Settings

if TYPE_CHECKING:
    from appfn.demo.demo_apps import DemoSetup


def serve(
    data_dir: Annotated[Path | None, typer.Option(help="Where state lives [APPFN_DATA_DIR; ./appfn-data].")] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on [APPFN_HOST; 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [APPFN_PORT; 8700].")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="sqlite:///... or postgresql+psycopg://... [APPFN_DATABASE_URL].")
    ] = None,
    queue_url: Annotated[str | None, typer.Option(help="sqlite:///... or redis://... [APPFN_QUEUE_URL].")] = None,
    sandbox: Annotated[str | None, typer.Option(help="auto, bwrap or process [APPFN_SANDBOX].")] = None,
    allow_egress: Annotated[
        list[str] | None, typer.Option("--allow-egress", help="Private host/IP/CIDR functions may reach.")
    ] = None,
    max_attempts: Annotated[
        int | None, typer.Option(help="Runs of a failing async job [APPFN_MAX_ATTEMPTS; 3].")
    ] = None,
    max_backlog: Annotated[
        int | None, typer.Option(help="Queued jobs past which ingestion answers 429 [APPFN_MAX_BACKLOG].")
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Seed a demo store with sample records [APPFN_DEMO].")] = False,
) -> None:
    """Run the platform: HTTP API (OpenAPI at /docs), dispatcher and sandboxed workers.

    Every option also reads an APPFN_... variable (flags win); the README lists them all.
    SIGTERM/SIGINT stop taking work and let running invocations finish (APPFN_SHUTDOWN_GRACE_S).
    """
    import uvicorn

    from appfn.api.app import create_app
    from appfn.platform import Platform

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        fail(str(exc))
    flags = {
        "data_dir": data_dir, "host": host, "port": port, "database_url": database_url, "queue_url": queue_url,
        "sandbox": sandbox, "allow_egress": tuple(allow_egress) if allow_egress else None,
        "max_attempts": max_attempts, "max_backlog": max_backlog, "demo": demo or None,
    }  # fmt: skip
    settings = dataclasses.replace(settings, **{k: v for k, v in flags.items() if v is not None})
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("appfn").setLevel(logging.INFO)
    platform = Platform(settings)
    first = platform.ensure_operator_key()
    base = f"http://{settings.host}:{settings.port}"
    out.print(f"[bold]appfn[/] on {base}  (API docs: {base}/docs)  data: {settings.data_dir.resolve()}", soft_wrap=True)
    queue = settings.resolved_queue_url
    out.print(
        f"sandbox: {platform.runtime.sandbox.mode}  database: {platform.db.dialect}  queue: {queue}", soft_wrap=True
    )
    if settings.demo:
        out.print(platform.seed_demo(), soft_wrap=True)
    if first.operator_key:
        out.print(f"[yellow]first start: operator key (shown once):[/] {first.operator_key}", soft_wrap=True)
    if settings.demo and platform.demo_setup is not None:
        _print_demo(settings, platform.demo_setup)
    from appfn.runtime.jsload import start_v8

    start_v8()  # V8 must start on the main thread (TypeScript is transpiled in this process)
    app = create_app(platform)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=int(settings.shutdown_grace_s) + 5,
    )
    # Everything loaded so far (catalog, schemas, app, templates) lives as long as the process:
    # keep it out of the garbage collector's walks, which were a fifth of ingestion's CPU.
    gc.collect()
    gc.freeze()
    uvicorn.Server(config).run()


def _print_demo(settings: Settings, setup: DemoSetup) -> None:
    """What to open and three commands to try; the same on every --demo start (the demo partner's
    key acts as the merchant of the demo store, so the operator key is not needed)."""
    from rich.markup import escape

    base = settings.resolved_public_url
    store_id = setup.store_id
    crm = setup.app("CRM Sync")
    apps = ", ".join(f"{a.name} {a.app_id}" for a in setup.apps)
    exports = f"export APPFN_KEY={setup.partner_key} CRM_APP={crm.app_id}"
    if base != "http://127.0.0.1:8700":
        exports += f" APPFN_URL={base}"
    customer = '{"first_name": "Sara", "last_name": "Alharbi", "mobile": "0551234567", "email": "sara@example.com"}'
    lines = [
        "[bold]demo[/]",
        f"  API docs      {base}/docs      Admin API docs  {base}/admin/v2/docs",
        f"  console       {base}/",
        f"  inspector     {base}/inspect/<bin>/... records what functions send: {base}/v1/inspector/requests",
        f"  demo partner  {setup.partner_id}, key {setup.partner_key}  (kept in {settings.data_dir / 'demo.json'})",
        f"  apps on store {store_id}: {apps}",
        "[bold]try[/] (in another terminal, in this directory):",
        f"  {exports}",
        "  # 1. create a customer: CRM Sync and Welcome Mail run",
        f"  curl -s {base}/admin/v2/customers -H \"Authorization: Bearer $APPFN_KEY\" -H \"X-Store-Id: {store_id}\" "
        f"-H 'content-type: application/json' -d '{customer}'",
        "  # 2. what the CRM received",
        f"  curl -s '{base}/v1/inspector/requests?bin=crm&limit=1' -H \"Authorization: Bearer $APPFN_KEY\"",
        "  # 3. preview CRM Sync with that customer's id",
        f"  appfn preview --app $CRM_APP --trigger customer.created --store {store_id} --customer-id <id from 1.>",
    ]
    for line in lines:
        out.print(line if line.startswith("[bold]") else escape(line), soft_wrap=True, highlight=False)
