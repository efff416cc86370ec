"""The dashboard in a real browser: sign in, create a schedule in the editor (seeing its
live description and next fires), see it fire and its run appear, pause it with a note,
open a failed run's output and retry it. Screenshots of every page go to
``artifacts/screenshots/`` (desktop, a phone, light and dark)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from tests.e2e.browser import SCREENSHOTS, Served, chromium_or_skip, serving

DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
WAIT_MS = 15_000
FAILING = "echo hello from tickwork; echo something broke >&2; exit 3"

expect.set_options(timeout=WAIT_MS)


@pytest.fixture
def browser() -> Iterator[Browser]:
    executable = chromium_or_skip()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serving(tmp_path) as running:
        yield running


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky bar belongs at the top
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, served: Served) -> None:
    page.goto(f"{served.url}/schedules")
    expect(page).to_have_url(re.compile(r"/login\?next=/schedules$"))
    page.get_by_label("Token").fill(served.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{served.url}/schedules")
    expect(page.get_by_text("Signed in as e2e-admin.")).to_be_visible()


def test_a_schedule_made_in_the_editor_fires_fails_is_paused_and_retried(
    browser: Browser, served: Served
) -> None:
    context = browser.new_context(viewport=DESKTOP, color_scheme="light")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"{served.url}/login")
    shot(page, "login-desktop")
    sign_in(page, served)

    # The editor: the cron field is checked live, in the chosen zone.
    page.get_by_role("link", name="New schedule").click()
    page.get_by_label("Name", exact=True).fill("flaky-job")
    page.get_by_label("Description").fill("Fails on purpose, every second")
    cron = page.get_by_label("Cron expression")
    cron.fill("61 * * * *")
    expect(page.locator("#cron-live .field-error")).to_have_text("minute: 61 is out of range 0-59")
    page.get_by_role("button", name="Weekdays at").click()
    expect(page.locator("#cron-live")).to_contain_text("Monday through Friday")
    cron.fill("* * * * * *")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    expect(page.locator("#cron-live .cron-description")).to_have_text("Every second")
    expect(page.locator("#cron-next li")).to_have_count(5)
    expect(page.locator("#cron-next li").first).to_contain_text(re.compile(r"CES?T"))
    page.get_by_label("Shell command").check()
    page.get_by_label("Arguments").fill(f"sh\n-c\n{FAILING}")
    page.get_by_label("Attempts in all").fill("1")
    shot(page, "editor-desktop")
    page.get_by_role("button", name="Create schedule").click()

    # It fires, and its failed run appears without reloading the page.
    expect(page.get_by_role("heading", name=re.compile("flaky-job"))).to_be_visible()
    expect(page.get_by_text("Created flaky-job.")).to_be_visible()
    history = page.locator("#schedule-history")
    expect(history.locator(".chip", has_text="failed").first).to_be_visible()

    # Pause it with a note.
    page.get_by_label(re.compile("^Note")).fill("investigating the exit code")
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.locator(".banner")).to_contain_text("investigating the exit code")
    expect(page.locator("#schedule-state")).to_contain_text("paused")
    shot(page, "schedule-detail-desktop")

    # Open a failed run: its output, standard error and exit code.
    history.locator("tbody a").first.click()
    expect(page.get_by_role("heading", name=re.compile("^Run"))).to_contain_text("failed")
    expect(page.locator(".code-badge", has_text="exit 3")).to_be_visible()
    expect(page.locator("pre.output").first).to_contain_text("hello from tickwork")
    expect(page.locator("pre.stderr")).to_contain_text("something broke")
    shot(page, "run-failed-desktop")

    # Retry it: a new run, which runs and fails the same way.
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("Started a new run with the same input and instant.")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("retry")
    expect(page.locator(".code-badge", has_text="exit 3")).to_be_visible()
    shot(page, "run-retried-desktop")

    # More schedules, applied as a set of files through the API, so the overview's
    # timeline has lanes; one is paused through the API (an override of its file), one
    # dies (two attempts, both exit 3) and lands on the queue page.
    headers = {"Authorization": f"Bearer {served.token}"}
    with httpx.Client(base_url=f"{served.url}/api/v1", headers=headers) as api:
        echo = {"kind": "http", "url": f"{served.url}/api/v1/echo"}
        documents = [
            {"name": "every-5-minutes", "trigger": {"cron": "*/5 * * * *"}, "action": echo},
            {"name": "quarter-hourly", "trigger": {"cron": "*/15 * * * *"}, "action": echo},
            {
                "name": "doomed",
                "trigger": {"cron": "0 0 1 1 *"},
                "retry": {"max_attempts": 2, "initial_interval": "0s", "exit_codes": [3]},
                "action": {"kind": "shell", "argv": ["sh", "-c", "exit 3"]},
            },
        ]
        applied = api.post(
            "/apply",
            json={
                "set": "demo",
                "documents": [
                    {
                        "kind": "Schedule",
                        "file": f"{d['name']}.yaml",
                        "document": {**d, "tags": ["demo"]},
                    }
                    for d in documents
                ],
            },
        )
        assert applied.status_code == 200, applied.text
        ids = {item["name"]: item["id"] for item in api.get("/schedules").json()["items"]}
        assert api.post(
            f"/schedules/{ids['quarter-hourly']}/pause", json={"note": "maintenance"}
        ).is_success
        run_id = api.post(f"/schedules/{ids['doomed']}/trigger").json()["id"]
        deadline = time.monotonic() + WAIT_MS / 1000
        while api.get(f"/executions/{run_id}").json()["status"] != "dead":
            assert time.monotonic() < deadline, "the doomed run did not die"
            time.sleep(0.05)

        page.goto(f"{served.url}/schedules/{ids['quarter-hourly']}")
        expect(page.locator("#overridden-from-file")).to_contain_text("Overridden from its file")
        expect(page.locator("#overridden-from-file tbody tr")).to_have_count(2)
        shot(page, "schedule-managed-desktop")

        page.goto(f"{served.url}/queue")
        dead = page.locator("tr", has=page.get_by_role("link", name=run_id[-12:]))
        expect(dead).to_contain_text("doomed")
        shot(page, "queue-desktop")
        dead.get_by_role("button", name=re.compile("^Remove")).click()
        expect(page.get_by_text("Removed the run from the dead list")).to_be_visible()
        expect(page.get_by_text("No dead runs.")).to_be_visible()

    for path, name in [
        ("/", "overview"),
        ("/schedules", "schedules"),
        ("/runs", "runs"),
        ("/runs?status=failed", "runs-failed"),
        ("/queue", "queue-empty"),
    ]:
        page.goto(served.url + path)
        shot(page, f"{name}-desktop")
    expect(page.locator("h1")).to_have_text("Queue and workers")
    schedule_url = page.url.replace("/queue", "")
    context.close()

    for scheme in ("dark", "light"):
        for viewport, device in ((PHONE, "phone"), (DESKTOP, "desktop")):
            if (scheme, device) == ("light", "desktop"):
                continue
            other = browser.new_context(viewport=viewport, color_scheme=scheme)
            other.set_default_timeout(WAIT_MS)
            page = other.new_page()
            sign_in(page, served)
            shot(page, f"schedules-{device}-{scheme}")
            page.get_by_role("link", name="flaky-job").click()
            shot(page, f"schedule-detail-{device}-{scheme}")
            page.goto(f"{schedule_url}/")
            shot(page, f"overview-{device}-{scheme}")
            other.close()
