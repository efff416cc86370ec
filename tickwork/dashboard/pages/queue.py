"""The queue and its workers: how deep, how old the oldest waiting run, who is working,
and the dead runs (retries exhausted) with a retry and a remove for each."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tickwork.dashboard.web import DashboardDep, PageRoute, ViewerDep, render
from tickwork.schedule.policies import ExecutionStatus
from tickwork.store.executions import ExecutionFilter

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/queue")
def queue_page(request: Request, viewer: ViewerDep, dashboard: DashboardDep) -> HTMLResponse:
    dead = dashboard.node.runs.list_page(
        ExecutionFilter(statuses=[ExecutionStatus.DEAD], dismissed=False),
        caller=viewer.caller,
        limit=50,
    )
    return render(
        request,
        "queue.html",
        viewer,
        queue=dashboard.overview.queue(),
        dead=dead.items,
        more_dead=dead.more,
    )
