"""The console's first page: the viewer's apps and the latest executions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from appfn import store
from appfn.console import web

router = APIRouter()

_RECENT = 10


@router.get("/")
async def home(request: Request, who: Annotated[web.Viewer, Depends(web.viewer)]) -> Response:
    def load(s: Session) -> tuple[list[store.App], list[store.Execution]]:
        apps = store.list_apps(s, partner_id=who.partner_id)
        recent = store.list_executions(s, partner_id=who.partner_id, limit=_RECENT).items
        return apps, recent

    apps, recent = await web.call(web.read(request, load))
    return web.render(request, "home.html", who, nav="home", apps=apps, recent=recent)
