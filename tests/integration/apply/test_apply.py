"""``POST /apply`` against a real server: creating, updating, leaving alone and pruning a
set's schedules and workflows; idempotence; overrides kept then reverted; ownership; all
or nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.api.rig import Server

from .conftest import actions, applied, apply_body, problems
from .files import PING

REPORT = """\
# The nightly report, Berlin time.
kind: Schedule
name: report
description: Nightly report
trigger:
  cron: "30 2 * * *"
timezone: Europe/Berlin
action:
  kind: http
  url: http://127.0.0.1:9/report
"""

PIPELINE = """\
kind: Workflow
name: pipeline
steps:
  - name: build
    action: {kind: http, url: "http://127.0.0.1:9/build"}
  - name: ship
    needs: [build]
    action: {kind: http, url: "http://127.0.0.1:9/ship"}
---
kind: Schedule
name: nightly-pipeline
trigger:
  cron: "0 3 * * *"
timezone: America/New_York
workflow: pipeline
"""


def files(every: str = "5m") -> dict[str, str]:
    return {"report.yaml": REPORT, "ping.yaml": PING.format(every=every)}


def schedule(client: httpx.Client, name: str) -> dict[str, Any]:
    page = client.get("/schedules", params={"name_prefix": name}).json()
    found: list[dict[str, Any]] = [s for s in page["items"] if s["name"] == name]
    assert len(found) == 1, page
    return found[0]


def names(client: httpx.Client) -> set[str]:
    return {s["name"] for s in client.get("/schedules").json()["items"]}


def test_apply_creates_then_changes_nothing_the_second_time(server: Server) -> None:
    with server.client("admin") as api:
        first = applied(api, "ops", {**files(), "pipeline.yaml": PIPELINE})
        assert actions(first) == {
            "workflow:default/pipeline": "create",
            "default/report": "create",
            "default/ping": "create",
            "default/nightly-pipeline": "create",
        }
        assert first["summary"] == {
            "create": 4,
            "update": 0,
            "unchanged": 0,
            "delete": 0,
            "orphaned": 0,
        }
        report = schedule(api, "report")
        assert (report["managed_by"], report["managed_file"]) == ("ops", "report.yaml")
        assert report["override"] == {}
        assert report["timezone"] == "Europe/Berlin"
        workflow = api.get("/workflows").json()["items"][0]
        assert (workflow["managed_by"], workflow["managed_file"]) == ("ops", "pipeline.yaml")

        again = applied(api, "ops", {**files(), "pipeline.yaml": PIPELINE})
        assert set(actions(again).values()) == {"unchanged"}
        assert schedule(api, "report")["revision"] == report["revision"]
        assert api.get("/workflows").json()["items"][0]["version"] == 1


def test_a_changed_file_updates_only_what_changed(server: Server) -> None:
    with server.client("admin") as api:
        applied(api, "ops", files(every="5m"))
        before = schedule(api, "ping")
        answer = applied(api, "ops", files(every="10m"))
        assert actions(answer) == {"default/report": "unchanged", "default/ping": "update"}
        (change,) = [c for c in answer["changes"] if c["action"] == "update"]
        assert change["fields"] == {
            "trigger": {
                "before": {"interval": "5m", "anchor": None},
                "after": {"interval": "10m", "anchor": None},
            }
        }
        assert change["reverted"] == {}
        after = schedule(api, "ping")
        assert after["trigger"]["interval"] == "10m"
        assert after["revision"] == before["revision"] + 1
        assert after["id"] == before["id"]


def test_a_pause_through_the_api_is_an_override_until_the_next_apply(server: Server) -> None:
    with server.client("admin") as api:
        applied(api, "ops", files())
        report = schedule(api, "report")
        paused = api.post(f"/schedules/{report['id']}/pause", json={"note": "vendor down"})
        assert paused.status_code == 200, paused.text
        shown = schedule(api, "report")
        assert shown["state"] == "paused"
        assert shown["override"] == {
            "paused": {"file": False, "current": True},
            "pause_note": {"file": None, "current": "vendor down"},
        }

        answer = applied(api, "ops", files())
        (change,) = [c for c in answer["changes"] if c["action"] == "update"]
        assert change["name"] == "report"
        assert set(change["reverted"]) == {"paused", "pause_note"}
        assert change["reverted"]["paused"] == {"before": True, "after": False}
        restored = schedule(api, "report")
        assert restored["state"] == "active"
        assert restored["override"] == {}


def test_dry_run_reports_the_changes_and_makes_none(server: Server) -> None:
    with server.client("admin") as api:
        answer = applied(api, "ops", files(), dry_run=True)
        assert answer["dry_run"] is True
        assert actions(answer) == {"default/report": "create", "default/ping": "create"}
        assert names(api) == set()
        applied(api, "ops", files())
        dry = applied(api, "ops", files(every="1h"), dry_run=True, prune=True)
        assert actions(dry)["default/ping"] == "update"
        assert schedule(api, "ping")["trigger"]["interval"] == "5m"


def test_prune_deletes_only_what_this_set_manages(server: Server) -> None:
    with server.client("admin") as api:
        applied(api, "ops", {**files(), "pipeline.yaml": PIPELINE})
        applied(api, "other", {"mine.yaml": PING.format(every="1m").replace("ping", "mine")})
        by_hand = {
            "name": "by-hand",
            "trigger": {"interval": "1h"},
            "action": {"kind": "http", "url": "http://127.0.0.1:9/x"},
        }
        assert api.post("/schedules", json=by_hand).status_code == 201

        kept = applied(api, "ops", {"report.yaml": REPORT})
        assert actions(kept) == {
            "default/report": "unchanged",
            "default/ping": "orphaned",
            "default/nightly-pipeline": "orphaned",
            "workflow:default/pipeline": "orphaned",
        }
        assert names(api) == {"report", "ping", "nightly-pipeline", "mine", "by-hand"}

        pruned = applied(api, "ops", {"report.yaml": REPORT}, prune=True)
        assert actions(pruned) == {
            "default/report": "unchanged",
            "default/ping": "delete",
            "default/nightly-pipeline": "delete",
            "workflow:default/pipeline": "delete",
        }
        assert names(api) == {"report", "mine", "by-hand"}
        assert api.get("/workflows").json()["items"] == []


def test_a_name_made_by_hand_or_by_another_set_is_refused_unless_adopted(
    server: Server,
) -> None:
    with server.client("admin") as api:
        by_hand = {
            "name": "report",
            "trigger": {"interval": "1h"},
            "action": {"kind": "http", "url": "http://127.0.0.1:9/x"},
        }
        made = api.post("/schedules", json=by_hand).json()
        refused = api.post("/apply", json=apply_body("ops", files()))
        ((file, line, field, message),) = problems(refused)
        assert (file, line, field) == ("report.yaml", 3, "name")
        assert "already exists" in message and "--adopt" in message
        assert names(api) == {"report"}  # ping, valid on its own, was not created either

        adopted = applied(api, "ops", files(), adopt=True)
        (change,) = [c for c in adopted["changes"] if c["name"] == "report"]
        assert (change["action"], change["adopted"]) == ("update", True)
        report = schedule(api, "report")
        assert report["id"] == made["id"] and report["managed_by"] == "ops"

        taken = api.post("/apply", json=apply_body("other", {"r.yaml": REPORT}, adopt=True))
        ((file, line, field, message),) = problems(taken)
        assert (file, line, field) == ("r.yaml", 3, "name")
        assert "managed by set 'ops' (report.yaml)" in message


def test_one_bad_document_applies_nothing(server: Server) -> None:
    with server.client("admin") as api:
        applied(api, "ops", files())
        broken = {
            **files(every="10m"),
            "new.yaml": PING.format(every="1m").replace("ping", "new"),
            "orphan.yaml": PIPELINE.split("---\n")[1],  # starts a workflow nobody declares
        }
        refused = api.post("/apply", json=apply_body("ops", broken, prune=True))
        assert problems(refused) == [
            (
                "orphan.yaml",
                6,
                "workflow",
                "names workflow 'pipeline', which namespace 'default' does not have and "
                "these files do not declare",
            )
        ]
        assert names(api) == {"report", "ping"}
        assert schedule(api, "ping")["trigger"]["interval"] == "5m"


def test_moving_a_document_to_another_file_of_the_set_updates_its_file(server: Server) -> None:
    with server.client("admin") as api:
        applied(api, "ops", files())
        moved = applied(api, "ops", {"all.yaml": REPORT + "---\n" + PING.format(every="5m")})
        changes = {c["name"]: c for c in moved["changes"]}
        assert changes["ping"]["action"] == "update"
        assert changes["ping"]["previous_file"] == "ping.yaml"
        assert changes["ping"]["fields"] == {}
        assert schedule(api, "ping")["managed_file"] == "all.yaml"


def test_an_edit_of_a_managed_workflow_is_an_override_too(server: Server) -> None:
    with server.client("admin") as api:
        applied(api, "ops", {"pipeline.yaml": PIPELINE})
        (workflow,) = api.get("/workflows").json()["items"]
        assert workflow["override"] == {}
        edited = {**workflow, "description": "hand-edited"}
        answer = api.put(f"/workflows/{workflow['id']}", json=edited)
        assert answer.status_code == 200, answer.text
        shown = api.get(f"/workflows/{workflow['id']}").json()
        assert shown["override"] == {"description": {"file": None, "current": "hand-edited"}}

        again = applied(api, "ops", {"pipeline.yaml": PIPELINE})
        (change,) = [c for c in again["changes"] if c["kind"] == "Workflow"]
        assert change["action"] == "update"
        assert change["reverted"] == {"description": {"before": "hand-edited", "after": None}}
        restored = api.get(f"/workflows/{workflow['id']}").json()
        assert restored["override"] == {} and restored["version"] == 3


def test_two_applies_of_one_set_at_once_do_not_trip_over_each_other(server: Server) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tickwork.manifests.loading import parse_text

    declared = [
        item
        for index in range(20)
        for item in parse_text(PING.format(every="5m").replace("ping", f"ping-{index}"), "p.yaml")
    ]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: server.node.apply.apply("ops", declared), range(2)))
    made = sorted(len([c for c in r.changes if c.action == "create"]) for r in results)
    assert made == [0, 20]  # one made them all, the other found them made
    with server.client("admin") as api:
        assert len(names(api)) == 20


def test_a_failure_after_some_changes_were_written_rolls_them_all_back(server: Server) -> None:
    with server.client("admin") as api:
        applied(api, "ops", {"pipeline.yaml": PIPELINE.split("---\n")[0]})
        by_hand = {"name": "uses-pipeline", "trigger": {"interval": "1h"}, "workflow": "pipeline"}
        assert api.post("/schedules", json=by_hand).status_code == 201
        # Creates report and ping, then prunes the workflow, which a schedule made by
        # hand still starts: refused, after the creates were written in the transaction.
        answer = api.post("/apply", json=apply_body("ops", files(), prune=True))
        assert answer.status_code == 409, answer.text
        assert "is started by schedule(s) uses-pipeline" in answer.json()["detail"]
        assert names(api) == {"uses-pipeline"}
        assert [w["name"] for w in api.get("/workflows").json()["items"]] == ["pipeline"]
