"""What every console page shares: who is looking (``Viewer``), rendering a template with the
layout's context, running store calls off the event loop, and page errors as HTML."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse, RedirectResponse, Response

from appfn import errors, store
from appfn.api.auth import verify
from appfn.api.errors import ApiError
from appfn.console import session

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
T = TypeVar("T")

templates = Jinja2Templates(directory=str(TEMPLATES))
# Readable JSON for <pre> blocks: Arabic names stay Arabic (tojson would \u-escape them); the
# output is autoescaped like any other text.
def pretty_json(value: Any) -> str:
    """Indented JSON in the order it was produced, non-ASCII kept as is."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


templates.env.filters["pretty"] = pretty_json


class LoginRequired(Exception):
    """No (valid) session: the page redirects to the sign-in form."""


class PageError(Exception):
    """A page that cannot be shown: rendered as an error page with this status and message."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Viewer:
    principal: store.Principal
    key: str
    csrf: str
    new_session: bool = False  # the demo's automatic sign-in: the response sets the cookie

    @property
    def is_operator(self) -> bool:
        return self.principal.is_operator

    @property
    def partner_id(self) -> str | None:
        """The id to pass as ``partner_id=`` to store lookups (None: the operator sees all)."""
        return self.principal.owner


async def viewer(request: Request) -> Viewer:
    """FastAPI dependency of every signed-in page."""
    key = session.session_key(request)
    new_session = False
    if key is None:
        key = demo_key(request)
        new_session = key is not None
    if key is None:
        raise LoginRequired()
    try:
        principal = await verify(request, key)
    except ApiError as exc:
        raise LoginRequired() from exc
    return Viewer(principal, key, session.csrf_token(request.app.state.console_secret, key), new_session)


def demo_key(request: Request, *, after_sign_out: bool = False) -> str | None:
    """``appfn serve --demo`` on a loopback address opens straight into the demo partner
    (unless the browser signed out: then the sign-in page offers it)."""
    platform = request.app.state.platform
    if not platform.settings.demo or not _loopback(request):
        return None
    if request.cookies.get(session.SIGNED_OUT) and not after_sign_out:
        return None
    return getattr(platform, "demo_partner_key", None)


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


async def check_form_csrf(request: Request, who: Viewer) -> dict[str, Any]:
    """The posted form, after checking its CSRF token (403 page otherwise)."""
    form = await request.form()
    if not session.csrf_valid(request.app.state.console_secret, who.key, str(form.get(session.CSRF_FIELD) or "")):
        raise PageError(403, "This form expired or came from another site. Reload the page and try again.")
    return dict(form)


def render(request: Request, template: str, who: Viewer | None, status: int = 200, **context: Any) -> HTMLResponse:
    context.update(viewer=who, csrf=who.csrf if who else "", nav=context.get("nav", ""))
    response = templates.TemplateResponse(request, template, context, status_code=status)
    if who is not None and who.new_session:
        session.set_session(response, request, who.key)
    return response


def redirect(url: str) -> RedirectResponse:
    """After a form post: see the result page (303 turns the POST into a GET)."""
    return RedirectResponse(url, status_code=303)


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking store call in a thread; a missing record becomes a 404 page."""
    try:
        return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))
    except errors.NotFoundError as exc:
        raise PageError(404, str(exc)) from exc


def read(request: Request, fn: Callable[..., T]) -> Callable[[], T]:
    """``await call(read(request, lambda s: store.list_apps(s, ...)))``: ``fn`` in a read session."""
    db = request.app.state.platform.db

    def run() -> T:
        with db.read_session() as s:
            return fn(s)

    return run


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


def page_error_response(request: Request, exc: PageError) -> Response:
    return render(request, "error.html", None, status=exc.status, message=exc.message, code=exc.status)
