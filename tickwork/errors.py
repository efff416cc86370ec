"""The one family of errors Tickwork raises; the shells translate them at their edges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class TickworkError(Exception):
    """Root of every error Tickwork raises on purpose."""


class InvalidSpec(TickworkError, ValueError):
    """User input that cannot be accepted: names the field, the offending value and why.

    It is also a ``ValueError`` so that pydantic validators surface it as a field error.
    """

    def __init__(self, field: str, value: str, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {value} {reason}" if value else f"{field}: {reason}")


class UnknownTimeZone(InvalidSpec):
    """A time zone name that is not in the IANA database."""

    def __init__(self, name: str) -> None:
        super().__init__(
            "timezone", repr(name), "is not a known IANA time zone (e.g. Europe/Berlin)"
        )


class NotFound(TickworkError):
    """A named thing (schedule, workflow, execution, token…) that does not exist."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key} not found")


class Conflict(TickworkError):
    """A write refused because it clashes with what is stored (a unique key, a revision…).

    ``constraint`` names the database constraint that refused it, when known, so callers
    can tell "already fired" from "name taken" without parsing messages.
    """

    def __init__(self, message: str, *, constraint: str | None = None) -> None:
        self.constraint = constraint
        super().__init__(message)


class StoreUnavailable(TickworkError):
    """The store cannot be reached or is too busy to answer; retrying later may work."""


class Problem(NamedTuple):
    """One thing wrong with a document: a dotted field path (``retry.max_attempts``,
    ``action.argv[0]``; ``""`` for the document itself) and a plain-words message."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidDocument(InvalidSpec):
    """A document (schedule, workflow) with one or more problems, each naming its field.

    ``field`` and ``reason`` are those of the first problem, so code that handles any
    ``InvalidSpec`` still gets a field to point at; ``problems`` lists them all, in order.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        if not problems:
            raise ValueError("InvalidDocument needs at least one problem")
        self.problems = [Problem(field, message) for field, message in problems]
        first = self.problems[0]
        super().__init__(first.field, "", first.message)

    def __str__(self) -> str:
        return _listed(self.problems)


class Forbidden(TickworkError):
    """The caller may not do this: a scope it lacks, or a namespace that is not its own."""

    def __init__(self, message: str, *, scope: str | None = None) -> None:
        self.scope = scope
        super().__init__(message)


class SourceProblem(NamedTuple):
    """One thing wrong with a declared document, located in its file: the file (relative
    to the applied directory), the line (1-based), the dotted field (``""``: the document
    or the file itself) and the reason."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class InvalidManifests(InvalidSpec):
    """Files to apply with one or more problems, each naming its file, line and field.

    A set with any problem is applied not at all; ``problems`` lists every one found.
    """

    def __init__(self, problems: Sequence[SourceProblem]) -> None:
        if not problems:
            raise ValueError("InvalidManifests needs at least one problem")
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.field, "", first.message)

    def __str__(self) -> str:
        return _listed(self.problems, ", nothing applied")


def _listed(problems: Sequence[object], outcome: str = "") -> str:
    """One problem on its line; several under a count, one a line."""
    if len(problems) == 1:
        return str(problems[0])
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"{len(problems)} problems{outcome}:\n{lines}"
