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


def _form(request: Request, next_url: str | None, error: str | None = None, status: int = 200) -> Response:
    demo = web.demo_key(request, after_sign_out=True) is not None
    return web.render(request, "login.html", None, status=status, next=_safe_next(next_url), error=error, demo=demo)


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return _form(request, next)


@router.post("/login/demo")
async def login_demo(request: Request) -> Response:
    """``--demo`` on loopback: sign in as the demo partner again after signing out."""
    key = web.demo_key(request, after_sign_out=True)
    if key is None:
        return _form(request, "/", "There is no demo partner on this server.", 404)
    response = web.redirect("/")
    session.set_session(response, request, key)
    return response


@router.post("/login")
async def login(
    request: Request, key: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"
) -> Response:
    key = key.strip()
    if not key:
        return _form(request, next, "Enter an API key.", 400)
    try:
        await verify(request, key)
    except ApiError:
        return _form(request, next, "This API key is not valid (unknown or revoked).", 401)
    response = web.redirect(_safe_next(next))
    session.set_session(response, request, key)
    return response


@router.post("/logout")
async def logout(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    await web.check_form_csrf(request, who)
    response = web.redirect("/login")
    session.clear_session(response, signed_out=True)
    return response
