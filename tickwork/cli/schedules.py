"""``tickwork schedules …``: list, read, create, change and start schedules on a server.

A schedule is named by its id, or by its name within ``--namespace`` (default
``default``), which is looked up with a list query.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from tickwork.cli.output import (
    add_row,
    both_times,
    details,
    instant,
    listing,
    local_time,
    out,
    print_json,
    status_text,
    utc_time,
    zone,
)
from tickwork.cli.remote import ApiClient, ApiError, JsonOpt, TokenOpt, UrlOpt, connect
from tickwork.errors import TickworkError

app = typer.Typer(
    help="List, create, change and start schedules (on a server).", no_args_is_help=True
)

RefArg = Annotated[str, typer.Argument(metavar="NAME_OR_ID", help="A schedule's name or id.")]
NamespaceOpt = Annotated[
    str, typer.Option("--namespace", "-N", help="The namespace a schedule NAME is in.")
]
FileOpt = Annotated[
    str,
    typer.Option("--file", "-f", help="A YAML or JSON file with one schedule; - reads stdin."),
]


class InputError(TickworkError):
    """Input the command cannot use: a file that is not one document, bad JSON, no consent."""


# ------------------------------------------------------------------------------------------
# Reading


@app.command("ls")
def list_schedules(
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-N", help="Only this namespace.")
    ] = None,
    tag: Annotated[str | None, typer.Option(help="Only schedules with this tag.")] = None,
    state: Annotated[
        str | None, typer.Option(help="Only this state: active, paused or completed.")
    ] = None,
    prefix: Annotated[str | None, typer.Option(help="Only names starting with this.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many (a page).", min=1)] = None,
    every: Annotated[bool, typer.Option("--all", help="Every page, not just the first.")] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """List schedules: trigger, zone, state, next fire (local and UTC), last run."""
    with connect(url, token) as api:
        page = api.page(
            "/schedules",
            limit=limit,
            every=every,
            namespace=namespace,
            tag=tag,
            state=state,
            name_prefix=prefix,
        )
    if as_json:
        print_json(page.items)
        return
    if not page.items:
        out.print("No schedules.")
        return
    table = listing(f"schedules ({len(page.items)})")
    for column in ("name", "trigger", "zone", "state", "next fire (local)", "UTC", "last run"):
        table.add_column(column, no_wrap=column != "trigger")
    for item in page.items:
        where = zone(item.get("timezone"))
        last = item.get("last_execution") or {}
        add_row(
            table,
            _name(item),
            _trigger(item),
            item.get("timezone") or "UTC",
            status_text(item.get("state")),
            local_time(item.get("next_fire_at"), where),
            utc_time(item.get("next_fire_at")),
            status_text(last.get("status")),
        )
    out.print(table)
    if page.next_cursor:
        out.print("[dim]More schedules: --all lists every page.[/dim]")


@app.command("get")
def get_schedule(
    ref: RefArg,
    namespace: NamespaceOpt = "default",
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Show one schedule."""
    with connect(url, token) as api:
        schedule = api.get(f"/schedules/{find_id(api, ref, namespace)}")
    if as_json:
        print_json(schedule)
        return
    _show(schedule)


