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
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from tickwork import eventloop
from tickwork.cli.db import DbOpt, resolve_db

if TYPE_CHECKING:
    from tickwork.node import Node
    from tickwork.store.protocols import NewExecution, ScheduleRecord
    from tickwork.store.queue import FinishedRun

_out = Console(highlight=False)


def serve(
    db: DbOpt = None,
    host: Annotated[str, typer.Option(help="Address the HTTP server listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the HTTP server.", min=1, max=65535)] = 8787,
    examples: Annotated[
        bool,
        typer.Option(
            "--examples", help="Create the example schedules first (those not there yet)."
        ),
    ] = False,
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
            if examples:
                _create_examples(node)
            _print_schedules(node.schedules.list_all())
            _out.print(
                f"Tickwork on {display_url(url)} (schema {revision}), "
                f"http://{host}:{port}; Ctrl-C stops it.",
                soft_wrap=True,
            )
            _print_initial_token(node)
            eventloop.run(_run(node, host, port, rate_limit, stop_requested))
        finally:
            node.close()
    except KeyboardInterrupt:  # Ctrl-C before the loop took SIGINT over
        pass
    _out.print("stopped")


async def _run(
    node: Node, host: str, port: int, rate_limit: float, stop_requested: threading.Event
) -> None:
    from tickwork.api.app import ApiSettings, create_app
    from tickwork.api.server import serve_node

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, node.stop)
    if stop_requested.is_set():
        node.stop()
    app = create_app(node, ApiSettings(rate_per_token=rate_limit))
    await serve_node(node, app, host, port)


def _print_initial_token(node: Node) -> None:
    from tickwork.service.tokens import TokenService

    created = TokenService(node.engine, node.clock).ensure_initial_admin()
    if created is not None:
        _out.print(
            "An admin token for the API (shown once; keep it, or create others with "
            f"`tickwork token create`):\n  [bold]{created.token}[/bold]",
            soft_wrap=True,
        )


def _create_examples(node: Node) -> None:
    from tickwork.errors import NotFound
    from tickwork.examples import example_documents

    for document in example_documents():
        namespace = str(document.get("namespace", "default"))
        try:
            node.schedules.find(namespace, str(document["name"]))
        except NotFound:
            record = node.schedules.create(document)
            _out.print(f"created example schedule [bold]{record.name}[/bold]")


def _print_schedules(schedules: Sequence[ScheduleRecord]) -> None:
    if not schedules:
        _out.print("No schedules yet: `tickwork serve --examples` creates a few.")
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
