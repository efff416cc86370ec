"""The schedule document: DESIGN.md's example, every rule, and errors that name the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import yaml

from tickwork.errors import InvalidDocument, InvalidSpec
from tickwork.schedule.policies import MisfirePolicy, OverlapPolicy
from tickwork.spec import ScheduleDocument
from tickwork.spec.actions import HttpActionDocument, PythonActionDocument, ShellActionDocument
from tickwork.spec.documents import (
    AtTriggerDocument,
    CronTriggerDocument,
    IntervalTriggerDocument,
)

DESIGN_EXAMPLE = """
name: nightly-report            # unique within its namespace; [a-z0-9][a-z0-9-_.]{0,127}
namespace: default
description: Send the nightly report
trigger:                        # exactly one of cron | interval | at
  cron: "30 2 * * 1-5"          # or interval: 15m (anchor: optional instant) | at: 2026-12-01T09:00:00Z
timezone: Europe/Berlin
start_at: null
end_at: null
max_runs: null
jitter: 0s
overlap: skip                   # skip | allow | buffer_one | buffer_all | cancel_other
misfire: run_once               # run_once | run_all | skip
catchup_window: 1h
timeout: 5m
priority: 0
concurrency_key: null
retry: {max_attempts: 3, initial_interval: 1s, multiplier: 2.0, max_interval: 5m, jitter: true}
paused: false
input: {}                       # JSON handed to the workflow
action:                         # an inline single-step workflow, or `workflow: <name>`
  kind: http                    # http | shell | python
  method: POST
  url: https://example.internal/hooks/report
  headers: {Content-Type: application/json}
  body: {"day": "{{ scheduled_for.date() }}"}
  expect_status: [200, 299]     # inclusive range
