"""A ScheduleService on a fresh store (SQLite and PostgreSQL) with a clock tests move."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tickwork.service.schedules import ScheduleService
from tickwork.testing import FakeClock

from .helpers import T0, Changes


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def changes() -> Changes:
    return Changes()


@pytest.fixture
def service(store_engine: Engine, clock: FakeClock, changes: Changes) -> ScheduleService:
    created = ScheduleService(store_engine, clock, on_change=changes)
    changes.service = created
    return created
