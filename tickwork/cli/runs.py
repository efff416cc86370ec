"""``tickwork runs …``: the history of runs, one run's steps and output, re-run, cancel, watch."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

import typer
from rich.text import Text

from tickwork.cli.output import (
    add_row,
    both_times,
    details,
    listing,
    millis,
    out,
    print_json,
    status_text,
    utc_time,
    zone,
)
from tickwork.cli.remote import ApiClient, ApiError, JsonOpt, TokenOpt, UrlOpt, connect
from tickwork.cli.schedules import InputError, find_id
from tickwork.errors import TickworkError

app = typer.Typer(
    help="List, inspect, re-run, cancel and follow runs (on a server).", no_args_is_help=True
)


def _run_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InputError(f"{text!r} is not a run id (tickwork runs ls lists them)") from None


IdArg = Annotated[
    str, typer.Argument(metavar="ID", help="A run's id.", callback=_run_id, show_default=False)
]


class StillRunning(TickworkError):
    """``runs watch`` reached its deadline before the run ended."""


UNFINISHED = frozenset({"queued", "running", "buffered", "waiting", "retrying"})
"""Statuses a run leaves by itself; every other status is final."""


@app.command("ls")
def list_runs(
    schedule: Annotated[
        str | None, typer.Option(help="Only runs of this schedule (name or id).")
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-N", help="Only this namespace (and where --schedule is)."),
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option(help="Only runs in this status (repeat for several).")
    ] = None,
    trigger: Annotated[
        str | None, typer.Option(help="Only runs started so: schedule, manual, retry, …")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only runs scheduled for this instant (RFC 3339) or later.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only runs scheduled for before this instant.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many (a page).", min=1)] = None,
    every: Annotated[bool, typer.Option("--all", help="Every page, not just the first.")] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """List runs, newest first."""
    with connect(url, token) as api:
        schedule_id = None
        if schedule is not None:
            schedule_id = find_id(api, schedule, namespace or "default")
        page = api.page(
            "/executions",
            limit=limit,
            every=every,
            schedule_id=schedule_id,
            namespace=namespace,
            status=status,
            trigger=trigger,
            since=since,
            until=until,
        )
    if as_json:
        print_json(page.items)
        return
    if not page.items:
        out.print("No runs.")
        return
    table = listing(f"runs ({len(page.items)}, newest first)")
    for column in ("id", "schedule", "trigger", "scheduled for (UTC)", "status", "took"):
        table.add_column(column, no_wrap=True)
    table.add_column("error", overflow="fold")  # the column that gives way when narrow
    for run in page.items:
        add_row(
            table,
            str(run["id"]),
            run.get("schedule_name") or "-",
            run.get("trigger") or "-",
            utc_time(run.get("scheduled_for")),
            _status(run),
            millis(run.get("duration_ms")),
            _first_line(run.get("error"), 60),
        )
    out.print(table)
    if page.next_cursor:
        out.print("[dim]More runs: --all lists every page.[/dim]")


@app.command("get")
def get_run(
    run_id: IdArg, as_json: JsonOpt = False, url: UrlOpt = None, token: TokenOpt = None
) -> None:
    """Show one run and every attempt of its steps."""
    with connect(url, token) as api:
        run = api.get(f"/executions/{run_id}")
        timezone = _timezone(api, run)
    if as_json:
        print_json(run)
        return
    where = zone(timezone)
    out.print(
        details(
            [
                ("id", str(run["id"])),
                ("schedule", f"{run.get('namespace')}/{run.get('schedule_name') or '-'}"),
                ("trigger", run.get("trigger") or "-"),
                ("status", _status(run)),
                ("scheduled for", both_times(run.get("scheduled_for"), where)),
                ("started", both_times(run.get("started_at"), where)),
                ("finished", both_times(run.get("finished_at"), where)),
                ("took", millis(run.get("duration_ms"))),
                ("late by", millis(run.get("lateness_ms"))),
                ("attempt", f"{run.get('attempt')} of {run.get('max_attempts')}"),
                ("worker", run.get("worker_id") or "-"),
                ("error", run.get("error") or "-"),
            ]
        )
    )
    steps = run.get("steps") or []
    if not steps:
        out.print("[dim]No step has started yet.[/dim]")
        return
    table = listing("steps")
    for column in ("step", "try", "status", "started (UTC)", "took", "result"):
        table.add_column(column, no_wrap=True)
    table.add_column("error", overflow="fold")
    for step in steps:
        add_row(
            table,
            step["step"],
            str(step["attempt"]),
            status_text(step.get("status")),
            utc_time(step.get("started_at")),
            millis(step.get("duration_ms")),
            _result(step),
            step.get("error") or step.get("failure") or "",
        )
    out.print(table)


@app.command("logs")
def run_logs(
    run_id: IdArg, as_json: JsonOpt = False, url: UrlOpt = None, token: TokenOpt = None
) -> None:
    """Print what each step attempt wrote: its output, then its stderr."""
    with connect(url, token) as api:
        run = api.get(f"/executions/{run_id}")
    steps = run.get("steps") or []
    if as_json:
        print_json(steps)
        return
    if not steps:
        out.print(f"[dim]Run {run_id} has no step output yet ({run.get('status')}).[/dim]")
    for step in steps:
        head = f"step {step['step']}, attempt {step['attempt']}: {step.get('status')}"
        result = _result(step)
        out.rule(Text(f"{head}, {result}" if result else head), align="left", style="dim")
        _section("output", step.get("output"), step.get("output_truncated", False))
        _section("stderr", step.get("stderr"), False)
        if step.get("error"):
            out.print(f"error: {step['error']}", style="red", markup=False, soft_wrap=True)


@app.command("retry")
def retry_run(
    run_id: IdArg, as_json: JsonOpt = False, url: UrlOpt = None, token: TokenOpt = None
) -> None:
    """Start a new run of an ended run, with the same input and nominal instant."""
    with connect(url, token) as api:
        run = api.post(f"/executions/{run_id}/retry")
    if as_json:
        print_json(run)
        return
    out.print(f"started run {run['id']} (re-run of {run_id}, {run['status']})")
    out.print(f"[dim]Follow it: tickwork runs watch {run['id']}[/dim]")


@app.command("cancel")
def cancel_run(
    run_id: IdArg, as_json: JsonOpt = False, url: UrlOpt = None, token: TokenOpt = None
) -> None:
    """Cancel a run that has not ended."""
    with connect(url, token) as api:
        run = api.post(f"/executions/{run_id}/cancel")
    if as_json:
        print_json(run)
        return
    out.print(f"cancelled run {run['id']} ({run['status']})")


@app.command("watch")
def watch_run(
    run_id: IdArg,
    timeout: Annotated[
        float, typer.Option(help="Give up (exit 1) after this many seconds.", min=0)
    ] = 600.0,
    interval: Annotated[float, typer.Option(help="Seconds between polls.", min=0.1)] = 0.5,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Follow a run until it ends: exit 0 when it succeeded, 1 otherwise."""
    deadline = time.monotonic() + timeout
    with connect(url, token) as api:
        run = _follow(api, run_id, deadline, interval, quiet=as_json)
    if as_json:
        print_json(run)
    else:
        error = f": {run['error']}" if run.get("error") else ""
        line = Text(f"run {run['id']} ")
        line.append_text(_status(run))
        line.append(f" in {millis(run.get('duration_ms'))}{error}")
        out.print(line, soft_wrap=True)
    if run["status"] != "succeeded":
        raise typer.Exit(1)


