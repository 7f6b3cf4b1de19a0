"""Recommendation triggers: each fires on its evidence, names the numbers, and stays quiet otherwise."""

from __future__ import annotations

from alert_bridge.reports.recommendations import (
    AlertFrequency,
    EmailStat,
    FilesystemForecast,
    FiringAlert,
    HeartbeatStat,
    MemoryStat,
    ProbeStat,
    RecommendationInputs,
    RecommendationRules,
    recommend,
    threshold_key,
)


def kinds(recs):
    return [r.kind for r in recs]


def test_nothing_without_data():
    assert recommend(RecommendationInputs()) == []


def test_disk_fill_within_n_days():
    fs = [
        FilesystemForecast("h1:9184", "/var", 0.82, 3.5),
        FilesystemForecast("h1:9184", "/", 0.40, None),  # not filling
        FilesystemForecast("h1:9184", "/data", 0.50, 30.0),  # later than 7 days
        FilesystemForecast("h2:9184", "/srv", 0.97, 0.5),
    ]
    recs = recommend(RecommendationInputs(filesystems=fs))
    assert kinds(recs) == ["disk_fill", "disk_fill"]
    assert recs[0].subject == "h2:9184 /srv" and recs[0].priority == "high"
    var = recs[1]
    assert "/var" in var.action and "3.5 days" in var.action and "82%" in var.evidence
    assert var.figures["days_to_full"] == 3.5


def test_hosts_are_named_by_their_nodename_with_the_address_as_detail():
    """Issue 14.12: the report names hosts as people do; an address without a nodename stays as is."""
    names = {"h1:9184": "web1", "h2:9184": "h2:9184"}
    recs = recommend(RecommendationInputs(
        filesystems=[FilesystemForecast("h1:9184", "/var", 0.82, 3.5)],
        memory=[MemoryStat("h1:9184", avg=0.9, max=0.95), MemoryStat("h3:9184", avg=0.9, max=0.95)],
        alerts=[AlertFrequency("HostCpuHigh", "warning", 4, "h1:9184", 1800)],
        heartbeats=[HeartbeatStat("h2:9184", stale_ratio=0.5, max_age_seconds=600)],
        host_names=names,
    ))
    by_kind = {r.kind: r for r in recs}
    assert "/var of web1 (h1:9184)" in by_kind["disk_fill"].action
    assert by_kind["disk_fill"].subject == "web1 (h1:9184) /var"
    assert [r.subject for r in recs if r.kind == "memory_pressure"] == ["web1 (h1:9184)", "h3:9184"]
    assert "HostCpuHigh on web1 (h1:9184) is flapping" in by_kind["flapping"].action
    assert by_kind["heartbeat_gaps"].subject == "h2:9184"  # a name equal to the address is not repeated


def test_memory_pressure_by_average_or_share():
    recs = recommend(RecommendationInputs(memory=[
        MemoryStat("a", avg=0.86, max=0.90), MemoryStat("b", avg=0.5, max=0.99, above_warning_ratio=0.3),
        MemoryStat("c", avg=0.84, max=0.99, above_warning_ratio=0.1),
    ]))
    assert [r.subject for r in recs] == ["a", "b"]
    assert "86%" in recs[0].evidence and "30%" in recs[1].evidence


def test_flapping_names_config_keys():
    alerts = [
        AlertFrequency("HostCpuHigh", "warning", 4, "h1:9184", 1800),
        AlertFrequency("HostMemoryHigh", "warning", 3, "h1:9184", 600),  # exactly K: not more than K
    ]
    recs = recommend(RecommendationInputs(alerts=alerts, for_durations={"HostCpuHigh": 300}))
    assert kinds(recs) == ["flapping"]
    r = recs[0]
    assert "alerting.for_durations.HostCpuHigh" in r.action and "(now 300s)" in r.action
    assert "thresholds.cpu_percent.warning" in r.action
    assert "fired 4 times in 24.0 h" in r.evidence and "more than 3" in r.evidence
    assert r.config_key == "thresholds.cpu_percent.warning"


def test_flapping_unknown_alert_suggests_for_only():
    recs = recommend(RecommendationInputs(alerts=[AlertFrequency("Mystery", "critical", 9)]))
    assert recs[0].config_key == "alerting.for_durations.Mystery"
    assert "thresholds." not in recs[0].action


def test_threshold_key_mapping():
    assert threshold_key("HostDiskWillFillIn24h", "warning") == "thresholds.disk_fill_hours.warning"
    assert threshold_key("HostDiskSpaceCritical", "critical") == "thresholds.disk_percent.critical"
    key = threshold_key("TradingHeartbeatStale", "critical")
    assert key == "thresholds.trading_heartbeat_stale_seconds.critical"


def test_probes_intermittent_and_down():
    recs = recommend(RecommendationInputs(probes=[
        ProbeStat("exchange-api", 0.93), ProbeStat("db", 1.0), ProbeStat("dead", 0.0),
        ProbeStat("almost", 0.995),
    ]))
    assert kinds(recs) == ["probe_down", "probe_intermittent"]
    assert "93.0%" in recs[1].evidence and recs[1].subject == "exchange-api"


def test_email_failures():
    assert recommend(RecommendationInputs(email=EmailStat(sent=5, failed=0, retried=0))) == []
    stat = EmailStat(sent=5, failed=2, retried=1, last_error="535 auth")
    recs = recommend(RecommendationInputs(email=stat))
    assert kinds(recs) == ["email_failing"]
    assert "2 failed and 1 retried" in recs[0].evidence and "535 auth" in recs[0].evidence


