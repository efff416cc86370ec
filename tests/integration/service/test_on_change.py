"""on_change: called once after each committed change, so a sleeping scheduler looks again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine

from tickwork.errors import TickworkError
from tickwork.ids import new_id
from tickwork.scheduler.loop import Scheduler
from tickwork.service.schedules import ScheduleService
from tickwork.testing import FakeClock

from .helpers import Changes, document, utc


def test_on_change_follows_each_change_once_and_sees_it_committed(
    service: ScheduleService, changes: Changes
) -> None:
    created = service.create(document())
    service.update(created.id, document(priority=1))
    service.pause(created.id, note="quiet")
    service.resume(created.id)
    service.delete(created.id)

    # Each call read the store on a fresh connection: the change was already committed.
    assert changes.seen == [
        [("report", 1, "active")],
        [("report", 2, "active")],
        [("report", 3, "paused")],
        [("report", 4, "active")],
        [],
    ]


def test_on_change_is_not_called_after_a_refused_change(
    service: ScheduleService, store_engine: Engine, clock: FakeClock, changes: Changes
) -> None:
    created = service.create(document())
    done = service.create(document("once", trigger={"at": "2026-03-02T13:00:00Z"}))
    clock.set(utc(2, 13))
    Scheduler(store_engine, clock).fire_due()
    unknown = new_id()
    refused: list[Callable[[], object]] = [
        lambda: service.create(document()),  # name taken
        lambda: service.create(document("other", timezone="Nowhere/Else")),
        lambda: service.update(created.id, document(priority=2), expected_revision=7),
        lambda: service.update(created.id, document("renamed")),
        lambda: service.update(unknown, document()),
        lambda: service.pause(created.id, note="x" * 1001),
        lambda: service.pause(done.id),
        lambda: service.resume(done.id),
        lambda: service.pause(unknown),
        lambda: service.resume(unknown),
        lambda: service.delete(unknown),
    ]

    for change in refused:
        with pytest.raises(TickworkError):
            change()

    assert changes.count == 2  # the two creates
