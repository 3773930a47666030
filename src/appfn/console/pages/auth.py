"""Sign in with an API key, sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from appfn.api.auth import verify
from appfn.api.errors import ApiError
from appfn.console import session, web

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after sign-in would help phishing.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return web.render(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login")
async def login(
    request: Request, key: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"
) -> Response:
    key = key.strip()
    if not key:
        return web.render(request, "login.html", None, status=400, next=_safe_next(next), error="Enter an API key.")
    try:
        await verify(request, key)
    except ApiError:
        error = "This API key is not valid (unknown or revoked)."
        return web.render(request, "login.html", None, status=401, next=_safe_next(next), error=error)
    response = web.redirect(_safe_next(next))
    session.set_session(response, request, key)
    return response


@router.post("/logout")
async def logout(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    await web.check_form_csrf(request, who)
    response = web.redirect("/login")
    session.clear_session(response)
    return response
