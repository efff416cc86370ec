"""``tickwork db upgrade | current | check``: the schema of the store, worked on directly.

The store is imported inside each command so ``tickwork cron …`` starts without SQLAlchemy.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Create and upgrade the database schema.", no_args_is_help=True)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $TICKWORK_DATABASE_URL, then sqlite:///./tickwork.db).",
        show_default=False,
    ),
]


def resolve_db(db: str | None) -> str:
    from tickwork.store.engine import default_database_url, normalize_database_url

    url = db or default_database_url()
    normalize_database_url(url)  # an unsupported URL fails here, with its reason
    return url


@app.command()
def upgrade(db: DbOpt = None) -> None:
    """Create the schema or migrate it to the newest revision."""
    from tickwork.store import migrate
    from tickwork.store.engine import display_url

    url = resolve_db(db)
    before = migrate.current_revision(url)
    after = migrate.upgrade(url)
    where = display_url(url)
    if before == after:
        typer.echo(f"{where}: already at {after} (head)")
    else:
        typer.echo(f"{where}: upgraded {before or 'empty'} -> {after} (head)")


@app.command()
def current(db: DbOpt = None) -> None:
    """Print the revision the database is at, and whether it is the newest."""
    from tickwork.store import migrate
    from tickwork.store.engine import display_url

    url = resolve_db(db)
    revision = migrate.current_revision(url)
    head = migrate.head_revision()
    if revision is None:
        state = f"empty (head is {head}; run `tickwork db upgrade`)"
    elif revision == head:
        state = f"{revision} (head)"
    else:
        state = f"{revision} (head is {head}; run `tickwork db upgrade`)"
    typer.echo(f"{display_url(url)}: {state}")


@app.command()
def check(db: DbOpt = None) -> None:
    """Exit 0 when the database is reachable and at the newest revision, 1 otherwise."""
    from tickwork.store import migrate
    from tickwork.store.engine import display_url

    url = resolve_db(db)
    head = migrate.require_current(url)
    typer.echo(f"ok: {display_url(url)} is at {head} (head)")
