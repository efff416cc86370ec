"""How runs and pages look in the REST API (shared by the routers that return them)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from tickwork.errors import InvalidSpec
from tickwork.store.protocols import ExecutionRecord
from tickwork.store.queue import StepRecord

__all__ = ["Execution", "ExecutionDetail", "Page", "Step", "decode_cursor", "encode_cursor"]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` as ``cursor`` for the next (None: the end)."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(*values: Any) -> str:
    """An opaque cursor carrying the sort key of the last item returned."""
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The values :func:`encode_cursor` packed; ``InvalidSpec`` (422) for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except ValueError:
        values = None
    if not isinstance(values, list) or len(values) != size:
        raise InvalidSpec("cursor", "", "is not a cursor this list returned")
    return values


def _duration_ms(started: datetime | None, finished: datetime | None) -> int | None:
    if started is None or finished is None:
        return None
    return int((finished - started).total_seconds() * 1000)


class Execution(BaseModel):
    """One run: a fire, a manual start, a backfill or a re-run."""

    id: uuid.UUID
    schedule_id: uuid.UUID | None
    schedule_name: str | None
    namespace: str
    workflow_name: str | None
    trigger: str = Field(description="schedule | manual | backfill | retry | webhook | event")
    scheduled_for: datetime = Field(description="The nominal fire instant.")
    status: str
    reason: str | None
    attempt: int
    max_attempts: int
    priority: int
    input: dict[str, Any]
    queued_at: datetime | None
    not_before: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    lateness_ms: int | None
    worker_id: str | None
    error: str | None
    result: Any = None
    dismissed_at: datetime | None = Field(
        default=None, description="When this dead run was removed from the dead list."
    )

    @classmethod
    def of(cls, record: ExecutionRecord) -> Execution:
        return cls(
            id=record.id,
            schedule_id=record.schedule_id,
            schedule_name=record.schedule_name,
            namespace=record.namespace,
            workflow_name=record.workflow_name,
            trigger=record.trigger.value,
            scheduled_for=record.scheduled_for,
            status=record.status.value,
            reason=record.reason,
            attempt=record.attempt,
            max_attempts=record.max_attempts,
            priority=record.priority,
            input=dict(record.input),
            queued_at=record.queued_at,
            not_before=record.not_before,
            started_at=record.started_at,
            finished_at=record.finished_at,
            duration_ms=_duration_ms(record.started_at, record.finished_at),
            lateness_ms=record.lateness_ms,
            dismissed_at=record.dismissed_at,
            worker_id=record.worker_id,
            error=record.error,
            result=record.result,
        )


class Step(BaseModel):
    """One attempt of one step."""

    step: str
    attempt: int
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    status_code: int | None
    exit_code: int | None
    output: str | None
    output_truncated: bool
    stderr: str | None
    failure: str | None
    detail: dict[str, Any] | None
    error: str | None

    @classmethod
    def of(cls, record: StepRecord) -> Step:
        return cls(
            step=record.step,
            attempt=record.attempt,
            status=record.status.value,
            started_at=record.started_at,
            finished_at=record.finished_at,
            duration_ms=_duration_ms(record.started_at, record.finished_at),
            status_code=record.status_code,
            exit_code=record.exit_code,
            output=record.output,
            output_truncated=record.output_truncated,
            stderr=record.stderr,
            failure=record.failure,
            detail=None if record.detail is None else dict(record.detail),
            error=record.error,
        )


class ExecutionDetail(Execution):
    """A run with every attempt of its steps, oldest first."""

    steps: list[Step]
