"""``tickwork apply -f PATH``: make a server's schedules and workflows match files.

The files are read here (so every problem can name its file and line), then sent whole
to ``POST /api/v1/apply``, which applies them in one transaction or not at all. The
answer is shown as a diff: ``+`` created, ``~`` updated (field by field, with the
overrides it reverts), ``-`` deleted, ``!`` managed but no longer declared.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from tickwork.cli.output import print_json
from tickwork.cli.remote import JsonOpt, TokenOpt, UrlOpt, connect
from tickwork.manifests.documents import check_set_name
from tickwork.manifests.loading import load_path

__all__ = ["apply"]

out = Console(highlight=False, soft_wrap=True)

_MARKS = {
    "create": ("+", "green"),
    "update": ("~", "yellow"),
    "delete": ("-", "red"),
    "orphaned": ("!", "magenta"),
    "unchanged": ("=", "dim"),
}
_VERBS = {
    "create": ("created", "to create"),
    "update": ("updated", "to update"),
    "delete": ("deleted", "to delete"),
    "orphaned": ("left (no longer declared)", "left (no longer declared)"),
    "unchanged": ("unchanged", "unchanged"),
}
MAX_VALUE_CHARS = 80


def apply(
    path: Annotated[
        Path,
        typer.Option(
            "--file",
            "-f",
            help="A YAML file, or a directory of them (read recursively).",
            show_default=False,
        ),
    ],
    set_name: Annotated[
        str | None,
        typer.Option(
            "--set",
            help="The managed set (default: the directory's name, or the file's stem).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Delete what this set manages but no longer declares."),
    ] = False,
    adopt: Annotated[
        bool,
        typer.Option("--adopt", help="Take over schedules and workflows made by hand."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List unchanged ones too.")
    ] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Make the server's schedules and workflows match YAML files (one transaction)."""
    loaded = load_path(path)
    name = check_set_name(set_name or loaded.set_name)
    body = {
        "set": name,
        "documents": [
            {
                "kind": item.kind,
                "file": item.file,
                "line": item.line,
                "lines": dict(item.lines),
                "document": item.document,
            }
            for item in loaded.documents
        ],
        "prune": prune,
        "dry_run": dry_run,
        "adopt": adopt,
    }
    with connect(url, token) as api:
        answer = api.post("/apply", body)
    if as_json:
        print_json(answer)
        return
    render(answer, files=len(loaded.files), verbose=verbose)


def render(answer: dict[str, Any], *, files: int | None = None, verbose: bool = False) -> None:
    """The answer of ``POST /apply`` as a readable diff and a summary line."""
    dry = bool(answer["dry_run"])
    title = f"Set {answer['set']}"
    if files is not None:
        title += f" ({files} file{'s' if files != 1 else ''})"
    out.print(f"[bold]{escape(title)}[/bold]" + (": dry run, nothing changed" if dry else ""))
    for change in answer["changes"]:
        if change["action"] == "unchanged" and not verbose:
            continue
        _print_change(change)
    summary = answer["summary"]
    parts = [
        f"{count} {_VERBS[action][1 if dry else 0]}"
        for action, count in summary.items()
        if count or action == "unchanged"
    ]
    out.print(", ".join(parts))
    if summary.get("orphaned"):
        out.print("[magenta]Apply with --prune to delete what is no longer declared.[/magenta]")


def _print_change(change: dict[str, Any]) -> None:
    mark, colour = _MARKS[change["action"]]
    what = f"{change['kind'].lower()} {change['namespace']}/{change['name']}"
    where = change["file"] or change.get("previous_file") or ""
    notes = []
    if change.get("adopted"):
        notes.append("adopted")
    if change.get("previous_file") and change["file"]:
        notes.append(f"moved from {change['previous_file']}")
    if change["action"] == "orphaned":
        notes.append("no longer declared")
    suffix = f"  [dim]({escape(', '.join([where, *notes]) if where else ', '.join(notes))})[/dim]"
    out.print(f"[{colour}]{mark} {escape(what)}[/{colour}]{suffix}")
    reverted = change.get("reverted") or {}
    for field, diff in (change.get("fields") or {}).items():
        line = f"    {field}: {_value(diff['before'])} -> {_value(diff['after'])}"
        out.print(
            escape(line) + ("  [cyan](override reverted)[/cyan]" if field in reverted else "")
        )


def _value(value: Any) -> str:
    """A value on one line, shortened when long."""
    text = "(unset)" if value is None else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"
