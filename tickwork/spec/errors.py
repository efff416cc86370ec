"""Pydantic's ``ValidationError`` → :class:`~tickwork.errors.InvalidDocument`, in plain words.

Each problem gets the dotted path of the field as the user wrote it (``retry.max_attempts``,
``action.argv[0]``: the tags pydantic adds for tagged unions are dropped) and a message
that says what the field must be; no pydantic wording, no URLs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from tickwork.errors import InvalidDocument, InvalidSpec, Problem
from tickwork.spec.actions import PYTHON_TARGET_PATTERN, PYTHON_TARGET_RULE
from tickwork.spec.types import NAME_PATTERN, NAME_RULE, FieldProblem

__all__ = ["invalid_document"]

Loc = tuple[int | str, ...]

_PATTERN_RULES = {
    NAME_PATTERN: NAME_RULE,
    PYTHON_TARGET_PATTERN: PYTHON_TARGET_RULE,
    r"^\S{1,64}$": "must be 1-64 characters without spaces",
}

_FIXED_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
}

_CTX_MESSAGES = {
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be greater than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "string_too_long": "must be at most {max_length} characters",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} items",
    "enum": "must be one of {expected}",
    "literal_error": "must be one of {expected}",
}


def invalid_document(
    error: ValidationError,
    *,
    known_fields: Mapping[str, Sequence[str]],
    tags: Mapping[str, Sequence[str]],
) -> InvalidDocument:
    """One problem per distinct (field, message), in pydantic's order.

    ``known_fields`` maps a parent path to its field names (for "did you mean");
    ``tags`` maps a top-level tagged-union field to its tags (to drop them from paths).
    """
    problems: list[Problem] = []
    for item in error.errors(include_url=False):
        loc = _without_tag(tuple(item["loc"]), tags)
        problem = _problem(loc, item["type"], item.get("ctx") or {}, item["msg"], tags)
        if item["type"] == "extra_forbidden":
            problem = _with_suggestion(problem, loc, known_fields)
        if problem not in problems:
            problems.append(problem)
    return InvalidDocument(problems)


def _problem(
    loc: Loc, kind: str, ctx: dict[str, Any], msg: str, tags: Mapping[str, Sequence[str]]
) -> Problem:
    if kind in ("value_error", "assertion_error"):
        return _from_exception(loc, ctx.get("error"), msg)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        expected = ", ".join(repr(tag) for tag in tags.get(str(loc[0]) if loc else "", ()))
        loc = (*loc, str(ctx.get("discriminator", "kind")).strip("'"))
        if kind == "union_tag_not_found":
            return Problem(dotted(loc), f"is required: one of {expected}")
        return Problem(dotted(loc), f"{ctx.get('tag')!r} is not one of {expected}")
    if kind == "string_too_short":
        min_length = ctx.get("min_length", 1)
        text = "must not be empty" if min_length == 1 else f"must be at least {min_length} chars"
        return Problem(dotted(loc), text)
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        return Problem(dotted(loc), _PATTERN_RULES.get(pattern, f"must match {pattern}"))
    if kind == "extra_forbidden":
        return Problem(dotted(loc), "is not a known field")
    if kind in _FIXED_MESSAGES:
        return Problem(dotted(loc), _FIXED_MESSAGES[kind])
    if kind in _CTX_MESSAGES:
        return Problem(dotted(loc), _CTX_MESSAGES[kind].format(**ctx))
    return Problem(dotted(loc), msg)


def _from_exception(loc: Loc, exc: object, msg: str) -> Problem:
    if isinstance(exc, FieldProblem) and exc.field:
        loc = (*loc, *exc.field.split("."))
    if isinstance(exc, InvalidSpec):
        return Problem(dotted(loc), f"{exc.value} {exc.reason}" if exc.value else exc.reason)
    return Problem(dotted(loc), str(exc) if exc is not None else msg)


def _without_tag(loc: Loc, tags: Mapping[str, Sequence[str]]) -> Loc:
    if len(loc) >= 2 and loc[1] in tags.get(str(loc[0]), ()):
        return (loc[0], *loc[2:])
    return loc


def _with_suggestion(problem: Problem, loc: Loc, known: Mapping[str, Sequence[str]]) -> Problem:
    parent, name = dotted(loc[:-1]), str(loc[-1]) if loc else ""
    if name in known.get(parent, ()):  # a field of another kind, like argv on an http action
        return Problem(problem.field, f"{problem.message} for this kind")
    close = difflib.get_close_matches(name, known.get(parent, ()), n=1, cutoff=0.75)
    if not close:
        return problem
    return Problem(problem.field, f"{problem.message}; did you mean {close[0]!r}?")


def dotted(loc: Loc) -> str:
    """``("action", "argv", 0)`` → ``"action.argv[0]"``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path
