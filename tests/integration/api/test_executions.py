"""Runs over HTTP: listing with filters and cursors, details with steps after real runs,
re-running, cancelling, and who may see and change which runs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tickwork.ids import IdGenerator
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger
from tickwork.store.executions import SqlExecutionStore
from tickwork.store.protocols import NewExecution

from .rig import Server

ENDED = {"succeeded", "failed", "dead", "timed_out", "cancelled", "skipped", "missed"}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def shell_schedule(name: str, argv: list[str], **extra: Any) -> dict[str, Any]:
    """A schedule that only runs when triggered by hand (its cron is once a year)."""
    return {
        "name": name,
        "trigger": {"cron": "0 0 1 1 *"},
        "action": {"kind": "shell", "argv": argv},
        "retry": {"max_attempts": 1},
        **extra,
    }


def start(server: Server, document: dict[str, Any]) -> str:
    """Create the schedule (as the system: shell actions) and start a run of it."""
    schedule = server.node.schedules.create(document)
    run, _new = server.node.schedules.trigger_now(schedule.id)
    return str(run.id)


def wait_for(
    client: httpx.Client,
    run_id: str,
    done: Callable[[dict[str, Any]], bool] = lambda run: run["status"] in ENDED,
    seconds: float = 30,
) -> dict[str, Any]:
    """Poll the run until ``done`` holds for it (the server's own worker runs it)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = client.get(f"/executions/{run_id}")
        assert answer.status_code == 200, answer.text
        run: dict[str, Any] = answer.json()
        if done(run):
            return run
        assert time.monotonic() < deadline, f"run {run_id} stayed {run['status']}"
        time.sleep(0.05)


# --------------------------------------------------------------------------------------
# Listing: rows written straight to the store in final states, so nothing moves under us.


@pytest.fixture
def history(server: Server) -> dict[str, Any]:
    """Two schedules in two namespaces and 30 ended runs of theirs, oldest first."""
    nightly = server.node.schedules.create(shell_schedule("nightly", ["true"]))
    team = server.node.schedules.create(shell_schedule("team-job", ["true"], namespace="team-a"))
    ids = IdGenerator()
    statuses = [
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.DEAD,
        ExecutionStatus.MISSED,
        ExecutionStatus.CANCELLED,
    ]
    rows = []
    for i in range(30):
        schedule = nightly if i % 3 else team
        rows.append(
            NewExecution(
                id=ids.new(),
                namespace=schedule.namespace,
                trigger=ExecutionTrigger.MANUAL if i % 5 == 0 else ExecutionTrigger.SCHEDULE,
                scheduled_for=T0 + timedelta(hours=i),
                status=statuses[i % 4],
                created_at=T0,
                schedule_id=schedule.id,
                schedule_name=schedule.name,
            )
        )
    with server.node.engine.begin() as conn:
        assert SqlExecutionStore().record_fires(conn, rows) == 30
    return {"nightly": str(nightly.id), "team": str(team.id), "rows": rows}


def listed(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/executions", params={"limit": 500, **params})
    assert answer.status_code == 200, answer.text
    assert answer.json()["next_cursor"] is None
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_the_list_is_newest_first_and_each_filter_narrows_it(
    server: Server, history: dict[str, Any]
) -> None:
    rows: list[NewExecution] = history["rows"]
    newest_first = [str(row.id) for row in reversed(rows)]

    def ids_where(keep: Callable[[NewExecution], bool]) -> list[str]:
        return [str(row.id) for row in reversed(rows) if keep(row)]

    with server.client("reader") as reader:
        assert [run["id"] for run in listed(reader)] == newest_first
        by_schedule = listed(reader, schedule_id=history["team"])
        by_namespace = listed(reader, namespace="team-a")
        dead = listed(reader, status="dead")
        dead_or_missed = listed(reader, status=["dead", "missed"])
        manual = listed(reader, trigger="manual")
        window = listed(reader, since="2026-03-01T15:00:00Z", until="2026-03-01T20:00:00+00:00")
        combined = listed(reader, namespace="default", status="succeeded", trigger="schedule")
    team_id = uuid.UUID(history["team"])
    assert [r["id"] for r in by_schedule] == ids_where(lambda r: r.schedule_id == team_id)
    assert [r["id"] for r in by_namespace] == ids_where(lambda r: r.namespace == "team-a")
    assert {r["schedule_name"] for r in by_namespace} == {"team-job"}
    assert [r["id"] for r in dead] == ids_where(lambda r: r.status is ExecutionStatus.DEAD)
    assert [r["id"] for r in dead_or_missed] == ids_where(
        lambda r: r.status in (ExecutionStatus.DEAD, ExecutionStatus.MISSED)
    )
    assert [r["id"] for r in manual] == ids_where(lambda r: r.trigger is ExecutionTrigger.MANUAL)
    # since is inclusive, until exclusive: 15:00 .. 19:00 are in.
    assert [r["scheduled_for"] for r in window] == [
        f"2026-03-01T{hour}:00:00Z" for hour in (19, 18, 17, 16, 15)
    ]
    assert [r["id"] for r in combined] == ids_where(
        lambda r: (
            r.namespace == "default"
            and r.status is ExecutionStatus.SUCCEEDED
            and r.trigger is ExecutionTrigger.SCHEDULE
        )
    )
    assert len(combined) == 4


def test_cursor_paging_returns_every_run_once_even_while_new_runs_arrive(
    server: Server, history: dict[str, Any]
) -> None:
    rows: list[NewExecution] = history["rows"]
    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    with server.client("reader") as reader:
        while True:
            params: dict[str, Any] = {"limit": 7, "namespace": "default"}
            if cursor is not None:
                params["cursor"] = cursor
            page = reader.get("/executions", params=params).json()
            seen += [run["id"] for run in page["items"]]
            pages += 1
            if pages == 1:  # a run started now sorts before the first page: never seen
                start(server, shell_schedule("late", ["true"]))
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert pages < 10
    expected = [str(r.id) for r in reversed(rows) if r.namespace == "default"]
    assert len(expected) == 20
    assert seen == expected
    assert pages == 3  # 7 + 7 + 6


def test_bad_list_parameters_are_problems_naming_the_parameter(server: Server) -> None:
    with server.client("reader") as reader:
        answers = {
            "status": reader.get("/executions", params={"status": "sleeping"}),
            "trigger": reader.get("/executions", params={"trigger": "cron"}),
            "limit": reader.get("/executions", params={"limit": 501}),
            "since": reader.get("/executions", params={"since": "2026-03-01T12:00:00"}),
            "until": reader.get("/executions", params={"until": "1764547200"}),  # not a number
            "cursor": reader.get("/executions", params={"cursor": "bm90IGEgY3Vyc29y"}),
        }
    for field, answer in answers.items():
        assert answer.status_code == 422, (field, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["field"].startswith(field), answer.json()


# --------------------------------------------------------------------------------------
# Real runs


def test_a_run_shows_its_steps_with_exit_code_and_output(server: Server) -> None:
    run_id = start(server, shell_schedule("hello", ["sh", "-c", "echo hello; echo note >&2"]))
    with server.client("reader") as reader:
        run = wait_for(reader, run_id)
    assert run["status"] == "succeeded"
    assert run["trigger"] == "manual"
    assert run["schedule_name"] == "hello"
    assert run["duration_ms"] is not None and run["duration_ms"] >= 0
    [step] = run["steps"]
    assert step["attempt"] == 1
    assert step["status"] == "succeeded"
    assert step["exit_code"] == 0
    assert step["output"] == "hello\n"
    assert step["stderr"] == "note\n"


def test_a_failed_run_shows_why_and_retrying_it_starts_a_new_run(server: Server) -> None:
    run_id = start(server, shell_schedule("boom", ["sh", "-c", "echo boom >&2; exit 3"]))
    with server.client("writer") as writer:
        failed = wait_for(writer, run_id)
        retried = writer.post(f"/executions/{run_id}/retry")
        assert retried.status_code == 201, retried.text
        new = retried.json()
        assert retried.headers["location"].endswith(f"/api/v1/executions/{new['id']}")
        again = wait_for(writer, new["id"])
        before = writer.get(f"/executions/{run_id}").json()
    assert failed["status"] == "failed"  # one attempt allowed: no retry, so not "dead"
    assert failed["error"] == "exited with code 3"
    [step] = failed["steps"]
    assert (step["status"], step["exit_code"], step["stderr"]) == ("failed", 3, "boom\n")
    assert new["id"] != run_id
    assert new["trigger"] == "retry"
    assert new["scheduled_for"] == failed["scheduled_for"]
    assert new["schedule_id"] == failed["schedule_id"]
    assert again["steps"][0]["exit_code"] == 3
    assert before == failed  # the old run is left as it was


def test_an_unfinished_run_cannot_be_retried_and_an_ended_one_cannot_be_cancelled(
    server: Server,
) -> None:
    run_id = start(server, shell_schedule("slow", ["sleep", "30"]))
    with server.client("writer") as writer:
        wait_for(writer, run_id, lambda run: run["status"] == "running")
        early_retry = writer.post(f"/executions/{run_id}/retry")
        cancelled = writer.post(f"/executions/{run_id}/cancel")
        ended = wait_for(writer, run_id)
        cancel_again = writer.post(f"/executions/{run_id}/cancel")
    assert early_retry.status_code == 409
    assert early_retry.json()["type"] == "urn:tickwork:problem:conflict"
    assert "still running" in early_retry.json()["detail"]
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["reason"] == "cancelled_by_user"
    assert ended["status"] == "cancelled"
    assert cancel_again.status_code == 409
    assert "already ended" in cancel_again.json()["detail"]


def test_a_run_waiting_for_its_concurrency_slot_can_be_cancelled(server: Server) -> None:
    document = shell_schedule("serial", ["sleep", "30"], concurrency_key="one-at-a-time")
    schedule = server.node.schedules.create(document)
    first, _ = server.node.schedules.trigger_now(schedule.id)
    with server.client("writer") as writer:
        wait_for(writer, str(first.id), lambda run: run["status"] == "running")
        second, _ = server.node.schedules.trigger_now(schedule.id)
        waiting = wait_for(writer, str(second.id), lambda run: run["status"] == "waiting")
        cancelled = writer.post(f"/executions/{second.id}/cancel")
        still = writer.get(f"/executions/{first.id}").json()
        writer.post(f"/executions/{first.id}/cancel")  # let the server stop at once
    assert waiting["reason"] == "concurrency"
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert still["status"] == "running"


# --------------------------------------------------------------------------------------
# Who may do what


def test_readers_cannot_retry_or_cancel(server: Server) -> None:
    run_id = start(server, shell_schedule("quick", ["true"]))
    with server.client("reader") as reader:
        wait_for(reader, run_id)
        retry = reader.post(f"/executions/{run_id}/retry")
        cancel = reader.post(f"/executions/{run_id}/cancel")
        runs = listed(reader)
    for answer in (retry, cancel):
        assert answer.status_code == 403
        assert answer.json()["detail"] == "this needs the write scope"
    assert len(runs) == 1  # nothing was started


def test_a_namespace_token_sees_and_touches_only_its_namespace(server: Server) -> None:
    theirs = start(server, shell_schedule("b-job", ["true"], namespace="team-b"))
    ours = start(server, shell_schedule("a-job", ["true"], namespace="team-a"))
    with server.client("admin") as admin:
        wait_for(admin, theirs)
        wait_for(admin, ours)
    with server.client("team_a") as team_a:
        hidden = team_a.get(f"/executions/{theirs}")
        retry = team_a.post(f"/executions/{theirs}/retry")
        cancel = team_a.post(f"/executions/{theirs}/cancel")
        visible = [run["id"] for run in listed(team_a)]
        other = listed(team_a, namespace="team-b")
        own = team_a.get(f"/executions/{ours}")
    for answer in (hidden, retry, cancel):
        assert answer.status_code == 404
        assert answer.json()["type"] == "urn:tickwork:problem:not-found"
    assert visible == [ours]
    assert other == []  # another namespace finds nothing, as for schedules
    assert own.status_code == 200
    with server.client("team_b") as team_b:
        assert [run["id"] for run in listed(team_b)] == [theirs]
        assert team_b.post(f"/executions/{theirs}/retry").status_code == 201
    with server.client("reader") as reader:
        assert len(listed(reader)) == 3


def test_an_unknown_run_is_404(server: Server) -> None:
    missing = uuid.uuid4()
    with server.client("admin") as admin:
        for answer in (
            admin.get(f"/executions/{missing}"),
            admin.post(f"/executions/{missing}/retry"),
            admin.post(f"/executions/{missing}/cancel"),
        ):
            assert answer.status_code == 404
            assert answer.json()["kind"] == "execution"


def test_a_dead_run_is_removed_from_the_dead_list_and_stays_in_the_history(
    server: Server, history: dict[str, Any]
) -> None:
    rows = history["rows"]
    dead = [str(r.id) for r in rows if r.status is ExecutionStatus.DEAD]
    alive = next(str(r.id) for r in rows if r.status is ExecutionStatus.SUCCEEDED)
    team_dead = next(
        str(r.id) for r in rows if r.status is ExecutionStatus.DEAD and r.namespace == "team-a"
    )
    with server.client("reader") as reader:
        assert reader.post(f"/executions/{dead[0]}/dismiss").status_code == 403
    with server.client("team_b") as other:
        assert other.post(f"/executions/{team_dead}/dismiss").status_code == 404
    with server.client("writer") as writer:
        removed = writer.post(f"/executions/{dead[0]}/dismiss")
        assert removed.status_code == 200, removed.text
        assert removed.json()["status"] == "dead" and removed.json()["dismissed_at"] is not None
        again = writer.post(f"/executions/{dead[0]}/dismiss").json()
        assert again["dismissed_at"] == removed.json()["dismissed_at"]  # the first one stands
        refused = writer.post(f"/executions/{alive}/dismiss")
        assert refused.status_code == 409
        assert "only dead runs" in refused.json()["detail"]

        assert writer.post(f"/executions/{dead[1]}/retry").status_code == 201
        assert writer.get(f"/executions/{dead[1]}").json()["dismissed_at"] is not None
        still_dead = [r["id"] for r in listed(writer, status="dead") if not r["dismissed_at"]]
        assert sorted(still_dead) == sorted(dead[2:])
        assert {dead[0], dead[1]} <= {r["id"] for r in listed(writer, status="dead")}
