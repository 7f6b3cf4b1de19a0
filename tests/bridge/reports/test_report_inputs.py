"""Gathering the score's inputs: rule -> raw fallback, heartbeat gaps, alert time inside the window."""

from __future__ import annotations

import pytest

from alert_bridge.reports import health_inputs
from alert_bridge.sources.prometheus import PrometheusUnavailable
from tests.support.report import CannedPrometheus, add_alert, series
from tradewatch import quantities as qt
from tradewatch.config import parse_config

END = 1_800_000_000.0
CFG = parse_config({"report": {"window": "1h"}}, env={})


def test_raw_node_series_used_when_the_rule_has_no_data(conn):
    start = END - 3600
    raw = series("h:9100", start, [0.25] * 5, 900)
    prom = CannedPrometheus(ranges={qt.CPU.expr: [raw]}, instants={})
    c = health_inputs.collect(CFG, end=END, api=prom, conn=conn)
    host = c.health.hosts[0]
    assert host.instance == "h:9100" and host.cpu_avg == pytest.approx(0.25)
    assert any(n.startswith("cpu: recording rule had no data") for n in c.notes)
    assert prom.queries.index(health_inputs.CPU[0]) < prom.queries.index(health_inputs.CPU[1])  # rule first


def test_heartbeat_gaps_and_fresh_ratio(conn):
    start, step = END - 3600, health_inputs.step_for(3600)
    n = round(3600 / step) + 1
    ages = [5.0] * 100 + [300.0] * 20 + [5.0] * (n - 120)  # 20 steps stale in the middle
    now_age = [{"metric": {"instance": "bot:1"}, "value": [END, "5"]}]
    prom = CannedPrometheus(
        ranges={"trading_heartbeat_timestamp_seconds": [series("bot:1", start, ages, step)]},
        instants={"time() - max by (instance) (trading_heartbeat": now_age},
    )
    c = health_inputs.collect(CFG, end=END, api=prom, conn=conn)
    bot = next(h for h in c.health.hosts if h.instance == "bot:1")
    assert bot.heartbeat_fresh_ratio == pytest.approx((n - 20) / n)
    (hb,) = c.recommendations.heartbeats
    assert hb.max_age_seconds == 300.0 and hb.stale_ratio == pytest.approx(20 / n)


def test_heartbeat_missing_steps_count_as_stale(conn):
    start, step = END - 3600, health_inputs.step_for(3600)
    n = round(3600 / step) + 1
    pts = series("bot:1", start, [5.0] * n, step)
    del pts["values"][50:80]  # not even a heartbeat within the last hour there
    prom = CannedPrometheus(ranges={"trading_heartbeat_timestamp_seconds": [pts]}, instants={})
    c = health_inputs.collect(CFG, end=END, api=prom, conn=conn)
    (hb,) = c.recommendations.heartbeats
    assert hb.stale_ratio == pytest.approx(30 / n) and hb.max_age_seconds >= 3600


def test_alert_time_is_clipped_to_the_window(conn):
    add_alert(conn, alertname="Old", severity="critical", instance="h", starts=END - 7200, ends=END - 1800)
    add_alert(conn, alertname="Open", severity="warning", instance="h", starts=END - 600)
    add_alert(conn, alertname="Before", severity="critical", instance="h", starts=END - 9000, ends=END - 8000)
    add_alert(conn, alertname="Watchdog", severity="info", instance="", starts=END - 90000)
    c = health_inputs.collect(CFG, end=END, api=None, conn=conn)
    got = {a.alertname: a.firing_seconds for a in c.health.alerts}
    assert got == {"Old": pytest.approx(1800), "Open": pytest.approx(600)}
    assert "no Prometheus URL configured" in c.gaps[0]


def test_a_bad_query_is_not_prometheus_down(conn):
    class Picky(CannedPrometheus):
        def query(self, expr, time=None):
            if "deriv" in expr:
                raise PrometheusUnavailable("http://p: bad_data: parse error")
            return super().query(expr, time)

    c = health_inputs.collect(CFG, end=END, api=Picky({}, {}), conn=conn)
    assert c.prometheus_ok
    assert any("parse error" in n for n in c.notes)  # reported, not hidden


