"""``tickwork serve``: run a node on the store until Ctrl-C or SIGTERM.

The node is imported inside the command so ``tickwork cron …`` starts without SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from tickwork.cli.db import DbOpt, resolve_db

if TYPE_CHECKING:
    from tickwork.node import Node
    from tickwork.store.protocols import NewExecution, ScheduleRecord

_out = Console(highlight=False)


def serve(
    db: DbOpt = None,
    examples: Annotated[
        bool,
        typer.Option(
            "--examples", help="Create the example schedules first (those not there yet)."
        ),
    ] = False,
) -> None:
    """Run Tickwork: fire every schedule of the store on time, until Ctrl-C or SIGTERM.

    On SQLite (the default, ./tickwork.db) the schema is created or migrated first; on
    PostgreSQL run `tickwork db upgrade` once before starting nodes.
    """
    from tickwork.node import Node, prepare_store
    from tickwork.store.engine import display_url

    url = resolve_db(db)
    # A SIGTERM that arrives while starting up stops it cleanly too (the loop's own
    # handlers take over once it runs).
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        revision = prepare_store(url)
        node = Node(url, on_fired=_print_fires)
        try:
            if examples:
                _create_examples(node)
            _print_schedules(node.schedules.list_all())
            _out.print(f"Tickwork on {display_url(url)} (schema {revision}); Ctrl-C stops it.")
            asyncio.run(_run(node))
        finally:
            node.close()
    except KeyboardInterrupt:
        pass
    _out.print("stopped")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


async def _run(node: Node) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, node.stop)
    await node.run()


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
            f"{row.scheduled_for:%Y-%m-%dT%H:%M:%SZ} {row.status.value}{why}{late}"
        )
