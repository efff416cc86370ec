"""Connection settings, URLs and the portable instant type."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine

from tickwork.errors import Conflict, InvalidSpec
from tickwork.store.engine import (
    DEFAULT_DATABASE_URL,
    SQLITE_BUSY_TIMEOUT_MS,
    Dialect,
    create_store_engine,
    default_database_url,
    is_postgres,
    normalize_database_url,
    reads_only,
)
from tickwork.store.errors import translated_errors
from tickwork.store.tables import executions, scheduler_leases, schedules
from tickwork.store.types import UTCDateTime

from .helpers import T0, insert_execution, insert_schedule

INSTANTS = [
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 3, 8, 3, 0, tzinfo=timezone(timedelta(hours=-4))),  # 07:00Z
    datetime(2026, 3, 8, 6, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 3, 8, 7, 0, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),  # 01:30Z
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
]


def pragma(engine: Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_connections_get_the_pragmas(sqlite_database_url: str) -> None:
    engine = create_store_engine(sqlite_database_url)
    try:
        assert pragma(engine, "journal_mode") == "wal"
        assert pragma(engine, "foreign_keys") == 1
        assert pragma(engine, "busy_timeout") == SQLITE_BUSY_TIMEOUT_MS
        assert pragma(engine, "synchronous") == 1  # NORMAL
    finally:
        engine.dispose()


def test_sqlite_transactions_take_the_write_lock_at_begin(sqlite_database_url: str) -> None:
    engine = create_store_engine(sqlite_database_url)
    try:
        with engine.connect() as holder, holder.begin():  # nothing written yet
            other = engine.raw_connection()
            try:
                cursor = other.cursor()
                cursor.execute("PRAGMA busy_timeout = 0")
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    cursor.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
    finally:
        engine.dispose()


def test_reads_only_connections_neither_wait_for_the_writer_nor_hold_a_transaction(
    store_engine: Engine,
) -> None:
    count = sa.select(sa.func.count()).select_from(schedules)
    with store_engine.begin() as writer:
        insert_schedule(writer)
        # A transaction of its own would queue behind the writer (SQLite) or stay open.
        with reads_only(store_engine).connect() as reader:
            assert reader.execute(count).scalar_one() == 0
            if is_postgres(store_engine):
                status = reader.connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
                assert status == psycopg.pq.TransactionStatus.IDLE
    with reads_only(store_engine).connect() as reader:
        assert reader.execute(count).scalar_one() == 1
    with store_engine.connect() as conn:  # the pool hands out ordinary connections again
        conn.execute(count)
        if is_postgres(store_engine):
            status = conn.connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
            assert status == psycopg.pq.TransactionStatus.INTRANS


def test_foreign_keys_are_enforced(store_engine: Engine) -> None:
    with pytest.raises(Conflict), translated_errors(), store_engine.begin() as connection:
        insert_execution(connection, uuid.uuid4())


def test_deleting_a_schedule_keeps_its_runs(store_engine: Engine) -> None:
    with store_engine.begin() as connection:
        schedule_id = insert_schedule(connection)
        execution_id = insert_execution(connection, schedule_id, schedule_name="nightly")
        connection.execute(sa.delete(schedules).where(schedules.c.id == schedule_id))
        row = connection.execute(
            sa.select(executions.c.schedule_id, executions.c.schedule_name).where(
                executions.c.id == execution_id
            )
        ).one()
    assert tuple(row) == (None, "nightly")


def test_instants_round_trip_as_aware_utc_and_sort_by_time(store_engine: Engine) -> None:
    with store_engine.begin() as connection:
        for number, instant in enumerate(reversed(INSTANTS)):
            connection.execute(
                sa.insert(scheduler_leases).values(
                    name=f"lease-{number}", holder="node", expires_at=instant
                )
            )
        stored = (
            connection.execute(
                sa.select(scheduler_leases.c.expires_at).order_by(scheduler_leases.c.expires_at)
            )
            .scalars()
            .all()
        )
        before_t0 = connection.execute(
            sa.select(sa.func.count()).where(scheduler_leases.c.expires_at < T0)
        ).scalar()

    assert stored == sorted(INSTANTS)
    assert all(value.tzinfo is UTC for value in stored)
    assert before_t0 == sum(instant < T0 for instant in INSTANTS) == 3


def test_naive_instants_are_refused(store_engine: Engine) -> None:
    with pytest.raises(sa.exc.StatementError) as refused, store_engine.begin() as connection:
        connection.execute(
            sa.insert(scheduler_leases).values(
                name="naive", holder="node", expires_at=datetime(2026, 1, 1)
            )
        )
    assert isinstance(refused.value.orig, ValueError)
    assert "naive" in str(refused.value.orig)


@given(st.lists(st.datetimes(timezones=st.timezones()), min_size=2, max_size=10))
def test_sqlite_integers_sort_like_the_instants(values: list[datetime]) -> None:
    # Compare in UTC: Python never calls a wall time in a DST fold equal across zones.
    utc_datetime = UTCDateTime()
    dialect = sqlite.dialect()
    encoded = [
        (value.astimezone(UTC), utc_datetime.process_bind_param(value, dialect)) for value in values
    ]
    assert sorted(encoded) == sorted(encoded, key=lambda pair: pair[1])
    for instant, integer in encoded:
        assert utc_datetime.process_result_value(integer, dialect) == instant


def test_postgres_binds_utc() -> None:
    dialect = create_store_engine("postgresql://u@h/db").dialect  # never connects
    bound = UTCDateTime().process_bind_param(INSTANTS[1], dialect)
    assert bound == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert bound.tzinfo is UTC


def test_the_dialect_is_known_from_an_engine(store_engine: Engine) -> None:
    dialect = Dialect.of(store_engine)
    assert is_postgres(store_engine) is (dialect is Dialect.POSTGRESQL)
    assert dialect.is_postgres is (store_engine.dialect.name == "postgresql")


@pytest.mark.parametrize(
    ("given_url", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_urls_are_pinned_to_our_drivers(given_url: str, driver: str) -> None:
    assert normalize_database_url(given_url).drivername == driver


@pytest.mark.parametrize("given_url", ["mysql://u@h/db", "postgresql+psycopg2://u@h/db", "nope"])
def test_other_urls_are_refused_with_the_reason(given_url: str) -> None:
    with pytest.raises(InvalidSpec, match="database url"):
        normalize_database_url(given_url)


def test_the_default_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TICKWORK_DATABASE_URL", raising=False)
    assert default_database_url() == DEFAULT_DATABASE_URL == "sqlite:///./tickwork.db"
    monkeypatch.setenv("TICKWORK_DATABASE_URL", "postgresql://u@h/db")
    assert default_database_url() == "postgresql://u@h/db"