def test_disk_fill_forecast_needs_an_hour_of_window(conn):
    fs = {"instance": "h:9100", "mountpoint": "/var", "device": "/dev/sda2", "fstype": "ext4"}
    young = {"instance": "h:9100", "mountpoint": "/tmp/new", "device": "tmpfs", "fstype": "tmpfs"}
    prom = CannedPrometheus(ranges={}, instants={
        "deriv(": [{"metric": fs, "value": [END, "2.5"]}],
        " unless (": [{"metric": young, "value": [END, "100"]}],
        "1 - node_filesystem_avail_bytes": [{"metric": fs, "value": [END, "0.8"]}],
    })
    c = health_inputs.collect(CFG, end=END, api=prom, conn=conn)
    (f,) = c.recommendations.filesystems
    assert (f.instance, f.mountpoint, f.usage_ratio, f.days_to_full) == ("h:9100", "/var", 0.8, 2.5)
    forecast = next(q for q in prom.queries if "deriv(" in q)
    assert forecast == health_inputs.fill_forecast_expr(3600) and "offset 1h" in forecast
    assert any(n.startswith("no disk-fill forecast for /tmp/new on h:9100: less than 1h of history")
               for n in c.notes)
    short = parse_config({"report": {"window": "10m"}}, env={})
    c = health_inputs.collect(short, end=END, api=prom, conn=conn)
    assert c.recommendations.filesystems[0].days_to_full is None
    assert any("disk-fill forecasts skipped" in n for n in c.notes)


def test_urgent_alerts_firing_at_the_end_become_inputs_once_per_identity(conn):
    mount = {"mountpoint": "/tmp/tw-b", "device": "tmpfs"}
    add_alert(conn, alertname="HostFilesystemFull", severity="critical", instance="h", starts=END - 900,
              labels=mount, n=1)
    add_alert(conn, alertname="HostFilesystemFull", severity="emergency", instance="h", starts=END - 600,
              labels=mount, n=2, description="Filesystem /tmp/tw-b is 99% full. Dashboard: http://x:8080/")
    add_alert(conn, alertname="TargetDown", severity="critical", instance="bot", starts=END - 400,
              ends=END + 100)  # resolved after the window: firing at its end
    add_alert(conn, alertname="HostCpuHigh", severity="critical", instance="h", starts=END - 3000,
              ends=END - 2000)  # over before the end
    add_alert(conn, alertname="HostCpuHigh", severity="warning", instance="h", starts=END - 300)
    c = health_inputs.collect(CFG, end=END, api=None, conn=conn)
    got = {(f.alertname, f.severity, f.where) for f in c.recommendations.firing}
    assert got == {("HostFilesystemFull", "emergency", "/tmp/tw-b on h"), ("TargetDown", "critical", "bot")}
    fs = next(f for f in c.recommendations.firing if f.alertname == "HostFilesystemFull")
    assert fs.text == "Filesystem /tmp/tw-b is 99% full." and fs.firing_seconds == pytest.approx(600)
    ongoing = {(a.alertname, a.severity) for a in c.health.alerts if a.ongoing}
    assert ongoing == {("HostFilesystemFull", "critical"), ("HostFilesystemFull", "emergency"),
                       ("TargetDown", "critical"), ("HostCpuHigh", "warning")}


def test_alerts_a_pause_holds_are_scored_as_firing_once():
    """Held alerts (pause.held_view's dicts) never reached the store: they become firing load,
    clipped to the window; one already stored as firing (fired before the pause) is not counted twice."""
    held = [
        {"fingerprint": "a1", "alertname": "HostFilesystemFull", "severity": "critical",
         "instance": "h:9184", "starts_at": "2026-01-01T10:00:00Z"},
        {"fingerprint": "b2", "alertname": "TargetDown", "severity": "critical", "instance": "",
         "starts_at": "2026-01-01T08:00:00Z"},
        {"fingerprint": "c3", "alertname": "Old", "severity": "critical", "instance": "h:9184",
         "starts_at": "2026-01-01T11:00:00Z"},
    ]
    end = 1767268800.0  # 2026-01-01T12:00:00Z
    loads = health_inputs.held_loads(held, {"c3"}, end - 3 * 3600, end)
    assert [(a.alertname, a.firing_seconds, a.instance, a.ongoing, a.held) for a in loads] == [
        ("HostFilesystemFull", 7200.0, "h:9184", True, True),
        ("TargetDown", 3 * 3600.0, None, True, True),  # started before the window: clipped
    ]


def test_alerts_a_pause_holds_become_firing_rows_for_the_recommendations():
    """Issue 14.19: every firing critical or emergency gets a recommendation, held ones too."""
    held = [
        {"fingerprint": "a1", "alertname": "HostFilesystemFull", "severity": "critical", "instance": "h:9184",
         "labels": {"mountpoint": "/data", "nodename": "h"}, "annotations": {"summary": "full"},
         "starts_at": "2026-01-01T10:00:00Z"},
        {"fingerprint": "c3", "alertname": "Old", "severity": "critical", "instance": "h:9184",
         "starts_at": "2026-01-01T11:00:00Z"},
    ]
    end = 1767268800.0  # 2026-01-01T12:00:00Z
    (row,) = health_inputs.held_as_rows(held, {"c3"}, end)  # c3 is in the store already
    assert row["active_at_end"] and row["held"] and row["starts_at_epoch"] == end - 7200
