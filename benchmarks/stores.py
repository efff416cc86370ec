"""Throwaway stores for the benchmarks: a SQLite file in a temp folder, or a fresh
PostgreSQL database created on the server and dropped afterwards."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
"""The server and database to connect to for ``CREATE DATABASE``."""


@contextmanager
def database(store: str, postgres_url: str, tag: str) -> Iterator[str]:
    """A fresh, empty database URL for ``store`` (``sqlite`` or ``postgresql``), gone
    afterwards; ``tag`` tells the benchmarks' databases apart."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"tickwork-{tag}-") as directory:
            yield f"sqlite:///{directory}/bench.db"
        return
    import sqlalchemy as sa  # here: the benchmarks' sink processes import this module too

    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"tickwork_{tag}_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
