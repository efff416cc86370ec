"""The misfire planner: each due instant runs or is recorded missed/skipped, exactly once."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwork.schedule.fires import iter_nominal_fires, nominal_fires
from tickwork.schedule.misfire import (
    DEFAULT_GRACE,
    FireAction,
    FireDecision,
    FireReason,
    MissedRange,
    Plan,
    count_instants,
    expand,
    paused_fires,
    plan_fires,
    runs,
)
from tickwork.schedule.policies import ExecutionStatus, MisfirePolicy
from tickwork.schedule.triggers import CronTrigger, IntervalTrigger

RUN, MISSED, SKIPPED = FireAction.RUN, FireAction.MISSED, FireAction.SKIPPED
MISFIRE, WINDOW, PAUSED = FireReason.MISFIRE, FireReason.CATCHUP_WINDOW, FireReason.PAUSED
HOUR = timedelta(hours=1)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def at(hhmm: str) -> datetime:
    hour, minute = hhmm.split(":")
    return utc(2026, 6, 1, int(hour), int(minute))


def outcomes(plan: Plan) -> dict[tuple[FireAction, FireReason | None], list[str]]:
    """Group a plan (without ranges) by (action, reason) as HH:MM strings."""
    grouped: dict[tuple[FireAction, FireReason | None], list[str]] = {}
    for d in plan:
        assert isinstance(d, FireDecision)
        grouped.setdefault((d.action, d.reason), []).append(d.scheduled_for.strftime("%H:%M"))
    return grouped


# -- the 3-hour outage -----------------------------------------------------------------
# "*/15 * * * *" last handled at 09:00; Tickwork is down until 12:07:30. Due: 09:15 ...
# 12:00 (12 instants). With catchup_window 1h, 11:15 ... 12:00 are inside the window
# (now - 11:15 = 52m30s) and 09:15 ... 11:00 are older than it.

EVERY_15 = CronTrigger("*/15 * * * *", "UTC")
OUTAGE_NOW = utc(2026, 6, 1, 12, 7, 30)
OLD = ["09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00"]
IN_WINDOW = ["11:15", "11:30", "11:45", "12:00"]


def outage_plan(policy: MisfirePolicy) -> Plan:
    due = nominal_fires(EVERY_15, at("09:00"), OUTAGE_NOW)
    assert [d.strftime("%H:%M") for d in due] == OLD + IN_WINDOW
    return plan_fires(due, OUTAGE_NOW, policy=policy, catchup_window=HOUR)


def test_outage_run_once_runs_only_the_latest_instant_inside_the_window() -> None:
    assert outcomes(outage_plan(MisfirePolicy.RUN_ONCE)) == {
        (MISSED, WINDOW): OLD,
        (MISSED, MISFIRE): ["11:15", "11:30", "11:45"],
        (RUN, None): ["12:00"],
    }


def test_outage_run_all_runs_every_instant_inside_the_window_oldest_first() -> None:
    plan = outage_plan(MisfirePolicy.RUN_ALL)
    assert outcomes(plan) == {(MISSED, WINDOW): OLD, (RUN, None): IN_WINDOW}
    assert runs(plan) == [at(t) for t in IN_WINDOW]


def test_outage_skip_runs_nothing() -> None:
    assert outcomes(outage_plan(MisfirePolicy.SKIP)) == {
        (MISSED, WINDOW): OLD,
        (MISSED, MISFIRE): IN_WINDOW,
    }


@pytest.mark.parametrize("policy", list(MisfirePolicy))
def test_outage_plan_lists_every_instant_in_order(policy: MisfirePolicy) -> None:
    plan = outage_plan(policy)
    assert all(isinstance(d, FireDecision) for d in plan)  # far below the range threshold
    listed = [d.scheduled_for for d in plan if isinstance(d, FireDecision)]
    assert listed == [at(t) for t in OLD + IN_WINDOW]


@pytest.mark.parametrize(
    ("policy", "expected_runs"),
    [
        (MisfirePolicy.RUN_ONCE, ["12:00"]),
        (MisfirePolicy.RUN_ALL, IN_WINDOW),
        (MisfirePolicy.SKIP, ["12:00"]),
    ],
)
def test_outage_ending_right_at_an_instant_runs_it_on_time(
    policy: MisfirePolicy, expected_runs: list[str]
) -> None:
    # Back at 12:00:00.5: 12:00 is on time, not a misfire, so even `skip` runs it.
    now = utc(2026, 6, 1, 12, 0, 0, 500_000)
    due = nominal_fires(EVERY_15, at("09:00"), now)
    plan = plan_fires(due, now, policy=policy, catchup_window=HOUR)
    assert runs(plan) == [at(t) for t in expected_runs]
    assert count_instants(plan) == 12


# -- single rules ----------------------------------------------------------------------


def test_on_time_boundary_is_inclusive() -> None:
    instant = at("12:00")
    for late, action in [(DEFAULT_GRACE, RUN), (DEFAULT_GRACE + timedelta(microseconds=1), MISSED)]:
        (decision,) = plan_fires(
            [instant], instant + late, policy=MisfirePolicy.SKIP, catchup_window=HOUR
        )
        assert isinstance(decision, FireDecision) and decision.action is action


def test_catchup_window_boundary_is_inclusive() -> None:
    instant = at("11:00")
    exactly = plan_fires(
        [instant], instant + HOUR, policy=MisfirePolicy.RUN_ALL, catchup_window=HOUR
    )
    assert exactly == [FireDecision(instant, RUN)]
    beyond = plan_fires(
        [instant],
        instant + HOUR + timedelta(microseconds=1),
        policy=MisfirePolicy.RUN_ALL,
        catchup_window=HOUR,
    )
    assert beyond == [FireDecision(instant, MISSED, WINDOW)]


def test_run_once_with_nothing_inside_the_window_runs_nothing() -> None:
    plan = plan_fires(
        [at("08:00"), at("09:00")],
        at("12:00"),
        policy=MisfirePolicy.RUN_ONCE,
        catchup_window=HOUR,
    )
    assert runs(plan) == []
    assert outcomes(plan) == {(MISSED, WINDOW): ["08:00", "09:00"]}


def test_zero_catchup_window_still_runs_on_time_fires() -> None:
    now = at("12:00") + timedelta(milliseconds=20)
    plan = plan_fires(
        [at("11:45"), at("12:00")], now, policy=MisfirePolicy.RUN_ALL, catchup_window=timedelta(0)
    )
    assert outcomes(plan) == {(MISSED, WINDOW): ["11:45"], (RUN, None): ["12:00"]}


def test_nothing_due_gives_an_empty_plan() -> None:
    assert plan_fires([], at("12:00"), policy=MisfirePolicy.RUN_ONCE, catchup_window=HOUR) == []


def test_paused_fires_are_skipped_and_never_caught_up() -> None:
    due = [at("11:45"), at("12:00")]
    assert paused_fires(due) == [
        FireDecision(at("11:45"), SKIPPED, PAUSED),
        FireDecision(at("12:00"), SKIPPED, PAUSED),
    ]


def test_actions_map_to_execution_statuses() -> None:
    assert RUN.status is ExecutionStatus.QUEUED
    assert MISSED.status is ExecutionStatus.MISSED
    assert SKIPPED.status is ExecutionStatus.SKIPPED


@pytest.mark.parametrize(
    "instants",
    [
        [at("10:00"), at("09:00")],
        [at("10:00"), at("10:00")],
        [at("12:30")],
        [datetime(2026, 6, 1, 10)],
    ],
)
def test_bad_input_is_refused(instants: list[datetime]) -> None:
    with pytest.raises(ValueError, match=r"increasing|not due|aware"):
        plan_fires(instants, at("12:00"), policy=MisfirePolicy.RUN_ALL, catchup_window=HOUR)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="catchup_window"):
        plan_fires([], at("12:00"), policy=MisfirePolicy.SKIP, catchup_window=-HOUR)
    with pytest.raises(ValueError, match="range_threshold"):
        paused_fires([], range_threshold=0)
    with pytest.raises(ValueError, match="reason"):
        FireDecision(at("12:00"), RUN, MISFIRE)
    with pytest.raises(ValueError, match="reason"):
        FireDecision(at("12:00"), MISSED)
    with pytest.raises(ValueError, match="inconsistent"):
        MissedRange(at("12:00"), at("11:00"), 2, MISFIRE)


# -- long streaks as ranges ------------------------------------------------------------


def test_long_outage_folds_into_ranges_and_stays_listable() -> None:
    # Every minute, down for a week: 10080 due instants, 60 inside the 1h window.
    every_minute = CronTrigger("* * * * *", "UTC")
    last, now = utc(2026, 6, 1), utc(2026, 6, 8, 0, 0, 30)
    plan = plan_fires(
        iter_nominal_fires(every_minute, last, now),
        now,
        policy=MisfirePolicy.RUN_ONCE,
        catchup_window=HOUR,
    )
    assert plan == [
        MissedRange(utc(2026, 6, 1, 0, 1), utc(2026, 6, 7, 23, 0), 10020, WINDOW),
        *[FireDecision(utc(2026, 6, 7, 23, m), MISSED, MISFIRE) for m in range(1, 60)],
        FireDecision(utc(2026, 6, 8, 0, 0), RUN),
    ]
    listed = list(expand(plan, every_minute))
    assert [d.scheduled_for for d in listed] == nominal_fires(every_minute, last, now)
    assert count_instants(plan) == len(listed) == 10080


def test_streak_at_the_threshold_stays_individual_and_one_more_folds() -> None:
    trigger = IntervalTrigger(timedelta(minutes=1))
    due = nominal_fires(trigger, utc(2026, 1, 1), utc(2026, 1, 1, 0, 4))
    assert paused_fires(due, range_threshold=4) == [FireDecision(d, SKIPPED, PAUSED) for d in due]
    due = nominal_fires(trigger, utc(2026, 1, 1), utc(2026, 1, 1, 0, 5))
    assert paused_fires(due, range_threshold=4) == [
        MissedRange(due[0], due[-1], 5, PAUSED, SKIPPED)
    ]


def test_huge_gap_is_planned_in_one_pass_with_few_objects() -> None:
    every_second = IntervalTrigger(timedelta(seconds=1))
    last = utc(2026, 1, 1)
    now = last + timedelta(seconds=150_000)
    plan = plan_fires(
        iter_nominal_fires(every_second, last, now),
        now,
        policy=MisfirePolicy.SKIP,
        catchup_window=timedelta(minutes=5),
    )
    assert plan == [
        MissedRange(last + timedelta(seconds=1), now - timedelta(seconds=301), 149_699, WINDOW),
        MissedRange(now - timedelta(seconds=300), now - timedelta(seconds=2), 299, MISFIRE),
        FireDecision(now - timedelta(seconds=1), RUN),
        FireDecision(now, RUN),
    ]


def test_expand_refuses_a_range_the_trigger_does_not_reproduce() -> None:
    trigger = IntervalTrigger(timedelta(minutes=1))
    wrong_start = MissedRange(utc(2026, 1, 1, 0, 0, 30), utc(2026, 1, 1, 0, 5), 5, WINDOW)
    wrong_end = MissedRange(utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 0, 5), 4, WINDOW)
    for bad in (wrong_start, wrong_end):
        with pytest.raises(ValueError, match="trigger"):
            list(expand([bad], trigger))


# -- properties ------------------------------------------------------------------------


@dataclass(frozen=True)
class ListTrigger:
    """A trigger over a fixed sorted list of instants, for expanding arbitrary plans."""

    instants: tuple[datetime, ...]

    def next_after(self, after: datetime) -> datetime | None:
        index = bisect_right(self.instants, after)
        return self.instants[index] if index < len(self.instants) else None


NOW = utc(2026, 6, 1, 12)
ages_ms = st.lists(st.integers(min_value=0, max_value=4 * 3600 * 1000), max_size=60, unique=True)
durations_ms = st.integers(min_value=0, max_value=2 * 3600 * 1000)


@given(
    ages=ages_ms,
    policy=st.sampled_from(MisfirePolicy),
    window_ms=durations_ms,
    grace_ms=st.integers(min_value=0, max_value=5000),
    threshold=st.integers(min_value=1, max_value=6),
)
def test_plan_properties(
    ages: list[int], policy: MisfirePolicy, window_ms: int, grace_ms: int, threshold: int
) -> None:
    instants = sorted(NOW - timedelta(milliseconds=a) for a in ages)
    window, grace = timedelta(milliseconds=window_ms), timedelta(milliseconds=grace_ms)
    plan = plan_fires(
        instants, NOW, policy=policy, catchup_window=window, grace=grace, range_threshold=threshold
    )
    decisions = list(expand(plan, ListTrigger(tuple(instants))))

    # Every due instant appears exactly once, in order.
    assert [d.scheduled_for for d in decisions] == instants
    ran = [d.scheduled_for for d in decisions if d.action is RUN]
    eligible = [i for i in instants if NOW - i <= max(window, grace)]
    # Nothing older than the window runs (unless it is on time).
    assert all(NOW - r <= window or NOW - r <= grace for r in ran)
    # Everything not run is missed with the reason that decided it.
    for d in decisions:
        if d.action is not RUN:
            assert d.action is MISSED
            expected = WINDOW if d.scheduled_for not in eligible else MISFIRE
            assert d.reason is expected
    if policy is MisfirePolicy.RUN_ONCE:
        assert ran == eligible[-1:]
    elif policy is MisfirePolicy.RUN_ALL:
        assert ran == eligible
    else:
        assert ran == [i for i in instants if NOW - i <= grace]
    # Ranges only for streaks longer than the threshold.
    assert all(r.count > threshold for r in plan if isinstance(r, MissedRange))


@given(ages=ages_ms, threshold=st.integers(min_value=1, max_value=6))
def test_paused_properties(ages: list[int], threshold: int) -> None:
    instants = sorted(NOW - timedelta(milliseconds=a) for a in ages)
    plan = paused_fires(instants, range_threshold=threshold)
    decisions = list(expand(plan, ListTrigger(tuple(instants))))
    assert decisions == [FireDecision(i, SKIPPED, PAUSED) for i in instants]
    if len(instants) > threshold:
        assert plan == [MissedRange(instants[0], instants[-1], len(instants), PAUSED, SKIPPED)]
    else:
        assert len(plan) == len(instants)
