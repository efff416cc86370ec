"""A real server per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .rig import Server, serving


@pytest.fixture
def server(store_url: str) -> Iterator[Server]:
    with serving(store_url) as running:
        yield running
