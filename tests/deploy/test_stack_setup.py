"""`tradewatch setup` run as the banner says, in a checkout with a local stack (issue 14.2): it
configures that stack (test email in the stack's outbox), keeps the stack's API token, and applies
the change to the running stack (or prints the exact command). Driven through a real pty."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pexpect
import pytest

from tests.support.procs import REPO
from tests.support.stack import free_ports, running_stack, stack_cli
from tests.support.wizard import Transcript, answer_and_apply, clean_env, file_sink_answers, no_channel
from tradewatch.stack_env import read_env_file, write_env_file
from tradewatch.stack_layout import Layout, ensure_config, ensure_token


def _wizard(*args: str, env: dict[str, str] | None = None) -> tuple[pexpect.spawn, list[str]]:
    child = pexpect.spawn(sys.executable, ["-m", "tradewatch.cli", "setup", *args], cwd=str(REPO),
                          env=env or clean_env(), encoding="utf-8", timeout=60)
    transcript: list[str] = []
    child.logfile_read = Transcript(transcript)
    return child, transcript


def test_stack_not_running_gets_its_config_outbox_and_keeps_its_token(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "stack")
    ensure_config(layout)
    token, _ = ensure_token(layout)
    env_file = tmp_path / ".env"
    write_env_file(env_file, {"TRADEWATCH_API_TOKEN": "an-old-token-from-an-earlier-setup"})
    child, transcript = _wizard("--env-file", str(env_file),
                                env=clean_env(TRADEWATCH_STACK_DIR=str(layout.root)))
    child.expect(f"for the local stack in {layout.root}, config {layout.config}")
    file_sink_answers(child, "")
    child.expect(f"Test email sent: written to {layout.outbox}")
    no_channel(child)
    child.expect("sets TRADEWATCH_API_TOKEN, which the stack uses instead of its own")
    child.expect(f"is not running; it uses the new settings from its next start: `bash deploy/run-stack.sh "
                 f"--dir {layout.root}`")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, "".join(transcript)
    emls = list(layout.outbox.glob("*.eml"))  # the stack's outbox, not var/outbox
    assert len(emls) == 1 and "ops@example.com" in emls[0].read_text()
    values = read_env_file(env_file)
    assert values["TRADEWATCH_API_TOKEN"] == "an-old-token-from-an-earlier-setup"  # not replaced either
    assert layout.token_file.read_text().strip() == token
    assert values["ALERT_EMAIL"] == "ops@example.com" and "TRADEWATCH_EXTERNAL_URL" not in values


@pytest.mark.integration
def test_running_stack_is_reloaded_with_the_new_settings_and_its_token_still_works(tmp_path: Path) -> None:
    root, ports = tmp_path / "stack", free_ports()
    env_file = tmp_path / ".env"
    env_file.write_text("")
    with running_stack(root, ports, "--env-file", str(env_file)) as run:
        token = (root / "secrets" / "api_token").read_text().strip()
        bridge = f"http://127.0.0.1:{ports['bridge']}"
        with urllib.request.urlopen(f"{bridge}/health", timeout=10) as resp:
            assert "warning" in json.load(resp)["checks"]["external_url"]  # links point to localhost
        child, transcript = _wizard("--stack-dir", str(root), "--env-file", str(env_file))
        answer_and_apply(child, "https://tw.example.com", root / "outbox")
        child.close()
        assert child.exitstatus == 0, "".join(transcript)
        assert "reloaded .env and tradewatch.yaml" in run.proc.output()
        assert "TRADEWATCH_API_TOKEN" not in read_env_file(env_file)

        # the restarted bridge has the new settings, and the stack's own token still logs in
        with urllib.request.urlopen(f"{bridge}/health", timeout=10) as resp:
            link = json.load(resp)["checks"]["external_url"]
        assert link == {"ok": True, "detail": "https://tw.example.com"}
        req = urllib.request.Request(f"{bridge}/api/monitoring/send-test-email", data=b"{}", method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert json.load(resp)["recipients"] == ["ops@example.com"]

        # a config that does not load is refused by `reload`: nothing is restarted
        pid = json.loads((root / "run" / "bridge.pid").read_text())["pid"]
        config = root / "tradewatch.yaml"
        config.write_text(config.read_text() + "\nbogus_section: 1\n")
        res = stack_cli(root, "reload")
        assert res.returncode == 1 and "not reloaded" in res.stdout, res.stdout
        assert "bogus_section: unknown key" in res.stdout
        assert json.loads((root / "run" / "bridge.pid").read_text())["pid"] == pid
        assert "reload refused" in run.proc.output()

