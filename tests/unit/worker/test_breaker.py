"""Circuit breakers per target: trip after N failures, hold, probe once, close or back off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwork.errors import InvalidSpec
from tickwork.worker.breaker import (
    PROBE_RECHECK,
    Admission,
    BreakerSettings,
    BreakerState,
    CircuitBreakers,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)
API = "api.internal:443"
OTHER = "other.internal:8080"
SETTINGS = BreakerSettings(
    failure_threshold=3,
    open_for=30 * SECOND,
    backoff=2.0,
    max_open_for=100 * SECOND,
)


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def tripped(breakers: CircuitBreakers, target: str = API, when: datetime = NOW) -> None:
    """Record exactly enough failures at ``when`` to open ``target``'s breaker."""
    for _ in range(breakers.settings.failure_threshold):
        breakers.record(target, False, when)
    assert breakers.state(target, when) is BreakerState.OPEN


def test_closed_breaker_admits_everything() -> None:
    breakers = CircuitBreakers(SETTINGS)
    admission = breakers.admit(API, NOW)
    assert admission == Admission(
        allowed=True, probe=False, retry_at=None, state=BreakerState.CLOSED
    )
    assert breakers.state(API, NOW) is BreakerState.CLOSED


def test_opens_after_exactly_n_consecutive_failures() -> None:
    breakers = CircuitBreakers(SETTINGS)
    assert breakers.record(API, False, NOW) is BreakerState.CLOSED
    assert breakers.record(API, False, at(1)) is BreakerState.CLOSED
    assert breakers.admit(API, at(2)).allowed
    assert breakers.record(API, False, at(2)) is BreakerState.OPEN
    assert breakers.state(API, at(2)) is BreakerState.OPEN


def test_a_success_in_between_resets_the_count() -> None:
    breakers = CircuitBreakers(SETTINGS)
    breakers.record(API, False, NOW)
    breakers.record(API, False, NOW)
    assert breakers.record(API, True, NOW) is BreakerState.CLOSED
    breakers.record(API, False, NOW)
    assert breakers.record(API, False, NOW) is BreakerState.CLOSED
    assert breakers.snapshot(NOW)[API]["consecutive_failures"] == 2
    assert breakers.record(API, False, NOW) is BreakerState.OPEN


def test_open_breaker_refuses_until_open_until() -> None:
    breakers = CircuitBreakers(SETTINGS)
    tripped(breakers)
    for later in (NOW, at(1), at(29.999)):
        admission = breakers.admit(API, later)
        assert admission == Admission(
            allowed=False, probe=False, retry_at=at(30), state=BreakerState.OPEN
        )


def test_after_open_for_exactly_one_probe_is_admitted() -> None:
    breakers = CircuitBreakers(SETTINGS)
    tripped(breakers)
    assert breakers.state(API, at(30)) is BreakerState.HALF_OPEN
    probe = breakers.admit(API, at(30))
    assert probe == Admission(allowed=True, probe=True, retry_at=None, state=BreakerState.HALF_OPEN)
    for later in (at(30), at(31), at(500)):
        waiting = breakers.admit(API, later)
        assert waiting == Admission(
            allowed=False,
            probe=False,
            retry_at=later + PROBE_RECHECK,
            state=BreakerState.HALF_OPEN,
        )


def test_probe_success_closes_and_forgets_the_target() -> None:
    breakers = CircuitBreakers(SETTINGS)
    tripped(breakers)
    assert breakers.admit(API, at(30)).probe
    assert breakers.record(API, True, at(31), probe=True) is BreakerState.CLOSED
    assert breakers.state(API, at(31)) is BreakerState.CLOSED
    assert breakers.admit(API, at(31)).allowed
    assert breakers.snapshot(at(31)) == {}
    assert breakers.record(API, False, at(32)) is BreakerState.CLOSED  # counting from zero


def test_probe_failure_reopens_with_backoff_capped_at_max_open_for() -> None:
    breakers = CircuitBreakers(SETTINGS)
    tripped(breakers)
    now = at(30)
    for expected in (60, 100, 100):  # 30s * 2 = 60s, 120s capped to 100s, stays at 100s
        assert breakers.admit(API, now).probe
        assert breakers.record(API, False, now, probe=True) is BreakerState.OPEN
        refused = breakers.admit(API, now)
        assert not refused.allowed
        assert refused.retry_at == now + timedelta(seconds=expected)
        now = now + timedelta(seconds=expected)


def test_the_open_period_resets_once_a_probe_succeeds() -> None:
    breakers = CircuitBreakers(SETTINGS)
    tripped(breakers)
    assert breakers.admit(API, at(30)).probe
    breakers.record(API, False, at(30), probe=True)  # open for 60s now
    assert breakers.admit(API, at(90)).probe
    breakers.record(API, True, at(90), probe=True)
    tripped(breakers, when=at(100))
    assert breakers.admit(API, at(100)).retry_at == at(130)


