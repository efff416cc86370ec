"""Migrations reach head on both dialects, and head is exactly ``tables.py``."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger, ScheduleState
from tickwork.store import migrate
from tickwork.store.engine import create_store_engine
from tickwork.store.tables import TRIGGER_KINDS, metadata

from .helpers import insert_execution, insert_schedule


def schema_diff(url: str, target: sa.MetaData = metadata) -> list[Any]:
    """What ``alembic check`` would report: the differences from the migrated database."""
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, target))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = create_store_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrading_an_empty_database_reaches_head_and_matches_tables(
    empty_store_url: str,
) -> None:
    assert migrate.current_revision(empty_store_url) is None
    assert not migrate.is_current(empty_store_url)

    assert migrate.upgrade(empty_store_url) == migrate.head_revision()

    assert migrate.is_current(empty_store_url)
    assert schema_diff(empty_store_url) == []
    assert table_names(empty_store_url) == {*metadata.tables, "alembic_version"}


def test_downgrade_to_base_removes_every_table_and_upgrades_again(empty_store_url: str) -> None:
    migrate.upgrade(empty_store_url)

    assert migrate.downgrade(empty_store_url, "base") is None
    assert table_names(empty_store_url) == {"alembic_version"}

    assert migrate.upgrade(empty_store_url) == migrate.head_revision()
    assert schema_diff(empty_store_url) == []


def test_the_comparison_catches_a_forgotten_migration(store_url: str) -> None:
    changed = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(changed)
    sa.Table("schedules", changed, sa.Column("forgotten", sa.Integer()), extend_existing=True)

    diff = schema_diff(store_url, changed)

    assert [(op[0], op[2], op[3].name) for op in diff] == [("add_column", "schedules", "forgotten")]


def test_the_migrations_form_one_line() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert scripts.get_heads() == [migrate.head_revision()]
    assert scripts.get_bases() == ["0001"]


def test_the_database_accepts_every_member_of_the_enumerations(store_url: str) -> None:
    """CHECK constraints are not compared by Alembic: a new enum member needs a migration."""
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as connection:
            for state in ScheduleState:
                insert_schedule(connection, f"state-{state}", state=state.value)
            for kind in TRIGGER_KINDS:
                insert_schedule(connection, f"kind-{kind}", trigger_kind=kind)
            for status in ExecutionStatus:
                insert_execution(connection, None, trigger="manual", status=status.value)
            for trigger in ExecutionTrigger:
                insert_execution(connection, None, trigger=trigger.value)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("column", "value"),
    [("status", "exploded"), ("trigger", "cron"), ("attempt", 0)],
)
def test_the_database_refuses_values_outside_the_enumerations(
    store_url: str, column: str, value: object
) -> None:
    values: dict[str, Any] = {"trigger": "manual", column: value}
    engine = create_store_engine(store_url)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            insert_execution(connection, None, **values)
    finally:
        engine.dispose()