def test_heartbeat_gaps():
    rules = RecommendationRules(heartbeat_stale_seconds=120)
    recs = recommend(RecommendationInputs(heartbeats=[
        HeartbeatStat("bot:8000", stale_ratio=0.02, max_age_seconds=610), HeartbeatStat("ok:8000", 0.0, 15),
    ]), rules)
    assert [r.subject for r in recs] == ["bot:8000"]
    assert "2.0%" in recs[0].evidence and "610s" in recs[0].evidence


def test_every_recommendation_has_numbers():
    recs = recommend(RecommendationInputs(
        filesystems=[FilesystemForecast("h", "/", 0.9, 2)], memory=[MemoryStat("h", 0.9, 0.95)],
        alerts=[AlertFrequency("HostCpuHigh", "warning", 5)], probes=[ProbeStat("p", 0.5)],
        email=EmailStat(1, 1, 0), heartbeats=[HeartbeatStat("h", 0.1, 300)],
    ))
    assert len(recs) == 6
    for r in recs:
        assert any(ch.isdigit() for ch in r.evidence), r
        assert r.figures


def firing(name, severity, labels=None, instance="web1:9100", **kw):
    base = dict(text="", firing_seconds=720, started="2026-12-05 06:24 UTC")
    base.update(kw)
    return FiringAlert(name, severity, instance, labels or {}, **base)


def test_every_firing_urgent_alert_gets_a_recommendation_with_its_evidence():
    """Issue 14: filesystems at 94-100 % and a dead bot got no recommendation."""
    alerts = [
        firing("HostFilesystemFull", "critical", {"mountpoint": "/tmp/tw-a", "device": "tmpfs"},
               text="Filesystem /tmp/tw-a (tmpfs) on web1:9100 is 94% full (critical above 90%)."),
        firing("HostFilesystemFull", "emergency", {"mountpoint": "/tmp/tw-b"}, firing_seconds=60,
               text="Filesystem /tmp/tw-b (tmpfs) on web1:9100 is 100% full (emergency above 97%)."),
        firing("TradingHeartbeatStale", "critical", {"job": "trading-bot"}, instance="bot:9185", acked=True),
        firing("TargetDown", "critical", {"job": "trading-bot"}, instance="bot:9185"),
    ]
    recs = recommend(RecommendationInputs(firing=alerts))
    assert kinds(recs) == ["firing_alert"] * 4 and {r.priority for r in recs} == {"high"}
    first = recs[0]  # the emergency leads
    assert first.subject == "/tmp/tw-b on web1:9100"
    assert "Free space on /tmp/tw-b on web1:9100" in first.action
    assert "emergency alert HostFilesystemFull firing for 60s" in first.evidence
    assert "100% full" in first.evidence
    assert first.config_key == "thresholds.disk_percent.emergency"
    tw_a = next(r for r in recs if "/tmp/tw-a" in r.subject)
    assert "94% full" in tw_a.evidence and "12 min" in tw_a.evidence
    assert "2026-12-05 06:24 UTC" in tw_a.evidence
    bot = next(r for r in recs if r.figures["alertname"] == "TradingHeartbeatStale")
    assert "trading bot on bot:9185" in bot.action and "acknowledged, still firing" in bot.evidence
    down = next(r for r in recs if r.figures["alertname"] == "TargetDown")
    assert down.action.startswith("Bring bot:9185 back")


def test_an_unknown_alert_still_gets_a_recommendation():
    (r,) = recommend(RecommendationInputs(firing=[firing("MyCustomThing", "emergency", {"probe": "x"})]))
    assert r.action == "Deal with MyCustomThing on probe x on web1:9100."


def test_trading_and_exchange_alerts_get_their_own_actions():
    recs = recommend(RecommendationInputs(firing=[
        firing("TradingBotDown", "critical", {"bot": "freqtrade-1"}, instance="bot:9185"),
        firing("ExchangeRateLimited", "critical", {"exchange": "binance"}, instance="bot:9185"),
        firing("TradingBalanceLow", "critical", instance="bot:9185"),
    ]))
    actions = {r.figures["alertname"]: r.action for r in recs}
    assert actions["TradingBotDown"].startswith("Check bot freqtrade-1 on bot:9185: the trading bot does not")
    assert actions["ExchangeRateLimited"].startswith("Slow the bot's requests to exchange binance on bot")
    assert actions["TradingBalanceLow"].startswith("Top up or check the trading account bot:9185")


def test_commands_are_spelled_as_the_operator_can_paste_them():
    rules = RecommendationRules(setup_command=".venv/bin/tradewatch setup")
    recs = recommend(RecommendationInputs(firing=[firing("BridgeEmailsFailing", "critical", instance="")],
                                          email=EmailStat(sent=1, failed=2, retried=0)), rules)
    assert all("`.venv/bin/tradewatch setup`" in r.action for r in recs) and len(recs) == 2


def test_an_alert_the_pause_holds_gets_its_recommendation_and_says_nobody_was_told():
    (r,) = recommend(RecommendationInputs(firing=[
        firing("HostFilesystemFull", "critical", {"mountpoint": "/data"}, held=True)]))
    assert r.kind == "firing_alert" and r.subject == "/data on web1:9100"
    assert "held by the pause, nobody was notified" in r.evidence
