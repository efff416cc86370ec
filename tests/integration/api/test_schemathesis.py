"""Schemathesis against the app's own OpenAPI schema, over real HTTP, on SQLite: whatever it
sends, the schedules API (and apply) never fails with a 5xx and answers as its schema says.

Each operation gets a few valid requests (positive mode) and a few that break the schema
(negative mode), bounded so the file runs in well under a minute. Valid requests aimed at
``/schedules/{schedule_id}`` hit a real schedule (seeded below), so their bodies reach
validation and the service instead of stopping at "not found"; DELETE keeps its random
ids so the schedule lives on for the other operations.

The operations are driven from a plain test (``as_strategy`` per operation) rather than
``@schema.parametrize()``: the schema has to come from a server the test starts, and
schemathesis' fixture-based loader does not run on the pytest this project uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation as AnyOperation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from .rig import Server, serving

APIOperation = AnyOperation[Any, Any, Any, Any]
SCHEDULES = r"^/api/v1/(schedules|apply)"
EXAMPLES = 12
"""Per operation and mode."""


@pytest.fixture
def fuzzed(sqlite_database_url: str) -> Iterator[Server]:
    with serving(sqlite_database_url) as server:
        yield server


def operations(server: Server) -> list[APIOperation]:
    raw = httpx.get(f"{server.url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(raw).include(path_regex=SCHEDULES)
    found = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


def seed(server: Server) -> str:
    with server.client("admin") as admin:
        seeded = admin.post(
            "/schedules",
            json={
                "name": "fuzzed",
                "trigger": {"cron": "0 3 * * *"},
                "timezone": "Europe/Berlin",
                "action": {"kind": "http", "url": f"{server.url}/api/v1/echo"},
            },
        )
    assert seeded.status_code == 201, seeded.text
    schedule_id: str = seeded.json()["id"]
    return schedule_id


def fuzz(server: Server, operation: APIOperation, mode: GenerationMode, schedule_id: str) -> None:
    pinned = None
    aimed = "{schedule_id}" in operation.path and operation.method.upper() != "DELETE"
    if mode is GenerationMode.POSITIVE and aimed:
        pinned = {"schedule_id": schedule_id}
    auth = {"Authorization": f"Bearer {server.tokens['admin']}"}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, path_parameters=pinned))
    def requests(case: Case[APIOperation]) -> None:
        # Documents are checked beyond what JSON Schema can say (cron syntax, time zones,
        # fields that go together), so schema-valid bodies may rightly get a 422.
        case.call_and_validate(
            base_url=server.url, headers=auth, excluded_checks=[positive_data_acceptance]
        )

    requests()


def test_the_schedules_api_answers_as_its_schema_says(fuzzed: Server) -> None:
    found = operations(fuzzed)
    assert len(found) == 15, [f"{o.method} {o.path}" for o in found]
    schedule_id = seed(fuzzed)
    for operation in found:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(fuzzed, operation, mode, schedule_id)
    with fuzzed.client("admin") as admin:
        assert admin.get(f"/schedules/{schedule_id}").status_code == 200
