"""Signing in and out, sessions, and CSRF protection of every form."""

from __future__ import annotations

from tests.integration.api.rig import Server
from tickwork.dashboard.sessions import SESSION_COOKIE
from tickwork.schedule.policies import ScheduleState

from .browser import csrf_of, http_schedule, post_form, sign_in, visitor


def test_a_visitor_without_a_session_is_sent_to_sign_in(server: Server) -> None:
    with visitor(server) as anonymous:
        for page in ("/", "/schedules", "/runs?status=failed", "/queue", "/schedules/new"):
            answer = anonymous.get(page)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/login?next=")
        assert anonymous.get("/ui/cron?expression=*").status_code == 303
        assert anonymous.get("/login").status_code == 200


def test_a_wrong_token_is_refused_and_opens_no_session(server: Server) -> None:
    with visitor(server) as anonymous:
        form = anonymous.get("/login")
        answer = anonymous.post(
            "/login", data={"csrf": csrf_of(form.text), "token": "tw_not-a-token"}
        )
        assert answer.status_code == 401
        assert "This token is unknown or revoked." in answer.text
        assert SESSION_COOKIE not in answer.cookies
        assert anonymous.get("/").status_code == 303


def test_the_sign_in_form_needs_its_own_csrf_cookie(server: Server) -> None:
    with visitor(server) as anonymous:
        form = anonymous.get("/login")
        token = csrf_of(form.text)
        anonymous.cookies.clear()  # a cross-site post carries no cookie of ours
        answer = anonymous.post("/login", data={"csrf": token, "token": server.tokens["admin"]})
        assert answer.status_code == 403
        assert SESSION_COOKIE not in answer.cookies


def test_signing_in_sets_a_session_cookie_that_does_not_hold_the_token(server: Server) -> None:
    with visitor(server) as client:
        form = client.get("/login?next=/queue")
        answer = client.post(
            "/login",
            data={"csrf": csrf_of(form.text), "token": server.tokens["admin"], "next": "/queue"},
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/queue"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert server.tokens["admin"] not in cookie
        page = client.get("/queue")
        assert page.status_code == 200
        assert "Signed in as admin." in page.text


def test_sign_in_never_redirects_to_another_site(server: Server) -> None:
    with visitor(server) as client:
        form = client.get("/login")
        answer = client.post(
            "/login",
            data={
                "csrf": csrf_of(form.text),
                "token": server.tokens["admin"],
                "next": "//evil.example/",
            },
        )
        assert answer.headers["location"] == "/"


def test_signing_out_ends_the_session(server: Server) -> None:
    with sign_in(server, "admin") as client:
        assert post_form(client, "/", "/logout").status_code == 303
        assert client.get("/").status_code == 303


def test_a_revoked_token_ends_its_sessions(server: Server) -> None:
    with sign_in(server, "reader") as client:
        assert client.get("/").status_code == 200
        with server.client("admin") as api:
            reader = next(t for t in api.get("/tokens").json() if t["name"] == "reader")
            assert api.delete(f"/tokens/{reader['id']}").status_code == 204
        assert client.get("/").status_code == 303


def test_a_form_posted_without_the_session_csrf_token_changes_nothing(server: Server) -> None:
    record = server.node.schedules.create(http_schedule(server))
    action = f"/schedules/{record.id}/pause"
    with sign_in(server, "admin") as client, sign_in(server, "writer") as other:
        missing = client.post(action, data={"note": "no token"})
        wrong = client.post(action, data={"csrf": "x" * 43, "note": "wrong token"})
        someone_elses = client.post(
            action, data={"csrf": csrf_of(other.get("/").text), "note": "another session's"}
        )
        for answer in (missing, wrong, someone_elses):
            assert answer.status_code == 403
            assert "Form expired" in answer.text
        assert server.node.schedules.get(record.id).state is ScheduleState.ACTIVE
        assert client.post("/logout", data={}).status_code == 403  # signing out too
        assert client.get("/").status_code == 200


def test_a_live_refresh_leaves_messages_for_the_next_page(server: Server) -> None:
    with sign_in(server, "writer") as client:
        refreshed = client.get("/", headers={"X-Tickwork-Live": "1"})
        assert "Signed in as writer." not in refreshed.text
        assert "Signed in as writer." in client.get("/").text
        assert "Signed in as writer." not in client.get("/").text


def test_a_read_token_sent_back_from_the_editor_keeps_its_place(server: Server) -> None:
    with sign_in(server, "reader") as reader:
        page = reader.get("/schedules/new").text
        assert "can read but not change schedules" in page
        answer = post_form(reader, "/schedules/new", "/schedules/new", back="/schedules/new")
        assert answer.headers["location"] == "/schedules/new"
        assert "needs the write scope" in reader.get("/schedules/new").text
    assert server.node.schedules.list_all() == []
