"""``tickwork cron explain | validate | next``: works offline, on the cron engine alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tickwork.cron import CronExpr, CronSyntaxError, resolve_zone
from tickwork.cron.explain import describe
from tickwork.errors import InvalidSpec

app = typer.Typer(
    help="Explain, validate and preview cron expressions (offline).", no_args_is_help=True
)
_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)

ExprArg = Annotated[str, typer.Argument(help="A cron expression, e.g. '30 2 * * 1-5'.")]
HashKeyOpt = Annotated[
    str | None, typer.Option("--hash-key", help="Key that H fields hash (a schedule's id).")
]


@app.command()
def explain(expr: ExprArg, hash_key: HashKeyOpt = None) -> None:
    """Describe an expression in plain words."""
    parsed = CronExpr.parse(expr, hash_key=hash_key)
    _out.print(describe(parsed))


@app.command()
def validate(expr: ExprArg, hash_key: HashKeyOpt = None) -> None:
    """Exit 0 when the expression is valid, 1 with the reason when it is not."""
    try:
        parsed = CronExpr.parse(expr, hash_key=hash_key)
    except CronSyntaxError as exc:
        _err.print(f"[red]invalid:[/red] {exc}")
        raise typer.Exit(1) from exc
    _out.print(f"[green]valid:[/green] {describe(parsed)}")


@app.command("next")
def next_fires(
    expr: ExprArg,
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone, e.g. Europe/Berlin.")] = "UTC",
    after: Annotated[
        str | None,
        typer.Option("--after", help="RFC 3339 instant to start after (default: now)."),
    ] = None,
    count: Annotated[int, typer.Option("--count", "-n", min=1, max=10_000)] = 5,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array of instants.")
    ] = False,
    hash_key: HashKeyOpt = None,
) -> None:
    """The next fire instants, in the zone and in UTC."""
    parsed = CronExpr.parse(expr, hash_key=hash_key)
    zone = resolve_zone(tz)
    start = _parse_instant(after) if after is not None else datetime.now(UTC)
    fires = [fire for _, fire in zip(range(count), parsed.iter_after(start, zone), strict=False)]
    if as_json:
        typer.echo(json.dumps([fire.isoformat() for fire in fires]))
        return
    table = Table(title=f"{expr}  ({describe(parsed)})", title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column(f"Local ({tz})", no_wrap=True)
    table.add_column("UTC", no_wrap=True)
    table.add_column("In", justify="right")
    notes = [_dst_note(parsed, fire) for fire in fires]
    if any(notes):
        table.add_column("DST", style="yellow")
    for index, (fire, note) in enumerate(zip(fires, notes, strict=True), 1):
        table.add_row(
            str(index),
            f"{fire:%a %Y-%m-%d %H:%M:%S %z}",
            f"{fire.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            _humanize(fire.astimezone(UTC) - start),
            *([note] if any(notes) else []),
        )
    _out.print(table)
    if len(fires) < count:
        _out.print(f"[yellow]Only {len(fires)} fire(s): the expression ends there.[/yellow]")


def _parse_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidSpec("--after", repr(text), "is not an RFC 3339 instant") from exc
    if value.tzinfo is None:
        raise InvalidSpec(
            "--after", repr(text), "has no UTC offset (write e.g. 2026-03-29T00:00:00Z)"
        )
    return value


def _dst_note(expr: CronExpr, fire: datetime) -> str:
    if not expr.matches_wall(fire.replace(tzinfo=None)):
        return "gap: runs after the jump"
    if fire.fold:
        return "repeated hour, 2nd pass"
    return ""


def _humanize(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"
