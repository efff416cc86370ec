"""Workflows over HTTP: create, read, list, update with versions, delete; errors that name
the field; who may create which steps, and in which namespace."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest

from tickwork.api.app import create_app

from .rig import Server

PROBLEM = "application/problem+json"


def step(name: str, *needs: str, kind: str = "http") -> dict[str, Any]:
    actions: dict[str, dict[str, Any]] = {
        "http": {"kind": "http", "url": "http://127.0.0.1:9/hook"},
        "shell": {"kind": "shell", "argv": ["echo", name]},
        "python": {"kind": "python", "target": "reports.nightly:send"},
    }
    return {"name": name, "action": actions[kind], "needs": list(needs)}


def workflow(name: str = "report", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Build and send the report",
        "steps": [step("build"), step("send", "build")],
        **extra,
    }


def created(client: httpx.Client, document: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/workflows", json=document)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def fields(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    return [error["field"] for error in answer.json()["errors"]]


def test_create_read_update_and_delete_with_versions(server: Server) -> None:
    with server.client("writer") as writer:
        answer = writer.post(
            "/workflows", json=workflow(input_schema={"type": "object", "required": ["day"]})
        )
        assert answer.status_code == 201, answer.text
        made = answer.json()
        assert answer.headers["etag"] == '"v1"'
        location = answer.headers["location"]
        assert location.endswith(f"/api/v1/workflows/{made['id']}")

        read = writer.get(location)
        assert read.status_code == 200
        assert read.headers["etag"] == '"v1"'
        assert read.json() == made
        assert made["version"] == 1
        assert made["namespace"] == "default"
        assert made["managed_by"] is None
        assert made["created_at"] == made["updated_at"]
        assert made["input_schema"] == {"type": "object", "required": ["day"]}
        assert [s["name"] for s in made["steps"]] == ["build", "send"]
        assert made["steps"][1]["needs"] == ["build"]
        assert made["steps"][0]["action"]["method"] == "POST"  # defaults are filled in

        # What GET returned, edited and sent back (read-only fields and all).
        edited = {**read.json(), "description": "Send it twice"}
        edited["steps"] = [*edited["steps"], step("again", "send")]
        updated = writer.put(location, json=edited, headers={"If-Match": '"v1"'})
        assert updated.status_code == 200, updated.text
        assert updated.headers["etag"] == '"v2"'
        assert updated.json()["version"] == 2
        assert updated.json()["description"] == "Send it twice"
        assert updated.json()["id"] == made["id"]
        assert updated.json()["created_at"] == made["created_at"]
        assert [s["name"] for s in updated.json()["steps"]] == ["build", "send", "again"]

        stale = writer.put(
            location, json={**edited, "description": "lost"}, headers={"If-Match": '"v1"'}
        )
        assert stale.status_code == 412
        assert stale.headers["content-type"] == PROBLEM
        assert "version 2" in stale.json()["detail"]
        after = writer.get(location).json()
        assert after == updated.json()  # nothing changed

        unconditional = writer.put(location, json=workflow())
        assert unconditional.json()["version"] == 3

        assert writer.delete(location).status_code == 204
        gone = writer.get(location)
        assert gone.status_code == 404
        assert gone.json()["kind"] == "workflow"
        assert writer.delete(location).status_code == 404


def test_name_and_namespace_cannot_change_and_names_are_unique(server: Server) -> None:
    with server.client("writer") as writer:
        made = created(writer, workflow())
        taken = writer.post("/workflows", json=workflow())
        renamed = writer.put(f"/workflows/{made['id']}", json=workflow("other"))
        moved = writer.put(f"/workflows/{made['id']}", json=workflow(namespace="team-a"))
        elsewhere = writer.post("/workflows", json=workflow(namespace="team-a"))
    assert taken.status_code == 409
    assert (
        taken.json()["detail"] == "a workflow named 'report' already exists in namespace 'default'"
    )
    assert fields(renamed) == ["name"]
    assert fields(moved) == ["namespace"]
    assert elsewhere.status_code == 201  # the same name in another namespace


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(
            workflow(steps=[step("a"), step("a")]), {"steps[1].name"}, id="duplicate-step"
        ),
        pytest.param(
            workflow(steps=[step("a"), step("b", "nope")]), {"steps[1].needs"}, id="unknown-need"
        ),
        pytest.param(
            workflow(steps=[step("a", "c"), step("b", "a"), step("c", "b")]),
            {"steps[0].needs"},
            id="cycle",
        ),
        pytest.param(
            workflow(steps=[step("a"), {"name": "b", "action": {"kind": "ftp"}}]),
            {"steps[1].action.kind"},
            id="bad-action-kind",
        ),
        pytest.param(
            workflow(steps=[{"name": "a", "action": {"kind": "http", "url": "ftp://x"}}]),
            {"steps[0].action.url"},
            id="bad-url",
        ),
        pytest.param(workflow(colour="red"), {"colour"}, id="unknown-field"),
        pytest.param(
            workflow(steps=[{**step("a"), "nedds": []}]), {"steps[0].nedds"}, id="typo-in-step"
        ),
        pytest.param(workflow(steps=[]), {"steps"}, id="no-steps"),
        pytest.param(workflow(name="Bad Name"), {"name"}, id="bad-name"),
        pytest.param(
            workflow(input_schema=["not", "an", "object"]), {"input_schema"}, id="bad-schema"
        ),
    ],
)
def test_invalid_documents_name_the_field_and_store_nothing(
    server: Server, document: dict[str, Any], expected: set[str]
) -> None:
    with server.client("admin") as admin:
        answer = admin.post("/workflows", json=document)
        assert set(fields(answer)) == expected
        assert admin.get("/workflows").json()["items"] == []


def test_every_problem_is_reported_with_a_plain_message(server: Server) -> None:
    document = workflow(steps=[step("a", "a"), step("b", "ghost"), step("c", "d"), step("d", "c")])
    with server.client("admin") as admin:
        answer = admin.post("/workflows", json=document)
        typo = admin.post("/workflows", json={**workflow(), "stesp": []})
        not_json_object = admin.post("/workflows", json=["a"])
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {
            "field": "steps[0].needs",
            "message": "'a' is this step itself; a step cannot need itself",
        },
        {"field": "steps[1].needs", "message": "'ghost' is not a step of this workflow"},
        {
            "field": "steps[2].needs",
            "message": "make a cycle: c -> d -> c (each needs the next)",
        },
    ]
    assert {
        "field": "stesp",
        "message": "is not a known field; did you mean 'steps'?",
    } in typo.json()["errors"]
    assert fields(not_json_object) == [""]


def test_only_admins_create_shell_or_python_steps(server: Server) -> None:
    shell = workflow(steps=[step("build"), step("run", "build", kind="shell")])
    python = workflow("py", steps=[step("call", kind="python")])
    with server.client("writer") as writer:
        refused = writer.post("/workflows", json=shell)
        refused_py = writer.post("/workflows", json=python)
        plain = created(writer, workflow("plain"))
        into_shell = writer.put(f"/workflows/{plain['id']}", json={**shell, "name": "plain"})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("steps[1] ('run') is a shell action")
    assert refused_py.status_code == 403
    assert into_shell.status_code == 403
    with server.client("admin") as admin:
        made = created(admin, shell)
        assert [w["name"] for w in admin.get("/workflows").json()["items"]] == ["plain", "report"]
        assert admin.get(f"/workflows/{plain['id']}").json()["version"] == 1
    with server.client("writer") as writer:
        # A writer can read an admin's workflow but not edit it while it runs code.
        assert writer.get(f"/workflows/{made['id']}").status_code == 200
        edit = writer.put(f"/workflows/{made['id']}", json={**shell, "description": "x"})
        assert edit.status_code == 403


def test_a_workflow_a_schedule_starts_cannot_be_deleted(server: Server) -> None:
    with server.client("writer") as writer:
        made = created(writer, workflow())
        unrelated = created(writer, workflow("unused"))
        schedule = server.node.schedules.create(
            {"name": "nightly", "trigger": {"cron": "0 2 * * *"}, "workflow": "report"}
        )
        # Same workflow name, another namespace: does not count.
        server.node.schedules.create(
            {
                "name": "nightly",
                "namespace": "team-a",
                "trigger": {"cron": "0 2 * * *"},
                "workflow": "unused",
            }
        )
        refused = writer.delete(f"/workflows/{made['id']}")
        still_there = writer.get(f"/workflows/{made['id']}")
        assert writer.delete(f"/workflows/{unrelated['id']}").status_code == 204
        server.node.schedules.delete(schedule.id)
        allowed = writer.delete(f"/workflows/{made['id']}")
    assert refused.status_code == 409
    assert refused.json()["constraint"] == "schedules"
    assert "nightly" in refused.json()["detail"]
    assert still_there.status_code == 200
    assert allowed.status_code == 204


def test_a_namespace_token_works_only_in_its_namespace(server: Server) -> None:
    with server.client("admin") as admin:
        theirs = created(admin, workflow(namespace="team-b"))
    with server.client("team_a") as team_a:
        ours = team_a.post("/workflows", json=workflow(namespace="team-a"))
        elsewhere = team_a.post("/workflows", json=workflow("x", namespace="team-b"))
        default = team_a.post("/workflows", json=workflow("y"))
        hidden = team_a.get(f"/workflows/{theirs['id']}")
        update = team_a.put(f"/workflows/{theirs['id']}", json=workflow(namespace="team-b"))
        delete = team_a.delete(f"/workflows/{theirs['id']}")
        listed = team_a.get("/workflows").json()["items"]
        other_list = team_a.get("/workflows", params={"namespace": "team-b"}).json()
    assert ours.status_code == 201
    assert elsewhere.status_code == 403
    assert default.status_code == 403  # "default" is another namespace too
    for answer in (hidden, update, delete):
        assert answer.status_code == 404
    assert [w["id"] for w in listed] == [ours.json()["id"]]
    assert other_list == {"items": [], "next_cursor": None}
    with server.client("admin") as admin:
        assert admin.get(f"/workflows/{theirs['id']}").json()["version"] == 1


def test_lists_filter_by_namespace_and_prefix_and_page_by_cursor(server: Server) -> None:
    names = [("default", f"job-{i:02}") for i in range(7)] + [
        ("team-a", "job-00"),
        ("team-a", "other"),
        ("default", "job_x"),  # "_" is not a wildcard
    ]
    with server.client("admin") as admin:
        for namespace, name in names:
            created(admin, workflow(name, namespace=namespace))
        seen: list[tuple[str, str]] = []
        cursor: str | None = None
        for _page in range(10):
            params: dict[str, Any] = {"limit": 3}
            if cursor is not None:
                params["cursor"] = cursor
            page = admin.get("/workflows", params=params).json()
            seen += [(w["namespace"], w["name"]) for w in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        prefixed = admin.get("/workflows", params={"name_prefix": "job-"}).json()["items"]
        underscore = admin.get("/workflows", params={"name_prefix": "job_"}).json()["items"]
        team = admin.get("/workflows", params={"namespace": "team-a"}).json()["items"]
        bad_cursor = admin.get("/workflows", params={"cursor": "x"})
    assert seen == sorted(names)
    assert [(w["namespace"], w["name"]) for w in prefixed] == sorted(
        n for n in names if n[1].startswith("job-")
    )
    assert [w["name"] for w in underscore] == ["job_x"]
    assert [w["name"] for w in team] == ["job-00", "other"]
    assert fields(bad_cursor) == ["cursor"]


def test_if_match_must_be_one_of_our_etags(server: Server) -> None:
    with server.client("writer") as writer:
        made = created(writer, workflow())
        answer = writer.put(f"/workflows/{made['id']}", json=workflow(), headers={"If-Match": "3"})
        star = writer.put(f"/workflows/{made['id']}", json=workflow(), headers={"If-Match": "*"})
    assert fields(answer) == ["If-Match"]
    assert star.status_code == 200


def test_the_openapi_document_describes_the_workflow_body(server: Server) -> None:
    with warnings.catch_warnings():
        # FastAPI warns about the echo route's one operation id for several methods.
        warnings.simplefilter("ignore", UserWarning)
        spec = create_app(server.node).openapi()
    body = spec["paths"]["/api/v1/workflows"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["required"] == ["name", "steps"]
    assert schema["additionalProperties"] is False
    assert "$ref" not in str(schema)
    assert spec["paths"]["/api/v1/workflows/{workflow_id}"]["put"]["requestBody"] == body
