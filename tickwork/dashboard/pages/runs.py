"""Runs: a filtered list, one run with its steps and their output, retry and cancel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from tickwork.dashboard.web import (
    DashboardDep,
    PageRoute,
    PostedDep,
    ViewerDep,
    parse_id,
    redirect,
    render,
)
from tickwork.errors import InvalidSpec, NotFound
from tickwork.schedule.policies import ExecutionStatus
from tickwork.store.executions import ExecutionFilter

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PER_PAGE = 50
UNFINISHED = frozenset({"queued", "running", "buffered", "waiting", "retrying"})
NEVER_RAN = frozenset({"skipped", "missed"})
Text = Annotated[str, Query(max_length=64, pattern=r"^[^\x00]*$")]


@router.get("/runs")
def runs_table(
    request: Request,
    viewer: ViewerDep,
    dashboard: DashboardDep,
    status: Annotated[list[str] | None, Query(max_length=20)] = None,
    schedule: Text = "",
    since: Text = "",
    until: Text = "",
    before: Text = "",
) -> HTMLResponse:
    statuses = [ExecutionStatus(s) for s in status or () if s in set(ExecutionStatus)]
    problems: dict[str, str] = {}
    where = ExecutionFilter(
        schedule_id=_optional_id(schedule, "schedule", problems),
        statuses=statuses or None,
        since=_instant(since, "since", problems),
        until=_instant(until, "until", problems),
    )
    page = dashboard.node.runs.list_page(
        where,
        caller=viewer.caller,
        before=_optional_id(before, "before", problems),
        limit=PER_PAGE,
    )
    schedules = dashboard.node.schedules.page(limit=500, caller=viewer.caller).items
    return render(
        request,
        "runs.html",
        viewer,
        runs=page.items,
        more=page.more,
        chosen=[s.value for s in statuses],
        statuses=[s.value for s in ExecutionStatus],
        schedule=schedule,
        schedules=schedules,
        since=since,
        until=until,
        problems=problems,
        next_before=str(page.items[-1].id) if page.more and page.items else None,
    )


@router.get("/runs/{run_id}")
def run_page(
    run_id: str, request: Request, viewer: ViewerDep, dashboard: DashboardDep
) -> HTMLResponse:
    detail = dashboard.node.runs.get(parse_id(run_id, "run"), caller=viewer.caller)
    run = detail.execution
    schedule = None
    if run.schedule_id is not None:
        try:
            schedule = dashboard.node.schedules.get(run.schedule_id, caller=viewer.caller)
        except NotFound:  # deleted since; its runs stay
            schedule = None
    return render(
        request,
        "run.html",
        viewer,
        run=run,
        steps=detail.steps,
        schedule=schedule,
        can_retry=run.status.value not in UNFINISHED | NEVER_RAN,
        can_cancel=run.status.value in UNFINISHED,
        duration_ms=_took(run.started_at, run.finished_at),
    )


@router.post("/runs/{run_id}/retry")
def retry(run_id: str, posted: PostedDep, dashboard: DashboardDep) -> Response:
    created = dashboard.node.runs.rerun(parse_id(run_id, "run"), caller=posted.caller)
    posted.viewer.session.flash("ok", "Started a new run with the same input and instant.")
    stay = posted.form.get("back")
    return redirect(posted.back() if stay else f"/runs/{created.id}")


@router.post("/runs/{run_id}/dismiss")
def dismiss(run_id: str, posted: PostedDep, dashboard: DashboardDep) -> Response:
    rid = parse_id(run_id, "run")
    dashboard.node.runs.dismiss(rid, caller=posted.caller)
    posted.viewer.session.flash(
        "ok", "Removed the run from the dead list; it stays in the history."
    )
    return redirect(posted.back(f"/runs/{rid}"))


@router.post("/runs/{run_id}/cancel")
def cancel(run_id: str, posted: PostedDep, dashboard: DashboardDep) -> Response:
    rid = parse_id(run_id, "run")
    dashboard.node.runs.cancel(rid, caller=posted.caller)
    posted.viewer.session.flash("ok", "Cancelled the run.")
    return redirect(posted.back(f"/runs/{rid}"))


def _took(started: datetime | None, finished: datetime | None) -> int | None:
    if started is None or finished is None:
        return None
    return int((finished - started).total_seconds() * 1000)


def _optional_id(text: str, field: str, problems: dict[str, str]) -> uuid.UUID | None:
    if not text.strip():
        return None
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        problems[field] = "is not a known id"
        return None


def _instant(text: str, field: str, problems: dict[str, str]) -> datetime | None:
    """A time from the filter form: ``YYYY-MM-DDTHH:MM`` in UTC (what a datetime-local
    input sends), or RFC 3339 with an offset."""
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        problems[field] = "is not a date and time like 2026-12-01T09:00"
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, InvalidSpec):
        problems[field] = "is out of range"
        return None
