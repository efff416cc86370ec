"""Runs of a schedule over HTTP: trigger now, backfill, the next fires, history, metrics,
missed instants. The server's own scheduler and worker run what is started, so tests that
need finished runs poll with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from .rig import Server
from .test_schedules import fields_of, hook
from .test_schedules_access import shell

T = TypeVar("T")


def wait_for(what: str, check: Callable[[], T | None], seconds: float = 30) -> T:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def runs(api: httpx.Client, schedule_id: str, **params: Any) -> list[dict[str, Any]]:
    answer = api.get(f"/schedules/{schedule_id}/executions", params={"limit": 500, **params})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_trigger_now_honours_the_idempotency_key(server: Server) -> None:
    with server.client("writer") as api:
        schedule = api.post("/schedules", json=hook("manual", input={"day": "monday"})).json()
        url = f"/schedules/{schedule['id']}/trigger"
        first = api.post(url, headers={"Idempotency-Key": "deploy-42"})
        again = api.post(
            url, json={"input": {"day": "sunday"}}, headers={"Idempotency-Key": "deploy-42"}
        )
        other = api.post(url, json={"input": {"day": "sunday"}})
        assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
        run = first.json()
        assert again.json()["id"] == run["id"] != other.json()["id"]
        assert first.headers["location"] == f"/api/v1/executions/{run['id']}"
        assert run["trigger"] == "manual" and run["schedule_id"] == schedule["id"]
        assert run["schedule_name"] == "manual" and run["namespace"] == "default"
        assert run["input"] == {"day": "monday"}  # the schedule's input
        assert other.json()["input"] == {"day": "sunday"}  # the override
        assert {r["id"] for r in runs(api, schedule["id"], trigger="manual")} == {
            run["id"],
            other.json()["id"],
        }
        assert fields_of(api.post(url, json={"input": ["not", "an", "object"]})) == ["input"]
        assert fields_of(api.post(url, json={"inputs": {}})) == ["inputs"]
        too_long = api.post(url, headers={"Idempotency-Key": "k" * 256})
        assert fields_of(too_long) == ["idempotency_key"]
        assert len(runs(api, schedule["id"])) == 2


def test_backfill_starts_one_run_per_past_instant_oldest_first(server: Server) -> None:
    echo = f"{server.url}/api/v1/echo"
    document = hook(
        "hourly",
        trigger={"cron": "0 * * * *"},
        action={"kind": "http", "url": echo},
        retry={"max_attempts": 1},
    )
    with server.client("writer") as api:
        schedule = api.post("/schedules", json=document).json()
        url = f"/schedules/{schedule['id']}"
        span = {"start": "2025-06-01T00:00:00Z", "end": "2025-06-01T04:00:00+00:00"}
        filled = api.post(f"{url}/backfill", json={**span, "input": {"why": "outage"}})
        assert filled.status_code == 201, filled.text
        items = filled.json()["items"]
        assert [r["scheduled_for"] for r in items] == [
            f"2025-06-01T0{hour}:00:00Z" for hour in range(5)
        ]
        assert {r["trigger"] for r in items} == {"backfill"}
        assert {r["input"]["why"] for r in items} == {"outage"}
        # overlap skip: one runs, the rest wait their turn in order
        assert [r["status"] for r in items] == ["queued"] + ["buffered"] * 4

        wait_for(
            "the backfill to run",
            lambda: all(r["status"] == "succeeded" for r in runs(api, schedule["id"])),
        )
        pages: list[int] = []
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2, "trigger": "backfill"}
            if cursor:
                params["cursor"] = cursor
            page = api.get(f"{url}/executions", params=params).json()
            pages.append(len(page["items"]))
            seen.extend(r["scheduled_for"] for r in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == [2, 2, 1]
        assert seen == [f"2025-06-01T0{hour}:00:00Z" for hour in reversed(range(5))]
        assert len(runs(api, schedule["id"], status=["succeeded", "failed"])) == 5
        assert runs(api, schedule["id"], status="failed") == []
        assert runs(api, schedule["id"], trigger="manual") == []
        assert fields_of(api.get(f"{url}/executions", params={"status": "done"})) == ["status.0"]
        assert fields_of(api.get(f"{url}/executions", params={"cursor": "eHl6"})) == ["cursor"]
        last = api.get(url).json()["last_execution"]
        assert last["scheduled_for"] == "2025-06-01T04:00:00Z" and last["status"] == "succeeded"


def test_backfill_refuses_what_it_cannot_do(server: Server) -> None:
    with server.client("writer") as api:
        schedule = api.post("/schedules", json=hook("minutely", trigger={"cron": "* * * * *"}))
        url = f"/schedules/{schedule.json()['id']}/backfill"

        def refused(body: Any) -> list[str]:
            return fields_of(api.post(url, json=body))

        assert refused({"start": "2025-01-01T00:00:00Z", "end": "2999-01-01T00:00:00Z"}) == ["end"]
        assert refused({"start": "2025-01-02T00:00:00Z", "end": "2025-01-01T00:00:00Z"}) == [
            "start"
        ]
        assert refused({"start": "2025-01-01T00:00:00Z", "end": "2025-01-03T00:00:00Z"}) == ["end"]
        assert refused({"start": "2025-01-01T00:00:30Z", "end": "2025-01-01T00:00:40Z"}) == [
            "start"
        ]
        assert refused({"end": "2025-01-01T00:00:00Z"}) == ["start"]
        assert refused({"start": "2025-01-01T00:00:00", "end": "2025-01-01T01:00:00Z"}) == ["start"]
        assert refused({"start": "yesterday", "end": "today", "why": 1}) == ["start", "end", "why"]
        assert refused(None) == ["start", "end"]
        assert runs(api, schedule.json()["id"]) == []


def test_next_fires_in_a_dst_zone(server: Server) -> None:
    with server.client("reader") as reader, server.client("writer") as api:
        document = hook("ny", trigger={"cron": "30 2 * * *"}, timezone="America/New_York")
        schedule = api.post("/schedules", json=document).json()
        url = f"/schedules/{schedule['id']}/next"
        answer = reader.get(url, params={"count": 3, "after": "2026-03-07T00:00:00Z"}).json()
        # 2026-03-08: New York skips 02:00-03:00, so the 02:30 job runs once, at 03:00 EDT.
        assert answer == {
            "timezone": "America/New_York",
            "next": [
                {"local": "2026-03-07T02:30:00-05:00", "utc": "2026-03-07T07:30:00Z"},
                {"local": "2026-03-08T03:00:00-04:00", "utc": "2026-03-08T07:00:00Z"},
                {"local": "2026-03-09T02:30:00-04:00", "utc": "2026-03-09T06:30:00Z"},
            ],
        }
        upcoming = reader.get(url).json()["next"]
        assert len(upcoming) == 10
        assert upcoming[0]["utc"] == schedule["next_fire_at"]
        assert fields_of(reader.get(url, params={"count": 101})) == ["count"]
        assert fields_of(reader.get(url, params={"after": "2026-03-07T00:00:00"})) == ["after"]
        done = api.patch(
            f"/schedules/{schedule['id']}",
            json={"trigger": {"cron": None, "at": "2001-01-01T00:00:00Z"}},
        )
        assert done.json()["state"] == "completed"
        assert reader.get(url).json() == {"timezone": "America/New_York", "next": []}


def test_metrics_of_runs_that_succeeded(server: Server) -> None:
    with server.client("admin") as api:
        schedule = api.post("/schedules", json=shell("quick")).json()
        url = f"/schedules/{schedule['id']}"
        empty = api.get(f"{url}/metrics").json()
        assert empty["counts"] == {} and empty["success_rate"] is None
        assert empty["duration_ms"] == {"p50": None, "p95": None}
        for _ in range(3):
            assert api.post(f"{url}/trigger").status_code == 201
        wait_for(
            "three runs to succeed",
            lambda: [r["status"] for r in runs(api, schedule["id"])] == ["succeeded"] * 3,
        )
        metrics = api.get(f"{url}/metrics", params={"window": "1h"}).json()
        assert metrics["window"] == "1h"
        assert metrics["counts"] == {"succeeded": 3}
        assert metrics["success_rate"] == 1.0
        p50, p95 = metrics["duration_ms"]["p50"], metrics["duration_ms"]["p95"]
        assert 0 <= p50 <= p95 < 30_000
        # Manual runs are not fires: lateness measures fires only.
        assert metrics["lateness_ms"] == {"p50": None, "p95": None, "max": None}
        assert fields_of(api.get(f"{url}/metrics", params={"window": "2h"})) == ["window"]
        assert api.get(url).json()["last_execution"]["status"] == "succeeded"


def test_fires_while_paused_are_listed_as_missed_and_fires_show_their_lateness(
    server: Server,
) -> None:
    with server.client("admin") as api:
        every_second = shell("tick", trigger={"cron": "* * * * * *"})
        schedule = api.post("/schedules", json=every_second).json()
        url = f"/schedules/{schedule['id']}"

        def fired_and_succeeded() -> bool:
            return len(runs(api, schedule["id"], trigger="schedule", status="succeeded")) >= 2

        wait_for("two fires to succeed", fired_and_succeeded)
        paused = api.post(f"{url}/pause").json()
        time.sleep(2.5)
        resumed = api.post(f"{url}/resume")
        assert resumed.status_code == 200
        api.post(f"{url}/pause")

        missed = api.get(f"{url}/missed").json()["items"]
        assert len(missed) >= 2
        assert {(m["status"], m["reason"]) for m in missed} == {("skipped", "paused")}
        instants = [m["scheduled_for"] for m in missed]
        assert instants == sorted(instants) and len(set(instants)) == len(instants)
        assert all(instant >= paused["updated_at"][:19] for instant in instants)
        assert len(api.get(f"{url}/missed", params={"limit": 1}).json()["items"]) == 1

        metrics = api.get(f"{url}/metrics").json()
        assert metrics["counts"]["succeeded"] >= 2
        lateness = metrics["lateness_ms"]
        assert 0 <= lateness["p50"] <= lateness["p95"] <= lateness["max"]
