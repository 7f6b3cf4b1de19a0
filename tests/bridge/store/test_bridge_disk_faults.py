"""A read-only or full disk under the real bridge (issues 13.8, 13.9): 503 with Retry-After and
/health not ready while it lasts, a one-line start-up error, recovery without a restart, and
nothing acknowledged lost."""

from __future__ import annotations

import subprocess
import time

import pytest

from alert_bridge.web.app import create_app
from tests.support.bridge import (
    Clock,
    alert,
    bridge_process,
    config_data,
    make_config,
    notifications,
    webhook,
    write_config,
)
from tests.support.procs import binary, free_port, wait_until
from tests.support.tmpfs import fill, remount, tmpfs

pytestmark = pytest.mark.integration
HOOK = "/api/monitoring/webhook"


def data_on(tmp_path, folder):
    data = config_data(tmp_path)
    data["bridge"]["database"] = str(folder / "bridge.db")
    return data


def emails(outbox, name: str) -> int:
    return sum(1 for p in outbox.glob("*.eml") if name in p.read_text(errors="replace"))


def test_read_only_while_running_is_503_then_recovers(tmp_path):
    """The app runs, its filesystem turns read-only (remounted: this needs no file open for
    writing, so the app's connections are closed first and reopen on the next request, as a
    new worker thread's would), then writable again."""
    with tmpfs(tmp_path / "db", "16m") as folder:
        config = make_config(tmp_path, bridge={"database": str(folder / "bridge.db")})
        app = create_app(config, clock=Clock())
        client, db = app.test_client(), app.extensions["tradewatch"].db
        try:
            before = client.post(HOOK, json=webhook(alert("BeforeRO", fingerprint="fp-ro-1")))
            assert before.status_code == 200
            db.close()
            remount(folder, read_only=True)
            try:
                resp = client.post(HOOK, json=webhook(alert("DuringRO", fingerprint="fp-ro-2")))
                assert resp.status_code == 503, resp.json
                assert resp.json["error"] == "store unavailable, retry later"
                assert resp.headers["Retry-After"]
                health = client.get("/health")
                assert health.status_code == 503 and not health.json["checks"]["database"]["ok"], health.json
                assert "read-only" in health.json["checks"]["database"]["detail"]
                db.close()
            finally:
                remount(folder, read_only=False)
            after = client.post(HOOK, json=webhook(alert("DuringRO", fingerprint="fp-ro-2")))
            assert after.status_code == 200
            assert client.get("/health").json["checks"]["database"]["ok"]
        finally:
            db.close()


def test_starting_on_a_read_only_database_is_one_line_and_exit_2(tmp_path):
    with tmpfs(tmp_path / "db", "4m") as folder:
        data = data_on(tmp_path, folder)
        with bridge_process(tmp_path, data):
            pass  # creates and migrates the database
        remount(folder, read_only=True)
        try:
            path = write_config(tmp_path, data)
            proc = subprocess.run([binary("tradewatch-bridge"), "--listen", f"127.0.0.1:{free_port()}",
                                   "--config", str(path)], capture_output=True, text=True, timeout=30)
        finally:
            remount(folder, read_only=False)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if "cannot write the database" in ln]
    assert len(lines) == 1 and str(folder / "bridge.db") in lines[0] and "writable" in lines[0], proc.stderr


def test_disk_full_is_503_and_unhealthy_then_recovers_without_restart(tmp_path):
    with tmpfs(tmp_path / "db", "12m") as folder, \
            bridge_process(tmp_path, data_on(tmp_path, folder)) as bridge:
        wait_until(lambda: bridge.request("GET", "/health")[0] == 200, 30, what="/health 200")
        accepted = []
        filler = fill(folder)
        got_503 = False
        for i in range(60):
            name = f"Full{i}"
            status, _ = bridge.request("POST", HOOK, webhook(alert(name, fingerprint=f"fp-full-{i}")))
            if status == 200:
                accepted.append(name)
            else:
                assert status == 503
                got_503 = True
                break
        assert got_503, "the disk never looked full"
        status, health = bridge.request("GET", "/health")
        assert status == 503 and not health["checks"]["database"]["ok"], health
        filler.unlink()
        freed = time.monotonic()

        def recovered():
            status, _ = bridge.request("POST", HOOK, webhook(alert("AfterFull", fingerprint="fp-after-full")))
            return status == 200 and bridge.request("GET", "/health")[0] == 200

        wait_until(recovered, 90, what="webhooks and /health back after space was freed")
        print(f"recovered {time.monotonic() - freed:.1f} s after space was freed")
        outbox = tmp_path / "outbox"
        for name in [*accepted, "AfterFull"]:
            wait_until(lambda n=name: emails(outbox, n) >= 1, 60, what=f"email for {name}")
        time.sleep(2)
        dupes = {n: emails(outbox, n) for n in [*accepted, "AfterFull"] if emails(outbox, n) != 1}
        assert dupes == {}, dupes
        stuck = [n for n in notifications(bridge.db_path) if n["status"] in ("sending", "pending")]
        assert stuck == [], stuck
