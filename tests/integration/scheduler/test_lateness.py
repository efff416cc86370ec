"""Lateness and start times: ``lateness_ms`` is how long after its nominal instant a fire
was recorded; ``scheduled_for`` stays the nominal instant, jitter only moves the start."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from tickwork.schedule.jitter import jitter_delay

from .helpers import at, every, fires, make_rig

LATE = timedelta(seconds=2, milliseconds=345)


def test_lateness_is_the_recording_instant_minus_the_nominal_instant(
    store_engine: Engine,
) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *"))

    rig.fire_at(at("09:15") + LATE)

    (row,) = fires(store_engine, job.id)
    assert row.scheduled_for == at("09:15")
    assert row.lateness_ms == 2345
    assert row.created_at == row.queued_at == at("09:15") + LATE
    assert row.not_before == at("09:15")


def test_an_on_time_fire_has_zero_lateness(store_engine: Engine) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *"))

    rig.fire_at(at("09:15"))

    (row,) = fires(store_engine, job.id)
    assert (row.lateness_ms, row.created_at, row.queued_at) == (0, at("09:15"), at("09:15"))


def test_jitter_delays_not_before_only(store_engine: Engine) -> None:
    """The delay is the deterministic one for (schedule, instant): every node agrees."""
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *", jitter="30s"))

    rig.fire_at(at("09:15") + LATE)
    rig.fire_at(at("09:30"))  # skipped by overlap: starts nothing, so no start time

    first, second = fires(store_engine, job.id)
    delay = jitter_delay(str(job.id), at("09:15"), timedelta(seconds=30))
    assert timedelta(0) <= delay < timedelta(seconds=30)
    assert first.not_before == at("09:15") + delay
    assert (first.scheduled_for, first.lateness_ms) == (at("09:15"), 2345)
    assert (second.not_before, second.lateness_ms) == (None, 0)