def _follow(api: ApiClient, run_id: str, deadline: float, interval: float, *, quiet: bool) -> Any:
    """Poll the run until it ends, printing each status change and each step attempt."""
    last_status: str | None = None
    seen: dict[tuple[str, int], str] = {}
    with out.status(f"run {run_id}", spinner="dots") as spinner:
        while True:
            run = api.get(f"/executions/{run_id}")
            if not quiet:
                for step in run.get("steps") or []:
                    key = (step["step"], step["attempt"])
                    if seen.get(key) != step["status"]:
                        seen[key] = step["status"]
                        head = f"step {key[0]} attempt {key[1]} {step['status']}"
                        _print_event(head, _step_summary(step))
                if run["status"] != last_status:
                    _print_event(f"status {run['status']}", _reason(run))
            last_status = run["status"]
            if run["status"] not in UNFINISHED:
                return run
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StillRunning(f"run {run_id} is still {run['status']}; stopped watching")
            spinner.update(f"run {run_id} {run['status']}, watching for {remaining:.0f} s more")
            time.sleep(min(interval, remaining))


def _first_line(text: str | None, width: int = 80) -> str:
    line = (text or "").strip().split("\n", 1)[0]
    return line if len(line) <= width else line[: width - 1] + "…"


def _print_event(head: str, tail: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    out.print(f"{stamp} {head}{f' ({tail})' if tail else ''}", markup=False, soft_wrap=True)


def _reason(run: dict[str, Any]) -> str:
    parts = [str(run[key]) for key in ("reason", "error") if run.get(key)]
    return "; ".join(parts)


def _step_summary(step: dict[str, Any]) -> str:
    parts = [_result(step), millis(step.get("duration_ms")) if step.get("finished_at") else ""]
    if step.get("error"):
        parts.append(str(step["error"]))
    return ", ".join(part for part in parts if part)


def _result(step: dict[str, Any]) -> str:
    if step.get("status_code") is not None:
        return f"HTTP {step['status_code']}"
    if step.get("exit_code") is not None:
        return f"exit {step['exit_code']}"
    return ""


def _status(run: dict[str, Any]) -> Text:
    text = status_text(run.get("status"))
    if run.get("reason"):
        text.append(f" ({run['reason']})", style="dim")
    return text


def _section(title: str, text: str | None, truncated: bool) -> None:
    if not text:
        out.print(f"[dim]{title}: (empty)[/dim]")
        return
    out.print(f"[bold]{title}:[/bold]")
    out.out(text.rstrip("\n"), highlight=False)
    if truncated:
        out.print("[dim](truncated)[/dim]")


def _timezone(api: ApiClient, run: dict[str, Any]) -> str | None:
    """The zone of the run's schedule, to show its times in; None when it is gone."""
    if not run.get("schedule_id"):
        return None
    try:
        schedule = api.get(f"/schedules/{run['schedule_id']}")
    except ApiError:
        return None
    return str(schedule.get("timezone") or "UTC")
