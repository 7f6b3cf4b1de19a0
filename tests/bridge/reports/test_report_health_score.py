"""The health score formula: boundaries of each component and grade, and rescaling."""

from __future__ import annotations

import pytest

from alert_bridge.reports.health_score import (
    AlertLoad,
    HealthInputs,
    HostInputs,
    ScoreParams,
    capped_now,
    compute,
    grade,
)

P = ScoreParams()


def perfect_host(instance: str = "h1:9184", **over: float | None) -> HostInputs:
    base = dict(
        cpu_avg=0.10, cpu_max=0.20, memory_avg=0.30, memory_max=0.40,
        pnl_change=10.0, order_rejection_ratio=0.0, heartbeat_age_seconds=5.0, heartbeat_fresh_ratio=1.0,
        scrape_success_ratio=1.0, collector_success_ratio=1.0, probe_success_ratio=1.0, data_age_seconds=10.0,
    )
    base.update(over)
    return HostInputs(instance=instance, **base)


def score(*hosts: HostInputs, alerts: list[AlertLoad] | None = None):
    return compute(HealthInputs(86400, list(hosts), [] if alerts is None else alerts), P)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(100, "Excellent"), (90.0, "Excellent"), (89.9, "Good"), (75.0, "Good"), (74.9, "Fair"),
     (60.0, "Fair"), (59.9, "Poor"), (0, "Poor"), (None, "No data")],
)
def test_grade_boundaries(value, expected):
    assert grade(value) == expected


def test_perfect_everything_is_100():
    s = score(perfect_host())
    assert s.score == 100.0 and s.grade == "Excellent"
    assert {n: c.points for n, c in s.components.items()} == {
        "performance": 30.0, "alerts": 25.0, "trading": 25.0, "integrity": 20.0}


@pytest.mark.parametrize(
    ("util", "cpu_points"),
    [(0.60, 15.0), (0.95, 0.0), (0.775, 7.5), (0.99, 0.0), (0.0, 15.0)],
)
def test_cpu_headroom_boundaries(util, cpu_points):
    s = score(perfect_host(cpu_avg=util, cpu_max=util))
    cpu = s.components["performance"].parts[0]
    assert cpu.name == "cpu_headroom"
    assert cpu.points == pytest.approx(cpu_points)
    assert s.components["performance"].points == pytest.approx(cpu_points + 15.0)


def test_cpu_peak_weighs_30_percent():
    s = score(perfect_host(cpu_avg=0.5, cpu_max=1.0))  # effective 0.65
    assert s.components["performance"].parts[0].value == pytest.approx(0.65)


def test_memory_only_performance_is_rescaled_not_free():
    s = score(perfect_host(cpu_avg=None, cpu_max=None, memory_avg=0.95, memory_max=0.95))
    perf = s.components["performance"]
    assert perf.parts[0].points is None
    # memory has no headroom: the component is 0, not 15 from the missing CPU
    assert perf.points == 0.0


def test_alerts_boundaries():
    assert score(perfect_host(), alerts=[]).components["alerts"].points == 25.0
    # one critical firing 3h45m: 2 * (0.25 + 3.75) = 8 weighted hours -> 0 points
    heavy = [AlertLoad("HostCpuCritical", "critical", 3.75 * 3600, "h1:9184")]
    assert score(perfect_host(), alerts=heavy).components["alerts"].points == pytest.approx(0.0)
    # one warning for 45 min: 0.5 * (0.25 + 0.75) = 0.5 -> 25 * (1 - 0.5/8)
    warn = [AlertLoad("HostCpuHigh", "warning", 45 * 60, "h1:9184")]
    assert score(perfect_host(), alerts=warn).components["alerts"].points == pytest.approx(25 * (1 - 0.5 / 8))
    # info alerts cost nothing; critical costs 4x warning
    info = [AlertLoad("Watchdog", "info", 86400)]
    assert score(perfect_host(), alerts=info).components["alerts"].points == 25.0
    crit = score(perfect_host(), alerts=[AlertLoad("X", "critical", 45 * 60)]).components["alerts"].points
    assert 25 - crit == pytest.approx(4 * (25 - 25 * (1 - 0.5 / 8)))


def test_short_flapping_episodes_still_count():
    flaps = [AlertLoad("Flappy", "warning", 1.0, "h1:9184") for _ in range(10)]
    pts = score(perfect_host(), alerts=flaps).components["alerts"].points
    assert pts < 25.0 * (1 - 1.2 / 8) + 0.01  # each flap counts at least 15 minutes


def test_alerts_unavailable_is_no_data_and_rescaled():
    s = compute(HealthInputs(86400, [perfect_host(cpu_avg=0.95, cpu_max=0.95)], None), P)
    assert s.components["alerts"].points is None
    assert s.components["alerts"].status == "no data"
    # 15 + 25 + 20 out of 75
    assert s.score == pytest.approx(round(100 * 60 / 75, 1))


