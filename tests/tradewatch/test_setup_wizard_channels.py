"""`tradewatch setup` adds a push channel: through a real pseudo-terminal and by flags, the URL kept in
.env (0600) and referred to from the YAML, and a real test message through real Apprise to a JSON
receiver on 127.0.0.1."""

from __future__ import annotations

import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pexpect
import yaml

from tests.support.procs import REPO, free_port
from tests.support.receiver import Receiver, receiver
from tests.support.wizard import Transcript, clean_env, file_sink_answers
from tradewatch.stack_env import read_env_file
from tradewatch.stack_layout import Layout, ensure_config, ensure_token

SECRET = "Chan-S3cret-t0ken"
VAR = "TRADEWATCH_CHANNEL_PHONE_URL"


def _setup(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradewatch.cli", "setup", *args], capture_output=True,
                          text=True, timeout=90, env=clean_env(), input=stdin, cwd=REPO)


def _spawn(*args: str) -> tuple[pexpect.spawn, list[str]]:
    child = pexpect.spawn(sys.executable, ["-m", "tradewatch.cli", "setup", *args], cwd=str(REPO),
                          env=clean_env(), encoding="utf-8", timeout=60)
    transcript: list[str] = []
    child.logfile_read = Transcript(transcript)
    return child, transcript


def _channels(site: Path) -> list[dict]:
    return yaml.safe_load(site.read_text())["channels"]


def test_interactive_adds_a_json_channel_tests_it_and_keeps_the_token_out_of_yaml_and_output(
        tmp_path: Path, site: Path, rx: Receiver) -> None:
    env_file = tmp_path / ".env"
    before = site.read_text()
    child, transcript = _spawn("--config", str(site), "--env-file", str(env_file))
    file_sink_answers(child, "")
    child.expect(r"Add a push channel \(Telegram, Discord, Slack, Pushover, ntfy, Matrix, JSON webhook\)\? "
                 r"\[y/N\]")
    child.sendline("y")
    child.expect(r"7\) JSON webhook")
    child.expect("Service")
    child.sendline("7")
    child.expect(r"Endpoint URL .*\(not shown\)")
    child.sendline(f"http://bot:{SECRET}@127.0.0.1:{rx.port}/hook")
    child.expect(r"URL: json://bot:\*+@127\.0\.0\.1")
    child.expect(r"Channel name .*\[json\]")
    child.sendline("Phone!")  # not a valid name: asked again
    child.expect("must be 1 to 32 of a-z")
    child.expect("Channel name")
    child.sendline("phone")
    child.expect(r"Severities it receives .*\[critical, emergency\]")
    child.sendline("")
    child.expect(f"Channel phone .* added in {site}")
    child.expect("Test message delivered to phone")
    child.expect("Restart the bridge to use the new settings")
    child.expect(pexpect.EOF)
    child.close()
    output = "".join(transcript)
    assert child.exitstatus == 0, output

    got = rx.wait_for(1, "/hook")
    assert len(got) == 1 and "test" in (got[0]["title"] + got[0]["message"]).lower()
    assert SECRET not in output
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = read_env_file(env_file)
    assert values[VAR] == f"json://bot:{SECRET}@127.0.0.1:{rx.port}/hook"
    assert values["ALERT_EMAIL"] == "ops@example.com"  # the email step's settings are there too
    text = site.read_text()
    assert text.startswith(before)  # the rest of the file, comments included, as it was
    assert f'url: "${{{VAR}}}"' in text and SECRET not in text
    assert _channels(site) == [{"name": "phone", "url": f"${{{VAR}}}",
                                "severities": ["critical", "emergency"]}]

    # check-config shows it, masked
    res = subprocess.run([sys.executable, "-m", "tradewatch.cli", "check-config", "--config", str(site),
                          "--env-file", str(env_file)], capture_output=True, text=True, timeout=60,
                         env=clean_env(), cwd=REPO)
    assert res.returncode == 0, res.stderr
    assert "name: phone" in res.stdout and f"json://bot:****@127.0.0.1:{rx.port}/h...k" in res.stdout
    assert SECRET not in res.stdout + res.stderr and f".env ({env_file}): {VAR}" in res.stdout

    # the same name again, by flags: replaced (and said so), the other settings kept
    res = _setup("--config", str(site), "--env-file", str(env_file), "--channel-name", "phone",
                 "--channel-url", rx.url("again"), "--channel-severities", "warning, critical")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "replaced the one of that name" in res.stdout and "delivered" in res.stdout
    assert _channels(site) == [{"name": "phone", "url": f"${{{VAR}}}", "severities": ["warning", "critical"]}]
    assert read_env_file(env_file)[VAR] == rx.url("again") and len(rx.wait_for(1, "/again")) == 1
    assert read_env_file(env_file)["ALERT_EMAIL"] == "ops@example.com"


def test_a_dead_receiver_prints_the_reason_and_the_retry_command_and_keeps_the_channel(
        tmp_path: Path, site: Path) -> None:
    env_file = tmp_path / ".env"
    port = free_port()
    url = f"json://bot:{SECRET}@127.0.0.1:{port}/desk"
    res = _setup("--config", str(site), "--env-file", str(env_file), "--channel-name", "desk",
                 "--channel-url-file", "-", "--non-interactive", stdin=url + "\n")
    output = res.stdout + res.stderr
    assert res.returncode == 1, output
    assert "Test message to desk FAILED:" in output and "stays saved" in output
    assert SECRET not in output
    retry = f".venv/bin/tradewatch notify-test --channel desk --config {site} --env-file {env_file}"
    assert f"`{retry}`" in output
    assert read_env_file(env_file)["TRADEWATCH_CHANNEL_DESK_URL"] == url
    assert [c["name"] for c in _channels(site)] == ["desk"]

    # the printed command works once the service is back
    with receiver(port) as rx:
        again = subprocess.run(shlex.split(retry), capture_output=True, text=True, timeout=90,
                               env=clean_env(), cwd=REPO)
        assert again.returncode == 0, again.stdout + again.stderr
        assert len(rx.wait_for(1, "/desk")) == 1 and SECRET not in again.stdout + again.stderr


