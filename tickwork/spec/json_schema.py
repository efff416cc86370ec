"""JSON Schemas of the documents, standing alone: for the OpenAPI document and editors."""

from __future__ import annotations

from typing import Any

from tickwork.spec.documents import ScheduleDocument
from tickwork.spec.workflows import WorkflowDocument

__all__ = ["SCHEMA_ID", "document_schema", "inlined"]

SCHEMA_ID = "https://tickwork.dev/schema/document.json"


def document_schema() -> dict[str, Any]:
    """One JSON Schema (2020-12) for a declared document: a Schedule or a Workflow."""
    shapes = {}
    for kind, model in (("Schedule", ScheduleDocument), ("Workflow", WorkflowDocument)):
        shape = inlined(model.model_json_schema())
        shape["properties"] = {
            "kind": {"const": kind, "description": f"This document is a {kind.lower()}."},
            **shape["properties"],
        }
        shape["required"] = ["kind", *shape.get("required", [])]
        shapes[kind] = shape
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Tickwork document",
        "description": "A schedule or a workflow, as `tickwork apply` reads it from YAML.",
        "oneOf": [{"$ref": f"#/$defs/{kind}"} for kind in shapes],
        "$defs": shapes,
    }


def inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` written in place, so two models' definitions cannot
    clash by name inside one document (none of ours is recursive)."""
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {
                key: inline(value)
                for key, value in node.items()
                if not (key == "discriminator" and isinstance(value, dict) and "mapping" in value)
            }
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined
