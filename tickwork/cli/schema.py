"""``tickwork schema``: the JSON Schema of the files ``tickwork apply`` reads.

Editors validate YAML against it (e.g. a ``# yaml-language-server: $schema=...`` line,
or a schema mapping in the editor's settings). Every document is one of two shapes,
told apart by ``kind``; both come from the document models, so they never drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tickwork.spec.json_schema import document_schema

__all__ = ["schema"]


def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write it to this file instead of stdout."),
    ] = None,
) -> None:
    """Print the JSON Schema of schedule and workflow files (for editors)."""
    text = json.dumps(document_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)
