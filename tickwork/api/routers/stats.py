"""``GET /stats``: the whole picture in one call, for dashboards and ``tickwork stats``."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel

from tickwork.api.deps import NodeDep, Reader
from tickwork.api.problems import COMMON_PROBLEMS
from tickwork.store import stats as stored

router = APIRouter(tags=["stats"], responses=COMMON_PROBLEMS)

WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}


class QueueStats(BaseModel):
    queued: int
    running: int
    retrying: int
    waiting: int
    buffered: int
    oldest_queued_at: datetime | None
    oldest_queued_age_s: float | None


class WorkerStats(BaseModel):
    id: str
    hostname: str
    pid: int
    slots: int
    running: int
    started_at: datetime
    heartbeat_at: datetime
    alive: bool


class Stats(BaseModel):
    now: datetime
    namespace: str | None
    schedules: dict[str, int]
    executions: dict[str, dict[str, int]]
    """Runs created in each window (1h, 24h, 7d), by status."""
    queue: QueueStats
    workers: list[WorkerStats]


@router.get("/stats")
def get_stats(node: NodeDep, caller: Reader) -> Stats:
    """Schedules by state, runs by status over windows, the queue, the workers."""
    now = node.clock.now()
    namespace = caller.namespace
    with node.engine.connect() as conn:
        schedules = stored.schedules_by_state(conn, namespace)
        windows = {
            name: stored.executions_by_status(conn, now - span, namespace)
            for name, span in WINDOWS.items()
        }
        depths = node.queue.depths(conn)
        workers = node.queue.list_workers(conn)
    stale = node.worker.settings.lease
    oldest = depths.oldest_queued_at
    return Stats(
        now=now,
        namespace=namespace,
        schedules={state: schedules.get(state, 0) for state in ("active", "paused", "completed")},
        executions=windows,
        queue=QueueStats(
            queued=depths.queued,
            running=depths.running,
            retrying=depths.retrying,
            waiting=depths.waiting,
            buffered=depths.buffered,
            oldest_queued_at=oldest,
            oldest_queued_age_s=None if oldest is None else (now - oldest).total_seconds(),
        ),
        workers=[
            WorkerStats(
                id=w.id,
                hostname=w.hostname,
                pid=w.pid,
                slots=w.slots,
                running=w.running,
                started_at=w.started_at,
                heartbeat_at=w.heartbeat_at,
                alive=w.stopped_at is None and now - w.heartbeat_at < stale,
            )
            for w in workers
            if w.stopped_at is None or now - w.stopped_at < timedelta(hours=1)
        ],
    )
