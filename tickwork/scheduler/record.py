"""Writing settlements: the one place their rows reach the store, for the loop and the service."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.engine import Connection

from tickwork.schedule.policies import ExecutionStatus
from tickwork.scheduler.firing import CANCELLED_BY_OVERLAP, Settlement
from tickwork.store.changes import announce_queued
from tickwork.store.protocols import ExecutionStore


def record_settlements(
    conn: Connection,
    executions: ExecutionStore,
    settlements: Sequence[Settlement],
    *,
    now: datetime,
    new_id: Callable[[], uuid.UUID],
) -> int:
    """Write every settlement in the caller's transaction; return the execution rows inserted.

    Order matters: runs cancelled by ``cancel_other`` are cancelled before the new run is
    inserted, so the new run is not among them.
    """
    for settled in settlements:
        schedule_id = settled.advance.schedule_id
        if settled.cancel_others:
            executions.cancel_active(conn, schedule_id, now=now, reason=CANCELLED_BY_OVERLAP)
        for missed in settled.missed_ranges:
            executions.record_missed_range(
                conn, schedule_id, missed, range_id=new_id(), created_at=now
            )
    rows = [row for s in settlements for row in s.executions]
    inserted = executions.record_fires(conn, rows)
    executions.advance_schedules(conn, [s.advance for s in settlements])
    if any(row.status is ExecutionStatus.QUEUED for row in rows):
        announce_queued(conn)  # workers on every node
    return inserted
