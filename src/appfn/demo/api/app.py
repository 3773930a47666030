"""``create_admin_app(platform)``: the Admin API as an ASGI sub-application, mounted by
``appfn.api.app`` at ``/admin/v2``. A sub-application (rather than a router on the main app)
so that its errors, unknown routes included, use the Admin API's format and the platform
API's handlers stay untouched. Its OpenAPI is at ``/admin/v2/openapi.json``."""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from appfn import __version__
from appfn.demo.api.ratelimit import RateLimiter
from appfn.demo.api.routes import catalog, customers, orders, products, shipments
from appfn.demo.config import DemoConfig
from appfn.demo.errors import AdminError
from appfn.demo.outbox import Outbox
from appfn.errors import ConflictError, NotFoundError, StoreUnavailableError, ValidationError

log = logging.getLogger(__name__)


@dataclass
class AdminState:
    platform: Any
    config: DemoConfig
    limiter: RateLimiter
    outbox: Outbox
    cache: dict[str, Any] = field(default_factory=dict)  # verified credentials, for a few seconds


# One state per platform, so tests and the console can reach the limiter of a running server.
_STATES: weakref.WeakKeyDictionary[Any, AdminState] = weakref.WeakKeyDictionary()


def admin_state(platform: Any) -> AdminState:
    state = _STATES.get(platform)
    if state is None:
        config = DemoConfig.from_settings(platform.settings)
        state = AdminState(
            platform, config, RateLimiter(config.rate_limit, config.rate_window_s),
            Outbox(platform.db, platform.ingestor),
        )  # fmt: skip
        _STATES[platform] = state
    return state


def create_admin_app(platform: Any) -> FastAPI:
    app = FastAPI(
        title="appfn demo store: Admin API",
        version=__version__,
        summary="A merchant Admin API like the original's /admin/v2, on the demo store's records.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.admin = admin_state(platform)
    _install_errors(app)
    for module in (customers, products, orders, shipments, catalog):
        app.include_router(module.router)
    return app


def _error(exc: AdminError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(AdminError)
    async def admin_error(_: Request, exc: AdminError) -> JSONResponse:
        return _error(exc)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields: dict[str, list[str]] = {}
        for problem in exc.errors():
            parts = [str(p) for p in problem.get("loc", ()) if p not in ("query", "path", "body", "header")]
            fields.setdefault(".".join(parts) or "request", []).append(problem.get("msg", "is invalid"))
        names = ", ".join(fields)
        return _error(AdminError(422, "invalid_fields", f"The given data was invalid: {names}", fields))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = f"No Admin API route {request.method} {request.url.path}"
            return _error(AdminError(404, "route_not_found", message))
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
            return _error(AdminError(405, "method_not_allowed", message, headers=dict(exc.headers or {})))
        return _error(AdminError(exc.status_code, "http_error", str(exc.detail)))

    @app.exception_handler(ValidationError)
    async def store_invalid(_: Request, exc: ValidationError) -> JSONResponse:
        fields: dict[str, list[str]] = {}
        for name, message in exc.errors:
            fields.setdefault(name or "request", []).append(message)
        return _error(AdminError(422, "invalid_fields", str(exc), fields))

    @app.exception_handler(NotFoundError)
    async def store_not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return _error(AdminError(404, "not_found", str(exc)))

    @app.exception_handler(ConflictError)
    async def conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return _error(AdminError(409, "conflict", f"{exc}: retry the request"))

    @app.exception_handler(StoreUnavailableError)
    async def unavailable(_: Request, exc: StoreUnavailableError) -> JSONResponse:
        return _error(AdminError(503, "unavailable", str(exc), headers={"Retry-After": "2"}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("Admin API: %s %s failed", request.method, request.url.path)
        return _error(AdminError(500, "server_error", "Something went wrong on the server"))
