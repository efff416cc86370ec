"""``tickwork db …`` as a user runs it: a real process on a real database file."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.cli import tickwork


def test_upgrade_then_current_then_check(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"

    upgraded = tickwork("db", "upgrade", "--db", url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout == f"{url}: upgraded empty -> 0004 (head)\n"

    again = tickwork("db", "upgrade", "--db", url)
    assert again.stdout == f"{url}: already at 0004 (head)\n"

    current = tickwork("db", "current", "--db", url)
    assert current.returncode == 0, current.stderr
    assert current.stdout == f"{url}: 0004 (head)\n"

    checked = tickwork("db", "check", "--db", url)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == f"ok: {url} is at 0004 (head)\n"


def test_check_on_a_missing_database_fails_in_one_line_and_creates_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/missing.db"

    checked = tickwork("db", "check", "--db", url)

    assert checked.returncode == 1
    assert checked.stdout == ""
    assert checked.stderr == (
        f"error: the database {url} is empty, not at 0004: run `tickwork db upgrade`\n"
    )
    assert not (tmp_path / "missing.db").exists()


def test_the_default_database_is_tickwork_db_in_the_working_directory(tmp_path: Path) -> None:
    upgraded = tickwork("db", "upgrade", cwd=tmp_path)

    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "tickwork.db").exists()


def test_an_unsupported_url_is_one_line_error(tmp_path: Path) -> None:
    result = tickwork("db", "current", "--db", "mysql://u@h/db")

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: database url: 'mysql://u@h/db' is not supported")
