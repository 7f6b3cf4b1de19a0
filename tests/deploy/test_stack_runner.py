"""The local stack supervisor, run for real: every part healthy, status, clean stop, reuse on restart."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
import yaml

from tests.support.pasted import pasted, printed_commands
from tests.support.procs import REPO, http_ok, wait_until
from tests.support.stack import free_ports, running_stack, stack_cli, stack_command

pytestmark = pytest.mark.integration


def test_stack_up_status_sigterm_and_reuse(tmp_path: Path) -> None:
    root = tmp_path / "stack"
    ports = free_ports()
    with running_stack(root, ports, "--demo") as run:
        out = run.proc.output()
        # the banner says where everything is
        assert f"http://127.0.0.1:{ports['bridge']}/" in out
        assert f"http://127.0.0.1:{ports['prometheus']}/" in out
        assert f"http://127.0.0.1:{ports['alertmanager']}/" in out
        assert f"http://127.0.0.1:{ports['exporter']}/metrics" in out
        # every link it prints answers (Debian's Prometheus 2.42 has /classic/alerts, no /alerts;
        # Debian's Alertmanager has no web UI: the dashboard's silences and history instead)
        links = re.findall(r"http://127\.0\.0\.1:\d+/\S*", out.split("TradeWatch is up")[-1])
        assert f"http://127.0.0.1:{ports['bridge']}/history" in links
        for link in links:
            assert http_ok(link.split("#")[0]), link
        assert str(root / "outbox") in out  # file sink: where the emails go
        token = (root / "secrets" / "api_token").read_text().strip()
        assert token and token not in out  # the token is never printed
        # every command the real banner prints works when pasted from a fresh shell (issue 14.1)
        banner_commands = printed_commands(out)
        assert len(banner_commands) >= 5 and any(" setup " in c for c in banner_commands), out
        for command in banner_commands:
            pasted_run = pasted(command, tmp_path)
            assert pasted_run.returncode == 0 and "usage:" in pasted_run.stdout, (command, pasted_run.stderr)

        # every part really answers on its port
        for url in (f"http://127.0.0.1:{ports['exporter']}/metrics",
                    f"http://127.0.0.1:{ports['bridge']}/health",
                    f"http://127.0.0.1:{ports['prometheus']}/-/ready",
                    f"http://127.0.0.1:{ports['alertmanager']}/-/ready",
                    f"http://127.0.0.1:{ports['demo_bot']}/metrics"):
            assert http_ok(url), url

        # secrets: token 0600 inside a 0700 folder; config written once
        assert stat.S_IMODE((root / "secrets" / "api_token").stat().st_mode) == 0o600
        assert stat.S_IMODE((root / "secrets").stat().st_mode) == 0o700
        cfg_text = (root / "tradewatch.yaml").read_text()
        assert "${TRADEWATCH_API_TOKEN" in cfg_text and token not in cfg_text
        am = yaml.safe_load((root / "generated" / "alertmanager.yml").read_text())
        assert f":{ports['bridge']}/api/monitoring/webhook" in yaml.safe_dump(am)

        # Prometheus scrapes every part (the rendered config points at the chosen ports)
        def all_up() -> bool:
            url = f"http://127.0.0.1:{ports['prometheus']}/api/v1/query?query=up"
            with urllib.request.urlopen(url, timeout=5) as resp:
                result = json.load(resp)["data"]["result"]
            return {r["metric"]["job"]: r["value"][1] for r in result} == {
                "exporter": "1", "bridge": "1", "prometheus": "1",
                "alertmanager": "1", "trading-bot": "1"}

        wait_until(all_up, 40, interval=0.5, what="Prometheus to scrape every part")

        status = stack_cli(root, "status")
        assert status.returncode == 0, status.stdout + status.stderr
        for part in ("supervisor", "exporter", "bridge", "prometheus", "alertmanager", "demo_bot"):
            line = next(ln for ln in status.stdout.splitlines() if ln.strip().startswith(part))
            assert " up " in f"{line} ", line

        # a newcomer's first email: the running bridge sends a test email to the file sink
        res = subprocess.run([sys.executable, "-m", "tradewatch.stack", "test-email", "--dir", str(root),
                              "--env-file", str(root / "no.env")], capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "test email sent to ops@localhost" in res.stdout, res.stdout
        emls = list((root / "outbox").glob("*.eml"))
        assert len(emls) == 1 and "[TEST] TradeWatch test email" in emls[0].read_text()

        # a part that dies is restarted (new pid, healthy again)
        def exporter_pid() -> int:
            return json.loads((root / "run" / "exporter.pid").read_text())["pid"]

        old = exporter_pid()
        os.kill(old, signal.SIGKILL)
        wait_until(lambda: exporter_pid() != old
                   and http_ok(f"http://127.0.0.1:{ports['exporter']}/metrics"), 20,
                   what="the supervisor to restart the killed exporter")
        assert "exporter exited with status -9; restarting" in run.proc.output()

        children = run.descendants()
        assert len(children) >= 5, children
        run.proc.popen.send_signal(signal.SIGTERM)
        assert run.proc.popen.wait(30) == 0
        _gone, alive = psutil.wait_procs(children, timeout=5)
        assert not alive, f"left running after SIGTERM: {[p.pid for p in alive]}"
        assert not list((root / "run").glob("*.pid"))

    status = stack_cli(root, "status")
    assert status.returncode == 3 and "down" in status.stdout

    # second start: the same config, token and data are reused
    db = root / "data" / "tradewatch.db"
    assert db.exists()
    cfg_mtime = (root / "tradewatch.yaml").stat().st_mtime_ns
    with running_stack(root, ports) as run2:
        assert (root / "secrets" / "api_token").read_text().strip() == token
        assert (root / "tradewatch.yaml").stat().st_mtime_ns == cfg_mtime
        out = run2.proc.output()
        assert "wrote a local config" not in out and "generated an API token" not in out
        children = run2.descendants()
        stopped = stack_cli(root, "stop")  # `stop` from another terminal
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert run2.proc.popen.wait(30) == 0
        _, alive = psutil.wait_procs(children, timeout=5)
        assert not alive


def test_env_file_settings_reach_the_bridge_and_a_test_email_arrives(tmp_path: Path) -> None:
    """What `tradewatch setup` writes to .env is what the stack's bridge sends with."""
    from tests.support.smtp import smtp_server
    from tradewatch.stack_env import write_env_file

    with smtp_server() as smtp:
        env_file = tmp_path / ".env"
        write_env_file(env_file, {"SMTP_SERVER": "127.0.0.1", "SMTP_PORT": str(smtp.port),
                                  "SMTP_SECURITY": "none", "FROM_EMAIL": "tw@example.com",
                                  "ALERT_EMAIL": "ops@example.com, dev@example.com"})
        ports = free_ports()
        root = tmp_path / "stack"
        with running_stack(root, ports, "--env-file", str(env_file)) as run:
            out = run.proc.output()
            assert f"sent through 127.0.0.1:{smtp.port} (none) to ops@example.com, dev@example.com" in out
            token = (root / "secrets" / "api_token").read_text().strip()
            req = urllib.request.Request(
                f"http://127.0.0.1:{ports['bridge']}/api/monitoring/send-test-email", method="POST",
                data=b"{}", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                assert json.load(resp)["status"] == "sent"
            msgs = smtp.mailbox.wait_for(1)
            assert msgs[0]["X-TradeWatch-Kind"] == "test"
            assert set(smtp.mailbox.envelopes[0].rcpt_tos) == {"ops@example.com", "dev@example.com"}


def test_busy_port_is_named_and_nothing_starts(tmp_path: Path) -> None:
    import socket

    ports = free_ports()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports["prometheus"]))
        holder.listen()
        res = subprocess.run(stack_command(tmp_path / "s", ports), capture_output=True, text=True,
                             timeout=60, cwd=REPO)
    assert res.returncode == 1
    assert f"prometheus port {ports['prometheus']}" in res.stdout
    assert not list((tmp_path / "s" / "run").glob("*.pid"))


