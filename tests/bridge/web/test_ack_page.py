"""The acknowledge page through the Flask client: times in words, the dashboard's headers and
stylesheet, and the state after acknowledging (issue 14.17)."""

from __future__ import annotations

import re

import pytest

from alert_bridge.web.pages import CSP, human_time
from tests.support.bridge import alert, notifications, webhook

HOOK = "/api/monitoring/webhook"
T = 1_800_000_000.0  # 2027-01-15 08:00 UTC


@pytest.mark.parametrize(("age", "text"), [
    (5, "2027-01-15 08:00 UTC, just now"),
    (12 * 60 + 30, "2027-01-15 08:00 UTC, 12 min ago"),
    (3 * 3600 + 20 * 60, "2027-01-15 08:00 UTC, 3h 20m ago"),
    (-600, "2027-01-15 08:00 UTC, in 10m"),
])
def test_human_time(age, text):
    assert human_time(T, T + age) == text
    assert human_time(None, T) == "\u2014"


def test_ack_page_has_human_times_and_the_dashboard_headers(app, client, clock):
    starts = "2027-01-15T07:48:00.795000Z"  # 12 min before the test clock
    client.post(HOOK, json=webhook(alert("HostFilesystemFull", severity="emergency", starts_at=starts,
                                         mountpoint="/tmp/tw-b")))
    [note] = notifications(app.extensions["tradewatch"].db.path)
    link = note["context"]["ack_url"].removeprefix("http://localhost:8080")
    page = client.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Content-Security-Policy"] == CSP
    assert "/dashboard/static/dashboard.css" in html and "<style" not in html and " style=" not in html
    assert "2027-01-15 07:48 UTC, 12 min ago" in html and "/tmp/tw-b" in html
    visible = re.sub(r'datetime="[^"]*"', "", html)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", visible)  # no ISO timestamp shown
    clock.advance(60)
    done = client.post(link).get_data(as_text=True)
    assert "Acknowledged 2027-01-15 08:01 UTC, just now" in done and '<form method="post">' not in done
    again = client.get(link).get_data(as_text=True)
    assert "Already acknowledged 2027-01-15 08:01 UTC" in again and '<form method="post">' not in again
