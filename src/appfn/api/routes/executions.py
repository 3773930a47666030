"""Executions (one record per attempt), dead letters and replay."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from appfn import store
from appfn.api.auth import principal
from appfn.api.errors import ApiError
from appfn.api.routes.apps import _db
from appfn.api.serialize import plain
from appfn.dispatch.jobs import JOBS_QUEUE

router = APIRouter(tags=["executions"])
Who = store.Principal
STATUSES = ("queued", "running", "success", "failure", "timeout", "dead")


@router.get("/v1/executions")
async def list_executions(
    request: Request,
    who: Who = Depends(principal),  # noqa: B008
    app_id: str | None = None,
    store_id: int | None = Query(None, gt=0),
    trigger: str | None = None,
    status: str | None = Query(None, description="one of " + ", ".join(STATUSES) + "; comma-separated for several"),
    function_id: str | None = None,
    event_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = None,
) -> dict[str, Any]:
    """Newest first. Pass ``next_cursor`` back as ``cursor`` for the next (older) page."""
    statuses = [s.strip() for s in status.split(",")] if status else None
    for s in statuses or ():
        if s not in STATUSES:
            raise ApiError(422, "invalid request", [{"path": "status", "message": f"unknown status {s!r}"}])
    page = await _db(
        request, store.list_executions, partner_id=who.owner, app_id=app_id, store_id=store_id, trigger=trigger,
        status=statuses, function_id=function_id, event_id=event_id, since=since, until=until, limit=limit,
        cursor=cursor,
    )  # fmt: skip
    return {"items": plain(page.items), "next_cursor": page.next_cursor}


@router.get("/v1/executions/{execution_id}")
async def get_execution(execution_id: str, request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    return plain(await _db(request, store.get_execution, execution_id, partner_id=who.owner))


@router.post("/v1/executions/{execution_id}/replay", status_code=202)
async def replay(execution_id: str, request: Request, who: Who = Depends(principal)) -> dict[str, Any]:  # noqa: B008
    """Run a dead-lettered job again, with its attempts reset."""
    execution = await _db(request, store.get_execution, execution_id, partner_id=who.owner)
    if execution.status != "dead" or not execution.job_id:
        raise ApiError(409, f"execution {execution_id} is {execution.status}: only dead ones can be replayed")
    platform = request.app.state.platform
    if not await asyncio.to_thread(platform.broker.replay, execution.job_id):
        raise ApiError(409, f"the job of execution {execution_id} is not in the dead letters (replayed already?)")
    platform.dispatcher.wake()
    return {"replayed": execution_id, "job_id": execution.job_id}


@router.get("/v1/dead-letters")
async def dead_letters(
    request: Request,
    who: Who = Depends(principal),  # noqa: B008
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """Jobs that used all their attempts, newest first, with their last error. Partners see
    only those of their own installations."""
    platform = request.app.state.platform
    jobs = await asyncio.to_thread(platform.broker.dead_letters, JOBS_QUEUE, limit, offset)
    items = []
    for job in jobs:
        payload = json.loads(job.payload)
        items.append(
            {
                "job_id": job.job_id,
                "event_id": payload["event"]["id"],
                "trigger": payload["event"]["trigger"],
                "store_id": payload["event"]["store_id"],
                "installation_id": payload["installation_id"],
                "attempts": job.attempts,
                "error": job.error,
                "dead_at": datetime.fromtimestamp(job.dead_at).isoformat(),
            }
        )
    if not who.is_operator:
        mine = {i.id for i in await _db(request, store.list_installations, partner_id=who.owner)}
        items = [i for i in items if i["installation_id"] in mine]
    return {"items": items}
