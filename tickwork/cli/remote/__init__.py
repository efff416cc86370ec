"""Talking to a Tickwork server from the CLI: connection settings and the API client.

Every client command takes the options below and opens a client with :func:`connect`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tickwork.cli.remote.client import ApiClient, ApiError
from tickwork.cli.remote.config import TOKEN_ENV, URL_ENV, Connection, resolve_connection

__all__ = ["ApiClient", "ApiError", "Connection", "JsonOpt", "TokenOpt", "UrlOpt", "connect"]

UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar=URL_ENV,
        help="The server, e.g. http://127.0.0.1:8787 (default: the `tickwork login` one).",
        show_default=False,
        rich_help_panel="Server",
    ),
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=TOKEN_ENV,
        help="An API token (default: the `tickwork login` one).",
        show_default=False,
        rich_help_panel="Server",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")]


def connect(url: str | None, token: str | None) -> ApiClient:
    """A client for the server the options, the environment or the config file name."""
    return ApiClient(resolve_connection(url, token))
