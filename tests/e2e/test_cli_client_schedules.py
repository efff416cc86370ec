"""``tickwork schedules …`` against a real server, run as a user runs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from .client_rig import Cli, cli_against

NIGHTLY = """\
# 02:30 every night in New York, from a day in 2040 whose clocks spring forward.
name: nightly
description: Nightly report
trigger:
  cron: "30 2 * * *"
timezone: America/New_York
start_at: 2040-03-09T00:00:00-05:00
action:
  kind: shell
  argv: ["true"]
tags: [reports]
"""

HOURLY = """\
name: {name}
trigger:
  interval: 1h
action:
  kind: http
  url: http://127.0.0.1:9/never
"""


@pytest.fixture
def cli(sqlite_database_url: str, tmp_path: Path) -> Iterator[Cli]:
    with cli_against(sqlite_database_url, tmp_path) as running:
        yield running


def test_create_from_yaml_then_list_and_get(cli: Cli) -> None:
    created = cli.create(NIGHTLY)
    assert created["name"] == "nightly"
    assert created["start_at"] == "2040-03-09T00:00:00-05:00"  # kept as written, not parsed

    table = cli.ok("schedules", "ls")
    for shown in (
        "nightly",
        "30 2 * * *",
        "At 02:30",
        "America/New_York",
        "active",
        "2040-03-09 02:30:00 EST",  # the next fire, local
        "2040-03-09 07:30:00Z",  # and UTC
    ):
        assert shown in table
    listed = cli.json("schedules", "ls")
    assert [item["id"] for item in listed] == [created["id"]]

    by_name = cli.ok("schedules", "get", "nightly")
    assert "Nightly report" in by_name
    assert "2040-03-09 02:30:00 EST  (2040-03-09 07:30:00Z)" in by_name
    assert cli.json("schedules", "get", created["id"])["tags"] == ["reports"]


def test_create_from_json_on_stdin(cli: Cli) -> None:
    document = {
        "name": "from-stdin",
        "trigger": {"interval": "15m"},
        "action": {"kind": "http", "url": "http://127.0.0.1:9/never"},
    }
    said = cli.ok("schedules", "create", "-f", "-", stdin=json.dumps(document))
    assert "created schedule from-stdin" in said
    assert cli.json("schedules", "get", "from-stdin")["trigger"]["interval"] == "15m"


def test_next_fires_show_local_time_across_a_dst_jump(cli: Cli) -> None:
    cli.create(NIGHTLY)
    answer = cli.json("schedules", "next", "nightly", "-n", "4")
    assert answer["timezone"] == "America/New_York"
    assert [fire["local"] for fire in answer["next"]] == [
        "2040-03-09T02:30:00-05:00",
        "2040-03-10T02:30:00-05:00",
        "2040-03-11T03:00:00-04:00",  # 02:30 does not exist that day: right after the jump
        "2040-03-12T02:30:00-04:00",
    ]
    table = cli.ok("schedules", "next", "nightly", "-n", "4")
    assert "2040-03-11 03:00:00 EDT" in table
    assert "2040-03-11 07:00:00Z" in table
    assert "-0500 -> -0400" in table


def test_pause_with_a_note_then_resume(cli: Cli) -> None:
    cli.create(NIGHTLY)
    said = cli.ok("schedules", "pause", "nightly", "--note", "until [/migration] ends")
    assert "paused schedule nightly: until [/migration] ends" in said
    shown = cli.ok("schedules", "get", "nightly")
    assert "paused (until [/migration] ends)" in shown
    assert cli.json("schedules", "ls", "--state", "paused")[0]["pause_note"] == (
        "until [/migration] ends"
    )

    assert "resumed schedule nightly" in cli.ok("schedules", "resume", "nightly")
    assert cli.json("schedules", "get", "nightly")["state"] == "active"


def test_trigger_then_watch_until_it_succeeds(cli: Cli) -> None:
    cli.create(NIGHTLY)
    said = cli.ok("schedules", "trigger", "nightly", "--idempotency-key", "deploy-7")
    assert "started run" in said and "tickwork runs watch" in said
    run = cli.json("schedules", "trigger", "nightly", "--idempotency-key", "deploy-7")
    assert run["id"] in said  # the same key: the same run
    assert run["trigger"] == "manual"
    again = cli.ok("schedules", "trigger", "nightly", "--idempotency-key", "deploy-7")
    assert f"run {run['id']} was started with this key before" in again

    watched = cli.ok("runs", "watch", run["id"], "--timeout", "30")
    assert "status succeeded" in watched
    assert "step action attempt 1 succeeded (exit 0" in watched
    assert watched.strip().splitlines()[-1].startswith(f"run {run['id']} succeeded")
    last = cli.json("schedules", "get", "nightly")["last_execution"]
    assert last["id"] == run["id"] and last["status"] == "succeeded"


def test_trigger_passes_its_input(cli: Cli) -> None:
    cli.create(NIGHTLY)
    run = cli.json("schedules", "trigger", "nightly", "--input", '{"day": "2040-03-11"}')
    assert run["input"] == {"day": "2040-03-11"}
    error = cli.fails("schedules", "trigger", "nightly", "--input", "[1]")
    assert "--input must be a JSON object" in error


def test_update_replaces_the_document(cli: Cli) -> None:
    cli.create(NIGHTLY)
    changed = cli.write("changed.yaml", NIGHTLY.replace("Nightly report", "Nightly digest"))
    said = cli.ok("schedules", "update", "nightly", "-f", str(changed))
    assert "updated schedule nightly (revision 2)" in said
    assert cli.json("schedules", "get", "nightly")["description"] == "Nightly digest"


def test_delete_asks_first_unless_yes(cli: Cli) -> None:
    cli.create(NIGHTLY)
    refused = cli.fails("schedules", "delete", "nightly")  # stdin is no terminal
    assert "--yes" in refused
    assert cli.json("schedules", "get", "nightly")["name"] == "nightly"

    assert "deleted schedule nightly" in cli.ok("schedules", "delete", "nightly", "--yes")
    assert cli.json("schedules", "ls") == []


def test_ls_pages_and_all_follows_cursors(cli: Cli) -> None:
    for name in ("alpha", "beta", "gamma"):
        cli.create(HOURLY.format(name=name))
    first = cli.ok("schedules", "ls", "--limit", "2")
    assert "alpha" in first and "beta" in first and "gamma" not in first
    assert "--all" in first
    everything = cli.json("schedules", "ls", "--limit", "2", "--all")
    assert [item["name"] for item in everything] == ["alpha", "beta", "gamma"]
    assert [i["name"] for i in cli.json("schedules", "ls", "--prefix", "g")] == ["gamma"]


# ------------------------------------------------------------------------------------------
# Errors: one line (plus the fields), exit 1, never a traceback


def test_an_invalid_cron_names_the_field(cli: Cli) -> None:
    bad = cli.write("bad.yaml", NIGHTLY.replace("30 2 * * *", "61 2 * * *"))
    error = cli.fails("schedules", "create", "-f", str(bad))
    assert "trigger.cron" in error and "61" in error
    assert cli.json("schedules", "ls") == []


def test_every_invalid_field_is_listed(cli: Cli) -> None:
    text = NIGHTLY.replace("30 2 * * *", "61 2 * * *").replace("America/New_York", "Mars/Base")
    error = cli.fails("schedules", "create", "-f", str(cli.write("bad.yaml", text)))
    assert error.startswith("error: 2 problems")
    assert "\n  - trigger.cron: " in error
    assert "\n  - timezone: " in error


def test_a_file_that_is_not_one_document_is_refused(cli: Cli) -> None:
    broken = cli.fails("schedules", "create", "-f", str(cli.write("a.yaml", "name: [x\n")))
    assert "is not valid YAML or JSON (line 2" in broken
    two = cli.fails("schedules", "create", "-f", str(cli.write("b.yaml", "a: 1\n---\nb: 2\n")))
    assert "holds 2 documents" in two
    missing = cli.fails("schedules", "create", "-f", str(cli.tmp_path / "nope.yaml"))
    assert "cannot read" in missing


def test_an_unknown_schedule_is_one_line(cli: Cli) -> None:
    error = cli.fails("schedules", "get", "nope")
    assert error == "error: schedule nope not found in namespace default\n"
    unknown_id = cli.fails("schedules", "pause", "01890000-0000-7000-8000-000000000000")
    assert "not found" in unknown_id


def test_a_reader_cannot_create(cli: Cli) -> None:
    path = cli.write("hourly.yaml", HOURLY.format(name="hourly"))
    error = cli.fails("schedules", "create", "-f", str(path), who="reader")
    assert error == "error: this needs the write scope\n"
    shell = cli.fails("schedules", "create", "-f", str(cli.write("n.yaml", NIGHTLY)), who="writer")
    assert "admin" in shell
