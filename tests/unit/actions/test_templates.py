"""Template rendering: variables, the plain-string fast path, errors that name the field,
and what the sandbox refuses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import JsonValue

from tickwork.actions.base import StepContext
from tickwork.actions.templates import (
    TemplateError,
    is_template,
    render_text,
    render_value,
    template_variables,
)

CONTEXT = StepContext(
    execution_id=uuid.UUID("01890a5d-ac96-774b-bcce-b302099a8057"),
    scheduled_for=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    attempt=2,
    schedule_id=None,
    schedule_name=None,
    namespace="ops",
    input={"day": "monday", "items": [1, 2], "nested": {"k": "v"}},
    timeout=timedelta(seconds=30),
)


def test_every_variable_is_available() -> None:
    rendered = render_value(
        {
            "at": "{{ scheduled_for.isoformat() }}",
            "id": "{{ execution_id }}",
            "attempt": "{{ attempt + 1 }}",
            "schedule": "{{ schedule.id }} {{ schedule.name }} {{ schedule.namespace }}",
            "input": "{{ input.day }} {{ input['items'] | sum }} {{ input.nested.k }}",
        },
        CONTEXT,
    )
    assert rendered == {
        "at": "2026-12-01T09:00:00+00:00",
        "id": "01890a5d-ac96-774b-bcce-b302099a8057",
        "attempt": "3",
        "schedule": "None None ops",
        "input": "monday 3 v",
    }


def test_non_strings_keys_and_plain_strings_are_left_as_they_are() -> None:
    value: JsonValue = {
        "{{ key }}": [1, 2.5, True, None, "plain {x}"],
        "n": {"deep": ["{{ attempt }}"]},
    }
    assert render_value(value, CONTEXT) == {
        "{{ key }}": [1, 2.5, True, None, "plain {x}"],
        "n": {"deep": ["2"]},
    }
    assert render_value(None, CONTEXT) is None


def test_plain_strings_skip_jinja() -> None:
    assert not is_template("no markers here: { x } %}")
    assert is_template("{{ x }}") and is_template("{% if x %}{% endif %}") and is_template("{# #}")
    # Undefined names would fail if this were rendered.
    assert render_text("{ foo }", {}, where="body") == "{ foo }"


def test_a_trailing_newline_is_kept_and_nothing_is_escaped() -> None:
    assert (
        render_text("<{{ input.day }}>\n", template_variables(CONTEXT), where="b") == "<monday>\n"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"day": "{{ foo }}"}, "body.day: 'foo' is undefined"),
        ({"day": "{{ input.missing }}"}, "body.day: 'dict object' has no attribute 'missing'"),
        (["ok", {"x": "{{ input.day"}], "body[1].x: template syntax error: "),
        ("{{ ''.__class__.__mro__ }}", "body: not allowed in a template: "),
        ("{{ input['items'].append(3) }}", "body: not allowed in a template: "),
        ("{{ 'ab' * 10000000 }}", "body: not allowed in a template: '*' would build"),
        ("{{ 10 ** 1000000 }}", "body: not allowed in a template: '**' would build"),
        ("{{ 1 / 0 }}", "body: ZeroDivisionError: division by zero"),
    ],
    ids=[
        "undefined",
        "missing-key",
        "syntax",
        "dunder",
        "mutation",
        "huge-string",
        "huge-number",
        "runtime-error",
    ],
)
def test_errors_name_the_field_and_the_cause(value: JsonValue, message: str) -> None:
    with pytest.raises(TemplateError) as raised:
        render_value(value, CONTEXT, where="body")
    assert str(raised.value).startswith(message)
    assert raised.value.where.startswith("body")


def test_moderate_repetition_and_powers_are_fine() -> None:
    assert render_text("{{ '-' * 3 }}{{ 2 ** 10 }}", {}, where="x") == "---1024"


def test_the_input_is_not_changed_by_rendering() -> None:
    with pytest.raises(TemplateError):
        render_text("{{ input.update({'day': 'x'}) }}", template_variables(CONTEXT), where="b")
    assert CONTEXT.input["day"] == "monday"


_VARIABLES = {
    "scheduled_for": datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
    "attempt": 2,
    "input": {"n": 7, "ratio": 0.5, "name": "north", "flag": True, "none": None, "list": [1]},
    "schedule": {"id": None, "name": "nightly", "namespace": "default"},
}


@pytest.mark.parametrize(
    ("source", "fast"),
    [
        ("{{ input.n }}", True),
        ("{{input.name}}", True),
        ("day {{ scheduled_for }} try {{ attempt }} of {{ schedule.name }}", True),
        ("{{ input.ratio }}", True),
        ("{{ input.flag }}/{{ input.none }}/{{ input.list }}", False),
        ("{{ schedule.id }}", False),
        ("{{ input.n }}}} and {{", False),
        ("a }} b {{ input.n }}", False),
        ("{{ input.name | upper }}", False),
        ("{% if attempt > 1 %}retry{% endif %} {{ input.n }}", False),
    ],
)
def test_the_fast_path_renders_exactly_what_jinja_renders(source: str, fast: bool) -> None:
    from tickwork.actions.templates import _compile, _substitute

    quick = _substitute(source, _VARIABLES)
    assert (quick is not None) == fast
    try:
        expected = _compile(source).render(_VARIABLES)
    except Exception:  # Jinja refuses it: so must render_text
        with pytest.raises(TemplateError):
            render_text(source, _VARIABLES, where="body")
        return
    if quick is not None:
        assert quick == expected
    assert render_text(source, _VARIABLES, where="body") == expected


def test_the_fast_path_leaves_unknown_names_to_jinja_for_its_error() -> None:
    with pytest.raises(TemplateError, match=r"body: 'dict object' has no attribute 'missing'"):
        render_text("{{ input.missing }}", _VARIABLES, where="body")
