"""The dashboard's view of firing alerts (issues 14.8, 14.9, 14.10): one row per identity at its
highest severity, counts that say what they count, one pipeline heartbeat, no Watchdog rows."""

from __future__ import annotations

from alert_bridge.alerts.board import banner_text, board, heartbeat
from tests.support.bridge import alert, webhook

HOOK = "/api/monitoring/webhook"


def row(name: str, severity: str, acked: bool = False, **labels: str) -> dict:
    return {"alertname": name, "status": "firing", "severity": severity, "starts_at": "2026-12-05T06:00:00Z",
            "labels": {"alertname": name, "severity": severity, **labels}, "acked_at": "x" if acked else None}


def test_one_row_per_identity_at_its_highest_severity():
    b = board([row("HostFilesystemFull", "critical", mountpoint="/"),
               row("HostFilesystemFull", "emergency", mountpoint="/"),
               row("HostFilesystemFull", "critical", mountpoint="/data")])
    shown = [(a["severity"], a["labels"]["mountpoint"]) for a in b.alerts]
    assert shown == [("emergency", "/"), ("critical", "/data")]
    assert b.counts == {"emergency": 1, "critical": 1, "warning": 0, "info": 0}


def test_alerts_a_silence_holds_are_counted_and_listed_apart():
    held = {**row("HostFilesystemFull", "critical", mountpoint="/data"), "held": True,
            "held_by": "alertmanager"}
    b = board([row("HostCpuHigh", "critical"), held])
    assert [a["alertname"] for a in b.alerts] == ["HostCpuHigh"]
    assert [a["alertname"] for a in b.held] == ["HostFilesystemFull"]
    assert b.counts["critical"] == 2 and b.unacknowledged == 2
    assert b.banner == "2 critical alerts firing, none acknowledged; 1 held by the pause"


def test_the_banner_says_what_it_counts():
    rows = [row("Disk", "emergency"), *(row(f"C{i}", "critical") for i in range(3))]
    assert board(rows).banner == "1 emergency and 3 critical alerts firing, none acknowledged"
    rows[0]["acked_at"] = "now"
    b = board(rows)
    assert b.banner == "1 emergency and 3 critical alerts firing, 3 not acknowledged"
    assert b.unacknowledged == 3
    assert banner_text({"critical": 1}, 0) == "1 critical alert firing, all acknowledged"
    assert board([row("W", "warning")]).banner is None


def test_the_watchdog_is_never_an_alert_row():
    assert board([row("Watchdog", "info"), row("Watchdog", "none")]).alerts == []


def test_heartbeat_is_one_status():
    assert heartbeat(None, 1000, 300).healthy is False
    assert heartbeat(900, 1000, 300).healthy is True
    late = heartbeat(100, 1000, 300)
    assert not late.healthy and "15m" in late.detail


def test_the_bridges_own_downtime_is_no_pipeline_silence():
    """The stack stopped for an hour and started again: the last heartbeat is an hour old, but for
    `timeout` after the bridge's start that is the restart, not a broken pipeline."""
    restarted = heartbeat(100, 4000, 300, started=3900)
    assert restarted.healthy and "since the bridge started 1m 40s ago" in restarted.detail
    assert not heartbeat(100, 4300, 300, started=3900).healthy  # still nothing after the timeout: broken
    assert heartbeat(3950, 4000, 300, started=3900).detail == "last heartbeat 50s ago"
    assert not heartbeat(None, 4000, 300, started=3900).healthy  # never seen at all: as before


def test_the_api_shows_an_inhibited_pair_once_and_the_watchdog_as_heartbeat(client):
    client.post(HOOK, json=webhook(alert("HostFilesystemFull", severity="critical", fingerprint="fp-c",
                                         mountpoint="/"),
                                   alert("HostFilesystemFull", severity="emergency", fingerprint="fp-e",
                                         mountpoint="/"),
                                   alert("Watchdog", severity="none", fingerprint="fp-w")))
    data = client.get("/api/monitoring/alerts").json
    assert [(a["alertname"], a["severity"]) for a in data["active"]] == [("HostFilesystemFull", "emergency")]
    assert data["counts"]["critical"] == 0 and data["counts"]["emergency"] == 1
    assert data["banner"] == "1 emergency alert firing, not acknowledged"
    assert data["heartbeat"]["healthy"] is True


def test_a_restart_closes_the_old_watchdog_episode_and_it_cannot_be_acknowledged(client):
    client.post(HOOK, json=webhook(alert("Watchdog", severity="none", fingerprint="fp-w",
                                         starts_at="2026-12-05T06:00:00Z")))
    client.post(HOOK, json=webhook(alert("Watchdog", severity="none", fingerprint="fp-w",
                                         starts_at="2026-12-05T07:00:00Z")))
    rows = [a for a in client.get("/api/monitoring/alerts").json["alerts"] if a["alertname"] == "Watchdog"]
    assert sorted(a["status"] for a in rows) == ["firing", "resolved"]
    firing = next(a for a in rows if a["status"] == "firing")
    resp = client.post(f"/api/monitoring/alerts/{firing['id']}/ack", json={})
    assert resp.status_code == 409 and "cannot be acknowledged" in resp.json["error"]
