"""The schedule editor: the document it builds, errors next to their fields, nothing
half-written, and the live cron check."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.api.rig import Server

from .browser import http_schedule, post_form, sign_in


def editor_fields(server: Server, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "nightly-report",
        "namespace": "default",
        "description": "Send the nightly report",
        "tags": "reports, nightly",
        "trigger_kind": "cron",
        "cron": "30 2 * * 1-5",
        "timezone": "Europe/Berlin",
        "target_kind": "action",
        "action_kind": "http",
        "http_method": "POST",
        "http_url": f"{server.url}/api/v1/echo",
        "http_headers": '{"Content-Type": "application/json"}',
        "http_body": '{"day": "{{ scheduled_for.date() }}"}',
        "http_expect_low": "200",
        "http_expect_high": "299",
        "input": '{"team": "ops"}',
        "overlap": "buffer_one",
        "misfire": "run_all",
        "catchup_window": "2h",
        "timeout": "5m",
        "priority": "3",
        "retry_max_attempts": "4",
        "retry_initial_interval": "2s",
        "retry_multiplier": "1.5",
        "retry_max_interval": "1m",
        "retry_jitter": "on",
        "retry_on": ["5xx", "timeout"],
    }
    fields.update(changes)
    return fields


def error_next_to(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error" role="alert">([^<]*)</p>', html)
    assert found is not None, f"no error shown next to {field}"
    return found.group(1)


def test_the_editor_creates_the_same_document_as_the_api(server: Server) -> None:
    with sign_in(server, "writer") as writer:
        created = post_form(writer, "/schedules/new", "/schedules/new", **editor_fields(server))
        assert created.status_code == 303, created.text
        (record,) = server.node.schedules.list_all()
        assert created.headers["location"] == f"/schedules/{record.id}"
        page = writer.get(created.headers["location"]).text
    assert "At 02:30, Monday through Friday" in page
    document = record.document
    assert document["trigger"] == {"cron": "30 2 * * 1-5"}
    assert document["timezone"] == "Europe/Berlin"
    assert document["tags"] == ["reports", "nightly"]
    assert document["input"] == {"team": "ops"}
    assert document["action"]["headers"] == {"Content-Type": "application/json"}
    assert document["action"]["body"] == {"day": "{{ scheduled_for.date() }}"}
    assert document["overlap"] == "buffer_one" and document["misfire"] == "run_all"
    assert document["priority"] == 3 and document["timeout"] == "5m"
    assert document["retry"]["max_attempts"] == 4
    assert document["retry"]["multiplier"] == 1.5
    assert document["retry"]["retry_on"] == ["5xx", "timeout"]


def test_errors_are_shown_next_to_their_fields_and_nothing_is_written(server: Server) -> None:
    fields = editor_fields(
        server,
        cron="61 * * * *",
        timezone="Mars/Olympus",
        retry_max_attempts="0",
        http_url="ftp://example.com/",
        input="{not json",
    )
    with sign_in(server, "writer") as writer:
        answer = post_form(writer, "/schedules/new", "/schedules/new", **fields)
    assert answer.status_code == 422
    html = answer.text
    # JSON that does not parse is caught first: the document is not even sent.
    assert "is not valid JSON" in error_next_to(html, "input")
    assert server.node.schedules.list_all() == []

    fields["input"] = "{}"
    with sign_in(server, "writer") as writer:
        html = post_form(writer, "/schedules/new", "/schedules/new", **fields).text
    assert "61 is out of range 0-59" in error_next_to(html, "cron")
    assert "is not a known IANA time zone" in error_next_to(html, "timezone")
    assert "must be at least 1" in error_next_to(html, "retry_max_attempts")
    assert "http://" in error_next_to(html, "http_url")
    assert 'value="61 * * * *"' in html  # what was typed is kept
    assert server.node.schedules.list_all() == []


def test_a_taken_name_is_shown_next_to_the_name(server: Server) -> None:
    server.node.schedules.create(http_schedule(server, "nightly-report"))
    with sign_in(server, "writer") as writer:
        answer = post_form(writer, "/schedules/new", "/schedules/new", **editor_fields(server))
    assert answer.status_code == 422
    assert "already exists" in error_next_to(answer.text, "name")


def test_editing_keeps_what_the_form_does_not_show(server: Server) -> None:
    record = server.node.schedules.create(
        http_schedule(
            server,
            paused=True,
            pause_note="until the migration",
            retry={"max_attempts": 2, "exit_codes": [3]},
        )
    )
    page = f"/schedules/{record.id}/edit"
    with sign_in(server, "writer") as writer:
        form = writer.get(page).text
        assert 'value="0 3 * * *"' in form
        revision = re.search(r'name="revision" value="(\d+)"', form)
        assert revision is not None
        fields = editor_fields(server, name="ping", cron="*/5 * * * *", revision=revision.group(1))
        saved = post_form(writer, page, page, **fields)
        assert saved.status_code == 303, saved.text
    stored = server.node.schedules.get(record.id)
    assert stored.document["trigger"] == {"cron": "*/5 * * * *"}
    assert stored.document["pause_note"] == "until the migration"
    assert stored.document["retry"]["exit_codes"] == [3]
    assert stored.revision == record.revision + 1


def test_an_edit_over_a_newer_version_is_refused(server: Server) -> None:
    record = server.node.schedules.create(http_schedule(server))
    page = f"/schedules/{record.id}/edit"
    with sign_in(server, "writer") as writer:
        stale = editor_fields(server, name="ping", revision=str(record.revision))
        server.node.schedules.pause(record.id, "someone else")
        answer = post_form(writer, page, page, **stale)
    assert answer.status_code == 422
    assert "changed since you read it" in answer.text
    assert server.node.schedules.get(record.id).document["trigger"] == {"cron": "0 3 * * *"}


def test_the_live_cron_check_describes_and_previews_in_the_zone(server: Server) -> None:
    with sign_in(server, "reader") as reader:
        valid = reader.get(
            "/ui/cron", params={"expression": "30 2 * * *", "timezone": "America/New_York"}
        ).json()
        invalid = reader.get("/ui/cron", params={"expression": "61 * * * *"}).json()
        unknown_zone = reader.get(
            "/ui/cron", params={"expression": "* * * * *", "timezone": "Mars/Base"}
        ).json()
    assert valid["valid"] is True
    assert valid["description"] == "At 02:30"
    assert len(valid["next"]) == 5
    assert all(fire["local"].endswith(("EST", "EDT")) for fire in valid["next"])
    assert all(fire["utc"].endswith("UTC") for fire in valid["next"])
    assert invalid == {
        "valid": False,
        "error": "minute: 61 is out of range 0-59",
        "description": None,
        "next": [],
    }
    assert unknown_zone["valid"] is True
    assert "not a known IANA time zone" in unknown_zone["zone_error"]
