"""Driver errors arrive as Tickwork errors that say what happened."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tickwork.errors import Conflict, StoreUnavailable
from tickwork.store import migrate
from tickwork.store.engine import create_store_engine
from tickwork.store.errors import SchemaOutdated, translated_errors

from .helpers import insert_schedule


def test_an_unreachable_server_is_unavailable_and_the_password_is_hidden() -> None:
    url = "postgresql://tickwork:s3cret@127.0.0.1:1/tickwork?connect_timeout=2"
    engine = create_store_engine(url)
    try:
        with (
            pytest.raises(StoreUnavailable, match="cannot reach the store at") as caught,
            translated_errors(url=url),
            engine.connect(),
        ):
            pass
    finally:
        engine.dispose()
    assert "s3cret" not in str(caught.value)
    assert isinstance(caught.value.__cause__, sa.exc.OperationalError)


def test_a_sqlite_file_that_cannot_be_opened_is_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match="unable to open database file"):
        migrate.upgrade("sqlite:////nonexistent-dir/tickwork.db")


def test_a_unique_violation_names_its_constraint(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as connection:
            insert_schedule(connection, "nightly")
        with (
            pytest.raises(Conflict) as refused,
            translated_errors(),
            engine.begin() as connection,
        ):
            insert_schedule(connection, "nightly")
    finally:
        engine.dispose()
    assert refused.value.constraint == "uq_schedules_namespace_name"
    assert "uq_schedules_namespace_name" in str(refused.value)


def test_a_check_violation_names_its_constraint(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        with (
            pytest.raises(Conflict) as refused,
            translated_errors(),
            engine.begin() as connection,
        ):
            insert_schedule(connection, state="sleeping")
    finally:
        engine.dispose()
    assert refused.value.constraint == "ck_schedules_state"


def test_other_errors_are_left_alone(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        with (
            pytest.raises(sa.exc.DBAPIError),
            translated_errors(),
            engine.connect() as connection,
        ):
            connection.exec_driver_sql("SELECT * FROM no_such_table")
    finally:
        engine.dispose()


def test_an_outdated_database_is_reported_with_what_to_run(empty_store_url: str) -> None:
    with pytest.raises(SchemaOutdated, match=r"is empty, not at 0004: run `tickwork db upgrade`"):
        migrate.require_current(empty_store_url)
