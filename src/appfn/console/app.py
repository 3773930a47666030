"""``install_console(app, platform)``: the console's pages, assets and error pages on the
server's app. Pages are left out of the OpenAPI document (it describes the JSON API)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from appfn.console import session, web
from appfn.console.pages import (
    apps,
    auth,
    catalog,
    executions,
    functions,
    home,
    installations,
    live,
    metrics,
    stores,
)
from appfn.platform import Platform


def install_console(app: FastAPI, platform: Platform) -> None:
    app.state.console_secret = session.load_secret(platform.settings.data_dir)
    app.mount("/assets", StaticFiles(directory=web.STATIC), name="assets")
    # live before executions: /executions/stream must not be taken for an execution id
    for module in (auth, home, apps, functions, live, executions, stores, installations, catalog, metrics):
        app.include_router(module.router, include_in_schema=False)

    @app.exception_handler(web.LoginRequired)
    async def login_required(request: Request, _: web.LoginRequired) -> Response:
        response = web.redirect(web.login_url(request))
        if session.session_key(request):
            session.clear_session(response)  # a revoked key: drop the stale cookie
        return response

    @app.exception_handler(web.PageError)
    async def page_error(request: Request, exc: web.PageError) -> Response:
        return web.page_error_response(request, exc)
