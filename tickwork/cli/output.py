"""Rendering for the client commands: JSON as the API sent it, times, statuses, tables."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "add_row",
    "both_times",
    "details",
    "instant",
    "listing",
    "local_time",
    "millis",
    "out",
    "print_json",
    "status_text",
    "utc_time",
    "zone",
]

out = Console(highlight=False)

_STYLES = {
    "succeeded": "green",
    "active": "green",
    "running": "cyan",
    "queued": "cyan",
    "retrying": "yellow",
    "waiting": "yellow",
    "buffered": "yellow",
    "paused": "yellow",
    "cancelled": "yellow",
    "skipped": "yellow",
    "missed": "yellow",
    "completed": "dim",
    "failed": "red",
    "dead": "red",
    "timed_out": "red",
}


def print_json(data: Any) -> None:
    """One JSON document on stdout, as the API sent it."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def zone(name: str | None) -> tzinfo:
    """The IANA zone by name; UTC when there is none or it is unknown here."""
    if not name or name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def instant(text: str | None) -> datetime | None:
    """An RFC 3339 instant from the API (None stays None)."""
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def local_time(text: str | None, where: tzinfo) -> str:
    """``2026-03-08 03:00:00 EDT``; ``-`` for no instant."""
    value = instant(text)
    return "-" if value is None else f"{value.astimezone(where):%Y-%m-%d %H:%M:%S %Z}"


def utc_time(text: str | None) -> str:
    """``2026-03-08 07:00:00Z``; ``-`` for no instant."""
    value = instant(text)
    return "-" if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%SZ}"


def both_times(text: str | None, where: tzinfo) -> str:
    """Local time, and UTC when the zone is not UTC."""
    local = local_time(text, where)
    if local == "-" or where is UTC:
        return utc_time(text)
    return f"{local}  ({utc_time(text)})"


def status_text(status: str | None) -> Text:
    """A status or state, coloured by what it means."""
    if not status:
        return Text("-", style="dim")
    return Text(status, style=_STYLES.get(status, ""))


def millis(ms: int | None) -> str:
    """``12 ms``, ``3.4 s``, ``2m 05s``; ``-`` for none."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(ms // 1000, 60)
    return f"{minutes}m {seconds:02d}s"


def listing(title: str) -> Table:
    """A table for a list of things: a heading rule, no borders."""
    return Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)


def add_row(table: Table, *cells: str | Text) -> None:
    """Add a row; plain strings are shown as they are (what the server sent is no markup)."""
    table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells))


def details(rows: Iterable[tuple[str, str | Text]]) -> Table:
    """A two-column grid of labels and values, for one resource."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        add_row(grid, label, value)
    return grid
