"""DST days through the loop: the clock steps through the night in 5-minute UTC steps and
the loop fires what is due at each step, so every fire is on time (lateness 0).

DESIGN, guarantee 5 and "DST in detail" (Debian/Vixie cron): a fixed-time job whose wall
time falls in a spring-forward gap runs once, right after the jump (once even if several
of its times fell in the gap); a fixed-time job in a repeated hour runs on the first pass
only; a job with ``*`` in the minute or hour field follows the wall clock (skips the
times that do not exist, runs both passes of a repeated hour); an ``interval`` is elapsed
time, so its fires stay exactly one interval apart in UTC.

Transitions (IANA):

* America/New_York 2026-03-08 02:00 EST (-05) -> 03:00 EDT (-04);
  2026-11-01 02:00 EDT -> 01:00 EST (01:00-01:59 twice).
* Europe/Berlin 2026-03-29 02:00 CET (+01) -> 03:00 CEST (+02);
  2026-10-25 03:00 CEST -> 02:00 CET (02:00-02:59 twice).
* Europe/London 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT.
* Australia/Lord_Howe (30-minute DST) 2026-10-04 02:00 (+10:30) -> 02:30 (+11:00);
  2026-04-05 02:00 (+11:00) -> 01:30 (+10:30) (01:30-01:59 twice).

Expected fires are written as local wall time with the offset in force (``HH:MM±hhmm``),
which tells the two passes of a repeated hour apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from tickwork.schedule.policies import ExecutionStatus

from .helpers import HOUR, MINUTE, document, fires, make_rig

STEP = 5 * MINUTE
INTERVAL = "interval 1h"
"""An ``interval: 1h`` schedule anchored at local midnight."""


@dataclass(frozen=True)
class DstNight:
    """A zone, a local day, and for each trigger the wall times it must fire at, from
    local 00:00 to 05:00 (exclusive start, inclusive end)."""

    zone: str
    day: date
    jobs: Mapping[str, list[str]]


def _wall(times: str, offset: str) -> list[str]:
    """``"00:30 01:00"`` and ``"-0500"`` -> ``["00:30-0500", "01:00-0500"]``."""
    return [f"{t}{offset}" for t in times.split()]


NIGHTS = [
    pytest.param(
        DstNight(
            "America/New_York",
            date(2026, 3, 8),
            {
                "30 2 * * *": ["03:00-0400"],
                "0,30 2 * * *": ["03:00-0400"],
                "30 1 * * *": ["01:30-0500"],
                "*/30 * * * *": _wall("00:30 01:00 01:30", "-0500")
                + _wall("03:00 03:30 04:00 04:30 05:00", "-0400"),
                INTERVAL: ["01:00-0500", *_wall("03:00 04:00 05:00", "-0400")],
            },
        ),
        id="new-york-spring-forward",
    ),
    pytest.param(
        DstNight(
            "America/New_York",
            date(2026, 11, 1),
            {
                "30 1 * * *": ["01:30-0400"],
                "30 2 * * *": ["02:30-0500"],
                "*/30 * * * *": _wall("00:30 01:00 01:30", "-0400")
                + _wall("01:00 01:30 02:00 02:30 03:00 03:30 04:00 04:30 05:00", "-0500"),
                INTERVAL: ["01:00-0400", *_wall("01:00 02:00 03:00 04:00 05:00", "-0500")],
            },
        ),
        id="new-york-fall-back",
    ),
    pytest.param(
        DstNight(
            "Europe/Berlin",
            date(2026, 3, 29),
            {
                "30 2 * * *": ["03:00+0200"],
                "*/30 * * * *": _wall("00:30 01:00 01:30", "+0100")
                + _wall("03:00 03:30 04:00 04:30 05:00", "+0200"),
                INTERVAL: ["01:00+0100", *_wall("03:00 04:00 05:00", "+0200")],
            },
        ),
        id="berlin-spring-forward",
    ),
    pytest.param(
        DstNight(
            "Europe/Berlin",
            date(2026, 10, 25),
            {
                "30 2 * * *": ["02:30+0200"],
                "*/30 * * * *": _wall("00:30 01:00 01:30 02:00 02:30", "+0200")
                + _wall("02:00 02:30 03:00 03:30 04:00 04:30 05:00", "+0100"),
                INTERVAL: _wall("01:00 02:00", "+0200") + _wall("02:00 03:00 04:00 05:00", "+0100"),
            },
        ),
        id="berlin-fall-back",
    ),
    pytest.param(
        DstNight(
            "Europe/London",
            date(2026, 3, 29),
            {
                "30 1 * * *": ["02:00+0100"],
                "*/30 * * * *": _wall("00:30", "+0000")
                + _wall("02:00 02:30 03:00 03:30 04:00 04:30 05:00", "+0100"),
            },
        ),
        id="london-spring-forward",
    ),
    pytest.param(
        DstNight(
            "Europe/London",
            date(2026, 10, 25),
            {
                "30 1 * * *": ["01:30+0100"],
                "*/30 * * * *": _wall("00:30 01:00 01:30", "+0100")
                + _wall("01:00 01:30 02:00 02:30 03:00 03:30 04:00 04:30 05:00", "+0000"),
            },
        ),
        id="london-fall-back",
    ),
    pytest.param(
        DstNight(
            "Australia/Lord_Howe",
            date(2026, 10, 4),
            {
                "15 2 * * *": ["02:30+1100"],
                "*/30 * * * *": _wall("00:30 01:00 01:30", "+1030")
                + _wall("02:30 03:00 03:30 04:00 04:30 05:00", "+1100"),
                INTERVAL: ["01:00+1030", *_wall("02:30 03:30 04:30", "+1100")],
            },
        ),
        id="lord-howe-spring-forward",
    ),
    pytest.param(
        DstNight(
            "Australia/Lord_Howe",
            date(2026, 4, 5),
            {
                "45 1 * * *": ["01:45+1100"],
                "*/30 * * * *": _wall("00:30 01:00 01:30", "+1100")
                + _wall("01:30 02:00 02:30 03:00 03:30 04:00 04:30 05:00", "+1030"),
                INTERVAL: ["01:00+1100", *_wall("01:30 02:30 03:30 04:30", "+1030")],
            },
        ),
        id="lord-howe-fall-back",
    ),
]


def _document(name: str, trigger: str, zone: str, midnight: datetime) -> dict[str, Any]:
    if trigger == INTERVAL:
        spec = {"interval": "1h", "anchor": midnight.isoformat()}
    else:
        spec = {"cron": trigger}
    # allow: no worker runs here, and a queued run must not make the next fire skip.
    return document(name, spec, timezone=zone, overlap="allow")


@pytest.mark.parametrize("night", NIGHTS)
def test_dst_night_fires_exactly_the_expected_wall_times(
    store_engine: Engine, night: DstNight
) -> None:
    zone = ZoneInfo(night.zone)
    start = datetime.combine(night.day, time(0), zone).astimezone(UTC)
    end = datetime.combine(night.day, time(5), zone).astimezone(UTC)
    rig = make_rig(store_engine, start)
    jobs = {
        trigger: rig.create(_document(f"job-{i}", trigger, night.zone, start)).id
        for i, trigger in enumerate(night.jobs)
    }

    instant = start
    while instant <= end:
        rig.fire_at(instant)
        instant += STEP

    fired = {trigger: fires(store_engine, job_id) for trigger, job_id in jobs.items()}
    walls = {
        trigger: [r.scheduled_for.astimezone(zone).strftime("%H:%M%z") for r in rows]
        for trigger, rows in fired.items()
    }
    assert walls == night.jobs
    for rows in fired.values():
        for row in rows:
            assert (row.status, row.lateness_ms) == (ExecutionStatus.QUEUED, 0)
            assert row.created_at == row.scheduled_for
    if INTERVAL in fired:
        instants = [r.scheduled_for for r in fired[INTERVAL]]
        assert {b - a for a, b in pairwise(instants)} == {HOUR}


def test_dst_gap_job_runs_the_next_day_at_its_usual_time(store_engine: Engine) -> None:
    """After running at 03:00 on the short day, ``30 2 * * *`` is back to 02:30 the day
    after: the jump moved one fire, not the schedule."""
    zone = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 8, 0, 0, tzinfo=zone).astimezone(UTC)
    end = datetime(2026, 3, 9, 3, 0, tzinfo=zone).astimezone(UTC)
    rig = make_rig(store_engine, start)
    job = rig.create(_document("gap", "30 2 * * *", zone.key, start))

    instant = start
    while instant <= end:
        rig.fire_at(instant)
        instant += 30 * MINUTE

    rows = fires(store_engine, job.id)
    assert [r.scheduled_for.astimezone(zone).isoformat() for r in rows] == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]
    assert [r.lateness_ms for r in rows] == [0, 0]
    expected_next = datetime(2026, 3, 10, 2, 30, tzinfo=zone).astimezone(UTC)
    assert rig.service.get(job.id).next_fire_at == expected_next
