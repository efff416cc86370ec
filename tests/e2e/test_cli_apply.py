"""``tickwork apply`` and ``tickwork schema`` run as a user runs them, against a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.e2e.cli import tickwork
from tests.integration.apply.files import PING
from tickwork.manifests.loading import instant_preserving_loader

from .client_rig import Cli, cli_against

REPO = Path(__file__).resolve().parents[2]

REPORT = """\
kind: Schedule
name: report
trigger:
  cron: "30 2 * * 1-5"
timezone: Europe/Berlin
action:
  kind: http
  url: http://127.0.0.1:9/report
"""


@pytest.fixture
def cli(sqlite_database_url: str, tmp_path: Path) -> Iterator[Cli]:
    with cli_against(sqlite_database_url, tmp_path) as running:
        yield running


def config(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "ops"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.yaml"):
        old.unlink()
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def test_apply_shows_a_diff_and_applies_once(cli: Cli, tmp_path: Path) -> None:
    folder = config(tmp_path, report=REPORT, ping=PING.format(every="5m"))
    dry = cli.ok("apply", "-f", str(folder), "--dry-run")
    assert "Set ops (2 files): dry run, nothing changed" in dry
    assert "+ schedule default/report  (report.yaml)" in dry
    assert "2 to create, 0 unchanged" in dry
    assert cli.json("schedules", "ls") == []

    done = cli.ok("apply", "-f", str(folder))
    assert "2 created, 0 unchanged" in done
    assert "2 unchanged" in cli.ok("apply", "-f", str(folder))

    config(tmp_path, ping=PING.format(every="10m"))
    changed = cli.ok("apply", "-f", str(folder))
    assert "~ schedule default/ping  (ping.yaml)" in changed
    assert (
        '    trigger: {"interval": "5m", "anchor": null} -> {"interval": "10m", "anchor": '
        in changed
    )
    assert "! schedule default/report  (report.yaml, no longer declared)" in changed
    assert "Apply with --prune" in changed
    pruned = cli.json("apply", "-f", str(folder), "--prune")
    assert pruned["summary"]["delete"] == 1
    assert [s["name"] for s in cli.json("schedules", "ls")] == ["ping"]


def test_apply_reports_the_overrides_it_reverts(cli: Cli, tmp_path: Path) -> None:
    folder = config(tmp_path, report=REPORT)
    cli.ok("apply", "-f", str(folder), "--set", "reports")
    cli.ok("schedules", "pause", "report", "--note", "holiday")
    shown = cli.json("schedules", "get", "report")
    assert shown["override"]["paused"] == {"file": False, "current": True}
    table = cli.ok("schedules", "get", "report")
    assert "set reports (report.yaml)" in table
    assert "overridden: paused" in table and "true (file: false)" in table
    answer = cli.ok("apply", "-f", str(folder), "--set", "reports")
    assert "    paused: true -> false  (override reverted)" in answer
    assert cli.json("schedules", "get", "report")["state"] == "active"


def test_bad_files_fail_with_file_and_line_and_apply_nothing(cli: Cli, tmp_path: Path) -> None:
    folder = config(
        tmp_path,
        good=PING.format(every="5m"),
        cron=REPORT.replace("30 2 * * 1-5", "30 25 * * *"),
        zone=REPORT.replace("name: report", "name: zoned").replace("Europe/Berlin", "Mars/Base"),
    )
    error = cli.fails("apply", "-f", str(folder))
    assert error.splitlines()[0] == "error: 2 problems, nothing applied:"
    assert "  - cron.yaml:4: trigger.cron: " in error
    assert "  - zone.yaml:5: timezone: " in error
    assert cli.json("schedules", "ls") == []

    (folder / "broken.yaml").write_text("kind: Schedule\nname: [oops\n")
    local = cli.fails("apply", "-f", str(folder))  # found before anything is sent
    assert "broken.yaml:3: is not valid YAML" in local

    dupes = config(tmp_path, a=REPORT, b=REPORT)
    assert "b.yaml:2: name: schedule default/report is declared twice (also in a.yaml:1)" in (
        cli.fails("apply", "-f", str(dupes))
    )


def test_schema_validates_the_examples_and_catches_mistakes(tmp_path: Path) -> None:
    printed = tickwork("schema")
    assert printed.returncode == 0, printed.stderr
    schema = json.loads(printed.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    examples = sorted((REPO / "examples").rglob("*.yaml"))
    assert examples
    kinds = set()
    for path in examples:
        for document in yaml.load_all(path.read_text(), Loader=instant_preserving_loader()):
            errors = [e.message for e in validator.iter_errors(document)]
            assert errors == [], (path, errors)
            kinds.add(document["kind"])
    assert kinds == {"Schedule", "Workflow"}
    wrong = yaml.safe_load(REPORT.replace("timezone:", "time_zone:"))
    assert not validator.is_valid(wrong)
    assert not validator.is_valid({**yaml.safe_load(REPORT), "kind": "Cron"})
    assert not validator.is_valid({**yaml.safe_load(REPORT), "overlap": "sometimes"})

    written = tmp_path / "schema.json"
    assert tickwork("schema", "-o", str(written)).returncode == 0
    assert json.loads(written.read_text()) == schema