def test_trading_boundaries():
    t = score(perfect_host(pnl_change=-500.0)).components["trading"]
    assert t.parts[0].points == pytest.approx(5.0)
    t = score(perfect_host(pnl_change=-1000.0)).components["trading"]
    assert t.parts[0].points == 0.0
    t = score(perfect_host(order_rejection_ratio=0.25)).components["trading"]
    assert t.parts[1].points == 0.0
    t = score(perfect_host(order_rejection_ratio=0.01)).components["trading"]
    assert t.parts[1].points == 8.0
    # heartbeat stale right now: 0 whatever the window looked like
    t = score(perfect_host(heartbeat_age_seconds=120.0, heartbeat_fresh_ratio=0.99)).components["trading"]
    assert t.parts[2].points == 0.0
    t = score(perfect_host(heartbeat_fresh_ratio=0.5)).components["trading"]
    assert t.parts[2].points == pytest.approx(3.5)


def test_no_trading_bot_is_no_data_not_free_points_nor_zero():
    host = perfect_host(cpu_avg=0.95, cpu_max=0.95, pnl_change=None, order_rejection_ratio=None,
                        heartbeat_age_seconds=None, heartbeat_fresh_ratio=None)
    s = score(host)
    assert s.components["trading"].points is None
    assert s.to_dict()["components"]["trading"]["status"] == "no data"
    # performance 15/30, alerts 25/25, integrity 20/20 -> 60/75 = 80.0
    assert s.score == 80.0
    assert s.grade == "Good"


def test_partial_trading_rescales_within_component():
    host = perfect_host(pnl_change=None, heartbeat_age_seconds=None, heartbeat_fresh_ratio=None,
                        order_rejection_ratio=0.13)  # half-way: 4/8
    t = score(host).components["trading"]
    assert t.points == pytest.approx(25 * 4 / 8)


def test_integrity_boundaries():
    i = score(perfect_host(scrape_success_ratio=0.80)).components["integrity"]
    assert i.parts[0].points == 0.0
    i = score(perfect_host(scrape_success_ratio=0.99)).components["integrity"]
    assert i.parts[0].points == 5.0
    i = score(perfect_host(data_age_seconds=900.0)).components["integrity"]
    assert i.parts[3].points == 0.0
    i = score(perfect_host(probe_success_ratio=None)).components["integrity"]
    assert i.points == 20.0  # no probes configured: rescaled over the other three parts


def test_everything_missing_is_no_data_not_zero():
    s = compute(HealthInputs(86400, [HostInputs("h1")], None), P)
    assert s.score is None and s.grade == "No data"


def test_overall_uses_weakest_host_and_all_alerts():
    good = perfect_host("a:1")
    bad = perfect_host("b:1", cpu_avg=0.95, cpu_max=0.95)
    alerts = [AlertLoad("X", "critical", 3600, "b:1")]
    s = score(good, bad, alerts=alerts)
    assert s.components["performance"].points == 15.0
    assert s.hosts["a:1"].components["alerts"].points == 25.0
    assert s.hosts["b:1"].components["alerts"].points < 25.0
    assert s.components["alerts"].points == s.hosts["b:1"].components["alerts"].points
    assert s.hosts["a:1"].score == 100.0


def test_params_from_config_follow_thresholds():
    from tradewatch.config import parse_config

    cfg = parse_config({"thresholds": {"cpu_percent": {"warning": 70, "critical": 90}}}, env={})
    p = ScoreParams.from_config(cfg)
    assert p.cpu_zero == 0.90
    assert p.fresh_full_seconds == 180.0


def test_deterministic():
    h = perfect_host(cpu_avg=0.7, memory_avg=0.8, pnl_change=-123.0)
    assert score(h).to_dict() == score(h).to_dict()


def test_worked_example_of_the_docs():
    """docs/report.md's worked example, number for number."""
    host = HostInputs("h", cpu_avg=0.30, cpu_max=0.50, memory_avg=0.80, memory_max=0.90,
                      scrape_success_ratio=1.0, collector_success_ratio=1.0, probe_success_ratio=1.0,
                      data_age_seconds=5.0)
    s = compute(HealthInputs(86400, [host], [AlertLoad("X", "critical", 3600, "h")]), P)
    assert s.components["performance"].points == pytest.approx(15 + 15 * 0.12 / 0.35)
    assert s.components["alerts"].points == pytest.approx(17.1875)
    assert s.score == 76.4 and s.grade == "Good"
    assert s.coverage == 75


def test_unreachable_prometheus_scores_integrity_zero_not_free_points():
    from alert_bridge.reports.health_score import HealthInputs, compute

    blind = compute(HealthInputs(window_seconds=86400, hosts=(), alerts=[],
                                 metrics_unreachable="connection refused"))
    assert blind.components["integrity"].points == 0
    assert "connection refused" in blind.components["integrity"].parts[0].detail
    # alerts 25/25 + integrity 0/20 over the 45 points with data
    assert blind.score == round(100 * 25 / 45, 1)
    assert blind.grade == "Poor"
    unconfigured = compute(HealthInputs(window_seconds=86400, hosts=(), alerts=[]))
    assert unconfigured.components["integrity"].points is None


