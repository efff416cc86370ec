"""The dashboard acts as the signed-in token: scopes and namespaces apply as in the API."""

from __future__ import annotations

from tests.integration.api.rig import Server
from tickwork.schedule.policies import ScheduleState

from .browser import http_schedule, post_form, sign_in


def test_a_read_token_sees_schedules_but_cannot_pause_them(server: Server) -> None:
    record = server.node.schedules.create(http_schedule(server))
    page = f"/schedules/{record.id}"
    with sign_in(server, "reader") as reader:
        shown = reader.get(page)
        assert shown.status_code == 200
        assert "ping" in shown.text
        assert "Trigger now" not in shown.text  # no buttons it cannot use
        assert 'role="switch"' in reader.get("/schedules").text
        assert "disabled" in reader.get("/schedules").text
        answer = post_form(reader, page, f"{page}/pause", note="let me", back=page)
        assert answer.status_code == 303
        after = reader.get(answer.headers["location"])
        assert "Your token cannot do this: this needs the write scope." in after.text
    assert server.node.schedules.get(record.id).state is ScheduleState.ACTIVE


def test_a_write_token_pauses_with_a_note_and_resumes(server: Server) -> None:
    record = server.node.schedules.create(http_schedule(server))
    page = f"/schedules/{record.id}"
    with sign_in(server, "writer") as writer:
        paused = post_form(writer, page, f"{page}/pause", note="migrating the database")
        assert paused.headers["location"] == page
        shown = writer.get(page).text
        assert "Paused ping." in shown
        assert "migrating the database" in shown
        stored = server.node.schedules.get(record.id)
        assert stored.state is ScheduleState.PAUSED
        assert stored.pause_note == "migrating the database"
        post_form(writer, page, f"{page}/resume")
    assert server.node.schedules.get(record.id).state is ScheduleState.ACTIVE


def test_a_namespace_token_sees_only_its_namespace(server: Server) -> None:
    own = server.node.schedules.create(http_schedule(server, "ours", namespace="team-a"))
    other = server.node.schedules.create(http_schedule(server, "theirs", namespace="team-b"))
    with sign_in(server, "team_a") as team_a:
        listed = team_a.get("/schedules").text
        assert "ours" in listed and "theirs" not in listed
        assert team_a.get(f"/schedules/{own.id}").status_code == 200
        hidden = team_a.get(f"/schedules/{other.id}")
        assert hidden.status_code == 404
        assert "theirs" not in hidden.text
        assert team_a.get(f"/schedules/{other.id}/edit").status_code == 404
        page = f"/schedules/{own.id}"
        refused = post_form(team_a, page, f"/schedules/{other.id}/pause", note="x")
        assert refused.status_code == 404
        assert "theirs" not in team_a.get("/").text
    assert server.node.schedules.get(other.id).state is ScheduleState.ACTIVE


def test_only_an_admin_may_create_a_shell_action(server: Server) -> None:
    fields = {
        "name": "backup",
        "namespace": "default",
        "trigger_kind": "cron",
        "cron": "0 3 * * *",
        "timezone": "UTC",
        "target_kind": "action",
        "action_kind": "shell",
        "shell_argv": "echo\nhello",
    }
    with sign_in(server, "writer") as writer:
        refused = post_form(writer, "/schedules/new", "/schedules/new", **fields)
        assert refused.status_code == 422
        assert 'id="action_kind-error"' in refused.text
        assert "needs the admin scope" in refused.text
    assert server.node.schedules.list_all() == []
    with sign_in(server, "admin") as admin:
        created = post_form(admin, "/schedules/new", "/schedules/new", **fields)
        assert created.status_code == 303
    (stored,) = server.node.schedules.list_all()
    assert stored.document["action"]["argv"] == ["echo", "hello"]
