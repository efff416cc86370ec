"""Runs over HTTP: list them, read one with its steps, re-run or cancel it.

Reading needs the read scope, re-running and cancelling the write scope (even for shell
and python actions: see :mod:`tickwork.service.runs`). A token bound to a namespace sees
only that namespace's runs; any other run is 404 to it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from tickwork.api.deps import NodeDep, Reader, Writer
from tickwork.api.problems import COMMON_PROBLEMS, problem_responses
from tickwork.api.representations import (
    Execution,
    ExecutionDetail,
    Page,
    Step,
    decode_cursor,
    encode_cursor,
)
from tickwork.api.schedule_views import instant_of
from tickwork.errors import InvalidSpec
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger
from tickwork.service.runs import MAX_PAGE
from tickwork.spec.types import NAME_PATTERN
from tickwork.store.executions import ExecutionFilter

router = APIRouter(
    prefix="/executions",
    tags=["executions"],
    responses=COMMON_PROBLEMS,
)

_HIDDEN = problem_responses(_404="No such run, or not in the token's namespace.")
_ENDED = problem_responses(_409="The run's status does not allow it (see `detail`).")
_NOT_DEAD = problem_responses(_409="The run is not dead.")


@router.get("")
def list_executions(
    node: NodeDep,
    caller: Reader,
    schedule_id: uuid.UUID | None = None,
    namespace: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    status: Annotated[
        list[ExecutionStatus] | None, Query(description="Repeat to match any of several.")
    ] = None,
    trigger: ExecutionTrigger | None = None,
    since: Annotated[
        str | None,
        Query(
            description="RFC 3339 with an offset; runs scheduled for this instant or later.",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(
            description="RFC 3339 with an offset; runs scheduled for before this instant.",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before.")] = None,
) -> Page[Execution]:
    """Runs, newest first (by id, which sorts by creation), filtered and paged."""
    where = ExecutionFilter(
        schedule_id=schedule_id,
        namespace=namespace,
        statuses=status,
        trigger=trigger,
        since=instant_of(since, "since"),
        until=instant_of(until, "until"),
    )
    before = _cursor_id(cursor) if cursor is not None else None
    page = node.runs.list_page(where, caller=caller, before=before, limit=limit)
    items = [Execution.of(record) for record in page.items]
    return Page(items=items, next_cursor=encode_cursor(str(items[-1].id)) if page.more else None)


@router.get("/{execution_id}", responses=_HIDDEN)
def get_execution(execution_id: uuid.UUID, node: NodeDep, caller: Reader) -> ExecutionDetail:
    """The run with every attempt of its steps, oldest first."""
    detail = node.runs.get(execution_id, caller=caller)
    return ExecutionDetail(
        **Execution.of(detail.execution).model_dump(),
        steps=[Step.of(step) for step in detail.steps],
    )


@router.post("/{execution_id}/retry", status_code=201, responses={**_HIDDEN, **_ENDED})
def retry_execution(
    execution_id: uuid.UUID, node: NodeDep, caller: Writer, request: Request, response: Response
) -> Execution:
    """Start a new run (trigger `retry`) of an ended run, with its input and instant."""
    created = node.runs.rerun(execution_id, caller=caller)
    response.headers["Location"] = str(request.url_for("get_execution", execution_id=created.id))
    return Execution.of(created)


@router.post("/{execution_id}/cancel", responses={**_HIDDEN, **_ENDED})
def cancel_execution(execution_id: uuid.UUID, node: NodeDep, caller: Writer) -> Execution:
    """Cancel a run that has not ended; a running one is stopped by its worker."""
    return Execution.of(node.runs.cancel(execution_id, caller=caller))


@router.post(
    "/{execution_id}/dismiss",
    responses={**_HIDDEN, **_NOT_DEAD},
)
def dismiss_execution(execution_id: uuid.UUID, node: NodeDep, caller: Writer) -> Execution:
    """Remove a dead run from the dead list; it stays in the history."""
    return Execution.of(node.runs.dismiss(execution_id, caller=caller))


def _cursor_id(cursor: str) -> uuid.UUID:
    (value,) = decode_cursor(cursor, 1)
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidSpec("cursor", "", "is not a cursor this list returned") from None