def test_an_emergency_firing_at_the_end_caps_the_grade_at_poor():
    """The issue-14 report said "Fair 73.4" with two emergencies active."""
    alerts = [AlertLoad("HostFilesystemFull", "emergency", 600, "h1:9184", ongoing=True),
              AlertLoad("HostFilesystemFull", "critical", 600, "h1:9184", ongoing=True)]
    s = score(perfect_host(), alerts=alerts)
    assert s.score == 59.9 and s.grade == "Poor"
    assert s.cap is not None and s.cap.severity == "emergency" and s.cap.alertnames == ("HostFilesystemFull",)
    assert s.cap.uncapped > 59.9 and "HostFilesystemFull" in s.cap.reason
    assert s.to_dict()["cap"]["limit"] == 59.9
    assert s.hosts["h1:9184"].grade == "Poor"  # the host it fires on is capped too


def test_a_critical_firing_at_the_end_caps_at_fair_and_resolved_ones_do_not_cap():
    crit = [AlertLoad("TradingHeartbeatStale", "critical", 300, "bot:1", ongoing=True)]
    s = score(perfect_host(), alerts=crit)
    assert (s.score, s.grade, s.cap.severity) == (74.9, "Fair", "critical")
    assert s.hosts["h1:9184"].cap is None  # the alert names another instance
    resolved = [AlertLoad("HostFilesystemFull", "emergency", 300, "h1:9184", ongoing=False)]
    s = score(perfect_host(), alerts=resolved)
    assert s.cap is None and s.score > 74.9


def test_a_cap_never_raises_a_score():
    bad = perfect_host(cpu_avg=0.99, cpu_max=0.99, memory_avg=0.99, memory_max=0.99,
                       scrape_success_ratio=0.5, collector_success_ratio=0.5, probe_success_ratio=0.5)
    alerts = [AlertLoad("A", "emergency", 8 * 3600, "h1:9184", ongoing=True),
              AlertLoad("B", "critical", 8 * 3600, "h1:9184", ongoing=True)]
    s = score(bad, alerts=alerts)
    assert s.score < 59.9 and s.grade == "Poor" and s.cap is None


def test_held_alerts_count_and_cap_like_active_ones():
    """Issue 14.7: paused, a critical the silence held left the score at 99 "Excellent". A held
    alert is load and caps the grade exactly as a stored one would; the cap says it is held."""
    active = AlertLoad("HostFilesystemFull", "emergency", 1800, "h1:9184", ongoing=True)
    held = AlertLoad("HostFilesystemFull", "emergency", 1800, "h1:9184", ongoing=True, held=True)
    as_active, as_held = score(perfect_host(), alerts=[active]), score(perfect_host(), alerts=[held])
    assert as_held.score == as_active.score == 59.9 and as_held.grade == "Poor"
    assert as_held.components["alerts"].points == as_active.components["alerts"].points < 25
    assert as_held.cap.held == ("HostFilesystemFull",) and as_active.cap.held == ()
    assert "held by the pause: HostFilesystemFull" in as_held.cap.reason
    assert as_held.to_dict()["cap"]["held"] == ["HostFilesystemFull"]


def test_a_stored_score_is_capped_by_what_fires_now():
    """The dashboard shows a score stored minutes ago: an urgent alert firing (or held) since
    caps it at once; nothing firing, or a cap it is already under, leaves it alone."""
    stored = score(perfect_host()).to_dict()
    assert stored["score"] == 100.0 and stored["cap"] is None
    assert capped_now(stored, []) == stored
    warning = [AlertLoad("HostCpuHigh", "warning", 0, "h1:9184", ongoing=True)]
    assert capped_now(stored, warning) == stored
    held = [AlertLoad("HostFilesystemFull", "critical", 0, "h1:9184", ongoing=True, held=True)]
    now = capped_now(stored, held)
    assert (now["score"], now["grade"]) == (74.9, "Fair")
    assert now["cap"]["uncapped"] == 100.0 and now["cap"]["held"] == ["HostFilesystemFull"]
    # already capped by a critical: an emergency lowers it further, from the uncapped points
    emergency = [*held, AlertLoad("TargetDown", "emergency", 0, "h1:9184", ongoing=True)]
    lower = capped_now(now, emergency)
    assert (lower["score"], lower["cap"]["severity"], lower["cap"]["uncapped"]) == (59.9, "emergency", 100.0)
    assert capped_now(lower, held) == lower  # a milder cap never raises it
    assert capped_now({"score": None, "grade": "no data"}, held) == {"score": None, "grade": "no data"}
