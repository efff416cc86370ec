"""Example schedules that ``tickwork serve --examples`` creates, so a first start has work."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

__all__ = ["example_documents"]


def example_documents() -> list[dict[str, Any]]:
    """The example schedule documents, by file name."""
    folder = resources.files(__name__)
    documents = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            documents.append(yaml.safe_load(entry.read_text(encoding="utf-8")))
    return documents
