"""A real server per test (SQLite and PostgreSQL), and files sent to ``POST /apply``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.api.rig import Server, serving
from tickwork.manifests.loading import parse_text


@pytest.fixture
def server(store_url: str) -> Iterator[Server]:
    with serving(store_url) as running:
        yield running


def apply_body(set_name: str, files: dict[str, str], **flags: bool) -> dict[str, Any]:
    """The body ``tickwork apply`` sends for ``files`` (name -> YAML text)."""
    documents = [
        {
            "kind": item.kind,
            "file": item.file,
            "line": item.line,
            "lines": dict(item.lines),
            "document": dict(item.document),
        }
        for name, text in files.items()
        for item in parse_text(text, name)
    ]
    return {"set": set_name, "documents": documents, **flags}


def applied(
    client: httpx.Client, set_name: str, files: dict[str, str], **flags: bool
) -> dict[str, Any]:
    """Apply ``files`` as set ``set_name``; the answer, which must be a success."""
    answer = client.post("/apply", json=apply_body(set_name, files, **flags))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def actions(answer: dict[str, Any]) -> dict[str, str]:
    """``namespace/name`` (workflows prefixed ``workflow:``) -> the action taken."""
    return {
        ("workflow:" if c["kind"] == "Workflow" else "") + f"{c['namespace']}/{c['name']}": c[
            "action"
        ]
        for c in answer["changes"]
    }


def problems(answer: httpx.Response) -> list[tuple[str, int, str, str]]:
    """(file, line, field, message) of each error of a 422 answer."""
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return [(e["file"], e["line"], e["field"], e["message"]) for e in answer.json()["errors"]]
