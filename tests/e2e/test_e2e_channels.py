"""End to end: the real bridge process, real Apprise, real receivers on 127.0.0.1.

Receivers: Apprise's generic JSON webhook (`json://`) to an http.server on loopback, and a real
Matrix homeserver (Synapse from PyPI, on SQLite; tests/support/synapse.py). The test plays
Alertmanager: it posts version-4 webhooks to the bridge and reads what the channels received.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.support.bridge import BridgeProcess, alert, bridge_process, config_data, webhook
from tests.support.procs import binary, free_port, wait_until
from tests.support.receiver import Receiver
from tests.support.synapse import Homeserver, homeserver

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

TOKEN = "e2e-token-0123456789abcdef0123456789"
HOOK = "/api/monitoring/webhook"


def data(tmp_path: Path, port: int, channels: list[dict], **escalation: float) -> dict:
    d = config_data(tmp_path, bridge={"api_token": TOKEN, "external_url": f"http://127.0.0.1:{port}"})
    d["channels"] = channels
    if escalation:
        d["escalation"] = escalation
    return d


@pytest.fixture
def bridge_for(tmp_path: Path):
    """bridge_for(channels, **escalation) -> a running bridge (stopped at the end)."""
    stack: list = []

    def start(channels: list[dict], *, extra_args: list[str] | None = None, log: str = "bridge.log",
              **escalation: float) -> BridgeProcess:
        port = free_port()
        cm = bridge_process(tmp_path, data(tmp_path, port, channels, **escalation), port=port,
                            log_name=log, extra_args=extra_args)
        b = cm.__enter__()
        stack.append(cm)
        return b

    yield start
    while stack:
        stack.pop().__exit__(None, None, None)


def post(bridge: BridgeProcess, *alerts: dict) -> dict:
    status, body = bridge.request("POST", HOOK, webhook(*alerts))
    assert status == 200, body
    return body


def settle(seconds: float = 3.0) -> None:
    """Give a sender that should not send the time it would have needed (then count)."""
    time.sleep(seconds)


def test_firing_then_resolved_to_json_and_matrix_and_no_warning_to_a_critical_only_channel(
        tmp_path: Path, rx: Receiver, bridge_for) -> None:
    with homeserver(tmp_path) as hs:
        _firing_then_resolved(rx, hs, bridge_for)


def _firing_then_resolved(rx: Receiver, hs: Homeserver, bridge_for) -> None:
    bridge = bridge_for([
        {"name": "hook", "url": rx.url("hook"), "severities": ["critical"]},
        {"name": "matrix", "url": hs.apprise_url("alerts")},
    ])
    post(bridge, alert("DiskAlmostFull", mountpoint="/data", nodename="web-1"))
    post(bridge, alert("ApiSlow", severity="warning"))
    (firing,) = rx.wait_for(1, "/hook")
    assert firing["title"] == "\U0001f534 CRITICAL: DiskAlmostFull /data on web-1"
    assert "Acknowledge: http://127.0.0.1:" in firing["message"]
    wait_until(lambda: len(hs.messages("alerts")) == 1, 60, what="the firing message in Matrix")
    assert "CRITICAL: DiskAlmostFull /data on web-1" in hs.messages("alerts")[0]
    post(bridge, alert("DiskAlmostFull", status="resolved", mountpoint="/data", nodename="web-1"))
    rx.wait_for(2, "/hook")
    wait_until(lambda: len(hs.messages("alerts")) == 2, 60, what="the resolved message in Matrix")
    settle()
    hook = rx.received("/hook")
    assert [m["title"].split(":")[0] for m in hook] == ["\U0001f534 CRITICAL", "\u2705 RESOLVED"]
    assert "resolved after 20m" in hook[1]["message"]
    assert "RESOLVED: DiskAlmostFull" in hs.messages("alerts")[1]
    assert not any("ApiSlow" in m["title"] for m in hook)  # the warning: not for critical-only
    assert TOKEN not in (Path(bridge.config_path).parent / "bridge.log").read_text()


def test_emergency_repeats_on_every_channel_until_acknowledged_from_the_link(rx: Receiver,
                                                                             bridge_for) -> None:
    bridge = bridge_for([{"name": "a", "url": rx.url("a")}, {"name": "b", "url": rx.url("b")}],
                        emergency_repeat_minutes=0.05)  # every 3 s
    post(bridge, alert("DiskFull", severity="emergency", mountpoint="/"))
    rx.wait_for(3, "/a", timeout=30)
    rx.wait_for(3, "/b", timeout=30)
    reminders = [m["title"] for m in rx.received("/a")[1:]]
    assert reminders and all("reminder" in t and "EMERGENCY" in t for t in reminders)
    link = re.search(r"Acknowledge: (\S+)", rx.received("/a")[0]["message"]).group(1)
    assert "/ack/" in link
    urllib.request.urlopen(urllib.request.Request(link, data=b"", method="POST"), timeout=10).close()
    settle(2)
    before = {p: len(rx.received(p)) for p in ("/a", "/b")}
    settle(8)  # more than two repeat intervals
    assert {p: len(rx.received(p)) for p in ("/a", "/b")} == before


def test_receiver_down_for_30s_then_back_is_delivered_once(rx: Receiver, bridge_for) -> None:
    bridge = bridge_for([{"name": "hook", "url": rx.url("hook")}])
    rx.down()
    post(bridge, alert())
    time.sleep(30)
    assert rx.received("/hook") == []
    rx.up()
    rx.wait_for(1, "/hook", timeout=90)  # backoff: 5 s, 10 s, 20 s, 40 s ...
    settle(5)
    assert len(rx.received("/hook")) == 1


def test_sigkill_between_the_2xx_and_the_send_delivers_once_after_restart(
        tmp_path: Path, rx: Receiver) -> None:
    channels = [{"name": "hook", "url": rx.url("hook")}]
    port = free_port()
    cfg = data(tmp_path, port, channels)
    with bridge_process(tmp_path, cfg, port=port, extra_args=["--no-workers"], log_name="web-only.log") as b:
        post(b, alert())  # 2xx: the rows are committed; no sender runs in this process
        b.proc.kill()
    assert rx.received() == []
    with bridge_process(tmp_path, cfg, port=port, log_name="restarted.log"):
        rx.wait_for(1, "/hook", timeout=30)
        settle()
    assert len(rx.received("/hook")) == 1


def test_pause_holds_channels_and_resume_summarises(rx: Receiver, bridge_for) -> None:
    bridge = bridge_for([{"name": "hook", "url": rx.url("hook")}])
    status, _ = bridge.request("POST", "/api/monitoring/stop", {"duration": "1h", "comment": "deploy"})
    assert status == 200
    post(bridge, alert("HighCpuUsage"), alert("ApiDown", instance="api-1:443"))
    settle()
    assert rx.received("/hook") == []
    status, body = bridge.request("POST", "/api/monitoring/start")
    assert status == 200 and body["held_alerts"] == 2
    (summary,) = rx.wait_for(1, "/hook")
    assert "2 alerts held" in summary["title"]
    assert "[CRITICAL] HighCpuUsage" in summary["message"] and "ApiDown on api-1:443" in summary["message"]


def test_a_bad_channel_url_fails_at_start_naming_the_key(tmp_path: Path) -> None:
    d = data(tmp_path, 8080, [{"name": "ok", "url": "json://127.0.0.1:9/x"},
                              {"name": "phone", "url": "tgram://no-token-here"}])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    cmd = [binary("tradewatch-bridge"), "--config", str(path), "--listen", f"127.0.0.1:{free_port()}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert f"{path}: channels[1].url: Apprise cannot parse 'tgram://********'" in out.stderr
    assert "no-token-here" not in out.stderr + out.stdout
