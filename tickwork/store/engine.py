"""Engines from URLs, and every SQLite / PostgreSQL difference outside the column types.

Supported URLs: ``sqlite:///path`` (the default, ``sqlite:///./tickwork.db``) and
``postgresql://…`` / ``postgres://…`` / ``postgresql+psycopg://…`` (always psycopg 3).

SQLite connections get, on connect:

* ``journal_mode=WAL`` (file databases): readers never block the writer;
* ``busy_timeout`` (``SQLITE_BUSY_TIMEOUT_MS``): a locked database is waited for, not an error;
* ``foreign_keys=ON`` (SQLite's default is off) — only migrations turn it off, because
  Alembic's batch mode rebuilds tables and a ``DROP TABLE`` would fire ``ON DELETE``;
* ``synchronous=NORMAL``: durable at every checkpoint, safe with WAL, much faster than FULL.

And transactions start with ``BEGIN IMMEDIATE``: SQLite has one writer, and a deferred
transaction that reads and then writes fails with "database is locked" *without waiting*
when another connection wrote in between. Taking the write lock at ``BEGIN`` turns that into
an ordinary wait bounded by ``busy_timeout``; the price, readers queueing behind a short write
transaction, is small for one Tickwork process.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

from tickwork.errors import InvalidSpec

DATABASE_URL_ENV = "TICKWORK_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///./tickwork.db"
SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 10

_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
_POSTGRES_DRIVERS = {"postgresql", "postgres", "postgresql+psycopg"}


class Dialect(StrEnum):
    """The two stores Tickwork runs on."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"

    @classmethod
    def of(cls, bind: Engine | Connection) -> Dialect:
        return cls(bind.dialect.name)

    @property
    def is_postgres(self) -> bool:
        return self is Dialect.POSTGRESQL


def is_postgres(bind: Engine | Connection) -> bool:
    """True on PostgreSQL (SKIP LOCKED, LISTEN/NOTIFY, advisory locks), False on SQLite."""
    return Dialect.of(bind).is_postgres


def default_database_url() -> str:
    """``TICKWORK_DATABASE_URL`` if set and not empty, else ``sqlite:///./tickwork.db``."""
    return os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def normalize_database_url(url: str | URL) -> URL:
    """Parse ``url`` and pin the driver: psycopg 3 for PostgreSQL, pysqlite for SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidSpec("database url", repr(str(url)), "is not a database URL") from exc
    if parsed.drivername in _POSTGRES_DRIVERS:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in _SQLITE_DRIVERS:
        return parsed
    raise InvalidSpec(
        "database url",
        repr(parsed.render_as_string(hide_password=True)),
        "is not supported: use sqlite:///PATH or postgresql://USER@HOST/DB",
    )


def display_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database url>"


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL and in-memory SQLite."""
    parsed = normalize_database_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def create_store_engine(url: str | URL, *, foreign_keys: bool = True) -> Engine:
    """An engine for ``url`` with Tickwork's connection settings (see the module docstring).

    ``foreign_keys=False`` is for migrations only (SQLite batch table rebuilds).
    """
    parsed = normalize_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed)
        _configure_sqlite(engine, foreign_keys=foreign_keys)
        return engine
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    # No pre-ping: it costs a round trip on every checkout (a fifth of a REST read's CPU).
    # A connection the server dropped fails one operation instead, as StoreUnavailable,
    # which every caller retries or answers with 503; SQLAlchemy then discards the whole
    # pool, so the next operation connects afresh.
    return sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=False)


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    gate = _WriterGate()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_READS_ONLY):
            return  # each statement is its own read transaction: no write lock to take
        gate.enter(connection.connection.dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.leave(connection.connection.dbapi_connection)
            raise

    @sa.event.listens_for(engine, "commit")
    @sa.event.listens_for(engine, "rollback")
    def _on_end(connection: Connection) -> None:
        gate.leave(connection.connection.dbapi_connection)

    @sa.event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        gate.leave(dbapi_connection)  # a transaction that never said how it ended


class _WriterGate:
    """First come, first served among this process's SQLite transactions.

    SQLite's own lock has no queue: a waiting connection polls with growing sleeps, so a
    thread that commits and begins again at once (the scheduler writing a burst in
    batches) can starve another (the worker claiming those runs) for seconds. Threads of
    one process take turns here instead, in arrival order (a ticket lock); other
    processes still meet SQLite's lock and its busy timeout. A wait here is bounded by
    the same timeout and then fails the way SQLite would ("database is locked").
    """

    def __init__(self, timeout_s: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> None:
        self._timeout_s = timeout_s
        self._condition = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._abandoned: set[int] = set()
        self._holder: Any = None

    def enter(self, dbapi_connection: Any) -> None:
        with self._condition:
            if self._holder is dbapi_connection:
                return
            ticket = self._next_ticket
            self._next_ticket += 1
            deadline = time.monotonic() + self._timeout_s
            while self._holder is not None or self._serving != ticket:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._abandoned.add(ticket)
                    self._skip_abandoned()
                    self._condition.notify_all()
                    raise sa.exc.OperationalError(
                        "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
                    )
                self._condition.wait(remaining)
            self._holder = dbapi_connection
            self._serving = ticket + 1
            self._skip_abandoned()

    def leave(self, dbapi_connection: Any) -> None:
        with self._condition:
            if self._holder is dbapi_connection:
                self._holder = None
                self._condition.notify_all()

    def _skip_abandoned(self) -> None:
        while self._serving in self._abandoned:
            self._abandoned.discard(self._serving)
            self._serving += 1


_READS_ONLY = "tickwork_reads_only"


def reads_only(engine: Engine) -> Engine:
    """The same engine (same pool) for connections that only read: each statement runs
    in a transaction of its own, so a read costs no extra round trips and takes no lock.

    On PostgreSQL the connection is in autocommit for the while (no ``BEGIN`` before the
    first statement, no ``ROLLBACK`` at the end); on SQLite no ``BEGIN IMMEDIATE`` is
    issued, so a read neither waits for the writer nor makes the writer wait (WAL).
    Statements on such a connection each see their own snapshot: use it for single reads
    or for reads that need not agree with each other, never for writes.
    """
    if is_postgres(engine):
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine.execution_options(**{_READS_ONLY: True})