def test_release_probe_lets_another_probe_through() -> None:
    breakers = CircuitBreakers(SETTINGS)
    tripped(breakers)
    assert breakers.admit(API, at(30)).probe
    assert not breakers.admit(API, at(31)).allowed
    breakers.release_probe(API)
    assert breakers.state(API, at(31)) is BreakerState.HALF_OPEN
    assert breakers.admit(API, at(31)).probe
    assert not breakers.admit(API, at(31)).allowed


def test_release_probe_without_a_probe_is_harmless() -> None:
    breakers = CircuitBreakers(SETTINGS)
    breakers.release_probe(API)
    tripped(breakers)
    breakers.release_probe(API)
    assert breakers.admit(API, at(1)).retry_at == at(30)
    assert breakers.snapshot(NOW) == {
        API: {
            "state": "open",
            "consecutive_failures": 3,
            "open_until": at(30),
            "probe_in_flight": False,
        }
    }


def test_late_results_of_runs_admitted_before_opening_change_nothing() -> None:
    breakers = CircuitBreakers(SETTINGS)
    admitted = [breakers.admit(API, NOW) for _ in range(50)]
    assert all(a.allowed and not a.probe for a in admitted)
    tripped(breakers)
    for i in range(47):
        assert breakers.record(API, False, at(i / 2)) is BreakerState.OPEN
    assert breakers.record(API, True, at(25)) is BreakerState.OPEN
    assert breakers.admit(API, at(29)).retry_at == at(30)
    assert breakers.snapshot(at(29))[API]["open_until"] == at(30)
    assert breakers.snapshot(at(29))[API]["consecutive_failures"] == 3


def test_while_a_probe_is_in_flight_only_its_outcome_counts() -> None:
    breakers = CircuitBreakers(SETTINGS)
    tripped(breakers)
    assert breakers.admit(API, at(30)).probe
    assert breakers.record(API, True, at(31)) is BreakerState.HALF_OPEN  # a late success
    assert breakers.record(API, False, at(31)) is BreakerState.HALF_OPEN  # a late failure
    assert not breakers.admit(API, at(31)).allowed
    assert breakers.record(API, False, at(32), probe=True) is BreakerState.OPEN
    assert breakers.admit(API, at(32)).retry_at == at(92)


def test_a_second_outcome_for_the_same_probe_is_ignored() -> None:
    breakers = CircuitBreakers(SETTINGS)
    tripped(breakers)
    assert breakers.admit(API, at(30)).probe
    breakers.record(API, False, at(30), probe=True)
    assert breakers.record(API, False, at(40), probe=True) is BreakerState.OPEN
    assert breakers.admit(API, at(40)).retry_at == at(90)


def test_threshold_zero_disables_the_breaker() -> None:
    breakers = CircuitBreakers(BreakerSettings(failure_threshold=0))
    for i in range(100):
        assert breakers.record(API, False, at(i)) is BreakerState.CLOSED
        assert breakers.admit(API, at(i)) == Admission(
            allowed=True, probe=False, retry_at=None, state=BreakerState.CLOSED
        )
    assert breakers.state(API, at(100)) is BreakerState.CLOSED
    assert breakers.open_targets(at(100)) == []
    assert breakers.snapshot(at(100)) == {}


def test_targets_are_independent() -> None:
    breakers = CircuitBreakers(SETTINGS)
    breakers.record(OTHER, False, NOW)
    tripped(breakers, API)
    assert not breakers.admit(API, NOW).allowed
    assert breakers.admit(OTHER, NOW).allowed
    assert breakers.state(OTHER, NOW) is BreakerState.CLOSED
    assert breakers.record(OTHER, False, NOW) is BreakerState.CLOSED
    assert breakers.record(OTHER, False, NOW) is BreakerState.OPEN
    assert breakers.admit(API, at(30)).probe
    assert breakers.admit(OTHER, at(30)).probe


def test_state_open_targets_and_snapshot() -> None:
    breakers = CircuitBreakers(SETTINGS)
    breakers.record("failing:80", False, NOW)
    tripped(breakers, API)
    tripped(breakers, OTHER, at(10))
    assert breakers.open_targets(at(20)) == [API, OTHER]
    assert breakers.state(API, at(30)) is BreakerState.HALF_OPEN
    assert breakers.state(OTHER, at(30)) is BreakerState.OPEN
    assert breakers.admit(API, at(30)).probe
    assert breakers.open_targets(at(30)) == [API, OTHER]
    assert breakers.snapshot(at(30)) == {
        API: {
            "state": "half_open",
            "consecutive_failures": 3,
            "open_until": at(30),
            "probe_in_flight": True,
        },
        "failing:80": {
            "state": "closed",
            "consecutive_failures": 1,
            "open_until": None,
            "probe_in_flight": False,
        },
        OTHER: {
            "state": "open",
            "consecutive_failures": 3,
            "open_until": at(40),
            "probe_in_flight": False,
        },
    }
    breakers.record(API, True, at(31), probe=True)
    assert breakers.open_targets(at(31)) == [OTHER]


