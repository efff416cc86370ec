"""Reading declared files: documents with the line of every field, and every problem with
its file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tickwork.errors import InvalidManifests
from tickwork.manifests.documents import Declared
from tickwork.manifests.loading import load_path, parse_text

TWO = """\
# a comment first
kind: Schedule
name: one
trigger:
  at: 2030-01-01T09:00:00+01:00
action:
  kind: shell
  argv: [echo, hi]
---
kind: Workflow
name: flow
steps:
  - name: a
    action: {kind: http, url: "http://127.0.0.1:9/a"}
---
"""


def test_documents_keep_their_lines_and_instants_as_written() -> None:
    one, flow = parse_text(TWO, "two.yaml")
    assert (one.kind, one.file, one.line) == ("Schedule", "two.yaml", 2)
    assert one.document["trigger"] == {"at": "2030-01-01T09:00:00+01:00"}  # text, offset kept
    assert "kind" not in one.document
    assert one.line_of("trigger.at") == 5
    assert one.line_of("action.argv[1]") == 8
    assert one.line_of("action.headers.x") == 6  # not written: its nearest parent
    assert one.line_of("") == 2
    assert (flow.kind, flow.line, flow.line_of("steps[0].action.url")) == ("Workflow", 10, 14)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "kind: Schedule\nname: [1\n",
            # libyaml and the Python parser word the problem differently
            r"x\.yaml:3: is not valid YAML: .*expected ',' or '\]'.* "
            r"\(while parsing a flow sequence that starts on line 2\)",
        ),
        ("name: x\n", re.escape("x.yaml:1: kind: is missing; give kind: Schedule or Workflow")),
        (
            "kind: Cron\nname: x\n",
            re.escape("x.yaml:1: kind: is 'Cron'; give kind: Schedule or Workflow"),
        ),
        ("- a\n- b\n", re.escape("x.yaml:1: must be a mapping")),
        (
            "kind: Schedule\nname: a\nname: b\n",
            re.escape("x.yaml:3: name: is written twice (also on line 2)"),
        ),
    ],
)
def test_problems_name_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(InvalidManifests) as raised:
        parse_text(text, "x.yaml")
    assert re.match(expected, str(raised.value)), str(raised.value)


def test_a_directory_is_read_recursively_and_every_bad_file_reported(tmp_path: Path) -> None:
    (tmp_path / "teams" / "a").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "teams" / "a" / "one.yml").write_text(TWO)
    (tmp_path / ".git" / "ignored.yaml").write_text("not: [valid")
    (tmp_path / "README.md").write_text("# not read")
    loaded = load_path(tmp_path)
    assert loaded.set_name == tmp_path.name
    assert loaded.files == ["teams/a/one.yml"]
    assert [d.file for d in loaded.documents] == ["teams/a/one.yml"] * 2

    (tmp_path / "b.yaml").write_text("kind: Schedule\n  bad: indent\n")
    (tmp_path / "c.yaml").write_text("name: x\n")
    with pytest.raises(InvalidManifests) as raised:
        load_path(tmp_path)
    assert [(p.file, p.line) for p in raised.value.problems] == [("b.yaml", 2), ("c.yaml", 1)]
    assert str(raised.value).startswith("2 problems, nothing applied:\n  - b.yaml:2: ")


def test_a_file_is_its_own_set_and_a_missing_path_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "nightly.yaml"
    path.write_text(TWO)
    assert load_path(path).set_name == "nightly"
    with pytest.raises(InvalidManifests, match="no such file or directory"):
        load_path(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidManifests, match=r"holds no \.yaml or \.yml files"):
        load_path(empty)


def test_line_of_a_document_without_lines_is_its_start() -> None:
    declared = Declared("Schedule", {"name": "x"}, "f.yaml", 7)
    assert declared.line_of("trigger.cron") == 7
