"""prometheus/alertmanager.yml: routes per severity (amtool) and, in a real Alertmanager,
grouping, inhibition of the lower level, and the bearer token read from the credentials file."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.procs import REPO, binary, wait_until
from tests.support.prom import alertmanager
from tradewatch.config import EXAMPLE_CONFIG, load_config, parse_config
from tradewatch.rules.render import Deployment, alertmanager_config, dump

AM_FILE = REPO / "prometheus" / "alertmanager.yml"


def route_of(*labels: str) -> tuple[str, str]:
    """(receivers, the matching route's tree) for an alert with these labels, from amtool."""
    res = subprocess.run(
        [binary("amtool"), "config", "routes", "test", f"--config.file={AM_FILE}", "--tree",
         "--verify.receivers=bridge", *labels],
        capture_output=True, text=True, timeout=30,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    tree, _, receivers = res.stdout.strip().rpartition("\n")
    return receivers.strip(), tree


@pytest.mark.parametrize(("labels", "route"), [
    (["alertname=HostCpuHigh", "instance=h:9184", "severity=info"], None),
    (["alertname=HostCpuHigh", "instance=h:9184", "severity=warning"], None),
    (["alertname=HostCpuHigh", "instance=h:9184", "severity=critical"], 'severity=~"critical|emergency"'),
    (["alertname=HostFilesystemFull", "instance=h:9184", "severity=emergency"],
     'severity=~"critical|emergency"'),
    (["alertname=Watchdog", "severity=info", "category=system"], 'alertname="Watchdog"'),
    (["alertname=Unlabelled"], None),  # no severity label: still delivered, the bridge assumes critical
])
def test_each_severity_reaches_the_bridge(labels: list[str], route: str | None) -> None:
    receivers, tree = route_of(*labels)
    assert receivers == "bridge"
    am = yaml.safe_load(AM_FILE.read_text())
    if route is None:
        assert "{" not in tree, tree  # the default route: group_wait 30s, group_interval 5m
    else:
        assert route in tree, tree
        (sub,) = [r for r in am["route"]["routes"] if r["matchers"] == [route]]
        if "Watchdog" in route:
            assert sub["repeat_interval"] == "1m"
        else:
            assert sub["group_wait"] == "5s"
    assert am["route"]["group_by"] == ["alertname", "instance"]  # inherited by every route


def alert(name: str, severity: str, instance: str, **labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, "severity": severity, "instance": instance, "category": "system",
                   **labels},
        "annotations": {"summary": f"{name} {severity}"},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=10)).isoformat(),
    }


@pytest.mark.integration
def test_real_alertmanager_groups_inhibits_and_sends_the_token(tmp_path: Path, webhook: Any) -> None:
    url, received = webhook
    token = tmp_path / "bridge-token"
    token.write_text("s3cret-token\n")
    token.chmod(0o600)
    cfg = parse_config({"alerting": {"group_wait_urgent": "1s", "group_wait": "1s"}})
    text = dump(alertmanager_config(cfg, Deployment(webhook_url=url, credentials_file=str(token))), "")
    with alertmanager(tmp_path / "am", text) as am:
        am.post_alerts([
            alert("HostCpuHigh", "critical", "a:9184"),
            alert("HostCpuHigh", "warning", "a:9184"),  # inhibited by the critical one
            alert("HostCpuHigh", "warning", "b:9184"),  # another host: not inhibited
            alert("HostFilesystemFull", "emergency", "a:9184", mountpoint="/", device="sda1"),
            alert("HostFilesystemFull", "critical", "a:9184", mountpoint="/", device="sda1"),  # inhibited
            # another mount of the same host: not inhibited
            alert("HostFilesystemFull", "critical", "a:9184", mountpoint="/data", device="sdb1"),
        ])

        def states() -> dict[tuple[str, str, str, str], str] | None:
            got = {
                (a["labels"]["alertname"], a["labels"]["severity"], a["labels"]["instance"],
                 a["labels"].get("mountpoint", "")): a["status"]["state"]
                for a in am.get("alerts")
            }
            return got if len(got) == 6 else None

        got = wait_until(states, 15, what="six alerts in Alertmanager")
        assert got == {
            ("HostCpuHigh", "critical", "a:9184", ""): "active",
            ("HostCpuHigh", "warning", "a:9184", ""): "suppressed",
            ("HostCpuHigh", "warning", "b:9184", ""): "active",
            ("HostFilesystemFull", "emergency", "a:9184", "/"): "active",
            ("HostFilesystemFull", "critical", "a:9184", "/"): "suppressed",
            ("HostFilesystemFull", "critical", "a:9184", "/data"): "active",
        }
        inhibited = [a for a in am.get("alerts") if a["status"]["state"] == "suppressed"]
        assert all(a["status"]["inhibitedBy"] for a in inhibited)

        groups = am.get("alerts/groups")
        assert {tuple(sorted(g["labels"].items())) for g in groups} == {
            (("alertname", "HostCpuHigh"), ("instance", "a:9184")),
            (("alertname", "HostCpuHigh"), ("instance", "b:9184")),
            (("alertname", "HostFilesystemFull"), ("instance", "a:9184")),
        }
        assert {g["receiver"]["name"] for g in groups} == {"bridge"}

        wait_until(lambda: len(received) >= 3, 20, what="three webhook notifications")
        for auth, body in received:
            assert auth == "Bearer s3cret-token"
            assert set(body["groupLabels"]) == {"alertname", "instance"}
            # an inhibited alert is not in the notification of its group
            sent = {(a["labels"]["severity"], a["labels"].get("mountpoint", "")) for a in body["alerts"]}
            if body["groupLabels"] == {"alertname": "HostCpuHigh", "instance": "a:9184"}:
                assert sent == {("critical", "")}
            if body["groupLabels"]["alertname"] == "HostFilesystemFull":
                assert sent == {("emergency", "/"), ("critical", "/data")}


def test_committed_config_is_the_example_rendering() -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    assert yaml.safe_load(AM_FILE.read_text()) == alertmanager_config(cfg, Deployment())
