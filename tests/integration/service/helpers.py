"""Documents and row readers shared by the service tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger
from tickwork.service.schedules import ScheduleService
from tickwork.store.tables import executions, missed_ranges, schedules

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
"""Where the clock starts: Monday 2 March 2026, noon UTC."""
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
ACTION = {"kind": "http", "url": "https://example.internal/hooks/report"}


def utc(day: int, hour: int, minute: int = 0, *, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def document(name: str = "report", **fields: Any) -> dict[str, Any]:
    """A valid schedule document: hourly on the hour, UTC, unless ``fields`` say otherwise."""
    data: dict[str, Any] = {"name": name, "trigger": {"cron": "0 * * * *"}, "action": ACTION}
    data.update(fields)
    return data


@dataclass
class Changes:
    """Records each ``on_change`` call with what a fresh read of the store saw then."""

    service: ScheduleService | None = None
    seen: list[list[tuple[str, int, str]]] = field(default_factory=list)

    def __call__(self) -> None:
        assert self.service is not None
        self.seen.append([(s.name, s.revision, s.state.value) for s in self.service.list_all()])

    @property
    def count(self) -> int:
        return len(self.seen)


Row = tuple[datetime, ExecutionTrigger, ExecutionStatus, str | None]


def execution_rows(engine: Engine, schedule_id: uuid.UUID | None = None) -> list[Row]:
    """(scheduled_for, trigger, status, reason) of every execution, oldest instant first."""
    c = executions.c
    query = sa.select(c.scheduled_for, c.trigger, c.status, c.reason).order_by(
        c.scheduled_for, c.id
    )
    if schedule_id is not None:
        query = query.where(c.schedule_id == schedule_id)
    with engine.connect() as conn:
        return [
            (at, ExecutionTrigger(trigger), ExecutionStatus(status), reason)
            for at, trigger, status, reason in conn.execute(query)
        ]


def set_status(engine: Engine, execution_id: uuid.UUID, status: ExecutionStatus) -> None:
    """Move a run on as a worker would (there is no worker in these tests)."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(executions)
            .where(executions.c.id == execution_id)
            .values(status=status.value, finished_at=utc(2, 13, 1))
        )


def table_sizes(engine: Engine) -> tuple[int, int, int]:
    """How many schedules, executions and missed ranges are stored."""

    def size(conn: sa.Connection, table: sa.Table) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    with engine.connect() as conn:
        return size(conn, schedules), size(conn, executions), size(conn, missed_ranges)
