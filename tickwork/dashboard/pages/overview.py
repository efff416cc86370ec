"""The overview: schedules by state, runs of the last hour and day, what needs attention,
and the fires coming up on a timeline."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tickwork.dashboard.charts import Lane, timeline
from tickwork.dashboard.web import DashboardDep, PageRoute, ViewerDep, render
from tickwork.schedule.policies import ExecutionStatus

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HORIZON = timedelta(hours=1)
STATUS_ORDER = [s.value for s in ExecutionStatus]


@router.get("/")
def overview(request: Request, viewer: ViewerDep, dashboard: DashboardDep) -> HTMLResponse:
    caller = viewer.caller
    now = dashboard.node.clock.now()
    counts = dashboard.overview.counts(caller=caller)
    upcoming = dashboard.overview.upcoming(HORIZON, caller=caller)
    lanes = [
        Lane(
            item.name if item.namespace == "default" else f"{item.namespace}/{item.name}",
            f"/schedules/{item.schedule_id}",
            item.fires,
            more=item.more,
        )
        for item in upcoming
    ]
    return render(
        request,
        "overview.html",
        viewer,
        counts=counts,
        statuses=STATUS_ORDER,
        attention=dashboard.overview.attention(caller=caller),
        upcoming=upcoming,
        timeline=timeline(lanes, now, HORIZON),
        queue=dashboard.overview.queue(),
    )
