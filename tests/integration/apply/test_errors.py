"""Bad files are refused whole, each problem named by file, line and field; who may apply
what is the same as for the API's own writes."""

from __future__ import annotations

from tests.integration.api.rig import Server

from .conftest import apply_body, problems

GOOD = """\
kind: Schedule
name: good
trigger:
  interval: 1h
action:
  kind: http
  url: http://127.0.0.1:9/good
"""

BAD_CRON = """\
kind: Schedule
name: bad-cron
trigger:
  cron: "61 * * * *"
action:
  kind: http
  url: http://127.0.0.1:9/x
"""

UNKNOWN_ZONE = """\
kind: Schedule
name: zoned
trigger:
  cron: "0 9 * * *"
timezone: Europe/Atlantis
action:
  kind: http
  url: http://127.0.0.1:9/x
"""


def test_bad_cron_and_unknown_zone_name_file_line_and_field(server: Server) -> None:
    with server.client("admin") as api:
        body = apply_body(
            "ops", {"good.yaml": GOOD, "cron.yaml": BAD_CRON, "zone.yaml": UNKNOWN_ZONE}
        )
        found = problems(api.post("/apply", json=body))
        assert [(file, line, field) for file, line, field, _ in found] == [
            ("cron.yaml", 4, "trigger.cron"),
            ("zone.yaml", 5, "timezone"),
        ]
        assert "61" in found[0][3] and "minute" in found[0][3]
        assert "Europe/Atlantis" in found[1][3] and "IANA" in found[1][3]
        assert api.get("/schedules").json()["items"] == []  # good.yaml was not applied


def test_duplicate_names_point_at_both_places(server: Server) -> None:
    with server.client("admin") as api:
        body = apply_body("ops", {"a.yaml": GOOD, "b.yaml": "# again\n" + GOOD})
        ((file, line, field, message),) = problems(api.post("/apply", json=body))
        assert (file, line, field) == ("b.yaml", 3, "name")
        assert message == "schedule default/good is declared twice (also in a.yaml:1)"


def test_a_document_that_could_never_fire_is_located(server: Server) -> None:
    past = GOOD.replace("interval: 1h", "at: 2001-01-01T00:00:00Z")
    with server.client("admin") as api:
        found = problems(api.post("/apply", json=apply_body("ops", {"once.yaml": past})))
        assert [(f, line, field) for f, line, field, _ in found] == [("once.yaml", 4, "trigger.at")]


def test_unknown_fields_and_bad_set_names_are_refused(server: Server) -> None:
    with server.client("admin") as api:
        typo = GOOD.replace("trigger:", "triger: {}\ntrigger:")
        found = problems(api.post("/apply", json=apply_body("ops", {"typo.yaml": typo})))
        assert [(f, line, field) for f, line, field, _ in found] == [("typo.yaml", 3, "triger")]
        bad_set = api.post("/apply", json=apply_body("-ops", {"good.yaml": GOOD}))
        assert bad_set.status_code == 422
        assert bad_set.json()["errors"][0]["field"] == "set"


def test_scopes_and_namespaces_hold_for_apply(server: Server) -> None:
    shell = GOOD.replace(
        "  kind: http\n  url: http://127.0.0.1:9/good", "  kind: shell\n  argv: [date]"
    ).replace("name: good", "name: shell")
    with server.client("reader") as reader:
        assert reader.post("/apply", json=apply_body("ops", {"g.yaml": GOOD})).status_code == 403
    with server.client("writer") as writer:
        refused = writer.post("/apply", json=apply_body("ops", {"g.yaml": GOOD, "s.yaml": shell}))
        assert refused.status_code == 403
        assert refused.json()["detail"].startswith("s.yaml:1: a shell action")
        assert writer.get("/schedules").json()["items"] == []
    with server.client("team_a") as team_a:
        other = GOOD.replace("name: good", "name: good\nnamespace: team-b")
        found = problems(team_a.post("/apply", json=apply_body("ops", {"o.yaml": other})))
        assert [(f, line, field) for f, line, field, _ in found] == [("o.yaml", 3, "namespace")]
        mine = GOOD.replace("name: good", "name: good\nnamespace: team-a")
        assert team_a.post("/apply", json=apply_body("a", {"m.yaml": mine})).status_code == 200
    with server.client("admin") as admin:
        # Pruning set "a" as team-b's token would see nothing of team-a: nothing deleted.
        assert admin.get("/schedules").json()["items"][0]["namespace"] == "team-a"
    with server.client("team_b") as team_b:
        answer = team_b.post("/apply", json=apply_body("a", {}, prune=True))
        assert answer.status_code == 200 and answer.json()["changes"] == []
    with server.client("admin") as admin:
        assert len(admin.get("/schedules").json()["items"]) == 1
