"""The http runner against a real server on 127.0.0.1: what is sent, what is recorded, and
how each kind of failure is classified."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from tickwork.actions import signing
from tickwork.actions.base import OUTPUT_MAX_CHARS, StepOutcome
from tickwork.actions.http import HttpRunner
from tickwork.actions.signing import Secrets
from tickwork.actions.ssrf import SsrfGuard
from tickwork.schedule.retry import FailureClass
from tickwork.spec.actions import HttpActionDocument
from tickwork.testing import FakeClock

from .helpers import (
    EXECUTION_ID,
    SCHEDULED_FOR,
    Sink,
    refused_port,
    run,
    serving,
    step_context,
)


def http(url: str, **fields: Any) -> HttpActionDocument:
    return HttpActionDocument.model_validate({"kind": "http", "url": url, **fields})


@asynccontextmanager
async def runner(**options: Any) -> AsyncIterator[HttpRunner]:
    http_runner = HttpRunner(options.pop("clock", FakeClock(SCHEDULED_FOR)), **options)
    try:
        yield http_runner
    finally:
        await http_runner.close()


async def send(sink: Sink, path: str, **fields: Any) -> StepOutcome:
    """One request to the sink with a default runner and context."""
    async with runner() as http_runner:
        return await http_runner.run(http(sink.url(path), **fields), step_context())


def test_success_records_status_body_headers_and_json_result() -> None:
    async def scenario() -> tuple[Sink, StepOutcome]:
        async with serving() as sink:
            return sink, await send(sink, "/echo", body={"n": 1})

    sink, outcome = run(scenario)
    assert outcome.ok and outcome.failure is None and outcome.error is None
    assert outcome.status_code == 200
    assert json.loads(outcome.output or "") == {"ok": True, "path": "/echo"}
    assert outcome.result == {"ok": True, "path": "/echo"}
    assert not outcome.truncated
    assert outcome.target == f"127.0.0.1:{sink.base_url.rsplit(':', 1)[1]}"
    assert outcome.detail["url"] == sink.url("/echo")
    assert outcome.detail["method"] == "POST"
    assert outcome.detail["signed"] is False
    assert outcome.detail["response_headers"]["Content-Type"].startswith("application/json")


def test_every_request_carries_idempotency_key_scheduled_for_attempt_and_user_agent() -> None:
    async def scenario() -> Sink:
        async with serving() as sink:
            async with runner() as http_runner:
                await http_runner.run(http(sink.url("/echo")), step_context(attempt=3))
            return sink

    (request,) = run(scenario).received
    assert request.headers["Idempotency-Key"] == str(EXECUTION_ID)
    assert request.headers["X-Tickwork-Scheduled-For"] == "2026-12-01T09:00:00Z"
    assert request.headers["X-Tickwork-Attempt"] == "3"
    assert request.headers["User-Agent"].startswith("Tickwork/")
    assert "X-Tickwork-Signature" not in request.headers  # no secret configured, none named


def test_json_string_and_empty_bodies_are_sent_with_their_content_types() -> None:
    async def scenario() -> Sink:
        async with serving() as sink:
            await send(sink, "/echo", body={"a": [1, "é"]})
            await send(sink, "/echo", body="line\n")
            await send(sink, "/echo", body="<a/>", headers={"content-type": "application/xml"})
            await send(sink, "/echo", body=[1, 2], headers={"Content-Type": "text/x-list"})
            await send(sink, "/echo", method="GET")
            return sink

    as_json, as_text, as_xml, as_list, empty = run(scenario).received
    assert json.loads(as_json.body) == {"a": [1, "é"]}
    assert as_json.headers["Content-Type"] == "application/json"
    assert as_text.body == b"line\n"
    assert as_text.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert as_xml.body == b"<a/>" and as_xml.headers["Content-Type"] == "application/xml"
    assert as_list.body == b"[1,2]" and as_list.headers["Content-Type"] == "text/x-list"
    assert empty.method == "GET" and empty.body == b""


def test_url_headers_and_body_are_rendered_from_the_run() -> None:
    body = {
        "day": "{{ input.day }}",
        "date": "{{ scheduled_for.date() }}",
        "attempt": "attempt {{ attempt }}",
        "nested": ["{{ execution_id }}", 7, None],
        "{{ not_a_template_key }}": "{{ schedule.name }}/{{ schedule.namespace }}",
    }

    async def scenario() -> Sink:
        async with serving() as sink:
            url = sink.url("/echo") + "?schedule={{ schedule.id }}"
            await send(sink, "/echo", body=body, headers={"X-Day": "{{ input.day | upper }}"})
            async with runner() as http_runner:
                await http_runner.run(http(url), step_context())
            return sink

    with_body, with_url = run(scenario).received
    assert json.loads(with_body.body) == {
        "day": "monday",
        "date": "2026-12-01",
        "attempt": "attempt 1",
        "nested": [str(EXECUTION_ID), 7, None],
        "{{ not_a_template_key }}": "nightly-report/default",
    }
    assert with_body.headers["X-Day"] == "MONDAY"
    assert with_url.path == "/echo"


def test_a_template_error_fails_the_step_naming_the_field_and_sends_nothing() -> None:
    async def scenario() -> tuple[Sink, list[StepOutcome]]:
        async with serving() as sink:
            outcomes = [
                await send(sink, "/echo", body={"day": "{{ foo }}"}),
                await send(sink, "/echo", body=["ok", "{{ input.day"]),
                await send(sink, "/echo", headers={"X-A": "{{ ''.__class__ }}"}),
                await send(sink, "/echo", body="{{ 'x' * 100000000 }}"),
            ]
            return sink, outcomes

    sink, (undefined, syntax, sandbox, huge) = run(scenario)
    assert sink.received == []
    for outcome in (undefined, syntax, sandbox, huge):
        assert outcome.failure is FailureClass.OTHER and not outcome.ok
    assert undefined.error == "body.day: 'foo' is undefined"
    assert (syntax.error or "").startswith("body[1]: template syntax error:")
    assert (sandbox.error or "").startswith("headers.X-A: ")
    assert (huge.error or "").startswith("body: not allowed in a template:")


def test_a_header_rendered_with_a_line_break_is_refused() -> None:
    async def scenario() -> tuple[Sink, StepOutcome]:
        async with serving() as sink, runner() as http_runner:
            context = step_context(input={"day": "monday\r\nX-Evil: 1"})
            action = http(sink.url("/echo"), headers={"X-Day": "{{ input.day }}"})
            return sink, await http_runner.run(action, context)

    sink, outcome = run(scenario)
    assert outcome.failure is FailureClass.OTHER
    assert outcome.error == "headers.X-Day: must not contain line breaks once rendered"
    assert sink.received == []


def test_a_url_that_renders_without_a_host_fails() -> None:
    async def scenario() -> StepOutcome:
        async with runner() as http_runner:
            context = step_context(input={"host": ""})
            return await http_runner.run(http("http://{{ input.host }}/hook"), context)

    outcome = run(scenario)
    assert outcome.failure is FailureClass.OTHER
    assert outcome.error == "url: 'http:///hook' is not an absolute http:// or https:// URL"


def test_a_signed_request_verifies_with_the_key_and_not_with_another() -> None:
    secrets = Secrets.of({"billing": b"billing-key"}, default=b"global-key")

    async def scenario() -> tuple[Sink, list[StepOutcome]]:
        async with serving() as sink:
            async with runner(secrets=secrets) as http_runner:
                named = http(sink.url("/echo"), body={"a": 1}, secret="billing")
                default = http(sink.url("/echo"), body="text")
                outcomes = [
                    await http_runner.run(named, step_context()),
                    await http_runner.run(default, step_context()),
                ]
            return sink, outcomes

    sink, outcomes = run(scenario)
    assert all(outcome.ok and outcome.detail["signed"] is True for outcome in outcomes)
    now = datetime.now(UTC)
    for request, key in zip(sink.received, [b"billing-key", b"global-key"], strict=True):
        timestamp = request.headers["X-Tickwork-Timestamp"]
        header = request.headers["X-Tickwork-Signature"]
        assert header.startswith("v1=")
        assert signing.verify(
            key, request.body, timestamp=timestamp, signature_header=header, now=now
        )
        assert not signing.verify(
            b"wrong", request.body, timestamp=timestamp, signature_header=header, now=now
        )
        assert not signing.verify(
            key, request.body + b" ", timestamp=timestamp, signature_header=header, now=now
        )


def test_a_named_secret_that_is_not_configured_fails_without_sending() -> None:
    async def scenario() -> tuple[Sink, StepOutcome]:
        secrets = Secrets(default=b"global-key")
        async with serving() as sink, runner(secrets=secrets) as http_runner:
            action = http(sink.url("/echo"), secret="billing.v2")
            return sink, await http_runner.run(action, step_context())

    sink, outcome = run(scenario)
    assert outcome.failure is FailureClass.OTHER
    assert outcome.error == (
        "secret 'billing.v2' is not configured: set TICKWORK_SECRET_BILLING_V2"
    )
    assert sink.received == []


def test_a_server_error_is_5xx_and_the_next_attempt_can_succeed() -> None:
    async def scenario() -> list[StepOutcome]:
        async with serving() as sink, runner() as http_runner:
            action = http(sink.url("/flaky"))
            first = await http_runner.run(action, step_context(attempt=1))
            second = await http_runner.run(action, step_context(attempt=2))
            return [first, second]

    first, second = run(scenario)
    assert first.failure is FailureClass.HTTP_5XX
    assert first.status_code == 500 and first.output == "try again"
    assert first.error == "HTTP 500 Internal Server Error (expected 200-299)"
    assert first.retry_after is None
    assert second.ok and second.status_code == 200


def test_429_carries_retry_after_in_seconds_or_as_a_date() -> None:
    clock = FakeClock(SCHEDULED_FOR)
    date = format_datetime(SCHEDULED_FOR + timedelta(seconds=90), usegmt=True)

    async def scenario() -> list[StepOutcome]:
        async with serving() as sink, runner(clock=clock) as http_runner:
            seconds = await http_runner.run(http(sink.url("/busy")), step_context())
            action = http(sink.url("/busy"), method="GET")
            dated = await http_runner.run(
                action.model_copy(update={"url": sink.url(f"/busy?retry_after={date}")}),
                step_context(),
            )
            return [seconds, dated]

    seconds, dated = run(scenario)
    assert seconds.failure is FailureClass.HTTP_429 and seconds.status_code == 429
    assert seconds.retry_after == timedelta(seconds=7)
    assert seconds.error == "HTTP 429 Too Many Requests (expected 200-299); retry after 7s"
    assert dated.retry_after == timedelta(seconds=90)


def test_other_statuses_are_4xx_unless_expected() -> None:
    async def scenario() -> list[StepOutcome]:
        async with serving() as sink:
            return [
                await send(sink, "/status/404"),
                await send(sink, "/status/204", expect_status=[200, 200]),
                await send(sink, "/status/404", expect_status=[200, 404]),
            ]

    not_found, unexpected, expected = run(scenario)
    assert not_found.failure is FailureClass.HTTP_4XX and not_found.status_code == 404
    assert unexpected.failure is FailureClass.HTTP_4XX and unexpected.status_code == 204
    assert unexpected.error == "HTTP 204 No Content (expected 200-200)"
    assert expected.ok and expected.status_code == 404


def test_a_redirect_is_not_followed() -> None:
    async def scenario() -> tuple[Sink, StepOutcome]:
        async with serving() as sink:
            return sink, await send(sink, "/redirect")

    sink, outcome = run(scenario)
    assert outcome.failure is FailureClass.HTTP_4XX and outcome.status_code == 302
    assert outcome.error == "HTTP 302 Found, redirect to /elsewhere not followed (expected 200-299)"
    assert [request.path for request in sink.received] == ["/redirect"]


def test_a_slow_answer_times_out_at_the_step_timeout() -> None:
    async def scenario() -> tuple[StepOutcome, float]:
        async with serving() as sink, runner() as http_runner:
            started = time.monotonic()
            context = step_context(timeout=timedelta(milliseconds=300))
            outcome = await http_runner.run(http(sink.url("/slow")), context)
            return outcome, time.monotonic() - started

    outcome, elapsed_s = run(scenario)
    assert outcome.failure is FailureClass.TIMEOUT
    assert outcome.error == "no response within 300ms"
    assert outcome.status_code is None and outcome.target is not None
    assert elapsed_s < 5


def test_a_refused_connection_is_a_connection_failure() -> None:
    port = refused_port()

    async def scenario() -> StepOutcome:
        async with runner() as http_runner:
            return await http_runner.run(http(f"http://127.0.0.1:{port}/"), step_context())

    outcome = run(scenario)
    assert outcome.failure is FailureClass.CONNECTION
    assert outcome.error == f"connection refused: 127.0.0.1:{port}"
    assert outcome.target == f"127.0.0.1:{port}"


def test_a_large_body_is_cut_to_the_cap_and_not_parsed() -> None:
    async def scenario() -> StepOutcome:
        async with serving() as sink:
            return await send(sink, "/big")

    outcome = run(scenario)
    assert outcome.ok and outcome.truncated
    assert outcome.output == "x" * OUTPUT_MAX_CHARS
    assert outcome.result is None  # JSON content type, but cut: not parsed


def test_the_default_guard_denies_cloud_metadata_without_connecting() -> None:
    async def scenario() -> list[StepOutcome]:
        async with runner() as http_runner:
            return [
                await http_runner.run(http(url), step_context(timeout=timedelta(seconds=2)))
                for url in (
                    "http://169.254.169.254/latest/meta-data/",
                    "http://[::ffff:169.254.169.254]/",
                    "http://[fd00:ec2::254]/",
                )
            ]

    v4, mapped, aws_v6 = run(scenario)
    for outcome in (v4, mapped, aws_v6):
        assert outcome.failure is FailureClass.OTHER
    assert v4.error == (
        "address 169.254.169.254 is denied by network 169.254.0.0/16 (TICKWORK_HTTP_DENY_NETWORKS)"
    )
    assert "169.254.0.0/16" in (mapped.error or "")
    assert "fd00:ec2::254/128" in (aws_v6.error or "")


def test_a_custom_deny_list_applies_to_literal_addresses_and_resolved_names() -> None:
    guard = SsrfGuard.parse("127.0.0.0/8, ::1/128")

    async def scenario() -> tuple[Sink, list[StepOutcome]]:
        async with serving() as sink:
            port = sink.base_url.rsplit(":", 1)[1]
            async with runner(guard=guard) as http_runner:
                outcomes = [
                    await http_runner.run(http(url), step_context())
                    for url in (f"http://127.0.0.1:{port}/echo", f"http://localhost:{port}/echo")
                ]
            return sink, outcomes

    sink, (literal, name) = run(scenario)
    assert sink.received == []
    assert literal.failure is FailureClass.OTHER
    assert (literal.error or "").startswith("address 127.0.0.1 is denied by network 127.0.0.0/8")
    assert name.failure is FailureClass.OTHER
    assert (name.error or "").startswith("localhost resolves to address ")


def test_a_literal_address_is_checked_on_every_request_until_it_passes() -> None:
    guard = SsrfGuard.parse("169.254.0.0/16")

    async def scenario() -> tuple[Sink, list[StepOutcome]]:
        async with serving() as sink:
            allowed = sink.url("/echo")
            denied = "http://169.254.169.254/latest/meta-data/"
            context = step_context(timeout=timedelta(seconds=2))
            async with runner(guard=guard) as http_runner:
                outcomes = [
                    await http_runner.run(http(url), context)
                    for url in (denied, allowed, denied, allowed)
                ]
            return sink, outcomes

    sink, outcomes = run(scenario)
    assert [outcome.ok for outcome in outcomes] == [False, True, False, True]
    assert all("169.254.0.0/16" in (o.error or "") for o in outcomes[::2])
    assert [request.path for request in sink.received] == ["/echo", "/echo"]


def test_names_that_resolve_to_allowed_addresses_are_reached() -> None:
    async def scenario() -> tuple[Sink, StepOutcome]:
        async with serving() as sink:
            port = sink.base_url.rsplit(":", 1)[1]
            async with runner(guard=SsrfGuard.parse("::1/128")) as http_runner:
                action = http(f"http://localhost:{port}/echo")
                return sink, await http_runner.run(action, step_context())

    sink, outcome = run(scenario)
    assert outcome.ok, outcome.error
    assert [request.path for request in sink.received] == ["/echo"]


def test_cancellation_passes_through() -> None:
    async def scenario() -> Sink:
        async with serving() as sink:
            async with runner() as http_runner:
                task = asyncio.create_task(http_runner.run(http(sink.url("/slow")), step_context()))
                await sink.arrived.wait()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            return sink

    assert len(run(scenario).received) == 1


def test_the_session_is_reopened_after_close() -> None:
    async def scenario() -> list[StepOutcome]:
        async with serving() as sink:
            http_runner = HttpRunner(FakeClock(SCHEDULED_FOR))
            first = await http_runner.run(http(sink.url("/echo")), step_context())
            await http_runner.close()
            second = await http_runner.run(http(sink.url("/echo")), step_context())
            await http_runner.close()
            return [first, second]

    assert all(outcome.ok for outcome in run(scenario))
