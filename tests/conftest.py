"""Shared fixtures: hypothesis profiles, and stores on SQLite and PostgreSQL.

PostgreSQL: ``TICKWORK_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) names a server and a database to
connect to for ``CREATE DATABASE``. A template database migrated to head is built once per
session; each test gets its own copy (``CREATE DATABASE … TEMPLATE …``), dropped afterwards.
When the server cannot be reached the PostgreSQL tests are skipped — except when ``CI`` is
set: CI must never skip them, so they fail.

SQLite: a migrated template file is built once per session and copied per test.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings
from sqlalchemy.engine import URL, Engine

from tickwork.store import migrate
from tickwork.store.engine import create_store_engine, normalize_database_url

TEST_POSTGRES_URL_ENV = "TICKWORK_TEST_POSTGRES_URL"
DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STORES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _in_ci() else "dev"))


# --------------------------------------------------------------------------------------
# PostgreSQL


class PostgresServer:
    """Creates and drops databases on the test server (names unique to this process)."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self._admin = sa.create_engine(
            url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        self._numbers = itertools.count()

    def new_name(self, kind: str = "test") -> str:
        return f"tickwork_{kind}_{os.getpid()}_{next(self._numbers)}"

    def url_of(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    def create(self, database: str, *, template: str = "template0") -> str:
        self.drop(database)
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        return self.url_of(database)

    def drop(self, database: str) -> None:
        # FORCE ends connections a test leaked, so one leak cannot fail every later test.
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def check(self) -> None:
        with self._admin.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self._admin.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """The PostgreSQL test server; skips (or fails, in CI) when it cannot be reached."""
    raw = os.environ.get(TEST_POSTGRES_URL_ENV) or DEFAULT_TEST_POSTGRES_URL
    url = normalize_database_url(raw)
    if "connect_timeout" not in url.query:
        url = url.update_query_dict({"connect_timeout": "3"})
    server = PostgresServer(url)
    try:
        server.check()
    except sa.exc.OperationalError as exc:
        server.dispose()
        reason = f"PostgreSQL unreachable at {url.render_as_string()}: {exc.orig}"
        if _in_ci():
            pytest.fail(f"{reason} (CI must not skip PostgreSQL tests)")
        pytest.skip(reason)
    yield server
    server.dispose()


@pytest.fixture(scope="session")
def pg_url(pg_server: PostgresServer) -> str:
    """URL of the reachable PostgreSQL test server's maintenance database."""
    return pg_server.url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> Iterator[str]:
    """Name of a database migrated to head, cloned by ``pg_database_url``."""
    name = f"tickwork_template_{os.getpid()}"
    url = pg_server.create(name)
    migrate.upgrade(url)
    yield name
    pg_server.drop(name)


@pytest.fixture
def pg_database_url(pg_server: PostgresServer, pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database at head, for this test only."""
    name = pg_server.new_name()
    url = pg_server.create(name, template=pg_template)
    yield url
    pg_server.drop(name)


@pytest.fixture
def pg_empty_database_url(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (no schema), for this test only."""
    name = pg_server.new_name("empty")
    url = pg_server.create(name)
    yield url
    pg_server.drop(name)


# --------------------------------------------------------------------------------------
# SQLite


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied by ``sqlite_database_url``."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    # The last connection closed checkpointed the WAL into the file and removed it.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def sqlite_database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite database at head, for this test only."""
    path = tmp_path / "tickwork.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


# --------------------------------------------------------------------------------------
# Either store


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh database at head, once on SQLite and once on PostgreSQL."""
    fixture = "pg_database_url" if request.param == "postgresql" else "sqlite_database_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(params=STORES)
def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database with no schema, once on SQLite and once on PostgreSQL."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_empty_database_url")
        return url
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def store_engine(store_url: str) -> Iterator[Engine]:
    """An engine on ``store_url``, disposed after the test."""
    engine = create_store_engine(store_url)
    yield engine
    engine.dispose()
