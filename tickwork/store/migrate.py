"""Schema migrations, driven from code: no ``alembic.ini`` at runtime.

The migration scripts ship inside the package (``tickwork/store/migrations``). To write a
new one, change ``tables.py`` and let Alembic draft it against a database at head::

    from alembic import command
    from tickwork.store.engine import create_store_engine
    from tickwork.store.migrate import alembic_config, upgrade

    upgrade("sqlite:///draft.db")
    with create_store_engine("sqlite:///draft.db").connect() as connection:
        command.revision(alembic_config(connection), "what changed", autogenerate=True,
                         rev_id="0002_what_changed")

then read and tidy the draft (literal values, not imports from ``tables.py``, so old
migrations never change). ``tests/integration/store/test_migrations.py`` fails until the
migrated schema and ``tables.py`` agree on both dialects.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from tickwork.store.engine import Dialect, create_store_engine, display_url, sqlite_file
from tickwork.store.errors import SchemaOutdated, translated_errors

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_Command = Callable[[Config], None]


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config for the packaged scripts, bound to ``connection`` when given."""
    config = Config(attributes={"connection": connection} if connection is not None else {})
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    """The newest revision this Tickwork ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships at least one revision
        raise SchemaOutdated("no migrations are packaged")
    return head


def upgrade(url: str, revision: str = "head") -> str | None:
    """Migrate the database at ``url`` up to ``revision``; returns the revision it is at."""
    _migrate(url, lambda config: command.upgrade(config, revision))
    return current_revision(url)


def downgrade(url: str, revision: str) -> str | None:
    """Migrate down to ``revision`` (``"base"``: drop every table); returns the revision."""
    _migrate(url, lambda config: command.downgrade(config, revision))
    return current_revision(url)


def current_revision(url: str) -> str | None:
    """The revision the database is at; None for an empty (or, for SQLite, missing) database."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None  # connecting would create the file
    engine = create_store_engine(url)
    try:
        with translated_errors(url=url), engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def is_current(url: str) -> bool:
    """True when the database is at the newest packaged revision."""
    return current_revision(url) == head_revision()


def require_current(url: str) -> str:
    """The head revision, or ``SchemaOutdated`` naming where the database is and what to run."""
    head = head_revision()
    current = current_revision(url)
    if current != head:
        at = f"at revision {current}" if current else "empty"
        raise SchemaOutdated(
            f"the database {display_url(url)} is {at}, not at {head}: run `tickwork db upgrade`"
        )
    return head


def _migrate(url: str, run: _Command) -> None:
    # SQLite: foreign keys off while batch mode rebuilds tables, checked once at the end.
    engine = create_store_engine(url, foreign_keys=False)
    try:
        with translated_errors(url=url), engine.connect() as connection:
            run(alembic_config(connection))
            if Dialect.of(connection) is Dialect.SQLITE:
                _check_foreign_keys(connection)
    finally:
        engine.dispose()


def _check_foreign_keys(connection: Connection) -> None:
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    connection.rollback()
    if problems:
        raise SchemaOutdated(f"migration left rows with broken foreign keys: {problems[:5]}")
