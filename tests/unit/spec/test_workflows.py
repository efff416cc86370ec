"""The workflow document: every rule of the step graph, errors that name the field, and the
order steps run in."""

from __future__ import annotations

from typing import Any

import pytest

from tickwork.errors import InvalidDocument, InvalidSpec
from tickwork.spec.actions import HttpActionDocument, ShellActionDocument
from tickwork.spec.workflows import MAX_STEPS, WorkflowDocument, steps_in_order


def step(name: str, *needs: str, **action: Any) -> dict[str, Any]:
    return {
        "name": name,
        "action": action or {"kind": "http", "url": "https://example.internal/hook"},
        "needs": list(needs),
    }


def document(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "report", "steps": list(steps), **extra}


def problems(data: object) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDocument) as caught:
        WorkflowDocument.from_mapping(data)
    return [(p.field, p.message) for p in caught.value.problems]


def names(doc: WorkflowDocument) -> list[str]:
    return [s.name for s in steps_in_order(doc)]


def test_a_minimal_document_gets_its_defaults_and_round_trips() -> None:
    doc = WorkflowDocument.from_mapping(
        document(step("build"), step("run", "build", kind="shell", argv=["make"]))
    )
    assert doc.namespace == "default"
    assert doc.description is None
    assert doc.input_schema is None
    assert isinstance(doc.steps[0].action, HttpActionDocument)
    assert isinstance(doc.steps[1].action, ShellActionDocument)
    assert doc.steps[1].needs == ("build",)
    assert WorkflowDocument.from_mapping(doc.model_dump(mode="json")) == doc


def test_the_input_schema_is_kept_as_written() -> None:
    schema = {"type": "object", "properties": {"day": {"type": "string", "format": "date"}}}
    doc = WorkflowDocument.from_mapping(document(step("a"), input_schema=schema))
    assert doc.model_dump(mode="json")["input_schema"] == schema
    assert problems(document(step("a"), input_schema="object")) == [
        ("input_schema", "must be a mapping")
    ]


def test_step_names_are_unique() -> None:
    assert problems(document(step("a"), step("b"), step("a"))) == [
        ("steps[2].name", "'a' is already the name of steps[0]")
    ]


def test_needs_name_other_steps_of_the_workflow_once() -> None:
    assert problems(document(step("a", "a"), step("b", "nope", "a", "a"))) == [
        ("steps[0].needs", "'a' is this step itself; a step cannot need itself"),
        ("steps[1].needs", "'nope' is not a step of this workflow"),
        ("steps[1].needs", "lists 'a' more than once"),
    ]


def test_a_cycle_is_reported_at_the_step_that_needs_a_later_one() -> None:
    # b needs a and c needs b, as written; a needing c closes the circle.
    assert problems(document(step("a", "c"), step("b", "a"), step("c", "b"))) == [
        ("steps[0].needs", "make a cycle: a -> c -> b -> a (each needs the next)")
    ]
    assert problems(document(step("x"), step("a", "b"), step("b", "a"))) == [
        ("steps[1].needs", "make a cycle: a -> b -> a (each needs the next)")
    ]


def test_each_of_several_cycles_is_reported_once() -> None:
    found = problems(
        document(
            step("a", "b"),
            step("b", "a"),
            step("after", "a"),  # blocked by a cycle, not in one
            step("c", "d"),
            step("d", "e"),
            step("e", "c"),
        )
    )
    assert found == [
        ("steps[0].needs", "make a cycle: a -> b -> a (each needs the next)"),
        ("steps[3].needs", "make a cycle: c -> d -> e -> c (each needs the next)"),
    ]


def test_field_problems_inside_steps_name_the_step_and_field() -> None:
    found = problems(
        document(
            {"name": "a", "action": {"kind": "http", "url": "ftp://x", "argv": ["x"]}},
            {"name": "b", "action": {"kind": "ftp"}},
            {"name": "c", "action": {"kind": "shell", "argv": []}},
            {"name": "Bad", "action": {"kind": "python", "target": "nope"}, "nedds": []},
        )
    )
    assert found == [
        ("steps[0].action.url", "'ftp://x' must be an absolute http:// or https:// URL"),
        ("steps[0].action.argv", "is not a known field for this kind"),
        ("steps[1].action.kind", "'ftp' is not one of 'http', 'shell', 'python'"),
        ("steps[2].action.argv", "must have at least 1 item(s)"),
        ("steps[3].name", problems(document(step("Bad")))[0][1]),
        ("steps[3].action.target", "must be 'package.module:function'"),
        ("steps[3].nedds", "is not a known field; did you mean 'needs'?"),
    ]


def test_document_level_problems() -> None:
    assert problems(document()) == [("steps", "must have at least 1 item(s)")]
    assert problems({"steps": [step("a")]}) == [("name", "is required")]
    assert problems(document(step("a"), colour="red")) == [("colour", "is not a known field")]
    assert problems(document(*[step(f"s{i}") for i in range(MAX_STEPS + 1)])) == [
        ("steps", f"must have at most {MAX_STEPS} items")
    ]
    assert problems(["a"]) == [("", "must be a mapping, not list")]


def test_steps_without_needs_run_as_written() -> None:
    doc = WorkflowDocument.from_mapping(document(step("c"), step("a"), step("b")))
    assert names(doc) == ["c", "a", "b"]


def test_steps_run_after_what_they_need_earliest_written_first() -> None:
    doc = WorkflowDocument.from_mapping(
        document(
            step("send", "render", "fetch"),
            step("render", "fetch"),
            step("notify"),
            step("fetch"),
            step("archive", "send"),
        )
    )
    assert names(doc) == ["notify", "fetch", "render", "send", "archive"]


def test_a_diamond_runs_each_step_once() -> None:
    doc = WorkflowDocument.from_mapping(
        document(
            step("top"), step("left", "top"), step("right", "top"), step("end", "right", "left")
        )
    )
    assert names(doc) == ["top", "left", "right", "end"]


def test_an_unvalidated_cycle_is_refused_when_ordering() -> None:
    valid = WorkflowDocument.from_mapping(document(step("a"), step("b")))
    a, b = valid.steps
    broken = valid.model_copy(
        update={
            "steps": (
                a.model_copy(update={"needs": ("b",)}),
                b.model_copy(update={"needs": ("a",)}),
            )
        }
    )
    with pytest.raises(InvalidSpec, match="cycle"):
        steps_in_order(broken)
