"""The client commands find their server: login, logout, flags, environment, errors."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli import free_port
from tickwork.api.app import ApiSettings

from .client_rig import Cli, cli_against


@pytest.fixture
def cli(sqlite_database_url: str, tmp_path: Path) -> Iterator[Cli]:
    with cli_against(sqlite_database_url, tmp_path) as running:
        yield running


def test_login_writes_a_private_config_that_later_commands_use(cli: Cli) -> None:
    url, token = cli.server.url, cli.server.tokens["reader"]
    said = cli.ok("login", "--url", url + "/api/v1/", "--token", token, who=None)
    config = cli.config_home / "tickwork" / "config.json"
    assert f"logged in to {url}" in said
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert json.loads(config.read_text()) == {"url": url, "token": token}

    stats = cli.json("stats", who=None)  # no flag, no environment: the config file
    assert stats["schedules"] == {"active": 0, "paused": 0, "completed": 0}

    assert "logged out" in cli.ok("logout", who=None)
    assert not config.exists()
    assert "no Tickwork server is set" in cli.fails("stats", who=None)


def test_without_settings_the_error_names_the_three_ways(cli: Cli) -> None:
    error = cli.fails("schedules", "ls", who=None)
    assert error.count("\n") == 1
    for way in ("--url", "--token", "TICKWORK_URL", "TICKWORK_TOKEN", "tickwork login"):
        assert way in error


def test_flags_win_over_the_environment(cli: Cli) -> None:
    result = cli.run(
        "stats", "--url", cli.server.url, "--token", cli.server.tokens["admin"], who=None
    )
    assert result.returncode == 0, result.stderr
    wrong = cli.fails("stats", "--token", "tw_wrong")  # the environment's URL, a bad token
    assert wrong.startswith("error: the token is unknown or revoked")


def test_a_saved_token_is_never_sent_to_another_server(cli: Cli) -> None:
    cli.ok("login", "--url", cli.server.url, "--token", cli.server.tokens["admin"], who=None)
    other = f"http://127.0.0.1:{free_port()}"
    error = cli.fails("stats", "--url", other, who=None)
    assert f"no token for {other}" in error


def test_login_with_a_bad_token_saves_nothing(cli: Cli) -> None:
    error = cli.fails("login", "--url", cli.server.url, "--token", "tw_nope", who=None)
    assert "the token is unknown or revoked" in error
    assert not (cli.config_home / "tickwork" / "config.json").exists()


def test_a_server_that_is_not_there_is_one_line(cli: Cli) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    error = cli.fails("schedules", "ls", "--url", url, "--token", "tw_x", who=None)
    assert error.startswith(f"error: cannot reach Tickwork at {url}: ")
    assert error.count("\n") == 1


def test_stats_shows_queue_schedules_runs_and_workers(cli: Cli) -> None:
    shown = cli.ok("stats")
    for part in ("queued", "schedules: 0 active, 0 paused, 0 completed", "1h", "7d", "workers"):
        assert part in shown
    assert set(cli.json("stats")) >= {"queue", "schedules", "executions", "workers"}


def test_a_rate_limited_request_is_sent_again_after_retry_after(
    sqlite_database_url: str, tmp_path: Path
) -> None:
    one_a_second = ApiSettings(rate_per_token=1, burst_per_token=1)
    with cli_against(sqlite_database_url, tmp_path, one_a_second) as cli:
        cli.server.node.schedules.create(
            {
                "name": "hourly",
                "trigger": {"interval": "1h"},
                "action": {"kind": "http", "url": "http://127.0.0.1:9/"},
            }
        )
        # Two requests at once: the name is looked up (the one request the bucket holds),
        # then the schedule is read: 429, Retry-After: 1, and read again.
        assert cli.json("schedules", "get", "hourly")["name"] == "hourly"
