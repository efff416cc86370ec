"""The schedules resource: create, read, list, change, pause, start runs, look back.

Every rule (validation, who may see and change what, revisions) lives in
:class:`~tickwork.service.schedules.ScheduleService`; routes read the request, call it
and render with :mod:`tickwork.api.schedule_views`. Responses that carry a schedule carry
its ``ETag`` (``"r<revision>"``); ``If-Match`` with it makes PUT, PATCH and DELETE refuse
(412) to overwrite a change made since. Without ``If-Match`` the last write wins.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query
from fastapi.responses import JSONResponse

from tickwork.api.deps import NodeDep, Reader, Writer
from tickwork.api.problems import COMMON_PROBLEMS, PreconditionFailed, problem_responses
from tickwork.api.representations import Execution, Page, encode_cursor
from tickwork.api.schedule_views import (
    Backfilled,
    BackfillRequest,
    Deleted,
    Durations,
    Lateness,
    Metrics,
    Missed,
    MissedItem,
    NextFire,
    NextFires,
    PauseRequest,
    RawJson,
    Schedule,
    TriggerRequest,
    document_of,
    execution_cursor,
    instant_of,
    parse_body,
    render,
    revision_of,
    schedule_cursor,
    schedule_response,
)
from tickwork.cron import resolve_zone
from tickwork.errors import Conflict
from tickwork.node import Node
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger, ScheduleState
from tickwork.service.schedules import MAX_PAGE
from tickwork.spec.documents import ScheduleDocument
from tickwork.store.protocols import ScheduleRecord

router = APIRouter(
    prefix="/schedules",
    tags=["schedules"],
    responses=COMMON_PROBLEMS,
)

BY_ID = "/{schedule_id}"
IfMatch = Annotated[
    str | None,
    Header(description='"r<revision>" from an ETag: refuse (412) if it changed since.'),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
NO_NUL = r"^[^\x00]*$"
"""Filters that cannot match anything find nothing, but a NUL cannot even be compared
(PostgreSQL text cannot hold one): that is refused."""
WINDOWS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}

_DOCUMENT_BODY = Body(description="A schedule document (read-only fields sent back are ignored).")
_SCHEDULE_BODY: dict[str, Any] = {"requestBody": {"required": True}}
_MERGE_PATCH: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "description": "A JSON merge patch (RFC 7396) of the schedule document: "
                    "null removes a field, an object merges, anything else replaces.",
                }
            }
            for media in ("application/merge-patch+json", "application/json")
        },
    }
}


def _location(record: ScheduleRecord) -> str:
    return f"/api/v1/schedules/{record.id}"


def _respond(node: Node, record: ScheduleRecord, **options: Any) -> JSONResponse:
    last = node.schedules.last_runs([record.id]).get(record.id)
    return schedule_response(record, last, **options)


@contextmanager
def _preconditions(if_match: str | None) -> Iterator[int | None]:
    """The revision ``If-Match`` names; a revision conflict is then a failed precondition.

    The service checks the revision after finding the schedule, so a schedule that is not
    there is 404 whatever the header says (RFC 9110, 13.2.1).
    """
    expected = revision_of(if_match)
    try:
        yield expected
    except Conflict as exc:
        if expected is None or exc.constraint != "revision":
            raise
        if expected == 0:
            raise PreconditionFailed(
                f"If-Match {if_match!r} is not an ETag of this API; send the ETag of a GET"
            ) from None
        raise PreconditionFailed(str(exc)) from None


# --------------------------------------------------------------------------------------
# The collection


@router.post(
    "",
    status_code=201,
    response_model=Schedule,
    responses=problem_responses(400, 409),
    openapi_extra=_SCHEDULE_BODY,
)
def create_schedule(
    node: NodeDep,
    caller: Writer,
    body: Annotated[object, RawJson(ScheduleDocument), _DOCUMENT_BODY] = None,
) -> JSONResponse:
    """Create a schedule from its document. Shell and Python actions need the admin scope."""
    record = node.schedules.create(document_of(body), caller=caller)
    return schedule_response(record, None, status_code=201, location=_location(record))


@router.get("", response_model=Page[Schedule])
def list_schedules(
    node: NodeDep,
    caller: Reader,
    namespace: Annotated[str | None, Query(max_length=128, pattern=NO_NUL)] = None,
    tag: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    state: ScheduleState | None = None,
    name_prefix: Annotated[str | None, Query(max_length=128, pattern=NO_NUL)] = None,
    limit: Limit = 50,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> JSONResponse:
    """Schedules by namespace, then name; pass ``next_cursor`` back as ``cursor``."""
    found = node.schedules.page(
        namespace=namespace,
        tag=tag,
        state=state,
        name_prefix=name_prefix,
        after=schedule_cursor(cursor),
        limit=limit,
        caller=caller,
    )
    last_runs = node.schedules.last_runs([record.id for record in found.items])
    items = [render(record, last_runs.get(record.id)) for record in found.items]
    next_cursor = None
    if found.more:
        last = found.items[-1]
        next_cursor = encode_cursor(last.namespace, last.name)
    return JSONResponse({"items": items, "next_cursor": next_cursor})


# --------------------------------------------------------------------------------------
# One schedule


@router.get(BY_ID, response_model=Schedule, responses=problem_responses(404))
def get_schedule(schedule_id: uuid.UUID, node: NodeDep, caller: Reader) -> JSONResponse:
    record, last = node.schedules.get_with_last_run(schedule_id, caller=caller)
    return schedule_response(record, last)


@router.put(
    BY_ID,
    response_model=Schedule,
    responses=problem_responses(400, 404, 412),
    openapi_extra=_SCHEDULE_BODY,
)
def replace_schedule(
    schedule_id: uuid.UUID,
    node: NodeDep,
    caller: Writer,
    if_match: IfMatch = None,
    body: Annotated[object, RawJson(ScheduleDocument), _DOCUMENT_BODY] = None,
) -> JSONResponse:
    """Replace the document; ``name`` and ``namespace`` cannot change."""
    with _preconditions(if_match) as expected:
        record = node.schedules.update(
            schedule_id, document_of(body), expected_revision=expected, caller=caller
        )
    return _respond(node, record)


@router.patch(
    BY_ID,
    response_model=Schedule,
    responses=problem_responses(400, 404, 412),
    openapi_extra=_MERGE_PATCH,
)
def patch_schedule(
    schedule_id: uuid.UUID,
    node: NodeDep,
    caller: Writer,
    if_match: IfMatch = None,
    body: Annotated[object, Body(media_type="application/merge-patch+json")] = None,
) -> JSONResponse:
    """Change some fields (JSON merge patch); the result is validated whole."""
    with _preconditions(if_match) as expected:
        record = node.schedules.patch(
            schedule_id,
            document_of(body, "a merge patch"),
            expected_revision=expected,
            caller=caller,
        )
    return _respond(node, record)


@router.delete(BY_ID, responses=problem_responses(404, 412))
def delete_schedule(
    schedule_id: uuid.UUID, node: NodeDep, caller: Writer, if_match: IfMatch = None
) -> Deleted:
    """Delete it; unfinished runs are cancelled, finished ones stay in the history."""
    with _preconditions(if_match) as expected:
        cancelled = node.schedules.delete(schedule_id, expected_revision=expected, caller=caller)
    return Deleted(id=schedule_id, cancelled_runs=cancelled)


@router.post(BY_ID + "/pause", response_model=Schedule, responses=problem_responses(400, 404, 409))
def pause_schedule(
    schedule_id: uuid.UUID,
    node: NodeDep,
    caller: Writer,
    body: Annotated[object, RawJson(PauseRequest), Body()] = None,
) -> JSONResponse:
    """Stop firing; instants that pass while paused are recorded ``skipped``."""
    note = parse_body(PauseRequest, body).note
    return _respond(node, node.schedules.pause(schedule_id, note, caller=caller))


@router.post(BY_ID + "/resume", response_model=Schedule, responses=problem_responses(404, 409))
def resume_schedule(schedule_id: uuid.UUID, node: NodeDep, caller: Writer) -> JSONResponse:
    """Fire again from now on (what passed while paused is not caught up)."""
    return _respond(node, node.schedules.resume(schedule_id, caller=caller))


# --------------------------------------------------------------------------------------
# Starting runs by hand


@router.post(
    BY_ID + "/trigger",
    status_code=201,
    response_model=Execution,
    responses={
        200: {"description": "The Idempotency-Key was used before: the run it started."},
        **problem_responses(400, 404),
    },
)
def trigger_schedule(
    schedule_id: uuid.UUID,
    node: NodeDep,
    caller: Writer,
    idempotency_key: Annotated[
        str | None,
        Header(description="The same key returns the run it started the first time."),
    ] = None,
    body: Annotated[object, RawJson(TriggerRequest), Body()] = None,
) -> JSONResponse:
    """Start a run now, whatever the schedule's state and overlap policy."""
    request = parse_body(TriggerRequest, body)
    run, new = node.schedules.trigger_now(
        schedule_id, input=request.input, idempotency_key=idempotency_key, caller=caller
    )
    return JSONResponse(
        Execution.of(run).model_dump(mode="json"),
        status_code=201 if new else 200,
        headers={"Location": f"/api/v1/executions/{run.id}"},
    )


