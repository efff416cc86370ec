"""Rows for store tests: the least each table needs, with readable defaults."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tickwork.store.tables import executions, schedules

T0 = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def insert_schedule(connection: sa.Connection, name: str = "nightly", **values: Any) -> uuid.UUID:
    schedule_id = uuid.uuid4()
    row: dict[str, Any] = {
        "id": schedule_id,
        "namespace": "default",
        "name": name,
        "document": {"name": name, "trigger": {"cron": "0 7 * * *"}},
        "trigger_kind": "cron",
        "timezone": "UTC",
        "created_at": T0,
        "updated_at": T0,
    }
    connection.execute(sa.insert(schedules).values({**row, **values}))
    return schedule_id


def insert_execution(
    connection: sa.Connection,
    schedule_id: uuid.UUID | None,
    *,
    trigger: str = "schedule",
    scheduled_for: datetime = T0,
    **values: Any,
) -> uuid.UUID:
    execution_id = uuid.uuid4()
    row: dict[str, Any] = {
        "id": execution_id,
        "schedule_id": schedule_id,
        "namespace": "default",
        "trigger": trigger,
        "scheduled_for": scheduled_for,
        "status": "queued",
        "input": {},
        "created_at": T0,
    }
    connection.execute(sa.insert(executions).values({**row, **values}))
    return execution_id