@app.command("next")
def next_fires(
    ref: RefArg,
    count: Annotated[int, typer.Option("--count", "-n", help="How many.", min=1)] = 5,
    namespace: NamespaceOpt = "default",
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """The next fire instants, in the schedule's zone and in UTC."""
    with connect(url, token) as api:
        answer = api.get(f"/schedules/{find_id(api, ref, namespace)}/next", count=count)
    if as_json:
        print_json(answer)
        return
    where = zone(answer.get("timezone"))
    table = listing(f"{ref}: next {len(answer['next'])} fires")
    table.add_column("#", justify="right", style="dim")
    table.add_column(f"local ({answer.get('timezone') or 'UTC'})", no_wrap=True)
    table.add_column("UTC", no_wrap=True)
    table.add_column("UTC offset change", style="yellow", no_wrap=True)
    previous = None
    for index, fire in enumerate(answer["next"], 1):
        offset = _offset(fire["local"])
        change = f"{previous} -> {offset}" if previous and offset != previous else ""
        previous = offset
        add_row(table, str(index), local_time(fire["local"], where), utc_time(fire["utc"]), change)
    out.print(table)
    if not answer["next"]:
        out.print("[yellow]No more fires: the schedule has ended or is completed.[/yellow]")


# ------------------------------------------------------------------------------------------
# Changing


@app.command("create")
def create_schedule(
    file: FileOpt,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Create a schedule from a YAML or JSON document."""
    document = read_document(file)
    with connect(url, token) as api:
        created = api.post("/schedules", document)
    if as_json:
        print_json(created)
        return
    out.print(f"created schedule {_name(created)} ({created['id']})", soft_wrap=True)
    _print_next(created)


@app.command("update")
def update_schedule(
    ref: RefArg,
    file: FileOpt,
    namespace: NamespaceOpt = "default",
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Replace a schedule's document (refused when it changed since it was read)."""
    document = read_document(file)
    with connect(url, token) as api:
        path = f"/schedules/{find_id(api, ref, namespace)}"
        etag = api.request("GET", path).headers.get("etag")
        headers = {"If-Match": etag} if etag else {}
        updated = api.put(path, document, **headers)
    if as_json:
        print_json(updated)
        return
    out.print(f"updated schedule {_name(updated)} (revision {updated.get('revision')})")
    _print_next(updated)


@app.command("pause")
def pause_schedule(
    ref: RefArg,
    note: Annotated[str | None, typer.Option(help="Why it is paused (shown with it).")] = None,
    namespace: NamespaceOpt = "default",
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Pause a schedule: its fires are recorded skipped until it is resumed."""
    with connect(url, token) as api:
        body = {} if note is None else {"note": note}
        paused = api.post(f"/schedules/{find_id(api, ref, namespace)}/pause", body)
    if as_json:
        print_json(paused)
        return
    why = f": {paused['pause_note']}" if paused.get("pause_note") else ""
    out.print(f"paused schedule {_name(paused)}{why}", markup=False, soft_wrap=True)


@app.command("resume")
def resume_schedule(
    ref: RefArg,
    namespace: NamespaceOpt = "default",
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Resume a paused schedule (what passed while paused is not caught up)."""
    with connect(url, token) as api:
        resumed = api.post(f"/schedules/{find_id(api, ref, namespace)}/resume")
    if as_json:
        print_json(resumed)
        return
    out.print(f"resumed schedule {_name(resumed)}")
    _print_next(resumed)


@app.command("trigger")
def trigger_schedule(
    ref: RefArg,
    input_json: Annotated[
        str | None,
        typer.Option("--input", help="A JSON object replacing the schedule's input."),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(help="The same key again returns the run it started the first time."),
    ] = None,
    namespace: NamespaceOpt = "default",
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Start a run now, whatever the schedule's state."""
    body: dict[str, Any] = {}
    if input_json is not None:
        body["input"] = _json_object(input_json)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    with connect(url, token) as api:
        path = f"/schedules/{find_id(api, ref, namespace)}/trigger"
        response = api.request("POST", path, body=body, headers=headers)
        run = api.decode(response)
    if as_json:
        print_json(run)
        return
    if response.status_code == 200:  # the idempotency key had started it before
        out.print(f"run {run['id']} was started with this key before ({run['status']})")
    else:
        out.print(f"started run {run['id']} ({run['status']})")
    out.print(f"[dim]Follow it: tickwork runs watch {run['id']}[/dim]")


@app.command("delete")
def delete_schedule(
    ref: RefArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    namespace: NamespaceOpt = "default",
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Delete a schedule (its runs stay in the history)."""
    with connect(url, token) as api:
        schedule_id = find_id(api, ref, namespace)
        if not yes:
            if not sys.stdin.isatty():
                raise InputError(f"not deleting {ref}: confirm with --yes (stdin is no terminal)")
            typer.confirm(f"Delete schedule {ref} ({schedule_id})?", abort=True)
        deleted = api.delete(f"/schedules/{schedule_id}") or {}
    cancelled = deleted.get("cancelled_runs") or 0
    also = f"; {cancelled} unfinished runs cancelled" if cancelled else ""
    out.print(f"deleted schedule {ref} ({schedule_id}){also}")


# ------------------------------------------------------------------------------------------
# Helpers


def find_id(api: ApiClient, ref: str, namespace: str) -> str:
    """The id of the schedule named ``ref`` (an id already, or a name in ``namespace``)."""
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        pass
    for item in api.items("/schedules", namespace=namespace, name_prefix=ref):
        if item.get("name") == ref:
            return str(item["id"])
    raise ApiError(f"schedule {ref} not found in namespace {namespace}", status=404)


def read_document(source: str) -> dict[str, Any]:
    """One schedule document from a YAML or JSON file (``-``: stdin), instants kept as text."""
    import yaml

    from tickwork.manifests.loading import instant_preserving_loader

    where = "stdin" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"cannot read {where}: {reason}") from None
    try:
        documents = [
            d for d in yaml.load_all(text, Loader=instant_preserving_loader()) if d is not None
        ]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{where} is not valid YAML or JSON{at}: {problem}") from None
    if len(documents) != 1:
        raise InputError(f"{where} holds {len(documents)} documents; give exactly one")
    if not isinstance(documents[0], dict):
        raise InputError(f"{where} must hold a mapping (name:, trigger:, action:, …)")
    return documents[0]


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InputError(f"--input is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InputError('--input must be a JSON object, e.g. \'{"day": "2026-03-08"}\'')
    return value


def _name(schedule: dict[str, Any]) -> str:
    namespace = schedule.get("namespace") or "default"
    return schedule["name"] if namespace == "default" else f"{namespace}/{schedule['name']}"


def _trigger(schedule: dict[str, Any]) -> Text:
    """A cron expression with its meaning below it; an interval or instant in words."""
    trigger = schedule.get("trigger") or {}
    description = schedule.get("trigger_description")
    if "cron" not in trigger:
        return Text(str(description or json.dumps(trigger)))
    text = Text(str(trigger["cron"]))
    if description and description != trigger["cron"]:
        text.append(f"\n{description}", style="dim")
    return text


def _offset(text: str) -> str:
    value = instant(text)
    return "" if value is None else f"{value:%z}"


def _action(action: dict[str, Any]) -> str:
    """The action's settings, without those left empty."""
    return json.dumps({k: v for k, v in action.items() if v not in (None, {}, [], False)})


def _print_next(schedule: dict[str, Any]) -> None:
    where = zone(schedule.get("timezone"))
    out.print(f"next fire: {both_times(schedule.get('next_fire_at'), where)}")


def _show(schedule: dict[str, Any]) -> None:
    where = zone(schedule.get("timezone"))
    state = status_text(schedule.get("state"))
    if schedule.get("pause_note"):
        state.append(f" ({schedule['pause_note']})")
    last = schedule.get("last_execution")
    last_text = status_text(last.get("status")) if last else Text("-", style="dim")
    if last:
        last_text.append(
            f"  {last.get('trigger')} for {both_times(last.get('scheduled_for'), where)}"
            f"  run {last.get('id')}"
        )
    action = schedule.get("action")
    rows: list[tuple[str, str | Text]] = [
        ("name", _name(schedule)),
        ("id", str(schedule.get("id"))),
        ("description", schedule.get("description") or "-"),
        ("trigger", _trigger(schedule)),
        ("time zone", schedule.get("timezone") or "UTC"),
        ("state", state),
        ("next fire", both_times(schedule.get("next_fire_at"), where)),
        ("last run", last_text),
        ("runs", str(schedule.get("runs_count", 0))),
        ("failures in a row", str(schedule.get("consecutive_failures", 0))),
        ("action", _action(action) if action else f"workflow {schedule.get('workflow')}"),
        ("tags", ", ".join(schedule.get("tags") or []) or "-"),
        ("revision", str(schedule.get("revision"))),
        ("created", both_times(schedule.get("created_at"), where)),
        ("updated", both_times(schedule.get("updated_at"), where)),
    ]
    if schedule.get("managed_by"):
        rows.append(
            ("managed by", f"set {schedule['managed_by']} ({schedule.get('managed_file')})")
        )
        overridden = schedule.get("override") or {}
        rows.extend(
            (f"overridden: {field}", f"{_json(change['current'])} (file: {_json(change['file'])})")
            for field, change in overridden.items()
        )
    out.print(details(rows))
