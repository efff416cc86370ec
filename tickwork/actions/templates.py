"""Templated action fields (URL, headers, body): a sandboxed Jinja2, never ``eval``.

Templates see ``scheduled_for`` (aware, UTC), ``execution_id`` (str), ``attempt`` (int),
``schedule`` (``{"id", "name", "namespace"}``) and ``input`` (the run's input). Rendering
is on the hot path of every webhook, so a string without Jinja markers is returned as is,
and compiled templates are kept in an LRU keyed by their source.

The environment is Jinja's immutable sandbox (no access to internals, no mutating the
input) with undefined names as errors (a typo fails the step instead of sending an empty
string), no autoescaping (these are not HTML), and a bound on ``*`` and ``**`` so a
template cannot build a gigabyte string or a million-digit number in the worker.
A rendered string stays a string: ``"{{ attempt }}"`` renders to ``"2"``, not ``2``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import JsonValue

from tickwork.actions.base import StepContext
from tickwork.errors import TickworkError

__all__ = [
    "MAX_POWER_BITS",
    "MAX_REPEAT_ITEMS",
    "TEMPLATE_CACHE_SIZE",
    "TemplateError",
    "is_template",
    "render_text",
    "render_value",
    "template_variables",
]

TEMPLATE_CACHE_SIZE = 4096
"""Compiled templates kept; a worker sees one per templated field of each schedule."""

MAX_REPEAT_ITEMS = 1_000_000
"""Largest string or list a template may build with ``*``."""

MAX_POWER_BITS = 100_000
"""Largest integer (in bits) a template may build with ``**``."""

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\}\}")
"""``{{ name }}`` or ``{{ name.key.key }}``: most templates are nothing more."""
_PLAIN_VALUES = (str, int, float, datetime)


class TemplateError(TickworkError):
    """A template that cannot be rendered; ``where`` is the field path (``body.day``)."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}" if where else reason)


def is_template(text: str) -> bool:
    """True when ``text`` has Jinja markers; anything else renders to itself."""
    return "{" in text and ("{{" in text or "{%" in text or "{#" in text)


def template_variables(context: StepContext) -> dict[str, Any]:
    """The names a template can use, for one attempt of one step."""
    return {
        "scheduled_for": context.scheduled_for,
        "execution_id": str(context.execution_id),
        "attempt": context.attempt,
        "schedule": {
            "id": None if context.schedule_id is None else str(context.schedule_id),
            "name": context.schedule_name,
            "namespace": context.namespace,
        },
        "input": context.input,
        "steps": context.steps,
    }


def render_text(source: str, variables: Mapping[str, Any], *, where: str) -> str:
    """``source`` rendered with ``variables``; :class:`TemplateError` naming ``where``."""
    if not is_template(source):
        return source
    quick = _substitute(source, variables)
    if quick is not None:
        return quick
    try:
        return _compile(source).render(variables)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            where, f"template syntax error: {exc.message} (line {exc.lineno})"
        ) from None
    except SecurityError as exc:
        raise TemplateError(where, f"not allowed in a template: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(where, str(exc.message)) from None
    except Exception as exc:  # a template is user code: any error it raises is its failure
        raise TemplateError(where, f"{type(exc).__name__}: {exc}") from None


def render_value(value: JsonValue, context: StepContext, *, where: str = "") -> JsonValue:
    """Every string inside the JSON ``value`` rendered (dict keys are left as written).

    ``where`` names ``value`` in errors; nested fields extend it (``body.items[2].day``).
    """
    return _Renderer(context).render(value, where)


def _substitute(source: str, variables: Mapping[str, Any]) -> str | None:
    """The fast path: a template made only of ``{{ name.key }}`` placeholders over plain
    values renders here with ``str()``, exactly as Jinja would, without building a Jinja
    context (which costs more than the rest of preparing a webhook). Anything else, or
    any name that does not resolve to a plain value, returns None: Jinja decides."""
    if "{%" in source or "{#" in source:
        return None
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(source):
        value: Any = variables
        for key in match.group(1).split("."):
            if not isinstance(value, Mapping) or key not in value:
                return None
            value = value[key]
        if isinstance(value, bool) or not isinstance(value, _PLAIN_VALUES):
            return None
        parts.append(source[position : match.start()])
        parts.append(str(value))
        position = match.end()
    rest = source[position:]
    if "{{" in rest or any("{{" in part or "}}" in part for part in parts[::2]):
        return None  # a placeholder the pattern did not take: Jinja reports it
    parts.append(rest)
    return "".join(parts)


class _Renderer:
    """Walks a JSON value; builds the template variables only if a template is found."""

    def __init__(self, context: StepContext) -> None:
        self._context = context
        self._variables: dict[str, Any] | None = None

    def render(self, value: JsonValue, where: str) -> JsonValue:
        if isinstance(value, str):
            if not is_template(value):
                return value
            if self._variables is None:
                self._variables = template_variables(self._context)
            return render_text(value, self._variables, where=where)
        if isinstance(value, dict):
            return {
                key: self.render(item, f"{where}.{key}" if where else key)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.render(item, f"{where}[{index}]") for index, item in enumerate(value)]
        return value


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox, plus size bounds on the two operators that can exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "**":
            _check_power(left, right)
        return super().call_binop(context, operator, left, right)


def _check_repeat(sequence: Any, count: Any) -> None:
    repeats = isinstance(sequence, str | bytes | list | tuple) and isinstance(count, int)
    if repeats and len(sequence) * count > MAX_REPEAT_ITEMS:
        raise SecurityError(f"'*' would build more than {MAX_REPEAT_ITEMS} items")


def _check_power(base: Any, exponent: Any) -> None:
    integers = isinstance(base, int) and isinstance(exponent, int) and exponent > 0
    if integers and base.bit_length() * exponent > MAX_POWER_BITS:
        raise SecurityError(f"'**' would build a number over {MAX_POWER_BITS} bits")


@cache
def _environment() -> _Environment:
    # keep_trailing_newline: a text body ending in a newline must be sent with it.
    return _Environment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )


@lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _compile(source: str) -> jinja2.Template:
    return _environment().from_string(source)