def test_healthy_targets_are_not_remembered() -> None:
    breakers = CircuitBreakers(SETTINGS)
    for i in range(100_000):
        target = f"host-{i}.internal:443"
        assert breakers.admit(target, NOW).allowed
        breakers.record(target, True, NOW)
    breakers.record(API, False, NOW)
    breakers.record(API, True, NOW)
    assert breakers.snapshot(NOW) == {}
    assert breakers.open_targets(NOW) == []


def test_naive_instants_are_refused() -> None:
    breakers = CircuitBreakers(SETTINGS)
    naive = datetime(2026, 6, 1, 12)
    with pytest.raises(ValueError, match="now must be an aware datetime"):
        breakers.admit(API, naive)
    with pytest.raises(ValueError, match="now must be an aware datetime"):
        breakers.record(API, False, naive)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"failure_threshold": -1}, "breaker.failure_threshold"),
        ({"open_for": timedelta(0)}, "breaker.open_for"),
        ({"open_for": -SECOND}, "breaker.open_for"),
        ({"backoff": 0.5}, "breaker.backoff"),
        ({"backoff": float("nan")}, "breaker.backoff"),
        ({"backoff": float("inf")}, "breaker.backoff"),
        ({"max_open_for": 10 * SECOND, "open_for": 20 * SECOND}, "breaker.max_open_for"),
    ],
)
def test_settings_validation_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSpec) as caught:
        BreakerSettings(**changes)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_settings_edges_are_accepted() -> None:
    settings = BreakerSettings(failure_threshold=0, backoff=1.0, max_open_for=30 * SECOND)
    assert settings.max_open_for == settings.open_for


# Property: whatever happens, refusals point to the future and probes are one at a time.

TARGETS = [API, OTHER]

settings_strategy = st.builds(
    lambda threshold, open_s, backoff, extra_s: BreakerSettings(
        failure_threshold=threshold,
        open_for=timedelta(seconds=open_s),
        backoff=backoff,
        max_open_for=timedelta(seconds=open_s + extra_s),
    ),
    st.integers(0, 4),
    st.integers(1, 60),
    st.floats(1.0, 3.0),
    st.integers(0, 120),
)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("admit"), st.integers(0, len(TARGETS) - 1)),
        st.tuples(st.sampled_from(["ok", "fail", "cancel"]), st.integers(0, 1_000)),
        st.tuples(st.just("advance"), st.integers(0, 90_000)),  # milliseconds
    ),
    max_size=200,
)


@given(settings=settings_strategy, ops=operations)
def test_refusals_point_ahead_and_one_probe_at_a_time(
    settings: BreakerSettings, ops: list[tuple[str, int]]
) -> None:
    breakers = CircuitBreakers(settings)
    now = NOW
    in_flight: list[tuple[str, bool]] = []  # (target, probe) of admitted, unfinished runs
    for op, arg in ops:
        if op == "advance":
            now += timedelta(milliseconds=arg)
        elif op == "admit":
            target = TARGETS[arg]
            admission = breakers.admit(target, now)
            if admission.allowed:
                assert admission.retry_at is None
                if admission.probe:
                    assert (target, True) not in in_flight
                else:
                    assert admission.state is BreakerState.CLOSED
                in_flight.append((target, admission.probe))
            else:
                assert admission.retry_at is not None
                assert now < admission.retry_at
                assert admission.retry_at <= now + max(settings.max_open_for, PROBE_RECHECK)
                assert admission.state is not BreakerState.CLOSED
        elif in_flight:
            target, probe = in_flight.pop(arg % len(in_flight))
            if op == "cancel":
                if probe:
                    breakers.release_probe(target)
            else:
                breakers.record(target, op == "ok", now, probe=probe)
        snapshot = breakers.snapshot(now)
        assert all(target in snapshot for target, probe in in_flight if probe)
        for target, view in snapshot.items():
            assert view["state"] == breakers.state(target, now)
            assert view["state"] != "closed" or view["consecutive_failures"] != 0
            assert view["probe_in_flight"] == ((target, True) in in_flight)
            open_until = view["open_until"]
            assert open_until is None or isinstance(open_until, datetime)
            assert open_until is None or open_until <= now + settings.max_open_for
