"""Every page renders what the services hold; trigger, retry, cancel and delete work from
the pages."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import pytest

from tests.integration.api.rig import Server
from tickwork.errors import NotFound
from tickwork.schedule.policies import ExecutionStatus
from tickwork.store.executions import ExecutionFilter
from tickwork.store.protocols import ExecutionRecord, ScheduleRecord

from .browser import http_schedule, post_form, sign_in

T = TypeVar("T")
DEADLINE_S = 20.0


def wait_for(probe: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def ended(server: Server, run_id: uuid.UUID) -> Callable[[], ExecutionRecord | None]:
    def probe() -> ExecutionRecord | None:
        run = server.node.runs.get(run_id).execution
        return run if run.finished_at is not None else None

    return probe


def test_trigger_now_starts_a_run_whose_page_shows_its_steps(server: Server) -> None:
    record = server.node.schedules.create(http_schedule(server, tags=["ops"]))
    page = f"/schedules/{record.id}"
    with sign_in(server, "writer") as writer:
        started = post_form(writer, page, f"{page}/trigger", idempotency_key="k1")
        again = post_form(writer, page, f"{page}/trigger", idempotency_key="k1")
        assert started.headers["location"] == again.headers["location"]  # one run
        run_id = uuid.UUID(started.headers["location"].rsplit("/", 1)[1])
        run = wait_for(ended(server, run_id), "the run to end")
        assert run.status is ExecutionStatus.SUCCEEDED
        shown = writer.get(f"/runs/{run_id}").text
        assert "HTTP 200" in shown and "succeeded" in shown
        assert "Retry" in shown and "Cancel run" not in shown
        for path in ("/", "/schedules", "/schedules?tag=ops&state=active&q=pin", "/runs", "/queue"):
            answer = writer.get(path)
            assert answer.status_code == 200, path
            assert f"/runs/{run_id}" in answer.text or path in ("/", "/queue"), path
        assert "ping" not in writer.get("/schedules?q=nothing-like-it").text.split("<tbody>")[1]
        listed = writer.get("/runs", params={"status": "succeeded", "schedule": str(record.id)})
        assert f"/runs/{run_id}" in listed.text
        assert f"/runs/{run_id}" not in writer.get("/runs?status=failed").text
        detail = writer.get(page).text
        assert "Next 10 fires" in detail and detail.count("<li><span>") == 10
        assert '<svg class="chart"' in detail


def test_a_failed_run_shows_its_error_and_can_be_retried(server: Server) -> None:
    record = server.node.schedules.create(
        http_schedule(
            server,
            action={
                "kind": "http",
                "url": f"{server.url}/api/v1/no-such-endpoint",
                "method": "GET",
            },
            retry={"max_attempts": 1},
        )
    )
    run, _ = server.node.schedules.trigger_now(record.id)
    failed = wait_for(ended(server, run.id), "the run to fail")
    assert failed.status is ExecutionStatus.FAILED
    with sign_in(server, "writer") as writer:
        shown = writer.get(f"/runs/{run.id}").text
        assert "HTTP 404" in shown
        assert "Needs attention" in writer.get("/").text
        assert f"/runs/{run.id}" in writer.get("/").text
        retried = post_form(writer, f"/runs/{run.id}", f"/runs/{run.id}/retry")
        assert retried.status_code == 303
        new_id = uuid.UUID(retried.headers["location"].rsplit("/", 1)[1])
        assert new_id != run.id
        assert "Started a new run" in writer.get(retried.headers["location"]).text
    assert server.node.runs.get(new_id).execution.trigger.value == "retry"


def test_a_running_run_can_be_cancelled(server: Server) -> None:
    record = server.node.schedules.create(
        http_schedule(server, action={"kind": "shell", "argv": ["sleep", "30"]})
    )
    run, _ = server.node.schedules.trigger_now(record.id)

    def running() -> bool | None:
        status = server.node.runs.get(run.id).execution.status
        return True if status is ExecutionStatus.RUNNING else None

    wait_for(running, "the run to start")
    with sign_in(server, "writer") as writer:
        page = writer.get(f"/runs/{run.id}").text
        assert "Cancel run" in page and "Retry" not in page
        post_form(writer, f"/runs/{run.id}", f"/runs/{run.id}/cancel")
    assert server.node.runs.get(run.id).execution.status is ExecutionStatus.CANCELLED


def test_deleting_needs_the_name_typed(server: Server) -> None:
    record = server.node.schedules.create(http_schedule(server))
    page = f"/schedules/{record.id}"
    with sign_in(server, "writer") as writer:
        wrong = post_form(writer, page, f"{page}/delete", confirm="pong")
        assert wrong.headers["location"] == page
        assert server.node.schedules.get(record.id)
        gone = post_form(writer, page, f"{page}/delete", confirm="ping")
        assert gone.headers["location"] == "/schedules"
        assert "Deleted ping." in writer.get("/schedules").text
        assert writer.get(page).status_code == 404
    with pytest.raises(NotFound):
        server.node.schedules.get(record.id)


def test_unknown_ids_are_not_found_pages(server: Server) -> None:
    with sign_in(server, "reader") as reader:
        for path in ("/schedules/nope", f"/schedules/{uuid.uuid4()}", "/runs/42"):
            answer = reader.get(path)
            assert answer.status_code == 404
            assert answer.headers["content-type"].startswith("text/html")
            assert re.search(r"<h1>Not found</h1>", answer.text)


def test_the_api_and_its_schema_are_unchanged_by_the_dashboard(server: Server) -> None:
    with server.raw() as http:
        paths = http.get("/openapi.json").json()["paths"]
        assert all(
            path.startswith(("/api/v1", "/healthz", "/readyz", "/metrics")) for path in paths
        )
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/static/dashboard.css").status_code == 200


def dead_run(server: Server) -> tuple[ScheduleRecord, ExecutionRecord]:
    """A schedule whose run, started now, dies (two attempts, both exit 3)."""
    record = server.node.schedules.create(
        http_schedule(
            server,
            action={"kind": "shell", "argv": ["sh", "-c", "exit 3"]},
            retry={"max_attempts": 2, "initial_interval": "0s", "exit_codes": [3]},
        )
    )
    run, _ = server.node.schedules.trigger_now(record.id)
    assert wait_for(ended(server, run.id), "the run to die").status is ExecutionStatus.DEAD
    return record, run


def test_a_dead_run_is_listed_on_the_queue_page_and_retried_from_there(server: Server) -> None:
    record, run = dead_run(server)
    with sign_in(server, "writer") as writer:
        queue = writer.get("/queue").text
        assert f"/runs/{run.id}" in queue and "alive" in queue
        retried = post_form(writer, "/queue", f"/runs/{run.id}/retry", back="/queue")
        assert retried.headers["location"] == "/queue"
        assert "Started a new run" in writer.get("/queue").text
    retries = server.node.runs.list_page(ExecutionFilter(schedule_id=record.id)).items
    assert [r.trigger.value for r in retries] == ["retry", "manual"]


def test_a_dead_run_is_removed_from_the_queue_page_and_kept_in_the_history(
    server: Server,
) -> None:
    _, run = dead_run(server)
    with sign_in(server, "writer") as writer:
        assert f"/runs/{run.id}/dismiss" in writer.get("/queue").text
        assert f"/runs/{run.id}" in writer.get("/").text  # needs attention
        removed = post_form(writer, "/queue", f"/runs/{run.id}/dismiss", back="/queue")
        assert removed.headers["location"] == "/queue"
        queue = writer.get("/queue").text
        assert "Removed the run from the dead list" in queue
        assert f"/runs/{run.id}" not in queue and "No dead runs." in queue
        assert f"/runs/{run.id}" not in writer.get("/").text  # dealt with
        page = writer.get(f"/runs/{run.id}").text
        assert "Dealt with" in page and "Remove from dead list" not in page
    with sign_in(server, "reader") as reader:
        assert f"/runs/{run.id}/dismiss" not in reader.get(f"/runs/{run.id}").text


def test_what_users_wrote_is_shown_as_text_never_as_markup(server: Server) -> None:
    record = server.node.schedules.create(
        http_schedule(server, description="<script>alert(1)</script>", tags=["<b>x</b>"])
    )
    with sign_in(server, "reader") as reader:
        for page in ("/schedules", f"/schedules/{record.id}", f"/schedules/{record.id}/edit"):
            html = reader.get(page).text
            assert "<script>alert(1)</script>" not in html and "<b>x</b>" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
