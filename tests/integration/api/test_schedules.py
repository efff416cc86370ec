"""The schedules resource over HTTP: the document round trip, revisions, bad input, lists."""

from __future__ import annotations

from typing import Any

import httpx

from .rig import Server

PROBLEM = "application/problem+json"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def hook(name: str, **fields: Any) -> dict[str, Any]:
    """A schedule document with an http action that nothing will ever run (a far cron)."""
    return {
        "name": name,
        "trigger": {"cron": "0 3 1 1 *"},
        "action": {"kind": "http", "url": "http://127.0.0.1:9/never"},
        **fields,
    }


def fields_of(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    return [error["field"] for error in answer.json()["errors"]]


def test_a_schedule_round_trips_with_read_only_fields_and_etags(server: Server) -> None:
    with server.client("writer") as api:
        created = api.post("/schedules", json=hook("nightly", timezone="Europe/Berlin"))
        assert created.status_code == 201
        body = created.json()
        assert created.headers["etag"] == '"r1"'
        assert created.headers["location"] == f"/api/v1/schedules/{body['id']}"
        # The canonical document, flattened, with the read-only fields added.
        assert body["name"] == "nightly" and body["namespace"] == "default"
        assert body["trigger"] == {"cron": "0 3 1 1 *"}
        assert body["jitter"] == "0s" and body["retry"]["max_attempts"] == 3
        assert body["revision"] == 1 and body["state"] == "active"
        assert body["trigger_description"] == "At 03:00, on day 1 of the month, only in January"
        assert body["next_fire_at"].endswith("T02:00:00Z")  # 03:00 in Berlin, in winter
        assert body["runs_count"] == 0 and body["consecutive_failures"] == 0
        assert body["last_execution"] is None and body["override"] is None
        assert body["managed_by"] is None and body["managed_file"] is None

        url = f"/schedules/{body['id']}"
        read = api.get(url)
        assert read.json() == body and read.headers["etag"] == '"r1"'

        # GET, edit, PUT back: the read-only fields sent along are ignored.
        edited = {**body, "description": "the nightly job", "trigger": {"interval": "15m"}}
        replaced = api.put(url, json=edited, headers={"If-Match": '"r1"'})
        assert replaced.status_code == 200, replaced.text
        assert replaced.headers["etag"] == '"r2"'
        assert replaced.json()["description"] == "the nightly job"
        assert replaced.json()["trigger_description"] == "every 15m"
        assert replaced.json()["created_at"] == body["created_at"]

        patched = api.patch(
            url,
            json={"description": None, "tags": ["reports"], "retry": {"max_attempts": 5}},
            headers={"If-Match": '"r2"', **MERGE_PATCH},
        )
        assert patched.status_code == 200, patched.text
        after = patched.json()
        assert patched.headers["etag"] == '"r3"' and after["revision"] == 3
        assert after["description"] is None and after["tags"] == ["reports"]
        assert after["retry"]["max_attempts"] == 5 and after["retry"]["initial_interval"] == "1s"

        # The stored interval trigger carries "anchor": null, which goes too.
        at = {"interval": None, "anchor": None, "at": "2099-01-01T00:00:00Z"}
        plain_json = api.patch(url, json={"trigger": at})
        assert plain_json.status_code == 200, plain_json.text
        assert plain_json.json()["trigger"] == {"at": "2099-01-01T00:00:00Z"}
        assert plain_json.json()["trigger_description"] == "once at 2099-01-01T00:00:00Z"

        deleted = api.delete(url, headers={"If-Match": '"r4"'})
        assert deleted.status_code == 200
        assert deleted.json() == {"id": body["id"], "cancelled_runs": 0}
        gone = api.get(url)
        assert gone.status_code == 404 and gone.headers["content-type"] == PROBLEM


def test_a_stale_if_match_is_412_and_changes_nothing(server: Server) -> None:
    with server.client("writer") as api:
        created = api.post("/schedules", json=hook("guarded")).json()
        url = f"/schedules/{created['id']}"
        assert api.patch(url, json={"description": "first"}).json()["revision"] == 2
        stale = {"If-Match": '"r1"'}
        answers = [
            api.put(url, json=hook("guarded", description="second"), headers=stale),
            api.patch(url, json={"description": "second"}, headers=stale),
            api.delete(url, headers=stale),
            api.patch(url, json={"description": "second"}, headers={"If-Match": "r2"}),
        ]
        for answer in answers:
            assert answer.status_code == 412, answer.text
            assert answer.headers["content-type"] == PROBLEM
            assert answer.json()["type"] == "urn:tickwork:problem:precondition-failed"
        assert "revision 2, not 1" in answers[0].json()["detail"]
        now = api.get(url)
        assert now.json()["revision"] == 2 and now.json()["description"] == "first"
        anything = api.patch(url, json={"description": "third"}, headers={"If-Match": "*"})
        assert anything.json()["revision"] == 3


def test_bad_documents_name_every_wrong_field_and_store_nothing(server: Server) -> None:
    with server.client("writer") as api:
        cases: list[tuple[Any, list[str]]] = [
            (hook("c", trigger={"cron": "61 * * * *"}), ["trigger.cron"]),
            (hook("z", timezone="Mars/Olympus"), ["timezone"]),
            (hook("d", jitter="5 parsecs"), ["jitter"]),
            (hook("u", colour="red"), ["colour"]),
            (
                hook("t", priority="high", paused="yes", tags="reports"),
                ["priority", "paused", "tags"],
            ),
            (
                hook("Bad Name", trigger={"cron": "* * * * *", "at": "2099-01-01T00:00:00Z"}),
                [
                    "name",
                    "trigger",
                ],
            ),
            ({"trigger": {"cron": "@daily"}}, ["name"]),
            ({"name": "no-action", "trigger": {"cron": "@daily"}}, ["action"]),
            ([hook("list")], [""]),
        ]
        for document, fields in cases:
            assert fields_of(api.post("/schedules", json=document)) == fields, document
        typo = api.post("/schedules", json=hook("typo", timezon="UTC")).json()["errors"][0]
        assert typo == {
            "field": "timezon",
            "message": "is not a known field; did you mean 'timezone'?",
        }
        cron = api.post("/schedules", json=hook("c", trigger={"cron": "61 * * * *"})).json()
        assert cron["errors"] == [
            {"field": "trigger.cron", "message": "minute: 61 is out of range 0-59"}
        ]
        empty = api.post("/schedules")
        assert fields_of(empty) == [""] and "empty" in empty.json()["errors"][0]["message"]
        not_json = api.post(
            "/schedules", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        assert not_json.status_code == 422
        assert not_json.json()["errors"][0]["message"] == "the request body is not valid JSON"
        text = api.post("/schedules", content=b"name: x", headers={"Content-Type": "text/yaml"})
        assert fields_of(text) == [""]
        past = api.post("/schedules", json=hook("past", trigger={"at": "2001-01-01T00:00:00Z"}))
        assert fields_of(past) == ["trigger.at"]
        assert api.get("/schedules").json() == {"items": [], "next_cursor": None}


def test_an_edit_that_breaks_the_document_is_422_and_changes_nothing(server: Server) -> None:
    with server.client("writer") as api:
        created = api.post("/schedules", json=hook("steady")).json()
        url = f"/schedules/{created['id']}"
        both_triggers = api.patch(url, json={"trigger": {"interval": "5m"}}, headers=MERGE_PATCH)
        assert fields_of(both_triggers) == ["trigger"]
        assert "cron and interval" in both_triggers.json()["errors"][0]["message"]
        assert fields_of(api.patch(url, json={"timezone": "Nowhere/Land", "retry": None})) == [
            "timezone"
        ]
        assert fields_of(api.patch(url, json={"name": "renamed"})) == ["name"]
        assert fields_of(api.patch(url, json={"action": None})) == ["action"]
        assert fields_of(api.patch(url, json=["not", "a", "patch"])) == [""]
        assert fields_of(api.put(url, json=hook("steady", namespace="other"))) == ["namespace"]
        assert fields_of(api.put(url, json=hook("steady", max_runs=0))) == ["max_runs"]
        after = api.get(url).json()
        assert after == created
        assert after["revision"] == 1


def test_names_are_unique_per_namespace_and_ids_are_uuids(server: Server) -> None:
    with server.client("writer") as api:
        assert api.post("/schedules", json=hook("twice")).status_code == 201
        again = api.post("/schedules", json=hook("twice"))
        assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
        assert "already exists in namespace 'default'" in again.json()["detail"]
        assert api.post("/schedules", json=hook("twice", namespace="other")).status_code == 201
        # cron-descriptor cannot put every valid expression into words: then the expression
        odd = api.post("/schedules", json=hook("odd", trigger={"cron": "55 3,15/9,17 * * *"}))
        assert odd.json()["trigger_description"] == "55 3,15/9,17 * * *"
        not_an_id = api.get("/schedules/42")
        assert fields_of(not_an_id) == ["schedule_id"]
        unknown = api.get("/schedules/01a22f66-99ef-7430-afa4-8c5e4e243bc2")
        assert unknown.status_code == 404 and unknown.json()["kind"] == "schedule"
        assert api.delete("/schedules/01a22f66-99ef-7430-afa4-8c5e4e243bc2").status_code == 404


def test_pause_resume_and_a_completed_schedule(server: Server) -> None:
    with server.client("writer") as api:
        created = api.post("/schedules", json=hook("pausable")).json()
        url = f"/schedules/{created['id']}"
        paused = api.post(f"{url}/pause", json={"note": "maintenance"})
        assert paused.status_code == 200 and paused.headers["etag"] == '"r2"'
        assert paused.json()["state"] == "paused"
        assert (paused.json()["paused"], paused.json()["pause_note"]) == (True, "maintenance")
        resumed = api.post(f"{url}/resume")
        assert resumed.json()["state"] == "active" and resumed.json()["paused"] is False
        assert fields_of(api.post(f"{url}/pause", json={"note": "x" * 1001})) == ["note"]
        assert fields_of(api.post(f"{url}/pause", json={"reason": "x"})) == ["reason"]
        assert api.post(f"{url}/pause").json()["pause_note"] is None  # no body: no note

        done = api.patch(url, json={"trigger": {"cron": None, "at": "2001-01-01T00:00:00Z"}})
        assert done.json()["state"] == "completed" and done.json()["next_fire_at"] is None
        for verb in ("pause", "resume"):
            refused = api.post(f"{url}/{verb}")
            assert refused.status_code == 409 and "completed" in refused.json()["detail"]


def names(page: dict[str, Any]) -> list[str]:
    return [f"{item['namespace']}/{item['name']}" for item in page["items"]]


def test_lists_filter_by_namespace_tag_state_and_name_prefix(server: Server) -> None:
    with server.client("admin") as api:
        for document in (
            hook("report-daily", tags=["reports", "daily"]),
            hook("report-weekly", tags=["reports"], paused=True),
            hook("cleanup", tags=["ops"]),
            hook("report-daily", namespace="team-a", tags=["reports"]),
            hook("reporting", namespace="team-a", tags=["report"]),
        ):
            assert api.post("/schedules", json=document).status_code == 201

        def listed(**params: Any) -> list[str]:
            answer = api.get("/schedules", params=params)
            assert answer.status_code == 200, answer.text
            return names(answer.json())

        assert listed() == [
            "default/cleanup",
            "default/report-daily",
            "default/report-weekly",
            "team-a/report-daily",
            "team-a/reporting",
        ]
        assert listed(namespace="team-a") == ["team-a/report-daily", "team-a/reporting"]
        assert listed(tag="reports") == [
            "default/report-daily",
            "default/report-weekly",
            "team-a/report-daily",
        ]
        assert listed(tag="report") == ["team-a/reporting"]  # whole tags, not substrings
        assert listed(state="paused") == ["default/report-weekly"]
        assert listed(name_prefix="report-") == [
            "default/report-daily",
            "default/report-weekly",
            "team-a/report-daily",
        ]
        assert listed(name_prefix="REPORT") == []  # exact, on SQLite too
        assert listed(name_prefix="re%") == listed(name_prefix="report_") == []  # no wildcards
        assert listed(namespace="Team A", tag="a b") == []
        for params in ({"name_prefix": "a\x00"}, {"namespace": "\x00"}, {"tag": "x" * 65}):
            assert fields_of(api.get("/schedules", params=params)) == list(params)
        assert listed(namespace="default", tag="reports", state="active") == [
            "default/report-daily"
        ]
        assert listed(namespace="nobody") == []
        assert fields_of(api.get("/schedules", params={"state": "sleeping"})) == ["state"]


def test_cursor_pagination_visits_every_schedule_once(server: Server) -> None:
    with server.client("admin") as api:
        expected = sorted(f"ns-{i % 2}/job-{i}" for i in range(7))
        for i in range(7):
            assert api.post("/schedules", json=hook(f"job-{i}", namespace=f"ns-{i % 2}")).is_success
        seen: list[str] = []
        pages = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = api.get("/schedules", params=params).json()
            pages.append(len(page["items"]))
            seen.extend(names(page))
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == [3, 3, 1]
        assert seen == expected
        exact = api.get("/schedules", params={"limit": 7}).json()
        assert exact["next_cursor"] is None and len(exact["items"]) == 7
        for params in ({"cursor": "not-a-cursor"}, {"cursor": "WyJhIl0"}):
            assert fields_of(api.get("/schedules", params=params)) == ["cursor"]
        for limit in (0, 501):
            assert fields_of(api.get("/schedules", params={"limit": limit})) == ["limit"]


def test_lists_show_each_schedule_s_last_run(server: Server) -> None:
    with server.client("admin") as admin:
        first = admin.post("/schedules", json=hook("with-runs")).json()
        admin.post("/schedules", json=hook("without-runs"))
        run = admin.post(f"/schedules/{first['id']}/trigger").json()
    with server.client("reader") as api:
        items = {item["name"]: item for item in api.get("/schedules").json()["items"]}
    last = items["with-runs"]["last_execution"]
    assert last["id"] == run["id"] and last["trigger"] == "manual"
    assert last["scheduled_for"] == run["scheduled_for"]
    assert set(last) == {"id", "status", "trigger", "scheduled_for", "finished_at"}
    assert items["without-runs"]["last_execution"] is None


def test_what_no_store_can_keep_is_refused_naming_the_field(server: Server) -> None:
    with server.client("writer") as api:
        nul = api.post("/schedules", json=hook("nul", description="a\x00b", tags=["x\x00"]))
        assert fields_of(nul) == ["description", "tags[0]"]
        assert nul.json()["errors"][0]["message"] == "must not contain a NUL character (\\u0000)"
        raw = b'{"name": "nan", "trigger": {"cron": "@daily"}, "input": {"x": [NaN, 1e400]}}'
        not_finite = api.post(
            "/schedules", content=raw, headers={"Content-Type": "application/json"}
        )
        assert fields_of(not_finite) == ["input.x[0]", "input.x[1]"]
        deep: dict[str, Any] = {}
        for _ in range(70):
            deep = {"a": deep}
        assert fields_of(api.post("/schedules", json=hook("deep", input=deep)))[0].startswith(
            "input.a.a."
        )
        schedule = api.post("/schedules", json=hook("kept")).json()
        url = f"/schedules/{schedule['id']}"
        assert fields_of(api.post(f"{url}/pause", json={"note": "\x00"})) == ["note"]
        assert fields_of(api.post(f"{url}/trigger", json={"input": {"\x00": 1}})) == ["input.\x00"]
        assert fields_of(api.get("/schedules", params={"tag": "a\x00"})) == ["tag"]
        for start in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-12:00"):
            span = {"start": start, "end": "2025-01-01T00:00:00Z"}
            assert fields_of(api.post(f"{url}/backfill", json=span)) == ["start"]
        far = {"after": "0001-01-01T00:00:00+14:00"}
        assert fields_of(api.get(f"{url}/next", params=far)) == ["after"]
        assert [item["name"] for item in api.get("/schedules").json()["items"]] == ["kept"]
        assert api.get(url).json() == schedule
