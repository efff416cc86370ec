"""Overlap policies at fire time, against the schedule's unfinished runs, on both stores.

No worker runs here: a ``queued`` run stays queued, which counts as running for overlap
(DESIGN, "Execution identity"). Where a test needs a run to be running or finished, it
moves the row with SQL as a worker would.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger

from .helpers import at, every, fires, make_rig, outcomes, set_status

EVERY_15 = "*/15 * * * *"


def test_skip_records_a_fire_skipped_while_a_run_is_queued_or_running(
    store_engine: Engine,
) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every(EVERY_15, overlap="skip"))

    rig.fire_at(at("09:15"))
    rig.fire_at(at("09:30"))  # 09:15 is still queued
    set_status(store_engine, job.id, at("09:15"), "running")
    rig.fire_at(at("09:45"))

    assert outcomes(store_engine, job.id) == [
        ("09:15", "running", None),
        ("09:30", "skipped", "overlap"),
        ("09:45", "skipped", "overlap"),
    ]
    skipped = fires(store_engine, job.id)[1]
    # A skipped fire starts nothing: no queue time, no start time; lateness is still kept.
    assert (skipped.queued_at, skipped.not_before, skipped.lateness_ms) == (None, None, 0)
    assert skipped.trigger is ExecutionTrigger.SCHEDULE


def test_skip_starts_the_next_fire_once_the_run_finished(store_engine: Engine) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every(EVERY_15))  # overlap defaults to skip

    rig.fire_at(at("09:15"))
    set_status(store_engine, job.id, at("09:15"), "succeeded")
    rig.fire_at(at("09:30"))

    assert outcomes(store_engine, job.id) == [
        ("09:15", "succeeded", None),
        ("09:30", "queued", None),
    ]


def test_skip_counts_a_manual_run_in_flight(store_engine: Engine) -> None:
    """A run someone started by hand overlaps the schedule's next fire like any other."""
    rig = make_rig(store_engine)
    job = rig.create(every(EVERY_15))
    rig.clock.set(at("09:10"))
    manual, _ = rig.service.trigger_now(job.id)

    rig.fire_at(at("09:15"))

    assert manual.status is ExecutionStatus.QUEUED
    assert outcomes(store_engine, job.id) == [("09:15", "skipped", "overlap")]


def test_allow_queues_every_fire_side_by_side(store_engine: Engine) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every(EVERY_15, overlap="allow"))

    for instant in ("09:15", "09:30", "09:45"):
        rig.fire_at(at(instant))

    assert outcomes(store_engine, job.id) == [
        ("09:15", "queued", None),
        ("09:30", "queued", None),
        ("09:45", "queued", None),
    ]
    for row in fires(store_engine, job.id):
        assert row.queued_at == row.scheduled_for == row.not_before == row.created_at
        assert row.lateness_ms == 0


def test_buffer_one_holds_one_fire_and_skips_the_rest(store_engine: Engine) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every(EVERY_15, overlap="buffer_one"))

    rig.fire_at(at("09:15"))
    set_status(store_engine, job.id, at("09:15"), "running")
    for instant in ("09:30", "09:45", "10:00"):
        rig.fire_at(at(instant))

    assert outcomes(store_engine, job.id) == [
        ("09:15", "running", None),
        ("09:30", "buffered", None),
        ("09:45", "skipped", "overlap"),
        ("10:00", "skipped", "overlap"),
    ]
    buffered = fires(store_engine, job.id)[1]
    # Held, not queued: it has no queue time yet, but its earliest start is its instant.
    assert (buffered.queued_at, buffered.not_before) == (None, at("09:30"))


def test_buffer_one_a_buffered_fire_keeps_the_schedule_busy(store_engine: Engine) -> None:
    """The run finished but the buffered fire has not started yet: a new fire must not
    jump ahead of it, so it is skipped."""
    rig = make_rig(store_engine)
    job = rig.create(every(EVERY_15, overlap="buffer_one"))

    rig.fire_at(at("09:15"))
    rig.fire_at(at("09:30"))
    set_status(store_engine, job.id, at("09:15"), "succeeded")
    rig.fire_at(at("09:45"))

    assert outcomes(store_engine, job.id) == [
        ("09:15", "succeeded", None),
        ("09:30", "buffered", None),
        ("09:45", "skipped", "overlap"),
    ]


def test_buffer_all_holds_every_fire_in_order(store_engine: Engine) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every(EVERY_15, overlap="buffer_all"))

    for instant in ("09:15", "09:30", "09:45", "10:00"):
        rig.fire_at(at(instant))

    assert outcomes(store_engine, job.id) == [
        ("09:15", "queued", None),
        ("09:30", "buffered", None),
        ("09:45", "buffered", None),
        ("10:00", "buffered", None),
    ]
    rows = fires(store_engine, job.id)
    # Ids are time-ordered, so "oldest first" by id and by instant agree.
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert [r.not_before for r in rows[1:]] == [at("09:30"), at("09:45"), at("10:00")]


def test_cancel_other_cancels_the_queued_run_and_queues_the_new_fire(
    store_engine: Engine,
) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every(EVERY_15, overlap="cancel_other"))

    rig.fire_at(at("09:15"))
    rig.fire_at(at("09:30"))
    rig.fire_at(at("09:45"))

    assert outcomes(store_engine, job.id) == [
        ("09:15", "cancelled", "cancel_other"),
        ("09:30", "cancelled", "cancel_other"),
        ("09:45", "queued", None),
    ]
    first, second, _ = fires(store_engine, job.id)
    assert (first.finished_at, second.finished_at) == (at("09:30"), at("09:45"))


def test_cancel_other_cancels_running_queued_and_buffered_runs_not_finished_ones(
    store_engine: Engine,
) -> None:
    rig = make_rig(store_engine)
    job = rig.create(every(EVERY_15, overlap="allow"))
    for instant in ("09:15", "09:30", "09:45", "10:00"):
        rig.fire_at(at(instant))
    set_status(store_engine, job.id, at("09:15"), "succeeded")
    set_status(store_engine, job.id, at("09:30"), "running")
    set_status(store_engine, job.id, at("09:45"), "buffered")
    rig.clock.set(at("10:05"))
    rig.service.update(job.id, every(EVERY_15, overlap="cancel_other"))

    rig.fire_at(at("10:15"))

    assert outcomes(store_engine, job.id) == [
        ("09:15", "succeeded", None),
        ("09:30", "cancelled", "cancel_other"),
        ("09:45", "cancelled", "cancel_other"),
        ("10:00", "cancelled", "cancel_other"),
        ("10:15", "queued", None),
    ]


def test_every_policy_queues_a_fire_when_the_last_run_finished(store_engine: Engine) -> None:
    """Overlap only matters while something is in flight; finished runs do not count."""
    rig = make_rig(store_engine)
    policies = ["skip", "allow", "buffer_one", "buffer_all", "cancel_other"]
    jobs = {p: rig.create(every(EVERY_15, p, overlap=p)).id for p in policies}
    rig.fire_at(at("09:15"))
    for job_id in jobs.values():
        set_status(store_engine, job_id, at("09:15"), "succeeded")

    rig.fire_at(at("09:30"))

    for policy, job_id in jobs.items():
        assert outcomes(store_engine, job_id) == [
            ("09:15", "succeeded", None),
            ("09:30", "queued", None),
        ], policy
