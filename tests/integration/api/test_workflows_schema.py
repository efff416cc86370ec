"""Schemathesis against the app's own OpenAPI schema, over real HTTP, on SQLite: whatever it
sends to the workflows and executions APIs, they never fail with a 5xx and answer as their
schema says.

Valid requests aimed at ``/workflows/{workflow_id}`` and ``/executions/{execution_id}``
hit a real workflow and a real run (seeded below), so their bodies reach validation and
the services; DELETE keeps its random ids so the workflow lives on for the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from .rig import Server, serving

PATHS = r"^/api/v1/(workflows|executions|cron|stats|tokens)"
EXAMPLES = 12
"""Per operation and mode."""


@pytest.fixture
def fuzzed(sqlite_database_url: str) -> Iterator[Server]:
    with serving(sqlite_database_url) as server:
        yield server


Operation = APIOperation[Any, Any, Any, Any]


def operations(server: Server) -> list[Operation]:
    raw = httpx.get(f"{server.url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(raw).include(path_regex=PATHS)
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        found.append(result.ok())
    return found


def seed(server: Server) -> dict[str, str]:
    """A workflow and a run of it to aim valid requests at."""
    with server.client("admin") as admin:
        workflow = admin.post(
            "/workflows",
            json={
                "name": "fuzzed",
                "steps": [{"name": "a", "action": {"kind": "shell", "argv": ["true"]}}],
            },
        )
    assert workflow.status_code == 201, workflow.text
    schedule = server.node.schedules.create(
        {"name": "fuzzed", "trigger": {"cron": "0 0 1 1 *"}, "workflow": "fuzzed"}
    )
    run, _new = server.node.schedules.trigger_now(schedule.id)
    return {"workflow_id": workflow.json()["id"], "execution_id": str(run.id)}


def fuzz(server: Server, operation: Operation, mode: GenerationMode, ids: dict[str, str]) -> None:
    pinned = None
    if mode is GenerationMode.POSITIVE and operation.method.upper() != "DELETE":
        pinned = {name: value for name, value in ids.items() if f"{{{name}}}" in operation.path}
    auth = {"Authorization": f"Bearer {server.tokens['admin']}"}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, path_parameters=pinned or None))
    def requests(case: Case[Operation]) -> None:
        # Documents are checked beyond what JSON Schema can say (the step graph, URLs),
        # so schema-valid bodies may rightly get a 422.
        case.call_and_validate(
            base_url=server.url, headers=auth, excluded_checks=[positive_data_acceptance]
        )

    try:
        requests()
    except Unsatisfiable:
        # No parameter and no body (GET /stats): there is nothing to make invalid.
        assert mode is GenerationMode.NEGATIVE, operation.path


def test_the_workflows_executions_cron_stats_and_tokens_apis_answer_as_their_schema_says(
    fuzzed: Server,
) -> None:
    found = operations(fuzzed)
    assert sorted(f"{o.method.upper()} {o.path}" for o in found) == [
        "DELETE /api/v1/tokens/{token_id}",
        "DELETE /api/v1/workflows/{workflow_id}",
        "GET /api/v1/cron/describe",
        "GET /api/v1/executions",
        "GET /api/v1/executions/{execution_id}",
        "GET /api/v1/stats",
        "GET /api/v1/tokens",
        "GET /api/v1/workflows",
        "GET /api/v1/workflows/{workflow_id}",
        "POST /api/v1/cron/validate",
        "POST /api/v1/executions/{execution_id}/cancel",
        "POST /api/v1/executions/{execution_id}/dismiss",
        "POST /api/v1/executions/{execution_id}/retry",
        "POST /api/v1/tokens",
        "POST /api/v1/workflows",
        "PUT /api/v1/workflows/{workflow_id}",
    ]
    ids = seed(fuzzed)
    for operation in found:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(fuzzed, operation, mode, ids)
    with fuzzed.client("admin") as admin:
        assert admin.get(f"/workflows/{ids['workflow_id']}").status_code == 200
        assert admin.get(f"/executions/{ids['execution_id']}").status_code == 200
