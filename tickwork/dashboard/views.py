"""What the schedule pages show, gathered from the services: one row of the schedules
table, and the runs a detail page charts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tickwork.api.schedule_views import describe_trigger
from tickwork.dashboard.charts import RunPoint
from tickwork.node import Node
from tickwork.schedule.policies import ExecutionStatus
from tickwork.service.access import Caller
from tickwork.store.protocols import ExecutionRecord, ScheduleRecord

__all__ = ["ENDED", "ScheduleRow", "run_points", "schedule_rows", "success_rate"]

RECENT = 20
"""Runs each row of the schedules table looks back on."""
ENDED = frozenset(
    {
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.DEAD,
        ExecutionStatus.TIMED_OUT,
    }
)
"""Runs that count for a success rate (the same as the service's metrics)."""
_NEVER_RAN = frozenset({ExecutionStatus.SKIPPED, ExecutionStatus.MISSED})


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    record: ScheduleRecord
    trigger_text: str
    """The cron expression, interval or instant, as written."""
    description: str
    last: ExecutionRecord | None
    recent: list[str]
    """Statuses of the newest runs, oldest first."""
    success_rate: float | None


def trigger_text(record: ScheduleRecord) -> str:
    trigger = record.document["trigger"]
    return str(trigger.get("cron") or trigger.get("interval") or trigger.get("at"))


def schedule_rows(
    node: Node, records: Sequence[ScheduleRecord], caller: Caller
) -> list[ScheduleRow]:
    last_runs = node.schedules.last_runs([record.id for record in records])
    rows = []
    for record in records:
        history = node.schedules.history(record.id, limit=RECENT, caller=caller).items
        ran = [run for run in reversed(history) if run.status not in _NEVER_RAN]
        rows.append(
            ScheduleRow(
                record=record,
                trigger_text=trigger_text(record),
                description=describe_trigger(record),
                last=last_runs.get(record.id),
                recent=[run.status.value for run in ran],
                success_rate=success_rate(ran),
            )
        )
    return rows


def success_rate(runs: Sequence[ExecutionRecord]) -> float | None:
    ended = [run for run in runs if run.status in ENDED]
    if not ended:
        return None
    return sum(run.status is ExecutionStatus.SUCCEEDED for run in ended) / len(ended)


def run_points(runs: Sequence[ExecutionRecord]) -> list[RunPoint]:
    """Runs that started or were due, oldest first, for the duration and lateness chart."""
    points = []
    for run in reversed(runs):
        if run.status in _NEVER_RAN:
            continue
        took = None
        if run.started_at is not None and run.finished_at is not None:
            took = int((run.finished_at - run.started_at).total_seconds() * 1000)
        points.append(RunPoint(run.scheduled_for, run.status.value, took, run.lateness_ms))
    return points
