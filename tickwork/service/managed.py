"""What differs between two versions of a document, field by field.

A YAML-managed schedule or workflow keeps the document its file declares
(``managed_document``) beside the one in force (``document``): a top-level field where
they differ was changed through the API or the dashboard, and is an *override* until the
next apply restores the file's state. ``apply`` reports its updates the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldChange", "field_changes", "overrides"]


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A top-level field's value before and after (None: absent)."""

    before: Any
    after: Any


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, FieldChange]:
    """Every top-level field whose value differs, in the order of ``after`` then the rest."""
    keys = list(after) + [key for key in before if key not in after]
    return {
        key: FieldChange(before.get(key), after.get(key))
        for key in keys
        if before.get(key) != after.get(key)
    }


def overrides(
    document: Mapping[str, Any], managed_document: Mapping[str, Any] | None
) -> dict[str, FieldChange]:
    """The fields changed since the file's version was applied: ``before`` is the file's
    value, ``after`` the one in force. Empty when nothing differs or nothing is managed."""
    if managed_document is None:
        return {}
    return field_changes(managed_document, document)
