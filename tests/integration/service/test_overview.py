"""The overview reads: counts, what needs attention, upcoming fires, the queue."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from tickwork.scheduler.loop import Scheduler
from tickwork.service.access import Caller, Scope
from tickwork.service.overview import OverviewService
from tickwork.service.schedules import ScheduleService
from tickwork.testing import FakeClock

from .helpers import MINUTE, document

TEAM_A = Caller(frozenset({Scope.READ}), "team-a", "team-a")


def test_counts_and_upcoming_fires_follow_the_callers_namespace(
    store_engine: Engine, service: ScheduleService, clock: FakeClock
) -> None:
    overview = OverviewService(store_engine, clock, lease=timedelta(seconds=30))
    service.create(document("quarterly", trigger={"cron": "*/15 * * * *"}, namespace="team-a"))
    service.create(document("every-minute", trigger={"cron": "* * * * *"}))
    paused = service.create(document("hourly", paused=True))

    everything = overview.counts()
    assert everything.schedules == {"active": 2, "paused": 1, "completed": 0}
    assert overview.counts(caller=TEAM_A).schedules == {"active": 1, "paused": 0, "completed": 0}

    upcoming = overview.upcoming(timedelta(hours=1), per_schedule=10)
    assert [u.name for u in upcoming] == ["every-minute", "quarterly"]
    assert upcoming[0].fires[:2] == [clock.now() + MINUTE, clock.now() + 2 * MINUTE]
    assert upcoming[0].more  # 60 fires in the hour, 10 listed
    assert len(upcoming[1].fires) == 4 and not upcoming[1].more
    assert [u.name for u in overview.upcoming(timedelta(hours=1), caller=TEAM_A)] == ["quarterly"]
    assert paused.name not in [u.name for u in upcoming]


def test_missed_fires_need_attention(
    store_engine: Engine, service: ScheduleService, clock: FakeClock
) -> None:
    overview = OverviewService(store_engine, clock, lease=timedelta(seconds=30))
    service.create(document("report", misfire="skip"))
    clock.advance(210 * MINUTE)  # 13:00, 14:00 and 15:00 pass while no scheduler runs
    Scheduler(store_engine, clock).fire_due()

    attention = overview.attention()
    assert attention and {run.status.value for run in attention} == {"missed"}
    assert overview.attention(caller=TEAM_A) == []
    assert overview.counts().last_hour.get("missed", 0) >= 1
    queue = overview.queue()
    assert queue.depths.queued == 0 and queue.oldest_wait is None and queue.workers == []
