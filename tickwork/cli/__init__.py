"""The ``tickwork`` command. Every TickworkError becomes a one-line message and exit 1."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from tickwork import __version__
from tickwork.cli import apply, cron, db, login, runs, schedules, schema, serve, stats, token
from tickwork.errors import TickworkError

app = typer.Typer(
    name="tickwork",
    help="Tickwork: schedules that fire exactly once, on time, in any time zone.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(cron.app, name="cron")
app.add_typer(db.app, name="db")
app.add_typer(token.app, name="token")
app.command()(serve.serve)
app.command()(apply.apply)
app.command()(schema.schema)
app.add_typer(schedules.app, name="schedules")
app.add_typer(runs.app, name="runs")
app.command()(stats.stats)
app.command()(login.login)
app.command()(login.logout)

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
        # One line whatever the terminal width; the message is text, not markup.
        _errors.print("[red]error:[/red]", escape(str(exc)), soft_wrap=True)
        sys.exit(1)