tags: [reports]
"""  # noqa: E501 (copied verbatim from DESIGN.md)

MINIMAL: dict[str, Any] = {
    "name": "nightly",
    "trigger": {"cron": "0 2 * * *"},
    "workflow": "report",
}


def doc(**changes: Any) -> dict[str, Any]:
    """MINIMAL with ``changes``; a value of ``...`` removes the key."""
    data = {**MINIMAL, **changes}
    return {key: value for key, value in data.items() if value is not ...}


def problems(data: object) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDocument) as caught:
        ScheduleDocument.from_mapping(data)
    return [(problem.field, problem.message) for problem in caught.value.problems]


def round_trip(document: ScheduleDocument) -> ScheduleDocument:
    return ScheduleDocument.from_mapping(json.loads(json.dumps(document.model_dump(mode="json"))))


# -- the example and the defaults -------------------------------------------------------


def test_design_example_validates() -> None:
    document = ScheduleDocument.from_mapping(yaml.safe_load(DESIGN_EXAMPLE))
    assert document.trigger == CronTriggerDocument(cron="30 2 * * 1-5")
    assert document.timezone == "Europe/Berlin"
    assert document.timeout == timedelta(minutes=5)
    assert document.retry.max_interval == timedelta(minutes=5)
    assert isinstance(document.action, HttpActionDocument)
    assert document.action.expect_status == (200, 299)
    assert document.action.body == {"day": "{{ scheduled_for.date() }}"}
    assert document.tags == ("reports",)


def test_design_example_round_trips_through_json() -> None:
    document = ScheduleDocument.from_mapping(yaml.safe_load(DESIGN_EXAMPLE))
    assert round_trip(document) == document


def test_design_example_dumps_back_to_the_words_it_was_written_in() -> None:
    original = yaml.safe_load(DESIGN_EXAMPLE)
    dumped = ScheduleDocument.from_mapping(original).model_dump(mode="json")
    for key, value in original.items():
        if key == "retry":
            assert {k: dumped["retry"][k] for k in value} == value
        elif key == "action":
            assert {k: dumped["action"][k] for k in value} == value
        else:
            assert dumped[key] == value, key


def test_defaults() -> None:
    document = ScheduleDocument.from_mapping(MINIMAL)
    assert document.namespace == "default"
    assert document.timezone == "UTC"
    assert document.jitter == timedelta(0)
    assert document.overlap is OverlapPolicy.SKIP
    assert document.misfire is MisfirePolicy.RUN_ONCE
    assert document.catchup_window == timedelta(hours=1)
    assert document.timeout is None
    assert document.priority == 0
    assert document.retry.max_attempts == 3
    assert document.retry.initial_interval == timedelta(seconds=1)
    assert document.retry.multiplier == 2.0
    assert document.retry.max_interval == timedelta(minutes=5)
    assert document.retry.jitter is True
    assert document.retry.retry_on == ("connection", "timeout", "5xx", "429")
    assert document.retry.exit_codes == ()
    assert document.paused is False
    assert document.input == {}
    assert document.tags == ()


def test_documents_are_frozen() -> None:
    document = ScheduleDocument.from_mapping(MINIMAL)
    with pytest.raises(ValueError, match="frozen"):
        document.name = "other"


def test_every_policy_word_is_accepted() -> None:
    for overlap in OverlapPolicy:
        for misfire in MisfirePolicy:
            document = ScheduleDocument.from_mapping(doc(overlap=overlap.value, misfire=misfire))
            assert (document.overlap, document.misfire) == (overlap, misfire)


def test_json_schema_is_generated_with_durations_as_strings() -> None:
    schema = ScheduleDocument.model_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["properties"]["jitter"]["type"] == "string"
    assert schema["properties"]["name"]["pattern"] == "^[a-z0-9][a-z0-9_.-]{0,127}$"
    assert set(schema["required"]) == {"name", "trigger"}
    json.dumps(schema)
    json.dumps(ScheduleDocument.model_json_schema(mode="serialization"))


# -- triggers ---------------------------------------------------------------------------


def test_interval_trigger_with_anchor_keeps_its_offset_and_round_trips() -> None:
    document = ScheduleDocument.from_mapping(
        doc(trigger={"interval": "PT15M", "anchor": "2026-01-01T00:00:00+01:00"})
    )
    assert document.trigger == IntervalTriggerDocument(
        interval=timedelta(minutes=15),
        anchor=datetime(2025, 12, 31, 23, 0, tzinfo=UTC),
    )
    dumped = document.model_dump(mode="json")["trigger"]
    assert dumped == {"interval": "15m", "anchor": "2026-01-01T00:00:00+01:00"}
    assert round_trip(document) == document


def test_at_trigger_from_yaml_timestamp_and_from_string() -> None:
    from_yaml = ScheduleDocument.from_mapping(
        yaml.safe_load("name: once\nworkflow: w\ntrigger: {at: 2026-12-01T09:00:00Z}")
    )
    from_text = ScheduleDocument.from_mapping(doc(trigger={"at": "2026-12-01T09:00:00Z"}))
    assert (
        from_yaml.trigger
        == from_text.trigger
        == AtTriggerDocument(at=datetime(2026, 12, 1, 9, tzinfo=UTC))
    )
    assert from_text.model_dump(mode="json")["trigger"] == {"at": "2026-12-01T09:00:00Z"}


def test_cron_with_h_validates_without_a_schedule_id() -> None:
    document = ScheduleDocument.from_mapping(doc(trigger={"cron": "H H(0-5) * * *"}))
    assert document.trigger == CronTriggerDocument(cron="H H(0-5) * * *")


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ({"cron": "61 * * * *"}, ("trigger.cron", "minute: 61 is out of range 0-59")),
        (
            {"cron": "* *"},
            (
                "trigger.cron",
                "expression: '* *' has 2 fields; expected 5 (minute hour day-of-month month"
                " day-of-week), 6 (seconds first) or 7 (seconds first, year last)",
            ),
        ),
        ({"cron": 5}, ("trigger.cron", "must be a string")),
        ({}, ("trigger", "needs one of cron, interval or at")),
        (
            {"cron": "* * * * *", "at": "2026-12-01T09:00:00Z"},
            ("trigger", "has cron and at; give exactly one"),
        ),
        ("0 2 * * *", ("trigger", "must be a mapping with one of cron, interval or at")),
        (
            {"cron": "* * * * *", "anchor": "2026-01-01T00:00:00Z"},
            ("trigger.anchor", "applies only to an interval trigger"),
        ),
        ({"interval": "0s"}, ("trigger.interval", "'0s' must be at least 1s")),
        (
            {"interval": "15x"},
            (
                "trigger.interval",
                "'15x' is not a duration (use e.g. 500ms, 30s, 15m, 1h, 1d or PT15M)",
            ),
        ),
        (
            {"interval": 900},
            ("trigger.interval", "900 has no unit; write a duration like 30s, 15m or 1h"),
        ),
        (
            {"interval": "15m", "anchor": "2026-01-01T00:00:00"},
            (
                "trigger.anchor",
                "'2026-01-01T00:00:00' has no UTC offset; add Z or an offset like +01:00",
            ),
        ),
        (
            {"at": "tomorrow"},
            (
                "trigger.at",
                "'tomorrow' is not an instant; it must be an RFC 3339 instant with"
                " an offset, e.g. 2026-12-01T09:00:00Z",
            ),
        ),
        (
            {"at": "2026-02-30T09:00:00Z"},
            ("trigger.at", "'2026-02-30T09:00:00Z' is not a valid date and time"),
        ),
        (
            {"at": 1767225600},
            ("trigger.at", "must be an RFC 3339 instant with an offset, e.g. 2026-12-01T09:00:00Z"),
        ),
        ({"cron": "* * * * *", "every": "1m"}, ("trigger.every", "is not a known field")),
    ],
)
def test_trigger_errors(trigger: object, expected: tuple[str, str]) -> None:
    assert problems(doc(trigger=trigger)) == [expected]


def test_naive_yaml_timestamp_is_refused() -> None:
    data = yaml.safe_load("name: once\nworkflow: w\ntrigger: {at: 2026-12-01 09:00:00}")
    assert problems(data) == [
        ("trigger.at", "'2026-12-01T09:00:00' has no UTC offset; add Z or an offset like +01:00")
    ]


# -- top-level fields -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "nightly-report", "a.b_c-d", "0", "x" * 128])
def test_valid_names(name: str) -> None:
    assert ScheduleDocument.from_mapping(doc(name=name, namespace=name)).name == name


NAME_RULE = (
    "must start with a lower-case letter or digit and contain only a-z, 0-9, '-', '_' and '.'"
    " (at most 128 characters)"
)


@pytest.mark.parametrize("name", ["", "Nightly", "-x", "_x", "a b", "a/b", "x" * 129, "é"])
def test_invalid_names(name: str) -> None:
    assert problems(doc(name=name)) == [("name", NAME_RULE)]
    assert problems(doc(namespace=name)) == [("namespace", NAME_RULE)]
    assert problems(doc(workflow=name)) == [("workflow", NAME_RULE)]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": ...}, ("name", "is required")),
        ({"trigger": ...}, ("trigger", "is required")),
        ({"name": 7}, ("name", "must be a string")),
        (
            {"timezone": "Mars/Olympus"},
            ("timezone", "'Mars/Olympus' is not a known IANA time zone (e.g. Europe/Berlin)"),
        ),
        ({"max_runs": 0}, ("max_runs", "must be at least 1")),
        ({"max_runs": "3"}, ("max_runs", "must be a whole number")),
        ({"max_runs": True}, ("max_runs", "must be a whole number")),
        ({"jitter": "-1s"}, ("jitter", "'-1s' is negative; a duration is zero or more")),
        (
            {"catchup_window": "1 hour"},
            (
                "catchup_window",
                "'1 hour' is not a duration (use e.g. 500ms, 30s, 15m, 1h, 1d or PT15M)",
            ),
        ),
        ({"timeout": "0s"}, ("timeout", "'0s' must be longer than 0s")),
        (
            {"overlap": "queue"},
            (
                "overlap",
                "must be one of 'skip', 'allow', 'buffer_one', 'buffer_all' or 'cancel_other'",
            ),
        ),
        ({"misfire": "never"}, ("misfire", "must be one of 'run_once', 'run_all' or 'skip'")),
        ({"priority": 101}, ("priority", "must be at most 100")),
        ({"priority": -101}, ("priority", "must be at least -100")),
        (
            {"concurrency_limit": 0, "concurrency_key": "db"},
            ("concurrency_limit", "must be at least 1"),
        ),
        ({"concurrency_limit": 2}, ("concurrency_limit", "needs a concurrency_key")),
        ({"concurrency_key": ""}, ("concurrency_key", "must not be empty")),
        ({"paused": "yes"}, ("paused", "must be true or false")),
        ({"pause_after_failures": 0}, ("pause_after_failures", "must be at least 1")),
        ({"input": [1, 2]}, ("input", "must be a mapping")),
        ({"tags": "reports"}, ("tags", "must be a list")),
        ({"tags": ["ok", "two words"]}, ("tags[1]", "must be 1-64 characters without spaces")),
        ({"description": "x" * 1001}, ("description", "must be at most 1000 characters")),
        ({"notify": {"on": "failure"}}, ("notify", "is not a known field")),
        ({"timezon": "UTC"}, ("timezon", "is not a known field; did you mean 'timezone'?")),
        (
            {"start_at": "2026-02-01T00:00:00Z", "end_at": "2026-01-01T00:00:00Z"},
            ("end_at", "must be after start_at"),
        ),
        (
            {"start_at": "2026-01-01T01:00:00+01:00", "end_at": "2026-01-01T00:00:00Z"},
            ("end_at", "must be after start_at"),
        ),
    ],
)
def test_field_errors(changes: dict[str, Any], expected: tuple[str, str]) -> None:
    assert problems(doc(**changes)) == [expected]


def test_accepted_field_values() -> None:
    document = ScheduleDocument.from_mapping(
        doc(
            start_at="2026-01-01T00:00:00+01:00",
            end_at="2026-01-01T00:00:00Z",
            max_runs=10,
            priority=-100,
            concurrency_key="db",
            concurrency_limit=2,
            paused=True,
            pause_note="maintenance",
            pause_after_failures=5,
            input={"days": [1, 2], "nested": {"ok": None}},
            timezone="America/New_York",
        )
    )
    assert document.start_at == datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert document.end_at is not None and document.start_at < document.end_at
    assert round_trip(document) == document


def test_action_and_workflow_are_exclusive() -> None:
    action = {"kind": "python", "target": "reports.nightly:send"}
    assert problems(doc(action=action)) == [
        ("workflow", "cannot be set together with action; pick one")
    ]
    assert problems(doc(workflow=...)) == [("action", "is required (or workflow: <name>)")]
    assert ScheduleDocument.from_mapping(doc(workflow=..., action=action)).workflow is None


def test_every_problem_is_reported_at_once() -> None:
    found = problems(doc(name="Bad", max_runs=0, retry={"max_attempts": 0}))
    assert [field for field, _ in found] == ["name", "max_runs", "retry.max_attempts"]


@pytest.mark.parametrize("data", [["name"], "name: x", None])
def test_a_document_that_is_not_a_mapping(data: object) -> None:
    assert problems(data) == [("", f"must be a mapping, not {type(data).__name__}")]


def test_invalid_document_is_an_invalid_spec_naming_the_first_field() -> None:
    with pytest.raises(InvalidSpec) as caught:
        ScheduleDocument.from_mapping(doc(max_runs=0, priority=500))
    error = caught.value
    assert isinstance(error, InvalidDocument) and isinstance(error, ValueError)
    assert error.field == "max_runs"
    assert str(error) == (
        "2 problems:\n  - max_runs: must be at least 1\n  - priority: must be at most 100"
    )
    assert "pydantic" not in str(error) and "http" not in str(error)


# -- retry ------------------------------------------------------------------------------


def test_retry_accepts_every_failure_class_and_exit_codes() -> None:
    retry = {"retry_on": ["connection", "timeout", "5xx", "429"], "exit_codes": [75, 111]}
    document = ScheduleDocument.from_mapping(doc(retry=retry))
    assert document.retry.exit_codes == (75, 111)
    assert document.retry.multiplier == 2.0
    assert round_trip(document) == document


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        ({"max_attempts": 0}, ("retry.max_attempts", "must be at least 1")),
        ({"multiplier": 0.5}, ("retry.multiplier", "must be at least 1.0")),
        ({"multiplier": float("inf")}, ("retry.multiplier", "must be a finite number")),
        ({"multiplier": "2"}, ("retry.multiplier", "must be a number")),
        ({"jitter": "0s"}, ("retry.jitter", "must be true or false")),
        (
            {"initial_interval": "5x"},
            (
                "retry.initial_interval",
                "'5x' is not a duration (use e.g. 500ms, 30s, 15m, 1h, 1d or PT15M)",
            ),
        ),
        (
            {"initial_interval": "10m", "max_interval": "5m"},
            ("retry.max_interval", "must be at least initial_interval"),
        ),
        (
            {"retry_on": ["5xx", "4xx"]},
            ("retry.retry_on[1]", "must be one of 'connection', 'timeout', '5xx' or '429'"),
        ),
        ({"exit_codes": ["1"]}, ("retry.exit_codes[0]", "must be a whole number")),
        (
            {"max_attemps": 5},
            ("retry.max_attemps", "is not a known field; did you mean 'max_attempts'?"),
        ),
    ],
)
def test_retry_errors(retry: dict[str, Any], expected: tuple[str, str]) -> None:
    assert problems(doc(retry=retry)) == [expected]


# -- actions ----------------------------------------------------------------------------


def with_action(**action: Any) -> dict[str, Any]:
    return doc(workflow=..., action=action)


def test_http_action_defaults_and_round_trip() -> None:
    document = ScheduleDocument.from_mapping(with_action(kind="http", url="https://x.test/hook"))
    assert document.action == HttpActionDocument(kind="http", url="https://x.test/hook")
    assert isinstance(document.action, HttpActionDocument)
    assert document.action.method == "POST"
    assert document.action.expect_status == (200, 299)
    assert document.action.headers == {}
    assert round_trip(document) == document


def test_http_action_accepts_any_json_body_or_a_string_and_a_lowercase_method() -> None:
    for body in ("plain {{ input.x }}", [1, "a", None], {"a": {"b": [True]}}, 3.5, None):
        document = ScheduleDocument.from_mapping(
            with_action(
                kind="http",
                method="put",
                url="http://x.test",
                body=body,
                timeout="10s",
                secret="report-hook",
                expect_status=[200, 200],
            )
        )
        assert isinstance(document.action, HttpActionDocument)
        assert (document.action.method, document.action.body) == ("PUT", body)
        assert round_trip(document) == document


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (
            {"url": "https://x.test"},
            ("action.kind", "is required: one of 'http', 'shell', 'python'"),
        ),
        ({"kind": "ftp"}, ("action.kind", "'ftp' is not one of 'http', 'shell', 'python'")),
        ({"kind": "http"}, ("action.url", "is required")),
        (
            {"kind": "http", "url": "ftp://x.test"},
            ("action.url", "'ftp://x.test' must be an absolute http:// or https:// URL"),
        ),
        (
            {"kind": "http", "url": "/relative"},
            ("action.url", "'/relative' must be an absolute http:// or https:// URL"),
        ),
        (
            {"kind": "http", "url": "http://x.test", "method": "FETCH"},
            (
                "action.method",
                "must be one of 'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE' or 'OPTIONS'",
            ),
        ),
        (
            {"kind": "http", "url": "http://x.test", "expect_status": [300, 200]},
            ("action.expect_status", "[300, 200] must be [low, high] with low <= high"),
        ),
        (
            {"kind": "http", "url": "http://x.test", "expect_status": [200, 600]},
            ("action.expect_status[1]", "must be at most 599"),
        ),
        (
            {"kind": "http", "url": "http://x.test", "headers": {"Idempotency-Key": "k"}},
            ("action.headers.Idempotency-Key", "is set by Tickwork on every request"),
        ),
        (
            {"kind": "http", "url": "http://x.test", "headers": {"X-Tickwork-Scheduled-For": "k"}},
            ("action.headers.X-Tickwork-Scheduled-For", "is set by Tickwork on every request"),
        ),
        (
            {"kind": "http", "url": "http://x.test", "headers": {"Bad Name": "v"}},
            ("action.headers.Bad Name", "is not a valid header name"),
        ),
        (
            {"kind": "http", "url": "http://x.test", "headers": {"X-A": "v\r\nX-B: evil"}},
            ("action.headers.X-A", "must not contain line breaks"),
        ),
        (
            {"kind": "http", "url": "http://x.test", "headers": {"X-A": 5}},
            ("action.headers.X-A", "must be a string"),
        ),
        (
            {"kind": "http", "url": "http://x.test", "argv": ["ls"]},
            ("action.argv", "is not a known field for this kind"),
        ),
        (
            {"kind": "http", "url": "http://x.test", "timout": "5s"},
            ("action.timout", "is not a known field; did you mean 'timeout'?"),
        ),
        ({"kind": "shell"}, ("action.argv", "is required (or command with shell: true)")),
        ({"kind": "shell", "argv": []}, ("action.argv", "must have at least 1 item(s)")),
        ({"kind": "shell", "argv": ["", "x"]}, ("action.argv[0]", "must not be empty")),
        ({"kind": "shell", "argv": "ls -l"}, ("action.argv", "must be a list")),
        (
            {"kind": "shell", "command": "ls | wc -l"},
            ("action.shell", "must be true to run command through a shell; or give argv instead"),
        ),
        (
            {"kind": "shell", "argv": ["ls"], "command": "ls", "shell": True},
            ("action.command", "cannot be used together with argv"),
        ),
        (
            {"kind": "shell", "argv": ["ls"], "shell": True},
            ("action.shell", "applies only to command; argv runs without a shell"),
        ),
        (
            {"kind": "shell", "argv": ["ls"], "env": {"1BAD": "x"}},
            ("action.env.1BAD", "is not a valid environment variable name"),
        ),
        ({"kind": "python"}, ("action.target", "is required")),
        (
            {"kind": "python", "target": "reports.nightly"},
            ("action.target", "must be 'package.module:function'"),
        ),
        (
            {"kind": "python", "target": "reports nightly:send"},
            ("action.target", "must be 'package.module:function'"),
        ),
        (
            {"kind": "python", "target": "m:f", "timeout": "forever"},
            (
                "action.timeout",
                "'forever' is not a duration (use e.g. 500ms, 30s, 15m, 1h, 1d or PT15M)",
            ),
        ),
    ],
)
def test_action_errors(action: dict[str, Any], expected: tuple[str, str]) -> None:
    assert problems(with_action(**action)) == [expected]


def test_shell_action_with_argv_or_explicit_shell_command() -> None:
    argv = ScheduleDocument.from_mapping(
        with_action(
            kind="shell", argv=["pg_dump", "db"], env={"PGHOST": "db"}, cwd="/srv", timeout="1h"
        )
    )
    assert argv.action == ShellActionDocument(
        kind="shell",
        argv=("pg_dump", "db"),
        env={"PGHOST": "db"},
        cwd="/srv",
        timeout=timedelta(hours=1),
    )
    command = ScheduleDocument.from_mapping(
        with_action(kind="shell", command="ls | wc -l", shell=True)
    )
    assert isinstance(command.action, ShellActionDocument) and command.action.shell is True
    assert round_trip(argv) == argv and round_trip(command) == command


def test_python_action() -> None:
    document = ScheduleDocument.from_mapping(
        with_action(kind="python", target="reports.nightly:Sender.send", timeout="PT30S")
    )
    assert document.action == PythonActionDocument(
        kind="python", target="reports.nightly:Sender.send", timeout=timedelta(seconds=30)
    )
    assert document.model_dump(mode="json")["action"]["timeout"] == "30s"


def test_models_can_be_built_in_python_and_validate_the_same() -> None:
    document = ScheduleDocument(
        name="built",
        trigger=IntervalTriggerDocument(interval=timedelta(minutes=5)),
        action=PythonActionDocument(kind="python", target="m:f"),
    )
    assert round_trip(document) == document
    with pytest.raises(ValueError, match="must be at least 1s"):
        IntervalTriggerDocument(interval=timedelta(0))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"trigger": {"interval": "500ms"}}, [("trigger.interval", "'500ms' must be at least 1s")]),
        ({"max_runs": 10**30}, [("max_runs", "must be at most 1000000000")]),
        (
            {"trigger": {"at": "9999-12-31T23:59:59-12:00"}},
            [("trigger.at", "'9999-12-31T23:59:59-12:00' is outside the years 1970 to 9998")],
        ),
        (
            {"start_at": "1969-12-31T23:00:00Z"},
            [("start_at", "'1969-12-31T23:00:00+00:00' is outside the years 1970 to 9998")],
        ),
    ],
)
def test_values_a_scheduler_cannot_honour_are_refused_by_name(
    changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert problems(doc(**changes)) == expected