def test_email_and_channel_by_flags_in_one_run(tmp_path: Path, site: Path, rx: Receiver) -> None:
    env_file = tmp_path / ".env"
    res = _setup("--config", str(site), "--env-file", str(env_file), "--provider", "none",
                 "--to", "me@example.com", "--channel-name", "ops_2", "--channel-url", rx.url("ops"),
                 "--channel-severities", "emergency", "--non-interactive")
    assert res.returncode == 0, res.stdout + res.stderr
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1 and len(rx.wait_for(1, "/ops")) == 1
    values = read_env_file(env_file)
    assert values["ALERT_EMAIL"] == "me@example.com"
    assert values["TRADEWATCH_CHANNEL_OPS_2_URL"] == rx.url("ops")
    assert _channels(site) == [{"name": "ops_2", "url": "${TRADEWATCH_CHANNEL_OPS_2_URL}",
                                "severities": ["emergency"]}]


def test_bad_flags_exit_2_naming_the_flag_and_write_nothing(tmp_path: Path, site: Path) -> None:
    env_file = tmp_path / ".env"
    before = site.read_text()
    base = ("--config", str(site), "--env-file", str(env_file), "--non-interactive")
    cases = [
        (("--channel-name", "desk", "--channel-url", f"nope://{SECRET}"),
         "--channel-url: Apprise cannot parse"),
        (("--channel-name", "desk", "--channel-url", f"{SECRET}"), "--channel-url: not an Apprise URL"),
        (("--channel-name", "Desk Top", "--channel-url", "json://127.0.0.1:9/"), "--channel-name: must be"),
        (("--channel-name", "desk", "--channel-url", "json://127.0.0.1:9/", "--channel-severities", "loud"),
         "--channel-severities: unknown severity 'loud'"),
        (("--channel-url", "json://127.0.0.1:9/"), "--channel-name is required"),
        (("--add-channel", "--channel-name", "desk"), "--channel-url (or --channel-url-file) is required"),
        # with email flags too: the channel's flags are checked before the email is written
        (("--provider", "none", "--to", "a@example.com", "--channel-name", "desk", "--channel-url", "x"),
         "--channel-url: not an Apprise URL"),
    ]
    for flags, message in cases:
        res = _setup(*base, *flags)
        assert res.returncode == 2, (flags, res.stdout + res.stderr)
        assert message in res.stdout, (flags, res.stdout)
        assert SECRET not in res.stdout + res.stderr
    assert not env_file.exists() and site.read_text() == before
    # a name whose variable another channel uses (a-b and a_b are both TRADEWATCH_CHANNEL_A_B_URL)
    site.write_text(before + '\nchannels:\n  - name: a-b\n    url: "${TRADEWATCH_CHANNEL_A_B_URL:-json://h/}"\n')
    res = _setup(*base, "--channel-name", "a_b", "--channel-url", "json://127.0.0.1:9/")
    assert res.returncode == 2 and "--channel-name: channel 'a-b' already keeps its URL" in res.stdout
    assert not env_file.exists()
    # the shipped example is never edited
    res = _setup("--env-file", str(env_file), "--non-interactive", "--channel-name", "desk",
                 "--channel-url", "json://127.0.0.1:9/")
    assert res.returncode == 2 and "shipped example" in res.stdout and not env_file.exists()


def test_interactive_bad_url_is_asked_again_and_ctrl_c_writes_nothing(tmp_path: Path, site: Path,
                                                                      rx: Receiver) -> None:
    env_file = tmp_path / ".env"
    before = site.read_text()
    child, transcript = _spawn("--config", str(site), "--env-file", str(env_file), "--add-channel")
    child.expect("push channel setup")
    child.expect("Service")
    child.sendline("8")  # other: paste an Apprise URL
    child.expect(r"Apprise URL \(not shown\)")
    child.sendline(f"nope://{SECRET}")
    child.expect(r"Apprise cannot parse 'nope://\*+'")
    child.expect(r"Apprise URL \(not shown\)")
    child.sendline(rx.url("pasted"))
    child.expect(r"Channel name .*\[phone\]")
    child.sendintr()
    child.expect("Channel not added; nothing written")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130 and SECRET not in "".join(transcript)
    assert not env_file.exists() and site.read_text() == before
    assert rx.received() == []


def test_a_local_stack_gets_the_channel_in_its_config_and_the_restart_it_needs(tmp_path: Path,
                                                                               rx: Receiver) -> None:
    layout = Layout(tmp_path / "stack")
    ensure_config(layout)
    ensure_token(layout)
    env_file = tmp_path / ".env"
    res = subprocess.run([sys.executable, "-m", "tradewatch.cli", "setup", "--env-file", str(env_file),
                          "--channel-name", "phone", "--channel-url", rx.url("stack")],
                         capture_output=True, text=True, timeout=90, cwd=REPO,
                         env=clean_env(TRADEWATCH_STACK_DIR=str(layout.root)))
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"added in {layout.config}" in res.stdout and "Test message delivered to phone" in res.stdout
    assert f"The stack in {layout.root} is not running; it uses the new settings from its next start" \
        in res.stdout
    assert len(rx.wait_for(1, "/stack")) == 1
    assert [c["name"] for c in _channels(layout.config)] == ["phone"]
    assert "TRADEWATCH_API_TOKEN" not in read_env_file(env_file)  # the stack keeps its own token