@router.post(
    BY_ID + "/backfill",
    status_code=201,
    responses=problem_responses(400, 404),
    openapi_extra=_SCHEDULE_BODY,
)
def backfill_schedule(
    schedule_id: uuid.UUID,
    node: NodeDep,
    caller: Writer,
    body: Annotated[object, RawJson(BackfillRequest), Body()] = None,
) -> Backfilled:
    """One run per fire instant in [start, end], oldest first, one after another unless
    the overlap policy is ``allow``."""
    request = parse_body(BackfillRequest, body)
    runs = node.schedules.backfill(
        schedule_id, request.start, request.end, input=request.input, caller=caller
    )
    return Backfilled(items=[Execution.of(run) for run in runs])


# --------------------------------------------------------------------------------------
# Looking ahead and back


@router.get(BY_ID + "/next", responses=problem_responses(404))
def next_fires(
    schedule_id: uuid.UUID,
    node: NodeDep,
    caller: Reader,
    count: Annotated[int, Query(ge=1, le=100)] = 10,
    after: Annotated[
        str | None,
        Query(
            description="RFC 3339 with an offset; default: now.",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
) -> NextFires:
    """The next nominal fire instants, in the schedule's zone and in UTC."""
    start = instant_of(after, "after")
    schedule = node.schedules.get(schedule_id, caller=caller)
    fires = node.schedules.next_fires(schedule_id, count, after=start, caller=caller)
    zone = resolve_zone(schedule.timezone)
    return NextFires(
        timezone=schedule.timezone,
        next=[NextFire(local=fire.astimezone(zone), utc=fire.astimezone(UTC)) for fire in fires],
    )


@router.get(BY_ID + "/executions", responses=problem_responses(404))
def list_executions(
    schedule_id: uuid.UUID,
    node: NodeDep,
    caller: Reader,
    status: Annotated[list[ExecutionStatus] | None, Query()] = None,
    trigger: Annotated[list[ExecutionTrigger] | None, Query()] = None,
    limit: Limit = 50,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> Page[Execution]:
    """Its runs (and skipped or missed fires), newest nominal instant first."""
    found = node.schedules.history(
        schedule_id,
        statuses=status or (),
        triggers=trigger or (),
        before=execution_cursor(cursor),
        limit=limit,
        caller=caller,
    )
    next_cursor = None
    if found.more:
        last = found.items[-1]
        next_cursor = encode_cursor(last.scheduled_for.isoformat(), str(last.id))
    return Page[Execution](
        items=[Execution.of(run) for run in found.items], next_cursor=next_cursor
    )


@router.get(BY_ID + "/missed", responses=problem_responses(404))
def list_missed(
    schedule_id: uuid.UUID,
    node: NodeDep,
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Missed:
    """Every fire instant that did not run (``missed`` or ``skipped``), oldest first;
    stored ranges are listed instant by instant."""
    found = node.schedules.missed(schedule_id, limit=limit, caller=caller)
    return Missed(
        items=[
            MissedItem(scheduled_for=m.scheduled_for, status=str(m.status), reason=m.reason)
            for m in found
        ]
    )


@router.get(BY_ID + "/metrics", responses=problem_responses(404))
def schedule_metrics(
    schedule_id: uuid.UUID,
    node: NodeDep,
    caller: Reader,
    window: Literal["1h", "24h", "7d", "30d"] = "24h",
) -> Metrics:
    """How its runs created in the window went: counts, success rate, durations, lateness."""
    found = node.schedules.metrics(schedule_id, WINDOWS[window], caller=caller)
    return Metrics(
        window=window,
        since=found.since,
        counts={str(status): n for status, n in sorted(found.counts.items())},
        success_rate=found.success_rate,
        duration_ms=Durations(p50=found.duration_p50_ms, p95=found.duration_p95_ms),
        lateness_ms=Lateness(
            p50=found.lateness_p50_ms, p95=found.lateness_p95_ms, max=found.lateness_max_ms
        ),
    )
