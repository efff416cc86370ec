"""The workflow document: named, versioned steps that schedules start with ``workflow: <name>``.

Each step runs one action (the same ``http | shell | python`` union as a schedule's inline
``action``) and may list, in ``needs``, the steps that must finish before it. The step
graph is checked as a whole: names are unique, every need names another step, and there
is no cycle. :meth:`WorkflowDocument.from_mapping` is the entry point for untrusted input:
its only error is ``InvalidDocument``, listing every problem with its field path
(``steps[2].needs``). :func:`steps_in_order` is the order the worker runs them in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Self

from pydantic import Field, JsonValue, ValidationError
from pydantic import model_validator as _model_validator

from tickwork.errors import InvalidDocument, InvalidSpec, Problem
from tickwork.spec.actions import (
    ACTION_KINDS,
    Action,
    HttpActionDocument,
    PythonActionDocument,
    ShellActionDocument,
)
from tickwork.spec.errors import dotted, invalid_document
from tickwork.spec.types import DocumentModel, Name

__all__ = ["MAX_STEPS", "WorkflowDocument", "WorkflowStepDocument", "steps_in_order"]

MAX_STEPS = 50


class WorkflowStepDocument(DocumentModel):
    """One step: an action, run once every step it ``needs`` has succeeded."""

    name: Name
    action: Action
    needs: tuple[Name, ...] = Field(
        default=(), description="Names of the steps of this workflow that must finish first."
    )


class WorkflowDocument(DocumentModel):
    """A named unit of work; schedules in the same namespace start it by name."""

    name: Name
    namespace: Name = "default"
    description: str | None = Field(default=None, max_length=1000)
    input_schema: dict[str, JsonValue] | None = Field(
        default=None,
        description="A JSON Schema for the input schedules hand to the workflow (stored as is).",
    )
    steps: tuple[WorkflowStepDocument, ...] = Field(min_length=1, max_length=MAX_STEPS)

    @_model_validator(mode="after")
    def _step_graph(self) -> Self:
        problems = graph_problems(self.steps)
        if problems:
            # Raised whole so that from_mapping can report every problem, not the first.
            raise InvalidDocument(problems)
        return self

    @classmethod
    def from_mapping(cls, data: object) -> WorkflowDocument:
        """Validate a loaded YAML/JSON document; ``InvalidDocument`` lists what is wrong."""
        if not isinstance(data, Mapping):
            raise InvalidDocument([("", f"must be a mapping, not {type(data).__name__}")])
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _invalid(exc) from None


def graph_problems(steps: Sequence[WorkflowStepDocument]) -> list[Problem]:
    """What is wrong with the steps taken together: duplicate names, needs that name no
    other step (or the same one twice), and cycles."""
    problems: list[Problem] = []
    position: dict[str, int] = {}
    for index, step in enumerate(steps):
        if step.name in position:
            problems.append(
                Problem(
                    f"steps[{index}].name",
                    f"{step.name!r} is already the name of steps[{position[step.name]}]",
                )
            )
        else:
            position[step.name] = index
    for index, step in enumerate(steps):
        seen: set[str] = set()
        for need in step.needs:
            reason = None
            if need == step.name:
                reason = f"{need!r} is this step itself; a step cannot need itself"
            elif need not in position:
                reason = f"{need!r} is not a step of this workflow"
            elif need in seen:
                reason = f"lists {need!r} more than once"
            seen.add(need)
            if reason is not None:
                problems.append(Problem(f"steps[{index}].needs", reason))
    problems.extend(_cycles(steps, position))
    return problems


def steps_in_order(document: WorkflowDocument) -> list[WorkflowStepDocument]:
    """The steps, each after everything it needs; among the steps that are ready, the one
    written first goes first (so a workflow without ``needs`` runs as written)."""
    done: set[str] = set()
    ordered: list[WorkflowStepDocument] = []
    waiting = list(document.steps)
    while waiting:
        ready = next((s for s in waiting if set(s.needs) <= done), None)
        if ready is None:  # only a document built without validation gets here
            raise InvalidSpec("steps", "", "need each other in a cycle")
        waiting.remove(ready)
        ordered.append(ready)
        done.add(ready.name)
    return ordered


def _edges(
    steps: Sequence[WorkflowStepDocument], position: Mapping[str, int]
) -> dict[int, list[int]]:
    """Step index → indexes of the other steps it needs (unknown names left out)."""
    return {
        index: [position[n] for n in dict.fromkeys(step.needs) if position.get(n, index) != index]
        for index, step in enumerate(steps)
        if position.get(step.name) == index
    }


def _cycles(steps: Sequence[WorkflowStepDocument], position: Mapping[str, int]) -> list[Problem]:
    """One problem per cycle, at the step of the cycle that needs a step written after it
    (the need most likely added by mistake), naming the whole cycle."""
    needs = _edges(steps, position)
    problems: list[Problem] = []
    remaining = _blocked(needs, set())
    while remaining:
        cycle = _a_cycle(needs, remaining)
        forward = next(
            (a for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True) if b > a), cycle[0]
        )
        start = cycle.index(forward)
        ring = [*cycle[start:], *cycle[:start], forward]
        path = " -> ".join(steps[i].name for i in ring)
        problems.append(
            Problem(f"steps[{forward}].needs", f"make a cycle: {path} (each needs the next)")
        )
        remaining = _blocked(needs, set(cycle) | (set(needs) - remaining))
    return problems


def _blocked(needs: Mapping[int, list[int]], settled: set[int]) -> set[int]:
    """Steps that can never become ready (Kahn's algorithm), treating ``settled`` as done."""
    done = set(settled)
    progress = True
    while progress:
        ready = {i for i, wanted in needs.items() if i not in done and set(wanted) <= done}
        done |= ready
        progress = bool(ready)
    return set(needs) - done


def _a_cycle(needs: Mapping[int, list[int]], blocked: set[int]) -> list[int]:
    """A cycle among ``blocked`` steps: each one has a need that is blocked too, so
    walking those needs from the first one must come back to a step already seen."""
    path: list[int] = []
    current = min(blocked)
    while current not in path:
        path.append(current)
        current = next(n for n in needs[current] if n in blocked)
    return path[path.index(current) :]


_STEP_TAG = re.compile(r"^(steps\[\d+\]\.action)\.(?:" + "|".join(ACTION_KINDS) + r")(?=$|[.\[])")

_ACTION_FIELDS = tuple(
    dict.fromkeys(
        name
        for model in (HttpActionDocument, ShellActionDocument, PythonActionDocument)
        for name in model.model_fields
    )
)
KNOWN_FIELDS: dict[str, tuple[str, ...]] = {
    "": tuple(WorkflowDocument.model_fields),
    **{f"steps[{i}]": tuple(WorkflowStepDocument.model_fields) for i in range(MAX_STEPS)},
    # Pydantic's paths inside a step's action carry the union tag (steps[0].action.http).
    **{f"steps[{i}].action.{k}": _ACTION_FIELDS for i in range(MAX_STEPS) for k in ACTION_KINDS},
}
"""Field names by parent path, to suggest the closest one for a misspelt key."""


def _invalid(error: ValidationError) -> InvalidDocument:
    """Every problem, with field paths as written (no union tags in them)."""
    details = error.errors(include_url=False)
    graph = (details[0].get("ctx") or {}).get("error") if len(details) == 1 else None
    if isinstance(graph, InvalidDocument):  # the step graph: checked last, reported whole
        return graph
    found = invalid_document(error, known_fields=KNOWN_FIELDS, tags={"steps": ACTION_KINDS})
    # Pydantic also calls a tuple "too short" when it counts only the items that were
    # valid: that is not a problem of its own when enough items were given.
    spurious = {
        _STEP_TAG.sub(r"\1", dotted(tuple(d["loc"])))
        for d in details
        if d["type"] == "too_short"
        and isinstance(d["input"], Sequence)
        and len(d["input"]) >= int((d.get("ctx") or {}).get("min_length", 0))
    }
    problems = [(_STEP_TAG.sub(r"\1", p.field), p.message) for p in found.problems]
    kept = [p for p in problems if not (p[0] in spurious and p[1].startswith("must have at least"))]
    return InvalidDocument(list(dict.fromkeys(kept)))
