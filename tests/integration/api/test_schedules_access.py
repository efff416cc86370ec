"""Who may do what to schedules: scopes, namespaces and actions that run code on the host."""

from __future__ import annotations

from typing import Any

import httpx

from .rig import Server
from .test_schedules import hook

UNKNOWN_ID = "01a22f66-99ef-7430-afa4-8c5e4e243bc2"


def shell(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "trigger": {"cron": "0 3 1 1 *"},
        "action": {"kind": "shell", "argv": ["true"]},
        **fields,
    }


def writes(api: httpx.Client, schedule_id: str) -> dict[str, httpx.Response]:
    """Every call that changes a schedule or starts a run, by name."""
    url = f"/schedules/{schedule_id}"
    return {
        "create": api.post("/schedules", json=hook("new-one")),
        "replace": api.put(url, json=hook("shared", description="changed")),
        "patch": api.patch(url, json={"description": "changed"}),
        "pause": api.post(f"{url}/pause"),
        "resume": api.post(f"{url}/resume"),
        "trigger": api.post(f"{url}/trigger"),
        "backfill": api.post(
            f"{url}/backfill",
            json={"start": "2025-01-01T00:00:00Z", "end": "2025-01-01T00:00:00Z"},
        ),
        "delete": api.delete(url),
    }


def reads(api: httpx.Client, schedule_id: str) -> dict[str, httpx.Response]:
    url = f"/schedules/{schedule_id}"
    return {
        "get": api.get(url),
        "next": api.get(f"{url}/next"),
        "executions": api.get(f"{url}/executions"),
        "missed": api.get(f"{url}/missed"),
        "metrics": api.get(f"{url}/metrics"),
    }


def test_a_reader_reads_everything_and_changes_nothing(server: Server) -> None:
    with server.client("admin") as admin:
        created = admin.post("/schedules", json=hook("shared")).json()
    with server.client("reader") as reader:
        refused = writes(reader, created["id"])
        allowed = reads(reader, created["id"])
        listed = reader.get("/schedules").json()
    assert {name: answer.status_code for name, answer in refused.items()} == dict.fromkeys(
        refused, 403
    )
    assert refused["create"].json()["detail"] == "this needs the write scope"
    assert {name: answer.status_code for name, answer in allowed.items()} == dict.fromkeys(
        allowed, 200
    )
    assert [item["name"] for item in listed["items"]] == ["shared"]
    after = allowed["get"].json()
    assert after == created  # nothing changed, nothing ran


def test_a_namespace_token_sees_and_touches_only_its_namespace(server: Server) -> None:
    with server.client("team_b") as team_b:
        theirs = team_b.post("/schedules", json=hook("shared", namespace="team-b"))
        assert theirs.status_code == 201
    their_id = theirs.json()["id"]
    with server.client("team_a") as team_a:
        mine = team_a.post("/schedules", json=hook("mine", namespace="team-a"))
        assert mine.status_code == 201
        elsewhere = team_a.post("/schedules", json=hook("x", namespace="team-b"))
        default = team_a.post("/schedules", json=hook("x"))
        listed = team_a.get("/schedules").json()
        asked_for_theirs = team_a.get("/schedules", params={"namespace": "team-b"}).json()
        read_theirs = reads(team_a, their_id)
        write_theirs = writes(team_a, their_id)
    for refused in (elsewhere, default):
        assert refused.status_code == 403
        assert "set namespace: team-a" in refused.json()["detail"]
    assert [item["name"] for item in listed["items"]] == ["mine"]
    assert asked_for_theirs == {"items": [], "next_cursor": None}
    assert {name: a.status_code for name, a in read_theirs.items()} == dict.fromkeys(
        read_theirs, 404
    )
    # Creating in its own namespace works; everything aimed at theirs is "not found".
    assert write_theirs.pop("create").status_code == 403
    assert {name: a.status_code for name, a in write_theirs.items()} == dict.fromkeys(
        write_theirs, 404
    )
    with server.client("admin") as admin:
        unchanged = admin.get(f"/schedules/{their_id}")
        everything = admin.get("/schedules").json()
        runs = admin.get(f"/schedules/{their_id}/executions").json()
    assert unchanged.json() == theirs.json()
    assert [item["namespace"] for item in everything["items"]] == ["team-a", "team-b"]
    assert runs["items"] == []


def test_only_admins_create_actions_that_run_code_on_the_host(server: Server) -> None:
    python = {**shell("py"), "action": {"kind": "python", "target": "tasks.jobs:run"}}
    with server.client("writer") as writer:
        refused = [
            writer.post("/schedules", json=shell("sh")),
            writer.post("/schedules", json=python),
        ]
        hooked = writer.post("/schedules", json=hook("hooked")).json()
        into_shell = writer.put(f"/schedules/{hooked['id']}", json=shell("hooked"))
        http_fields = dict.fromkeys(["method", "url", "headers", "body", "expect_status", "secret"])
        patched_into_shell = writer.patch(
            f"/schedules/{hooked['id']}",
            json={"action": {**http_fields, "kind": "shell", "argv": ["true"]}},
        )
    for answer in (*refused, into_shell, patched_into_shell):
        assert answer.status_code == 403, answer.text
        assert "needs the admin scope" in answer.json()["detail"]
    with server.client("admin") as admin:
        created = admin.post("/schedules", json=shell("sh"))
        listed = admin.get("/schedules").json()
    assert created.status_code == 201
    assert created.json()["action"] == {
        "kind": "shell",
        "argv": ["true"],
        "command": None,
        "shell": False,
        "env": {},
        "cwd": None,
        "timeout": None,
    }
    assert [item["name"] for item in listed["items"]] == ["hooked", "sh"]
    assert listed["items"][0]["action"]["kind"] == "http"
    assert listed["items"][0]["revision"] == 1


def test_an_unknown_schedule_is_404_for_every_call(server: Server) -> None:
    with server.client("admin") as admin:
        answers = {**reads(admin, UNKNOWN_ID), **writes(admin, UNKNOWN_ID)}
    answers.pop("create")
    for name, answer in answers.items():
        assert answer.status_code == 404, (name, answer.text)
        assert answer.json()["type"] == "urn:tickwork:problem:not-found"
