"""``tickwork stats``: the queue, schedules by state, runs by status, the workers."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from tickwork.cli.output import add_row, details, listing, out, print_json, status_text, utc_time
from tickwork.cli.remote import JsonOpt, TokenOpt, UrlOpt, connect

WINDOWS = ("1h", "24h", "7d")
QUEUE_FIELDS = ("queued", "running", "retrying", "waiting", "buffered")


def stats(as_json: JsonOpt = False, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """The whole picture: queue, schedules by state, runs by status per window, workers."""
    with connect(url, token) as api:
        answer = api.get("/stats")
    if as_json:
        print_json(answer)
        return
    where = f", namespace {answer['namespace']}" if answer.get("namespace") else ""
    out.print(f"{api.url} at {utc_time(answer.get('now'))}{where}", style="bold", markup=False)
    out.print("[bold]queue[/bold]")
    out.print(_queue(answer.get("queue") or {}))
    schedules = answer.get("schedules") or {}
    out.print(
        "schedules: "
        + ", ".join(f"{count} {state}" for state, count in schedules.items())
        + f" ({sum(schedules.values())} in all)"
    )
    out.print(_runs(answer.get("executions") or {}))
    out.print(_workers(answer.get("workers") or []))


def _queue(queue: dict[str, Any]) -> Table:
    age = queue.get("oldest_queued_age_s")
    oldest = "-" if age is None else f"{age:.1f} s ago ({utc_time(queue.get('oldest_queued_at'))})"
    rows = [(name, str(queue.get(name, 0))) for name in QUEUE_FIELDS]
    return details([*rows, ("oldest queued", oldest)])


def _runs(windows: dict[str, dict[str, int]]) -> Table:
    names = [name for name in WINDOWS if name in windows] + [
        name for name in windows if name not in WINDOWS
    ]
    statuses = sorted({status for counts in windows.values() for status in counts})
    table = listing("runs created, by status")
    table.add_column("status")
    for name in names:
        table.add_column(f"last {name}", justify="right")
    for status in statuses:
        table.add_row(status_text(status), *(str(windows[name].get(status, 0)) for name in names))
    table.add_row("all", *(str(sum(windows[name].values())) for name in names), style="bold")
    return table


def _workers(workers: list[dict[str, Any]]) -> Table:
    table = listing(f"workers ({len(workers)})")
    table.add_column("id", overflow="fold")
    for column in ("host", "pid", "running", "heartbeat (UTC)", "alive"):
        table.add_column(column, no_wrap=True)
    for worker in workers:
        add_row(
            table,
            str(worker.get("id")),
            str(worker.get("hostname")),
            str(worker.get("pid")),
            f"{worker.get('running')} of {worker.get('slots')}",
            utc_time(worker.get("heartbeat_at")),
            Text("yes", style="green") if worker.get("alive") else Text("no", style="red"),
        )
    return table
