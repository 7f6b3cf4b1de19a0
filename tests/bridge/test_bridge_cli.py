"""`tradewatch-bridge`: start-up checks (exit 2 with a clear message), health, clean SIGTERM shutdown."""

from __future__ import annotations

import signal
import subprocess

import pytest

from tests.support.bridge import bridge_process, config_data, write_config
from tests.support.procs import binary, wait_until

pytestmark = pytest.mark.integration


def test_serves_migrates_runs_workers_and_stops_cleanly_on_sigterm(tmp_path):
    with bridge_process(tmp_path, config_data(tmp_path)) as bridge:
        def healthy():
            status, body = bridge.request("GET", "/health")
            return status == 200 and body

        body = wait_until(healthy, 15, what="/health 200")
        assert set(body["checks"]) == {"database", "workers", "sender", "external_url"}
        # links to localhost are a warning, never a readiness failure
        assert body["checks"]["external_url"]["ok"] and "only works on this machine" in \
            body["checks"]["external_url"]["warning"]
        assert bridge.request("GET", "/metrics")[0] == 200
        code = bridge.proc.stop(signal.SIGTERM)
        log = bridge.proc.log.read_text()
    assert code == 0, log
    assert "applied migrations 0001_core.sql" in log
    assert "worker lease taken" in log and "worker lease released" in log and log.rstrip().endswith("stopped")


def test_cli_refuses_a_public_address_without_a_token(tmp_path):
    path = write_config(tmp_path, config_data(tmp_path))
    proc = subprocess.run(
        [binary("tradewatch-bridge"), "--listen", "0.0.0.0:18999", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "refusing to listen on 0.0.0.0:18999 without an API token" in proc.stderr
    assert "bridge.api_token" in proc.stderr


def test_cli_bad_config_and_listen_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("bridge: {databse: x}\n")
    proc = subprocess.run(
        [binary("tradewatch-bridge"), "--config", str(bad)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2 and "bridge.databse: unknown key" in proc.stderr
    proc = subprocess.run(
        [binary("tradewatch-bridge"), "--listen", "nonsense", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "--listen must be HOST:PORT" in proc.stderr


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_bodies_get_the_json_413_from_the_real_server(tmp_path, chunked):
    import http.client
    import json

    data = config_data(tmp_path, bridge={"max_body_bytes": 10_000})
    with bridge_process(tmp_path, data) as bridge:
        host, port = bridge.url.removeprefix("http://").split(":")
        for size in (20_000, 500_000):  # over our limit; far over it (waitress answers itself)
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            try:
                if chunked:
                    conn.putrequest("POST", "/api/monitoring/webhook")
                    conn.putheader("Transfer-Encoding", "chunked")
                    conn.endheaders()
                    chunk = b"a" * size
                    conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n")
                else:
                    conn.request("POST", "/api/monitoring/webhook", body=b"a" * size)
                resp = conn.getresponse()
                body = json.loads(resp.read())
            finally:
                conn.close()
            assert resp.status == 413, (size, body)
            assert body == {"error": "request body too large",
                            "detail": "the limit is 10000 bytes (bridge.max_body_bytes)"}


def test_two_bridge_processes_on_one_database_run_the_workers_once(tmp_path):
    from tests.support.bridge import alert, notifications, webhook
    from tests.support.smtp import smtp_server

    with smtp_server() as smtp:
        data = config_data(tmp_path, email={"smtp_server": "127.0.0.1", "smtp_port": smtp.port,
                                            "security": "none"})
        with bridge_process(tmp_path, data, log_name="a.log") as a, \
                bridge_process(tmp_path, data, log_name="b.log") as b:
            def holders():
                found = set()
                for p in (a, b):
                    status, body = p.request("GET", "/health")
                    if status != 200:
                        return None
                    found.add(body["checks"]["workers"]["detail"])
                return found

            assert len(wait_until(holders, 20, what="both healthy")) == 1  # both name the same holder
            payload = webhook(alert("DiskFull", severity="critical"))
            assert a.request("POST", "/api/monitoring/webhook", payload)[0] == 200
            assert b.request("POST", "/api/monitoring/webhook", payload)[0] == 200
            smtp.mailbox.wait_for(1, timeout=20)
            wait_until(lambda: notifications(a.db_path)[0]["status"] == "sent", 10, what="sent")
            logs = [a.proc.output(), b.proc.output()]
        assert len(notifications(a.db_path)) == 1 and len(smtp.mailbox.messages) == 1
        assert sum("worker lease taken" in log for log in logs) == 1
