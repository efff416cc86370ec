"""One document declared in a file: its kind, its content and where each field is written."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tickwork.errors import InvalidSpec

__all__ = ["KINDS", "MAX_SET_NAME", "Declared", "check_set_name"]

KINDS = ("Schedule", "Workflow")
"""The ``kind:`` a document declares; every other value is an error."""

MAX_SET_NAME = 255
_SET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True, slots=True)
class Declared:
    """A schedule or workflow as a file declares it (``kind`` taken out of ``document``).

    ``line`` is where the document starts; ``lines`` maps dotted field paths as problems
    name them (``trigger.cron``, ``action.argv[0]``, ``steps[1].needs``) to their lines.
    """

    kind: str
    document: Mapping[str, Any]
    file: str
    line: int = 1
    lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, path: str) -> int:
        """The line of ``path``, or of its nearest enclosing field written in the file."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.line


def check_set_name(name: str) -> str:
    """A set name: letters, digits, ``.``, ``_``, ``-``; what ``managed_by`` records."""
    if not 1 <= len(name) <= MAX_SET_NAME or not _SET_NAME.fullmatch(name):
        raise InvalidSpec(
            "set",
            repr(name),
            f"must be 1 to {MAX_SET_NAME} letters, digits, '.', '_' or '-' (not first)",
        )
    return name