def test_second_supervisor_on_the_same_folder_refuses(tmp_path: Path) -> None:
    root = tmp_path / "s"
    (root / "run").mkdir(parents=True)
    proc = psutil.Process(os.getpid())
    (root / "run" / "supervisor.pid").write_text(
        f'{{"pid": {proc.pid}, "create_time": {proc.create_time()}}}')
    res = subprocess.run(stack_command(root, free_ports()), capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "already running" in res.stdout


def test_status_and_stop_when_nothing_runs(tmp_path: Path) -> None:
    res = stack_cli(tmp_path, "status")
    assert res.returncode == 3 and "not running" in res.stdout
    # a stale pid file (a pid that is gone, or recycled by another process) is not "up"
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "bridge.pid").write_text(
        f'{{"pid": {os.getpid()}, "create_time": {time.time() - 1e6}, "url": "", "health": ""}}')
    res = stack_cli(tmp_path, "status")
    assert res.returncode == 3 and "stale" in res.stdout
    res = stack_cli(tmp_path, "stop")
    assert res.returncode == 0 and psutil.pid_exists(os.getpid())
    assert not (tmp_path / "run" / "bridge.pid").exists()


def test_bad_port_flag_is_a_clear_error(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "tradewatch.stack", "--dir", str(tmp_path),
                          "--bridge-port", "70000"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 2 and "bridge port 70000" in res.stderr


def test_run_stack_sh_status_goes_to_the_supervisor(tmp_path: Path) -> None:
    # the shell wrapper is thin: status/stop go straight to the supervisor module
    res = subprocess.run(["bash", str(REPO / "deploy" / "run-stack.sh"), "status", "--dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 3 and "not running" in res.stdout


def test_supervisor_killed_outright_takes_its_parts_down(tmp_path: Path) -> None:
    """SIGKILL leaves no chance to clean up: the parts get SIGTERM from the kernel (PDEATHSIG)."""
    root = tmp_path / "stack"
    with running_stack(root, free_ports()) as run:
        children = run.descendants()
        assert len(children) >= 4
        run.proc.popen.kill()
        run.proc.popen.wait(10)
        _, alive = psutil.wait_procs(children, timeout=20)
        assert not alive, [p.pid for p in alive]
    # the pid files it left are recognised as stale, and `stop` cleans them up
    res = stack_cli(root, "status")
    assert res.returncode == 3 and "stale" in res.stdout
    assert stack_cli(root, "stop").returncode == 0
    assert not list((root / "run").glob("*.pid"))


def test_the_stacks_prometheus_gets_the_flags_the_config_implies(tmp_path: Path) -> None:
    """Retention and the alert resend delay are Prometheus flags: the stack passes
    tradewatch.rules.prometheus_flags, so the Watchdog is re-sent as often as the bridge expects
    it (not after Prometheus's default 1m, which left the heartbeat unhealthy after a restart)."""
    from tradewatch.config import parse_config
    from tradewatch.rules import prometheus_flags
    from tradewatch.stack import Options, build_parts
    from tradewatch.stack_layout import Layout, Ports

    cfg = parse_config({"intervals": {"evaluation": "1s"}, "alerting": {"watchdog_repeat_interval": "2s"}},
                       env={})
    opts = Options(layout=Layout(tmp_path / "stack"), ports=Ports(), env_file=tmp_path / ".env")
    parts = build_parts(opts, cfg, tmp_path / "c.yaml", tmp_path / "prometheus.yml", tmp_path / "am.yml")
    prom = next(p for p in parts if p.name == "prometheus")
    assert "--rules.alert.resend-delay=1s" in prom.args
    assert set(prometheus_flags(cfg)) <= set(prom.args)
