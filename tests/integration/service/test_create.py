"""Creating a schedule: stored canonical, next fire in its own time zone, bad input refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tickwork.errors import Conflict, InvalidDocument
from tickwork.schedule.policies import ScheduleState
from tickwork.service.schedules import ScheduleService
from tickwork.spec.documents import ScheduleDocument
from tickwork.testing import FakeClock

from .helpers import MINUTE, T0, Changes, document, table_sizes, utc


def test_create_returns_the_record_with_next_fire_in_the_schedule_time_zone(
    service: ScheduleService,
) -> None:
    # 02:30 in Berlin (CET, UTC+1) on 3 March is 01:30 UTC.
    record = service.create(document(trigger={"cron": "30 2 * * *"}, timezone="Europe/Berlin"))

    assert record.next_fire_at == utc(3, 1, 30)
    assert (record.namespace, record.name, record.timezone) == (
        "default",
        "report",
        "Europe/Berlin",
    )
    assert (record.trigger_kind, record.state, record.pause_note) == (
        "cron",
        ScheduleState.ACTIVE,
        None,
    )
    assert (record.revision, record.runs_count, record.last_fired_at) == (1, 0, None)
    assert record.created_at == record.updated_at == T0
    assert service.get(record.id) == record
    assert service.find("default", "report") == record


def test_create_owes_only_instants_strictly_after_now(service: ScheduleService) -> None:
    # Created exactly on an instant of its trigger: that instant is not owed.
    record = service.create(document(trigger={"cron": "0 12 * * *"}))
    assert record.next_fire_at == utc(3, 12)


def test_an_interval_schedule_first_fires_one_interval_after_creation(
    service: ScheduleService, clock: FakeClock
) -> None:
    clock.advance(7 * MINUTE)  # 12:07, off the quarter-hour grid
    record = service.create(document(trigger={"interval": "15m"}))
    assert record.next_fire_at == utc(2, 12, 22)
    assert record.trigger_kind == "interval"


def test_the_stored_document_is_the_canonical_dump(service: ScheduleService) -> None:
    data = document(
        trigger={"interval": "PT15M"},
        catchup_window="PT30M",
        retry={"max_attempts": 5},
        input={"day": "mon"},
    )

    record = service.create(data)

    canonical = ScheduleDocument.from_mapping(data).model_dump(mode="json")
    assert record.document == canonical
    assert service.get(record.id).document == canonical  # the same after the database
    # Defaults are written out and durations normalised, so the rules never re-validate.
    assert canonical["trigger"] == {"interval": "15m", "anchor": None}
    assert (canonical["catchup_window"], canonical["overlap"]) == ("30m", "skip")


def test_a_paused_document_creates_a_paused_schedule_with_its_note(
    service: ScheduleService,
) -> None:
    record = service.create(document(paused=True, pause_note="vendor is down"))

    assert record.state is ScheduleState.PAUSED
    assert record.pause_note == "vendor is down"
    assert record.next_fire_at == utc(2, 13)
    assert (record.document["paused"], record.document["pause_note"]) == (True, "vendor is down")


def test_a_taken_name_in_the_namespace_is_a_conflict_and_writes_nothing(
    service: ScheduleService, store_engine: Engine, changes: Changes
) -> None:
    first = service.create(document())

    with pytest.raises(Conflict) as refused:
        service.create(document(trigger={"cron": "*/5 * * * *"}))

    assert str(refused.value) == "a schedule named 'report' already exists in namespace 'default'"
    assert refused.value.constraint == "uq_schedules_namespace_name"
    assert service.list_all() == [first]
    assert table_sizes(store_engine) == (1, 0, 0)
    assert changes.count == 1


def test_the_same_name_in_another_namespace_is_another_schedule(service: ScheduleService) -> None:
    service.create(document())
    other = service.create(document(namespace="team-b"))
    assert [(s.namespace, s.name) for s in service.list_all()] == [
        ("default", "report"),
        ("team-b", "report"),
    ]
    assert service.list_all("team-b") == [other]


INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "bad cron": ({"trigger": {"cron": "61 * * * *"}}, "trigger.cron"),
    "too many cron fields": ({"trigger": {"cron": "* * * * * * * *"}}, "trigger.cron"),
    "unknown timezone": ({"timezone": "Mars/Olympus"}, "timezone"),
    "unknown key": ({"overlapp": "skip"}, "overlapp"),
    "missing action": ({"action": None}, "action"),
    "at in the past": ({"trigger": {"at": "2026-03-02T11:59:00Z"}}, "trigger.at"),
    "at right now": ({"trigger": {"at": "2026-03-02T12:00:00Z"}}, "trigger.at"),
    "end_at in the past": ({"end_at": "2026-03-02T11:00:00Z"}, "end_at"),
    "a nested field": ({"retry": {"max_attempts": 0}}, "retry.max_attempts"),
}
"""Documents that must be refused, by the field their one problem names."""


def test_an_invalid_document_names_the_field_and_writes_nothing(
    service: ScheduleService, store_engine: Engine, changes: Changes
) -> None:
    for case, (changes_to_document, field) in INVALID.items():
        with pytest.raises(InvalidDocument) as refused:
            service.create(document(**changes_to_document))

        assert [problem.field for problem in refused.value.problems] == [field], case
        assert refused.value.field == field, case
    assert table_sizes(store_engine) == (0, 0, 0)
    assert changes.count == 0


def test_every_problem_of_a_document_is_listed(service: ScheduleService) -> None:
    with pytest.raises(InvalidDocument) as refused:
        service.create(document(timezone="Nowhere/Else", priority=1000, tagz=["x"]))
    assert sorted(p.field for p in refused.value.problems) == ["priority", "tagz", "timezone"]


def test_a_document_that_is_not_a_mapping_is_refused(service: ScheduleService) -> None:
    with pytest.raises(InvalidDocument) as refused:
        service.create(["not", "a", "mapping"])  # type: ignore[arg-type]
    assert refused.value.problems[0].field == ""


def test_an_at_outside_the_window_is_refused_without_calling_it_past(
    service: ScheduleService, store_engine: Engine
) -> None:
    # 14:00 is ahead of now, but before start_at / after end_at: it would never fire.
    for window in ({"start_at": "2026-03-02T15:00:00Z"}, {"end_at": "2026-03-02T13:00:00Z"}):
        with pytest.raises(InvalidDocument) as refused:
            service.create(document(trigger={"at": "2026-03-02T14:00:00Z"}, **window))

        (problem,) = refused.value.problems
        assert problem.field == "trigger.at"
        assert "past" not in problem.message
    assert table_sizes(store_engine) == (0, 0, 0)
