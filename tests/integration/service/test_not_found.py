"""Every operation on a schedule that does not exist is NotFound, and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine

from tickwork.errors import NotFound
from tickwork.ids import new_id
from tickwork.service.schedules import ScheduleService

from .helpers import Changes, document, table_sizes, utc


def test_every_operation_on_an_unknown_schedule_is_not_found(
    service: ScheduleService, store_engine: Engine, changes: Changes
) -> None:
    service.create(document())
    unknown = new_id()
    operations: dict[str, Callable[[], object]] = {
        "get": lambda: service.get(unknown),
        "find": lambda: service.find("default", "nothing"),
        "update": lambda: service.update(unknown, document()),
        "pause": lambda: service.pause(unknown, note="n"),
        "resume": lambda: service.resume(unknown),
        "delete": lambda: service.delete(unknown),
        "trigger_now": lambda: service.trigger_now(unknown, idempotency_key="k"),
        "backfill": lambda: service.backfill(unknown, utc(2, 7), utc(2, 8)),
        "next_fires": lambda: service.next_fires(unknown),
        "missed": lambda: service.missed(unknown),
    }

    for name, operation in operations.items():
        with pytest.raises(NotFound):
            operation()
        assert table_sizes(store_engine) == (1, 0, 0), name
    assert changes.count == 1
