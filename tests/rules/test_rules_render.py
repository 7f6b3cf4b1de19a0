"""The rule renderer as pure functions: thresholds, levels, `for:`, labels, annotations, configs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tradewatch import metric_names as m
from tradewatch import quantities as qt
from tradewatch.config import EXAMPLE_CONFIG, ConfigError, load_config, parse_config
from tradewatch.rules import Deployment, prometheus_flags, render_all, render_files
from tradewatch.rules.humanize import expand, humanize, humanize_duration, humanize_percentage
from tradewatch.rules.specs import ALERTS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
SEVERITIES = {"info", "warning", "critical", "emergency"}
CATEGORIES = {"system", "api", "trading", "database", "network"}


def rules_of(files: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for rel, text in files.items():
        if rel.startswith("rules/"):
            for group in yaml.safe_load(text)["groups"]:
                out += group["rules"]
    return out


def alerts_of(files: dict[str, str]) -> list[dict[str, Any]]:
    return [r for r in rules_of(files) if "alert" in r]


def test_every_alert_has_labels_and_annotations_in_human_units(example: dict[str, str]) -> None:
    alerts = alerts_of(example)
    assert len(alerts) >= 25
    for rule in alerts:
        assert set(rule["labels"]) == {"severity", "category"}, rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES
        assert rule["labels"]["category"] in CATEGORIES
        ann = rule["annotations"]
        assert ann["summary"] and ann["description"], rule["alert"]
        assert ann["dashboard_url"] == "http://localhost:8080/"
        assert "http://localhost:8080/" in ann["description"]
        if rule["alert"] != "Watchdog":
            assert "{{ $labels.instance }}" in ann["summary"] + ann["description"], rule["alert"]
        if "$value" in ann["description"] and rule["alert"] not in {"TradingDrawdown"}:
            assert re.search(r"\$value \| humanize", ann["description"]), rule["alert"]


def test_issue_alerts_are_all_there(example: dict[str, str]) -> None:
    by_name: dict[str, set[str]] = {}
    for rule in alerts_of(example):
        by_name.setdefault(rule["alert"], set()).add(rule["labels"]["severity"])
    assert by_name["HostCpuHigh"] == {"warning", "critical"}
    assert by_name["HostMemoryHigh"] == {"warning", "critical"}
    assert by_name["HostFilesystemFull"] == {"critical", "emergency"}
    assert by_name["HostFilesystemFillingUp"] == {"warning", "critical"}
    assert by_name["ApiLatencyHigh"] == {"warning", "critical"}
    assert by_name["ApiErrorRateHigh"] == {"critical"}
    assert by_name["ProbeFailing"] == {"critical"}
    assert by_name["DatabaseProbeFailing"] == {"critical"}
    assert by_name["Watchdog"] == {"info"}
    for name in ("HostLoadHigh", "HostNetworkErrors", "TargetDown", "CollectorFailing",
                 "TradingHeartbeatStale", "OrderRejectionHigh", "TradingDrawdown",
                 "BridgeEmailsFailing", "BridgeOutboxBacklog"):
        assert name in by_name


def test_example_thresholds_in_expressions(example: dict[str, str]) -> None:
    exprs = {(r["alert"], r["labels"]["severity"]): r["expr"] for r in alerts_of(example)}
    assert exprs["HostCpuHigh", "warning"] == qt.with_host_name(f"{m.REC_CPU_UTILISATION} > 0.8")
    assert exprs["HostMemoryHigh", "warning"] == qt.with_host_name(f"{m.REC_MEMORY_UTILISATION} > 0.85")
    assert exprs["HostFilesystemFull", "critical"].startswith(f"(\n{m.REC_FILESYSTEM_USAGE} > 0.9\n")
    assert "node_filesystem_readonly == 1" in exprs["HostFilesystemFull", "critical"]
    assert exprs["ApiLatencyHigh", "warning"] == f"{m.REC_API_P95} > 1"
    assert exprs["ApiErrorRateHigh", "critical"] == f"{m.REC_API_ERROR_RATIO} > 0.05"
    assert exprs["TargetDown", "critical"] == "up == 0"
    assert exprs["Watchdog", "info"] == "vector(1)"
    fill = exprs["HostFilesystemFillingUp", "critical"]
    assert "predict_linear(node_filesystem_avail_bytes{fstype!=\"\"}[6h], 14400) < 0" in fill
    assert "< 0.2" in fill and "node_filesystem_readonly{fstype!=\"\"} == 0" in fill
    assert "[6h], 86400) < 0" in exprs["HostFilesystemFillingUp", "warning"]
    assert "< 0.4" in exprs["HostFilesystemFillingUp", "warning"]


def test_changed_thresholds_appear_in_rules_and_tests() -> None:
    cfg = load_config(FIXTURES / "tuned.yaml")
    files = render_files(cfg)
    exprs = {(r["alert"], r["labels"]["severity"]): r for r in alerts_of(files)}
    assert exprs["HostCpuHigh", "warning"]["expr"] == qt.with_host_name(f"{m.REC_CPU_UTILISATION} > 0.7")
    assert exprs["HostCpuHigh", "emergency"]["expr"] == qt.with_host_name(f"{m.REC_CPU_UTILISATION} > 0.99")
    assert ("HostCpuHigh", "critical") not in exprs  # a level left out renders no rule
    assert exprs["HostCpuHigh", "emergency"]["annotations"]["description"].count("99%") == 1
    assert exprs["ApiLatencyHigh", "warning"]["expr"] == f"{m.REC_API_P95} > 0.25"
    assert "(warning above 250 ms)" in exprs["ApiLatencyHigh", "warning"]["annotations"]["description"]
    drawdown = exprs["TradingDrawdown", "critical"]["expr"]
    assert drawdown.startswith(f"max_over_time({m.TRADING_EQUITY}[6h]) - {m.TRADING_EQUITY} > 250\nor\n")
    assert f"[6h:1m]) - {m.TRADING_REALIZED_PNL} > 250" in drawdown  # restart-aware realized fallback
    assert exprs["TradingBalanceLow", "critical"]["expr"] == f"{m.TRADING_EQUITY} < 750"
    assert ("TradingBalanceLow", "warning") in exprs and ("ExchangeRateLimited", "warning") not in exprs
    assert exprs["ExchangeRateLimited", "critical"]["expr"].endswith(") >= 3")
    assert exprs["HostCpuHigh", "warning"]["for"] == "2m"  # alerting.for_durations
    assert exprs["HostMemoryHigh", "warning"]["for"] == "10m"  # default kept
    assert "HostCpuHigh: 73.5% is past the warning level 70% -> warning" in files["tests/system.test.yml"]
    prom = yaml.safe_load(files["prometheus.yml"])
    assert prom["global"]["scrape_interval"] == "15s"
    assert prom["global"]["evaluation_interval"] == "5s"
    assert prom["global"]["scrape_timeout"] == "10s"
    probes = next(j for j in prom["scrape_configs"] if j["job_name"] == "probes")
    assert probes["scrape_interval"] == "2m"
    assert probes["metric_relabel_configs"][0]["action"] == "keep"
    assert prometheus_flags(cfg) == ["--storage.tsdb.retention.time=7d", "--rules.alert.resend-delay=5s"]


def test_the_exporter_job_waits_for_the_slowest_freqtrade_bot() -> None:
    def exporter_job(cfg: dict[str, Any]) -> dict[str, Any]:
        prom = yaml.safe_load(render_files(parse_config(cfg))["prometheus.yml"])
        return next(j for j in prom["scrape_configs"] if j["job_name"] == "exporter")

    assert "scrape_timeout" not in exporter_job({})
    bots = [{"name": "a", "url": "http://127.0.0.1:8081", "timeout": "5s"},
            {"name": "b", "url": "http://127.0.0.1:8082", "timeout": "20s"}]
    assert exporter_job({"freqtrade": bots})["scrape_timeout"] == "22s"
    with pytest.raises(ConfigError, match=r"freqtrade\[1\]\.timeout \(20s\) must stay under"):
        parse_config({"freqtrade": bots, "intervals": {"system_metrics": "15s"}})


def test_for_override_zeroes_every_for() -> None:
    cfg = parse_config({"alerting": {"for_override": "0s", "for_durations": {"HostCpuHigh": "1h"}}})
    assert {r["for"] for r in alerts_of(render_files(cfg))} == {"0s"}


@pytest.mark.parametrize(("thresholds", "key", "words"), [
    ({"cpu_percent": {"warning": 96, "critical": 95}}, "thresholds.cpu_percent",
     "warning (96) must be below critical (95)"),
    ({"disk_fill_hours": {"warning": 2, "critical": 4}}, "thresholds.disk_fill_hours",
     "warning (2) must be above critical (4)"),
    ({"disk_fill_hours": {"warning": 24, "emergency": 1}}, "thresholds",
     "disk_fill_avail_percent needs a value for emergency"),
])
def test_malformed_threshold_is_rejected(tmp_path: Path, thresholds: dict[str, Any], key: str,
                                         words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"thresholds": thresholds}))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"{path}: {key}: " in str(err.value)
    assert words in str(err.value)


def test_rendering_is_deterministic_and_headed(example: dict[str, str]) -> None:
    again = render_files(load_config(EXAMPLE_CONFIG), source="deploy/tradewatch.example.yaml")
    assert again == example
    for rel, text in example.items():
        assert text.startswith(
            "# generated by `tradewatch rules` from deploy/tradewatch.example.yaml; do not edit\n"), rel


def test_no_rule_alerts_on_bare_absence(example: dict[str, str]) -> None:
    for rule in rules_of(example):
        assert "absent(" not in rule["expr"], rule


def test_prometheus_config_from_example(example: dict[str, str]) -> None:
    prom = yaml.safe_load(example["prometheus.yml"])
    assert prom["global"] == {"scrape_interval": "1m", "scrape_timeout": "10s", "evaluation_interval": "30s"}
    assert prom["rule_files"] == ["rules/*.yml"]
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9093"]
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    assert set(jobs) == {"exporter", "bridge", "trading-bot", "prometheus", "alertmanager"}
    for job in ("exporter", "bridge", "trading-bot"):
        assert jobs[job]["file_sd_configs"] == [{"files": [f"targets/{job}.yml"]}]
    assert "retention.time=30d" in example["prometheus.yml"]
    # no host labels baked in: the instance label comes from discovery
    assert not re.search(r"\bhost\b\s*:|(?<!_)labels:", example["prometheus.yml"])
    assert yaml.safe_load(example["targets/exporter.yml"]) == [{"targets": ["127.0.0.1:9184"]}]
    assert yaml.safe_load(example["targets/trading-bot.yml"]) == [{"targets": ["127.0.0.1:9185"]}]


def test_alertmanager_config(example: dict[str, str]) -> None:
    am = yaml.safe_load(example["alertmanager.yml"])
    (receiver,) = am["receivers"]
    (hook,) = receiver["webhook_configs"]
    assert hook["url"] == "http://127.0.0.1:8080/api/monitoring/webhook"
    assert hook["send_resolved"] is True
    assert hook["http_config"]["authorization"]["type"] == "Bearer"
    assert hook["http_config"]["authorization"]["credentials_file"]
    assert am["route"]["group_by"] == ["alertname", "instance"]
    watchdog, urgent = am["route"]["routes"]
    assert watchdog["matchers"] == ['alertname="Watchdog"'] and watchdog["repeat_interval"] == "1m"
    assert urgent["group_wait"] == "5s" and am["route"]["group_wait"] == "30s"
    pairs = {(r["source_matchers"][0], r["target_matchers"][0]) for r in am["inhibit_rules"]}
    assert pairs == {('severity="emergency"', 'severity=~"info|warning|critical"'),
                     ('severity="critical"', 'severity=~"info|warning"'),
                     ('severity="warning"', 'severity=~"info"')}


def test_render_all_takes_the_deployment(tmp_path: Path) -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    written = render_all(
        cfg, tmp_path, exporter_targets=["127.0.0.1:19184", "10.0.0.2:9184"], bridge_target="127.0.0.1:18080",
        trading_bot_targets=[], alertmanager_target="127.0.0.1:19093", prometheus_target="127.0.0.1:19090",
        webhook_url="http://127.0.0.1:18080/api/monitoring/webhook", credentials_file=tmp_path / "token",
    )
    assert tmp_path / "prometheus.yml" in written and tmp_path / "rules" / "system.yml" in written
    assert not (tmp_path / "tests").exists()  # the stack needs no rule tests
    assert yaml.safe_load((tmp_path / "targets/exporter.yml").read_text()) == [
        {"targets": ["10.0.0.2:9184", "127.0.0.1:19184"]}]
    assert yaml.safe_load((tmp_path / "targets/trading-bot.yml").read_text()) == []  # no bot
    am = yaml.safe_load((tmp_path / "alertmanager.yml").read_text())
    hook = am["receivers"][0]["webhook_configs"][0]
    assert hook["url"] == "http://127.0.0.1:18080/api/monitoring/webhook"
    assert hook["http_config"]["authorization"]["credentials_file"] == str(tmp_path / "token")
    prom = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:19093"]
    assert Deployment().bridge_targets == ("127.0.0.1:8080",)


def test_alert_specs_are_unique_and_documented() -> None:
    names = [s.name for s in ALERTS]
    assert len(names) == len(set(names))
    for spec in ALERTS:
        assert (spec.threshold_key is None) != (spec.severity is None), spec.name
        assert spec.words, spec.name


@pytest.mark.parametrize(("fn", "value", "text"), [
    # expected strings are Prometheus 2.x template output for these values
    (humanize_percentage, 0.8123, "81.23%"),
    (humanize_percentage, 0.05, "5%"),
    (humanize_duration, 186, "3m 6s"),
    (humanize_duration, 1.05, "1.05s"),
    (humanize_duration, 0.25, "250ms"),
    (humanize_duration, 90061, "1d 1h 1m 1s"),
    (humanize, 1050, "1.05k"),
    (humanize, 2.1, "2.1"),
])
def test_humanize_matches_prometheus(fn: Any, value: float, text: str) -> None:
    assert fn(value) == text


def test_expand_refuses_unknown_template_forms() -> None:
    assert expand("{{ $labels.instance }} at {{ $value | humanizePercentage }}", {"instance": "a"}, 0.5) == \
        "a at 50%"
    # Go's `with`: the label's value as `.` when it is set, else the `else` branch
    host = ("on {{ with $labels.nodename }}{{ . }} ({{ $labels.instance }}){{ else }}{{ $labels.instance }}"
            "{{ end }}")
    assert expand(host, {"instance": "a:1", "nodename": "web1"}, 0) == "on web1 (a:1)"
    assert expand(host, {"instance": "a:1", "nodename": ""}, 0) == "on a:1"
    assert expand(host, {"instance": "a:1"}, 0) == "on a:1"
    assert expand("{{ with $labels.x }}[{{ . }}]{{ end }}!", {"x": "{{ $value }}"}, 0) == "[{{ $value }}]!"
    with pytest.raises(ValueError, match="unsupported"):
        expand("{{ $value | title }}", {}, 1)
    with pytest.raises(ValueError, match="unsupported"):
        expand('{{ with query "up" }}{{ end }}', {}, 1)


def test_for_durations_naming_an_unknown_alert_is_rejected(tmp_path):
    import subprocess
    import sys

    cfg = tmp_path / "c.yaml"
    cfg.write_text("alerting:\n  for_durations: {HostCPUHigh: 1m}\n")
    for cmd in (["rules", "--out", str(tmp_path / "out")], ["check-config"]):
        res = subprocess.run([sys.executable, "-m", "tradewatch.cli", *cmd, "--config", str(cfg)],
                             capture_output=True, text=True)
        assert res.returncode == 2, (cmd, res.stderr)
        assert f"{cfg}: alerting.for_durations.HostCPUHigh: no such alert" in res.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("intervals", "alerting", "resend"), [
    ({}, {}, "30s"),  # the defaults: every evaluation (30s), below Prometheus's 1m
    ({"evaluation": "1s"}, {"watchdog_repeat_interval": "2s"}, "1s"),  # the e2e stack's fast config
    ({"evaluation": "15s"}, {"watchdog_repeat_interval": "10s"}, "10s"),
    ({"evaluation": "5m"}, {"watchdog_repeat_interval": "1h"}, "1m"),  # never beyond Prometheus's default
])
def test_prometheus_resends_the_watchdog_as_often_as_the_bridge_expects_it(
        intervals: dict[str, str], alerting: dict[str, str], resend: str) -> None:
    """Prometheus's default --rules.alert.resend-delay (1m) kept the Watchdog from the bridge for a
    minute after every start and Alertmanager restart; the flag follows the config instead."""
    cfg = parse_config({"intervals": intervals, "alerting": alerting}, env={})
    assert f"--rules.alert.resend-delay={resend}" in prometheus_flags(cfg)
