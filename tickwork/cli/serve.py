"""``tickwork serve``: run a node (HTTP, scheduler, worker) until Ctrl-C or SIGTERM.

Stopping is graceful: the scheduler and the worker stop taking new work, running actions
get ``--grace`` seconds to finish (then they are cancelled and handed back to the queue),
and the HTTP server goes last, so webhooks to the built-in echo endpoint still land.

The node is imported inside the command so ``tickwork cron …`` starts without SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Sequence
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tickwork import eventloop
from tickwork.cli.db import DbOpt, resolve_db

if TYPE_CHECKING:
    from tickwork.errors import TickworkError
    from tickwork.manifests.directory import ConfigDirectory
    from tickwork.node import Node
    from tickwork.service.apply import ApplyResult
    from tickwork.store.protocols import NewExecution, ScheduleRecord
    from tickwork.store.queue import FinishedRun

_out = Console(highlight=False)


def serve(
    db: DbOpt = None,
    host: Annotated[str, typer.Option(help="Address the HTTP server listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the HTTP server.", min=1, max=65535)] = 8787,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="A directory of schedule and workflow YAML files to apply at start and "
            "whenever they change (pruning what they no longer declare).",
            exists=True,
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    slots: Annotated[
        int, typer.Option(help="Runs the worker executes at once.", min=1, max=10_000)
    ] = 200,
    grace: Annotated[
        float,
        typer.Option(help="Seconds running actions get to finish when stopping.", min=0),
    ] = 30.0,
    lease: Annotated[
        float,
        typer.Option(
            help="Seconds a run stays claimed by a worker that stopped answering, before "
            "another worker retries it.",
            min=1,
        ),
    ] = 30.0,
    rate_limit: Annotated[
        float,
        typer.Option(help="API requests a second per token, on average (0: no limit).", min=0),
    ] = 100.0,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="Do not print a line for every fire and run.")
    ] = False,
) -> None:
    """Run Tickwork: fire every schedule on time and run what fires, until Ctrl-C or SIGTERM.

    On SQLite (the default, ./tickwork.db) the schema is created or migrated first; on
    PostgreSQL run `tickwork db upgrade` once before starting nodes.
    """
    from tickwork.node import Node, prepare_store
    from tickwork.store.engine import display_url
    from tickwork.worker.loop import WorkerSettings

    url = resolve_db(db)
    # A SIGTERM while starting up is noted and honoured as soon as the loop runs (its own
    # handlers take over then); raising from the handler could land anywhere.
    stop_requested = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop_requested.set())
    try:
        revision = prepare_store(url)
        node = Node(
            url,
            on_fired=None if quiet else _print_fires,
            on_finished=None if quiet else _print_finished,
            worker=WorkerSettings(
                slots=slots,
                lease=timedelta(seconds=lease),
                heartbeat=timedelta(seconds=lease / 3),
                shutdown_grace=timedelta(seconds=grace),
            ),
        )
        try:
            directory = _config_directory(node, config) if config is not None else None
            if directory is not None:
                directory.reconcile()
            _print_schedules(node.schedules.list_all())
            _out.print(
                f"Tickwork on {display_url(url)} (schema {revision}), "
                f"http://{host}:{port}; Ctrl-C stops it.",
                soft_wrap=True,
            )
            _print_initial_token(node)
            eventloop.run(_run(node, host, port, rate_limit, stop_requested, directory))
        finally:
            node.close()
    except KeyboardInterrupt:  # Ctrl-C before the loop took SIGINT over
        pass
    _out.print("stopped")


async def _run(
    node: Node,
    host: str,
    port: int,
    rate_limit: float,
    stop_requested: threading.Event,
    directory: ConfigDirectory | None,
) -> None:
    from tickwork.api.app import ApiSettings, create_app
    from tickwork.api.server import serve_node

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, node.stop)
    if stop_requested.is_set():
        node.stop()
    app = create_app(node, ApiSettings(rate_per_token=rate_limit))
    stop_watching = asyncio.Event()
    watching = None
    if directory is not None:
        watching = asyncio.create_task(directory.watch(stop_watching))
    try:
        await serve_node(node, app, host, port)
    finally:
        stop_watching.set()
        if watching is not None:
            await watching


def _config_directory(node: Node, path: Path) -> ConfigDirectory:
    from tickwork.api.routers.apply import apply_response
    from tickwork.cli.apply import render
    from tickwork.manifests.directory import ConfigDirectory

    def applied(result: ApplyResult) -> None:
        if any(change.action != "unchanged" for change in result.changes):
            render(apply_response(result).model_dump(mode="json"))

    def failed(error: TickworkError) -> None:
        _out.print(f"[red]{escape(str(path))} not applied, nothing changed:[/red]")
        _out.print(escape(str(error)), soft_wrap=True)

    def watching() -> None:
        _out.print(f"Watching {escape(str(path))} for changes", soft_wrap=True)

    return ConfigDirectory(
        node.apply, path, on_applied=applied, on_error=failed, on_watching=watching
    )


def _print_initial_token(node: Node) -> None:
    from tickwork.service.tokens import TokenService

    created = TokenService(node.engine, node.clock).ensure_initial_admin()
    if created is not None:
        _out.print(
            "An admin token for the API (shown once; keep it, or create others with "
            f"`tickwork token create`):\n  [bold]{created.token}[/bold]",
            soft_wrap=True,
        )


def _print_schedules(schedules: Sequence[ScheduleRecord]) -> None:
    if not schedules:
        _out.print("No schedules yet: `tickwork serve --config examples` applies a few.")
        return
    table = Table(title=f"{len(schedules)} schedules", title_justify="left")
    for column in ("schedule", "trigger", "time zone", "state", "next fire, UTC"):
        table.add_column(column, no_wrap=True)
    for schedule in schedules:
        trigger = schedule.document["trigger"]
        when = trigger.get("cron") or trigger.get("interval") or trigger.get("at")
        next_fire = schedule.next_fire_at
        table.add_row(
            schedule.name
            if schedule.namespace == "default"
            else f"{schedule.namespace}/{schedule.name}",
            f"{schedule.trigger_kind} {when}",
            schedule.timezone,
            schedule.state.value + (f" ({schedule.pause_note})" if schedule.pause_note else ""),
            next_fire.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if next_fire else "-",
        )
    _out.print(table)
    for schedule in schedules:
        if schedule.pause_note:
            _out.print(f"{schedule.name} is paused: {schedule.pause_note}")


def _print_fires(rows: Sequence[NewExecution]) -> None:
    for row in rows:
        late = "" if row.lateness_ms is None else f" late {row.lateness_ms} ms"
        why = f" ({row.reason})" if row.reason else ""
        _out.print(
            f"{row.created_at:%H:%M:%S} {row.schedule_name} "
            f"{row.scheduled_for:%Y-%m-%dT%H:%M:%SZ} {row.status.value}{why}{late}",
            soft_wrap=True,
        )


def _print_finished(runs: Sequence[FinishedRun]) -> None:
    for run in runs:
        step = run.steps[-1] if run.steps else None
        code = ""
        if step is not None and step.status_code is not None:
            code = f" HTTP {step.status_code}"
        elif step is not None and step.exit_code is not None:
            code = f" exit {step.exit_code}"
        took = ""
        if step is not None and step.started_at is not None and step.finished_at is not None:
            took = f" in {(step.finished_at - step.started_at).total_seconds() * 1000:.0f} ms"
        error = f": {run.error}" if run.error else ""
        said = ""
        if not error and step is not None and step.output and step.output.strip():
            first = step.output.strip().splitlines()[0]
            said = f" -> {first[:60]}{'…' if len(first) > 60 else ''}"
        _out.print(
            f"{run.finished_at:%H:%M:%S} {run.schedule_name} run {str(run.execution_id)[-12:]} "
            f"{run.status.value}{code}{took}{error}{said}",
            markup=False,
            soft_wrap=True,
        )
