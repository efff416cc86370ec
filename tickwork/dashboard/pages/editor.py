"""The schedule editor: create and edit through the form, and the live cron check it
calls as the user types (with the session, not a bearer token).

The form builds the same schedule document as the API and YAML; the service validates
it whole and names each wrong field, which the page shows next to that field. Nothing is
written unless all of it is valid.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from tickwork.cron import CronExpr, CronSyntaxError, resolve_zone
from tickwork.cron.explain import describe
from tickwork.dashboard.schedule_form import (
    MISFIRE_CHOICES,
    OVERLAP_CHOICES,
    PRESETS,
    RETRY_ON,
    ScheduleForm,
)
from tickwork.dashboard.web import (
    DashboardDep,
    PageRoute,
    PostedDep,
    Viewer,
    ViewerDep,
    parse_id,
    redirect,
    render,
)
from tickwork.errors import Conflict, Forbidden, InvalidSpec, UnknownTimeZone
from tickwork.spec.documents import VALIDATION_HASH_KEY
from tickwork.store.protocols import ScheduleRecord

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PREVIEW_COUNT = 5


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


@router.get("/schedules/new")
def new_schedule(request: Request, viewer: ViewerDep) -> HTMLResponse:
    return _editor(request, viewer, ScheduleForm.blank(viewer.caller.namespace), None)


@router.post("/schedules/new")
def create_schedule(request: Request, posted: PostedDep, dashboard: DashboardDep) -> Response:
    form = ScheduleForm.of_post(posted.form)
    document = form.document()
    if form.valid:
        try:
            record = dashboard.node.schedules.create(document, caller=posted.caller)
        except InvalidSpec as exc:
            form.add_problems(exc)
        except Conflict as exc:
            form.add_error("name", str(exc))
        except Forbidden as exc:
            form.add_error("action_kind", str(exc))
        else:
            posted.viewer.session.flash("ok", f"Created {record.name}.")
            return redirect(f"/schedules/{record.id}")
    return _editor(request, posted.viewer, form, None, status_code=422)


@router.get("/schedules/{schedule_id}/edit")
def edit_schedule(
    schedule_id: str, request: Request, viewer: ViewerDep, dashboard: DashboardDep
) -> HTMLResponse:
    record = dashboard.node.schedules.get(parse_id(schedule_id, "schedule"), caller=viewer.caller)
    return _editor(request, viewer, ScheduleForm.of_document(record.document), record)


@router.post("/schedules/{schedule_id}/edit")
def update_schedule(
    schedule_id: str, request: Request, posted: PostedDep, dashboard: DashboardDep
) -> Response:
    sid = parse_id(schedule_id, "schedule")
    record = dashboard.node.schedules.get(sid, caller=posted.caller)
    form = ScheduleForm.of_post(posted.form)
    document = form.document(record.document)
    revision = posted.form.text("revision")
    if form.valid:
        try:
            updated = dashboard.node.schedules.update(
                sid,
                document,
                expected_revision=int(revision) if revision.isdigit() else None,
                caller=posted.caller,
            )
        except InvalidSpec as exc:
            form.add_problems(exc)
        except Conflict as exc:
            form.general.append(f"{exc} Reload the page to see the new version.")
        except Forbidden as exc:
            form.add_error("action_kind", str(exc))
        else:
            posted.viewer.session.flash("ok", f"Saved {updated.name}.")
            return redirect(f"/schedules/{sid}")
    return _editor(request, posted.viewer, form, record, status_code=422)


def _editor(
    request: Request,
    viewer: Viewer,
    form: ScheduleForm,
    record: ScheduleRecord | None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "editor.html",
        viewer,
        status_code=status_code,
        form=form,
        schedule=record,
        zones=time_zones(),
        presets=PRESETS,
        overlap_choices=OVERLAP_CHOICES,
        misfire_choices=MISFIRE_CHOICES,
        retry_on=RETRY_ON,
        preview=cron_preview(
            str(form.get("cron")), str(form.get("timezone") or "UTC"), datetime.now(UTC)
        )
        if form.get("trigger_kind", "cron") == "cron"
        else None,
    )


@router.get("/ui/cron")
def cron_check(
    viewer: ViewerDep,
    dashboard: DashboardDep,
    expression: Annotated[str, Query(max_length=500)] = "",
    timezone: Annotated[str, Query(max_length=64)] = "UTC",
) -> JSONResponse:
    """The live check of the editor's cron field: valid or why not, what it means, and
    its next fires in the chosen zone."""
    return JSONResponse(
        cron_preview(expression, timezone, dashboard.node.clock.now()),
        headers={"Cache-Control": "no-store"},
    )


def cron_preview(expression: str, timezone: str, now: datetime) -> dict[str, object]:
    answer: dict[str, object] = {"valid": False, "error": None, "description": None, "next": []}
    try:
        zone = resolve_zone(timezone or "UTC")
    except UnknownTimeZone as exc:
        answer["zone_error"] = exc.reason
        zone = UTC
    if not expression.strip():
        answer["error"] = "Enter a cron expression, or pick a preset."
        return answer
    try:
        parsed = CronExpr.parse(expression.strip(), hash_key=VALIDATION_HASH_KEY)
    except CronSyntaxError as exc:
        answer["error"] = str(exc)
        return answer
    fires = list(islice(parsed.iter_after(now, zone), PREVIEW_COUNT))
    answer.update(
        valid=True,
        description=describe(parsed),
        next=[
            {
                "local": fire.strftime("%a %Y-%m-%d %H:%M:%S ") + (fire.tzname() or ""),
                "utc": fire.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            }
            for fire in fires
        ],
    )
    return answer
