"""A real server per test (SQLite: the dashboard has no SQL of its own), and browsers
that sign in to it as the rig's callers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.api.rig import Server, serving


@pytest.fixture
def server(sqlite_database_url: str) -> Iterator[Server]:
    with serving(sqlite_database_url) as running:
        yield running
