"""The editor's form ⇄ the schedule document."""

from __future__ import annotations

from typing import Any

import pytest

from tickwork.dashboard.forms import Form
from tickwork.dashboard.schedule_form import ScheduleForm
from tickwork.errors import InvalidDocument
from tickwork.spec.documents import ScheduleDocument


def canonical(document: dict[str, Any]) -> dict[str, Any]:
    return ScheduleDocument.from_mapping(document).model_dump(mode="json")


DOCUMENTS = [
    {
        "name": "nightly-report",
        "description": "Send it",
        "trigger": {"cron": "30 2 * * 1-5"},
        "timezone": "Europe/Berlin",
        "overlap": "buffer_all",
        "misfire": "skip",
        "catchup_window": "30m",
        "timeout": "5m",
        "priority": -3,
        "concurrency_key": "reports",
        "concurrency_limit": 2,
        "pause_after_failures": 4,
        "max_runs": 10,
        "jitter": "10s",
        "tags": ["reports", "nightly"],
        "input": {"team": "ops", "days": [1, 2]},
        "retry": {"max_attempts": 5, "multiplier": 3.0, "retry_on": ["429"], "jitter": False},
        "action": {
            "kind": "http",
            "method": "PUT",
            "url": "https://example.internal/hooks/report",
            "headers": {"X-Team": "ops"},
            "body": "day={{ scheduled_for.date() }}",
            "expect_status": [200, 204],
            "secret": "reports",
            "timeout": "20s",
        },
    },
    {
        "name": "backup",
        "trigger": {"interval": "15m", "anchor": "2026-12-01T00:00:00Z"},
        "action": {
            "kind": "shell",
            "argv": ["/usr/bin/backup", "--full"],
            "env": {"MODE": "full"},
            "cwd": "/srv",
        },
        "paused": True,
        "pause_note": "disk full",
    },
    {"name": "once", "trigger": {"at": "2030-01-01T09:00:00+01:00"}, "workflow": "onboarding"},
    {
        "name": "py",
        "trigger": {"cron": "@daily"},
        "action": {"kind": "python", "target": "reports.nightly:send"},
    },
    {
        "name": "sh",
        "trigger": {"cron": "0 * * * *"},
        "action": {"kind": "shell", "command": "date | tee /tmp/x", "shell": True},
    },
]


def as_posted(form: ScheduleForm) -> Form:
    """The form as a browser would post it back unchanged."""
    fields: dict[str, list[str]] = {}
    for name, value in form.values.items():
        if isinstance(value, bool):
            if value:
                fields[name] = ["on"]
        elif isinstance(value, list):
            fields[name] = [str(v) for v in value]
        else:
            fields[name] = [str(value)]
    return Form(fields)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d["name"]))
def test_a_document_shown_and_posted_back_unchanged_is_the_same_document(
    document: dict[str, Any],
) -> None:
    stored = canonical(document)
    posted = ScheduleForm.of_post(as_posted(ScheduleForm.of_document(stored)))
    rebuilt = posted.document(stored)
    assert posted.valid, posted.errors
    assert canonical(rebuilt) == stored


def test_a_blank_form_with_a_name_and_url_is_a_valid_document() -> None:
    form = ScheduleForm.blank(None)
    form.values.update(name="x", http_url="https://example.com/")
    built = canonical(form.document())
    assert built["trigger"] == {"cron": "*/15 * * * *"}
    assert built["action"]["url"] == "https://example.com/"


@pytest.mark.parametrize(
    ("path", "kinds", "field"),
    [
        ("trigger.cron", {}, "cron"),
        ("trigger", {"trigger_kind": "interval"}, "interval"),
        ("anchor", {"trigger_kind": "interval"}, "anchor"),
        ("retry.max_interval", {}, "retry_max_interval"),
        ("action.argv[0]", {"action_kind": "shell"}, "shell_argv"),
        ("action.headers.X-Bad", {"action_kind": "http"}, "http_headers"),
        ("action.expect_status", {"action_kind": "http"}, "http_expect_low"),
        ("action.kind", {}, "action_kind"),
        ("input.a", {}, "input"),
        ("tags[2]", {}, "tags"),
        ("end_at", {}, "end_at"),
        ("", {}, None),
        ("unknown_thing", {}, None),
    ],
)
def test_each_problem_goes_next_to_its_field(
    path: str, kinds: dict[str, str], field: str | None
) -> None:
    assert ScheduleForm(dict(kinds)).field_of(path) == field


def test_problems_without_a_field_are_listed_for_the_whole_form() -> None:
    form = ScheduleForm({})
    form.add_problems(InvalidDocument([("", "must be a mapping"), ("trigger.cron", "bad")]))
    assert form.general == ["must be a mapping"]
    assert form.errors == {"cron": ["bad"]}
