"""A schedule managed by files shows, on its page, what was changed since its file was
applied, until the next apply restores it."""

from __future__ import annotations

import html

from tests.integration.api.rig import Server
from tickwork.manifests.documents import Declared

from .browser import http_schedule, post_form, sign_in


def test_a_pause_from_the_dashboard_shows_as_an_override_until_the_next_apply(
    server: Server,
) -> None:
    declared = [Declared("Schedule", http_schedule(server), "ops/ping.yaml", 1)]
    server.node.apply.apply("ops", declared)
    record = server.node.schedules.find("default", "ping")
    page = f"/schedules/{record.id}"
    with sign_in(server, "writer") as writer:
        shown = writer.get(page).text
        assert "Managed by" in shown and "ops/ping.yaml" in shown
        assert "Matches its file" in shown

        post_form(writer, page, f"{page}/pause", note="vendor down")
        shown = html.unescape(writer.get(page).text)
        assert "Overridden from its file" in shown
        assert (
            "<td><code>paused</code></td><td><code>false</code></td><td><code>true</code></td>"
            in (shown)
        )
        assert '<td><code>"vendor down"</code></td>' in shown

        result = server.node.apply.apply("ops", declared)
        assert [(c.action, sorted(c.reverted)) for c in result.changes] == [
            ("update", ["pause_note", "paused"])
        ]
        shown = writer.get(page).text
        assert "Matches its file" in shown and "Overridden" not in shown

    hand_made = server.node.schedules.create(http_schedule(server, name="by-hand"))
    with sign_in(server, "reader") as reader:
        shown = reader.get(f"/schedules/{hand_made.id}").text
        assert "Matches its file" not in shown and "Managed by" not in shown
