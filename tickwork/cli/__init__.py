"""The ``tickwork`` command. Every TickworkError becomes a one-line message and exit 1."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from tickwork import __version__
from tickwork.cli import cron
from tickwork.errors import TickworkError

app = typer.Typer(
    name="tickwork",
    help="Tickwork: schedules that fire exactly once, on time, in any time zone.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(cron.app, name="cron")

_errors = Console(stderr=True, highlight=False)


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit


def main() -> None:
    try:
        app()
    except TickworkError as exc:
        _errors.print(f"[red]error:[/red] {exc}")
        sys.exit(1)
