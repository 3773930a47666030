"""The one place where exceptions become HTTP answers: ``{"error": ..., "detail": ...}``.

Bad input is never a 500: unknown JSON, wrong types, schema violations, unknown triggers,
missing resources and conflicts each map to their 4xx here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from appfn import errors


class ApiError(Exception):
    """An HTTP error raised by a route: status, a short error, optional detail and headers."""

    def __init__(
        self, status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}
        super().__init__(error)


def error_body(error: str, detail: Any = None) -> dict[str, Any]:
    return {"error": error, "detail": detail}


def _json(status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(error, detail), status_code=status, headers=headers)


def _violations(violations: list[errors.Violation]) -> list[dict[str, str]]:
    return [{"path": v.path, "message": v.message} for v in violations]


def _request_field(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p != "body"] or ["body"]
    return ".".join(parts)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _json(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"path": _request_field(tuple(e.get("loc", ()))), "message": e.get("msg", "")} for e in exc.errors()]
        return _json(422, "invalid request", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _json(exc.status_code, str(exc.detail), None, getattr(exc, "headers", None))

    @app.exception_handler(errors.ContextValidationError)
    async def schema_violation(_: Request, exc: errors.ContextValidationError) -> JSONResponse:
        return _json(422, "schema violation", _violations(exc.violations))

    @app.exception_handler(errors.UnknownTriggerError)
    async def unknown_trigger(_: Request, exc: errors.UnknownTriggerError) -> JSONResponse:
        return _json(422, str(exc), {"suggestions": exc.suggestions})

    @app.exception_handler(errors.AppFnError)
    async def appfn_error(_: Request, exc: errors.AppFnError) -> JSONResponse:
        status, detail = _status_of(exc)
        return _json(status, str(exc), detail)


def _status_of(exc: errors.AppFnError) -> tuple[int, Any]:
    """Status for our exceptions that have no handler of their own."""
    if isinstance(exc, errors.NotFoundError):
        return 404, None
    if isinstance(exc, errors.ConflictError):
        return 409, None
    if isinstance(exc, errors.ValidationError | errors.HandlerLoadError | errors.CatalogError):
        field = getattr(exc, "field", None)
        line = getattr(exc, "line", None)
        return 422, {"field": field} if field else ({"line": line} if line else None)
    if isinstance(exc, errors.QueueUnavailableError | errors.StoreUnavailableError):
        return 503, None
    return 500, None
