"""The schedules table, one schedule's page, and what can be done to it from there:
pause with a note, resume, trigger now, delete."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from tickwork.api.schedule_views import describe_trigger
from tickwork.cron import resolve_zone
from tickwork.dashboard.charts import run_chart
from tickwork.dashboard.views import run_points, schedule_rows, trigger_text
from tickwork.dashboard.web import (
    DashboardDep,
    PageRoute,
    PostedDep,
    ViewerDep,
    parse_id,
    redirect,
    render,
)
from tickwork.schedule.policies import ScheduleState
from tickwork.service.managed import overrides
from tickwork.service.schedules import MAX_PAGE

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PER_PAGE = 50
METRICS_WINDOW = timedelta(days=1)
Text = Annotated[str, Query(max_length=128, pattern=r"^[^\x00]*$")]


@router.get("/schedules")
def schedules_table(
    request: Request,
    viewer: ViewerDep,
    dashboard: DashboardDep,
    q: Text = "",
    tag: Text = "",
    state: Text = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    chosen_state = ScheduleState(state) if state in set(ScheduleState) else None
    found = dashboard.node.schedules.page(
        tag=tag.strip() or None, state=chosen_state, limit=MAX_PAGE, caller=viewer.caller
    )
    needle = q.strip().lower()
    matching = [
        record
        for record in found.items
        if not needle
        or needle in record.name.lower()
        or needle in record.namespace.lower()
        or needle in str(record.document.get("description") or "").lower()
    ]
    shown = matching[(page - 1) * PER_PAGE : page * PER_PAGE]
    tags = sorted({t for record in found.items for t in record.document.get("tags") or ()})
    return render(
        request,
        "schedules.html",
        viewer,
        rows=schedule_rows(dashboard.node, shown, viewer.caller),
        q=q,
        tag=tag,
        state=state,
        states=[s.value for s in ScheduleState],
        tags=tags,
        page=page,
        pages=max(1, -(-len(matching) // PER_PAGE)),
        total=len(matching),
        capped=found.more,
    )


@router.get("/schedules/{schedule_id}")
def schedule_page(
    schedule_id: str, request: Request, viewer: ViewerDep, dashboard: DashboardDep
) -> HTMLResponse:
    service = dashboard.node.schedules
    sid = parse_id(schedule_id, "schedule")
    record = service.get(sid, caller=viewer.caller)
    history = service.history(sid, limit=50, caller=viewer.caller)
    zone = resolve_zone(record.timezone)
    fires = service.next_fires(sid, 10, caller=viewer.caller)
    return render(
        request,
        "schedule.html",
        viewer,
        schedule=record,
        document=record.document,
        trigger_text=trigger_text(record),
        description=describe_trigger(record),
        last=service.last_runs([sid]).get(sid),
        history=history.items,
        more_history=history.more,
        chart=run_chart(run_points(history.items)),
        metrics=service.metrics(sid, METRICS_WINDOW, caller=viewer.caller),
        next_fires=[(fire.astimezone(zone), fire.astimezone(UTC)) for fire in fires],
        overrides=overrides(record.document, record.managed_document),
    )


@router.post("/schedules/{schedule_id}/pause")
def pause(schedule_id: str, posted: PostedDep, dashboard: DashboardDep) -> Response:
    sid = parse_id(schedule_id, "schedule")
    note = posted.form.text("note") or None
    record = dashboard.node.schedules.pause(sid, note, caller=posted.caller)
    posted.viewer.session.flash("ok", f"Paused {record.name}.")
    return redirect(posted.back(f"/schedules/{sid}"))


@router.post("/schedules/{schedule_id}/resume")
def resume(schedule_id: str, posted: PostedDep, dashboard: DashboardDep) -> Response:
    sid = parse_id(schedule_id, "schedule")
    record = dashboard.node.schedules.resume(sid, caller=posted.caller)
    posted.viewer.session.flash("ok", f"Resumed {record.name}: it fires again from now on.")
    return redirect(posted.back(f"/schedules/{sid}"))


@router.post("/schedules/{schedule_id}/trigger")
def trigger(schedule_id: str, posted: PostedDep, dashboard: DashboardDep) -> Response:
    sid = parse_id(schedule_id, "schedule")
    run, _new = dashboard.node.schedules.trigger_now(
        sid, idempotency_key=posted.form.text("idempotency_key") or None, caller=posted.caller
    )
    posted.viewer.session.flash("ok", "Started a run now.")
    return redirect(f"/runs/{run.id}")


@router.post("/schedules/{schedule_id}/delete")
def delete(schedule_id: str, posted: PostedDep, dashboard: DashboardDep) -> Response:
    sid = parse_id(schedule_id, "schedule")
    record = dashboard.node.schedules.get(sid, caller=posted.caller)
    if posted.form.text("confirm") != record.name:
        posted.viewer.session.flash("error", f"Type {record.name} to confirm the deletion.")
        return redirect(f"/schedules/{sid}")
    cancelled = dashboard.node.schedules.delete(
        sid, expected_revision=record.revision, caller=posted.caller
    )
    extra = f"; {cancelled} unfinished runs cancelled" if cancelled else ""
    posted.viewer.session.flash("ok", f"Deleted {record.name}{extra}.")
    return redirect("/schedules")
