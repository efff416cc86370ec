"""``tickwork login`` and ``logout``: remember (or forget) a server and a token."""

from __future__ import annotations

from typing import Annotated

import typer

from tickwork.cli.output import out
from tickwork.cli.remote import ApiClient, Connection
from tickwork.cli.remote.config import (
    TOKEN_ENV,
    URL_ENV,
    normalize_url,
    remove_config,
    write_config,
)


def login(
    url: Annotated[
        str,
        typer.Option(
            "--url", envvar=URL_ENV, help="The server, e.g. http://127.0.0.1:8787.", prompt=True
        ),
    ],
    token: Annotated[
        str,
        typer.Option(
            "--token",
            envvar=TOKEN_ENV,
            help="An API token (tickwork token create).",
            prompt=True,
            hide_input=True,
        ),
    ],
) -> None:
    """Check a server and a token, then save them for later commands (readable by you only)."""
    connection = Connection(normalize_url(url), token.strip())
    with ApiClient(connection) as api:
        answer = api.get("/stats")  # any read proves the URL and the token
    path = write_config(connection)
    namespace = answer.get("namespace") if isinstance(answer, dict) else None
    scope = f" (namespace {namespace})" if namespace else ""
    out.print(
        f"logged in to {connection.url}{scope}; saved in {path}", markup=False, soft_wrap=True
    )


def logout() -> None:
    """Forget the saved server and token."""
    path = remove_config()
    if path is None:
        out.print("not logged in: nothing to forget")
        return
    out.print(f"logged out: removed {path}", markup=False, soft_wrap=True)
