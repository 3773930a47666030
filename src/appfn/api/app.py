"""The HTTP API: ``create_app(platform)`` gives the ASGI app that ``appfn serve`` runs.
OpenAPI is served at ``/openapi.json`` and ``/docs``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from appfn import __version__
from appfn.api import errors
from appfn.api.bodylimit import BodyLimit
from appfn.api.routes import apps, events, executions, inspector, preview, stores, system
from appfn.console.app import install_console
from appfn.demo.api.app import create_admin_app
from appfn.platform import Platform


def create_app(platform: Platform, *, manage_lifecycle: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await platform.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await platform.stop()

    app = FastAPI(
        title="appfn",
        version=__version__,
        summary="Self-hostable App Functions: sandboxed functions run on store events.",
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry hooks check their state on every request; appfn exports
        # its own Prometheus metrics (/metrics), and the check cost ~5 % of single-event ingest.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.platform = platform
    app.state.key_cache = {}
    app.state.stores_cache = [0.0, {}]
    errors.install(app)
    # Ingestion first: the router tries routes in order and this is the hot path.
    for module in (events, system, apps, preview, stores, executions, inspector):
        app.include_router(module.router)
    admin = create_admin_app(platform)
    app.mount("/admin/v2", admin)  # the demo store's Admin API (docs/demo-store.md)
    platform.admin_api.attach(admin)  # functions reach it in-process, token added (dispatch/outbound.py)
    install_console(app, platform)  # the web console at / (docs/console.md)
    app.add_middleware(events.IngestEndpoints)  # POST /v1/events(:batch) ahead of routing, inside BodyLimit
    app.add_middleware(
        BodyLimit,
        max_bytes=platform.settings.max_body_bytes,
        per_path={"/v1/events:batch": platform.settings.max_batch_bytes},
    )
    return app
