"""Health, metrics, tokens and scopes, cron tools, stats and the problem format, over HTTP."""

from __future__ import annotations

import pytest

from tickwork.api.app import ApiSettings
from tickwork.service.tokens import CACHE_TTL

from .rig import Server, serving

PROBLEM = "application/problem+json"


def test_health_readiness_and_echo_need_no_token(server: Server) -> None:
    with server.raw() as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {
            "store": True,
            "schema": True,
            "scheduler": True,
            "worker": True,
        }
        echoed = http.post("/api/v1/echo", json={"ping": 1}, headers={"X-Tickwork-Attempt": "2"})
        assert echoed.json()["body"] == {"ping": 1}
        assert echoed.json()["headers"]["x-tickwork-attempt"] == "2"


def test_metrics_are_prometheus_text(server: Server) -> None:
    with server.raw() as http:
        text = http.get("/metrics").text
    assert "# TYPE tickwork_fire_lateness_seconds histogram" in text
    assert "tickwork_queue_depth 0.0" in text
    assert "tickwork_circuit_breakers_open 0.0" in text


def test_a_request_without_a_valid_token_is_401_problem(server: Server) -> None:
    with server.client(None) as anonymous:
        missing = anonymous.get("/stats")
    with server.client(None, Authorization="Bearer tw_not-a-token") as wrong:
        unknown = wrong.get("/stats")
    for answer in (missing, unknown):
        assert answer.status_code == 401
        assert answer.headers["content-type"] == PROBLEM
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["type"] == "urn:tickwork:problem:unauthorized"
    assert "Bearer" in missing.json()["detail"]
    assert unknown.json()["detail"] == "the token is unknown or revoked"


def test_only_admins_manage_tokens_and_a_new_token_works_until_revoked(server: Server) -> None:
    with server.client("writer") as writer:
        refused = writer.post("/tokens", json={"name": "x", "scopes": ["read"]})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this needs the admin scope"

    with server.client("admin") as admin:
        created = admin.post("/tokens", json={"name": "robot", "scopes": ["read"]})
        assert created.status_code == 201
        token = created.json()["token"]
        assert token.startswith("tw_")
        listed = admin.get("/tokens").json()
        assert "token" not in listed[0] and "token_hash" not in listed[0]
        assert "robot" in [t["name"] for t in listed]
        with server.client(None, Authorization=f"Bearer {token}") as robot:
            assert robot.get("/stats").status_code == 200
            assert admin.delete(f"/tokens/{created.json()['id']}").status_code == 204
            assert robot.get("/stats").status_code == 401  # revoking clears the cache
        assert CACHE_TTL.total_seconds() <= 5


def test_an_admin_of_one_namespace_cannot_mint_tokens_for_another(server: Server) -> None:
    with server.client("admin_a") as admin_a:
        other = admin_a.post(
            "/tokens", json={"name": "x", "scopes": ["read"], "namespace": "team-b"}
        )
        everything = admin_a.post("/tokens", json={"name": "y", "scopes": ["read"]})
        own = admin_a.post("/tokens", json={"name": "z", "scopes": ["read"], "namespace": "team-a"})
    assert (other.status_code, everything.status_code, own.status_code) == (403, 403, 201)


def test_bad_token_requests_name_the_field(server: Server) -> None:
    with server.client("admin") as admin:
        bad_scope = admin.post("/tokens", json={"name": "x", "scopes": ["root"]})
        extra = admin.post("/tokens", json={"name": "x", "scopes": ["read"], "colour": "red"})
    assert bad_scope.status_code == 422
    assert bad_scope.json()["errors"][0]["field"] == "scopes.0"
    assert extra.status_code == 422
    assert extra.json()["errors"][0]["field"] == "colour"


def test_cron_validate_describes_and_previews_in_the_zone(server: Server) -> None:
    with server.client("reader") as reader:
        answer = reader.post(
            "/cron/validate",
            json={
                "expression": "30 2 * * *",
                "timezone": "America/New_York",
                "count": 3,
                "after": "2026-03-07T00:00:00Z",
            },
        ).json()
        invalid = reader.post("/cron/validate", json={"expression": "61 * * * *"}).json()
        described = reader.get(
            "/cron/describe", params={"expression": "0 9 * * 5#3", "count": 0}
        ).json()
        unknown_zone = reader.get(
            "/cron/describe", params={"expression": "* * * * *", "timezone": "Mars/Olympus"}
        )
    assert answer["valid"] is True
    assert answer["description"] == "At 02:30"
    # 2026-03-08: New York skips 02:00-03:00, so the 02:30 job runs at 03:00 EDT.
    assert [f["local"] for f in answer["next"]] == [
        "2026-03-07T02:30:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]
    assert answer["next"][1]["utc"] == "2026-03-08T07:00:00Z"
    assert invalid == {
        "expression": "61 * * * *",
        "timezone": "UTC",
        "valid": False,
        "error": "minute: 61 is out of range 0-59",
        "description": None,
        "next": [],
    }
    assert described["description"] == "At 09:00, on the third Friday of the month"
    assert unknown_zone.status_code == 422
    assert unknown_zone.json()["errors"][0]["field"] == "timezone"


def test_stats_count_schedules_runs_and_workers(server: Server) -> None:
    with server.client("reader") as reader:
        stats = reader.get("/stats").json()
    assert stats["schedules"] == {"active": 0, "paused": 0, "completed": 0}
    assert stats["queue"]["queued"] == 0
    assert [w["alive"] for w in stats["workers"]] == [True]
    assert set(stats["executions"]) == {"1h", "24h", "7d"}


def test_malformed_json_unknown_routes_and_methods_are_problems(server: Server) -> None:
    with server.client("admin") as admin:
        malformed = admin.post(
            "/cron/validate", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        missing = admin.get("/no/such/thing")
        wrong_method = admin.put("/stats")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["message"] == "the request body is not valid JSON"
    assert missing.status_code == 404
    assert wrong_method.status_code == 405
    for answer in (malformed, missing, wrong_method):
        assert answer.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversized_body_is_refused_before_it_is_read(store_url: str, chunked: bool) -> None:
    with serving(store_url, ApiSettings(max_body_bytes=1024, rate_per_token=0)) as small:
        body = b'{"expression": "' + b"*" * 5000 + b'"}'
        content = iter([body]) if chunked else body
        with small.client("admin") as admin:
            answer = admin.post(
                "/cron/validate", content=content, headers={"Content-Type": "application/json"}
            )
    assert answer.status_code == 413
    assert answer.json()["detail"] == "the request body is over 1024 bytes"


def test_a_token_over_its_rate_gets_429_with_retry_after(store_url: str) -> None:
    with serving(store_url, ApiSettings(rate_per_token=0.5, burst_per_token=3)) as limited:
        with limited.client("reader") as reader:
            codes = [reader.get("/stats").status_code for _ in range(4)]
            last = reader.get("/stats")
        with limited.client("writer") as writer:
            other = writer.get("/stats")  # each token has its own bucket
    assert codes == [200, 200, 200, 429]
    assert last.status_code == 429
    assert int(last.headers["retry-after"]) >= 1
    assert other.status_code == 200
