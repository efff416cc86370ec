"""Shared set-up for the scheduler tests: a store, a fake clock, the service and a scheduler.

Schedules are created through :class:`ScheduleService` (the way users create them) and
fired with :meth:`Scheduler.fire_due`; the rows are read straight from the ``executions``
and ``missed_ranges`` tables, so what is asserted is what is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tickwork.ids import IdGenerator
from tickwork.schedule.policies import ExecutionTrigger
from tickwork.scheduler.loop import Scheduler
from tickwork.service.schedules import ScheduleService
from tickwork.store.executions import execution_from_row
from tickwork.store.protocols import ExecutionRecord, MissedRangeRecord, ScheduleRecord
from tickwork.store.tables import executions, missed_ranges
from tickwork.testing import FakeClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""A Monday morning, weeks away from any DST change in the zones used here."""

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
ACTION: Mapping[str, Any] = {"kind": "http", "url": "https://example.internal/hooks/run"}


def at(hhmm: str, day: datetime = T0) -> datetime:
    """``HH:MM`` or ``HH:MM:SS`` on the UTC day of ``day``."""
    parts = [int(p) for p in hhmm.split(":")]
    hour, minute, second = [*parts, 0][:3]
    return day.replace(hour=hour, minute=minute, second=second, microsecond=0)


def hhmm(instant: datetime) -> str:
    """An instant as ``HH:MM`` in UTC, the form the expected rows are written in."""
    return instant.astimezone(UTC).strftime("%H:%M")


def document(name: str, trigger: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    """A valid schedule document with an inline HTTP action."""
    return {"name": name, "trigger": dict(trigger), "action": dict(ACTION), **fields}


def every(cron: str, name: str = "job", **fields: Any) -> dict[str, Any]:
    """A cron schedule document."""
    return document(name, {"cron": cron}, **fields)


@dataclass
class Rig:
    """One store, one clock, the service and a scheduler sharing them."""

    engine: Engine
    clock: FakeClock
    service: ScheduleService
    scheduler: Scheduler

    def create(self, data: Mapping[str, Any]) -> ScheduleRecord:
        return self.service.create(data)

    def fire_at(self, instant: datetime) -> int:
        """Move the clock to ``instant`` and fire what is due; returns the rows inserted."""
        self.clock.set(instant)
        return self.scheduler.fire_due().inserted

    def restarted(self, engine: Engine | None = None) -> Scheduler:
        """A new scheduler, as a restarted process would build: nothing carried in memory."""
        return Scheduler(engine or self.engine, self.clock, ids=IdGenerator(self.clock))


def make_rig(engine: Engine, start: datetime = T0, *, batch_size: int = 1000) -> Rig:
    clock = FakeClock(start)
    ids = IdGenerator(clock)
    scheduler = Scheduler(engine, clock, ids=ids, batch_size=batch_size)
    service = ScheduleService(engine, clock, ids=ids, on_change=scheduler.wake)
    return Rig(engine, clock, service, scheduler)


def fires(engine: Engine, schedule_id: uuid.UUID) -> list[ExecutionRecord]:
    """The schedule's ``trigger = schedule`` rows, oldest nominal instant first."""
    query = (
        sa.select(executions)
        .where(
            executions.c.schedule_id == schedule_id,
            executions.c.trigger == ExecutionTrigger.SCHEDULE.value,
        )
        .order_by(executions.c.scheduled_for, executions.c.id)
    )
    with engine.connect() as conn:
        return [execution_from_row(row) for row in conn.execute(query).mappings()]


Outcome = tuple[str, str, str | None]
"""A fire as (HH:MM of its instant in UTC, status, reason)."""


def outcomes(engine: Engine, schedule_id: uuid.UUID) -> list[Outcome]:
    """The schedule's rows as (HH:MM of the instant, status, reason), oldest first."""
    return [(hhmm(r.scheduled_for), str(r.status), r.reason) for r in fires(engine, schedule_id)]


def ranges(engine: Engine, schedule_id: uuid.UUID) -> list[MissedRangeRecord]:
    query = (
        sa.select(missed_ranges)
        .where(missed_ranges.c.schedule_id == schedule_id)
        .order_by(missed_ranges.c.first_instant)
    )
    with engine.connect() as conn:
        return [
            MissedRangeRecord(
                id=row["id"],
                schedule_id=row["schedule_id"],
                first=row["first_instant"],
                last=row["last_instant"],
                count=row["count"],
                reason=row["reason"],
                created_at=row["created_at"],
            )
            for row in conn.execute(query).mappings()
        ]


def set_status(engine: Engine, schedule_id: uuid.UUID, instant: datetime, status: str) -> None:
    """Move the fire of ``instant`` to ``status``, as a worker would (there is none here)."""
    statement = (
        sa.update(executions)
        .where(
            executions.c.schedule_id == schedule_id,
            executions.c.scheduled_for == instant,
            executions.c.trigger == ExecutionTrigger.SCHEDULE.value,
        )
        .values(status=status)
    )
    with engine.begin() as conn:
        assert conn.execute(statement).rowcount == 1


def count_executions(engine: Engine) -> int:
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(executions)
        return int(conn.execute(query).scalar_one())
