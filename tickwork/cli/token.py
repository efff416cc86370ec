"""``tickwork token create | ls | revoke``: API tokens, worked on the store directly.

These commands need the store (``--db``), not a server: they are how the first tokens
are made, and how a lost admin token is replaced.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tickwork.cli.db import DbOpt, resolve_db

app = typer.Typer(help="Create, list and revoke API tokens (on the store).", no_args_is_help=True)
_out = Console(highlight=False)

ScopeOpt = Annotated[
    list[str],
    typer.Option("--scope", "-s", help="read, write or admin; repeat for several."),
]


@app.command()
def create(
    scope: ScopeOpt,
    namespace: Annotated[
        str | None, typer.Option(help="Limit the token to one namespace (default: all).")
    ] = None,
    name: Annotated[str, typer.Option(help="A name to recognise the token by.")] = "cli",
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a token and print it (it is shown only this once)."""
    from tickwork.clock import SystemClock
    from tickwork.service.tokens import TokenService
    from tickwork.store.engine import create_store_engine
    from tickwork.store.migrate import require_current

    url = resolve_db(db)
    require_current(url)
    engine = create_store_engine(url)
    try:
        created = TokenService(engine, SystemClock()).create(name, scope, namespace)
    finally:
        engine.dispose()
    if as_json:
        record = created.record
        typer.echo(
            json.dumps(
                {
                    "id": str(record.id),
                    "name": record.name,
                    "scopes": list(record.scopes),
                    "namespace": record.namespace,
                    "token": created.token,
                }
            )
        )
        return
    typer.echo(created.token)


@app.command("ls")
def list_tokens(db: DbOpt = None) -> None:
    """List tokens (never the tokens themselves)."""
    from tickwork.clock import SystemClock
    from tickwork.service.tokens import TokenService
    from tickwork.store.engine import create_store_engine

    engine = create_store_engine(resolve_db(db))
    try:
        records = TokenService(engine, SystemClock()).list_all()
    finally:
        engine.dispose()
    table = Table(title=f"{len(records)} tokens", title_justify="left")
    for column in ("id", "name", "scopes", "namespace", "created", "last used", "revoked"):
        table.add_column(column, no_wrap=True)
    for r in records:
        table.add_row(
            str(r.id),
            r.name,
            ",".join(r.scopes),
            r.namespace or "(all)",
            f"{r.created_at:%Y-%m-%d %H:%M}",
            f"{r.last_used_at:%Y-%m-%d %H:%M}" if r.last_used_at else "-",
            f"{r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "-",
        )
    _out.print(table)


@app.command()
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id.")], db: DbOpt = None
) -> None:
    """Revoke a token: it stops working within seconds."""
    from tickwork.clock import SystemClock
    from tickwork.errors import InvalidSpec
    from tickwork.service.tokens import TokenService
    from tickwork.store.engine import create_store_engine

    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        raise InvalidSpec(
            "token id", repr(token_id), "is not a token id (see tickwork token ls)"
        ) from None
    engine = create_store_engine(resolve_db(db))
    try:
        TokenService(engine, SystemClock()).revoke(parsed)
    finally:
        engine.dispose()
    _out.print(f"revoked {parsed}")
