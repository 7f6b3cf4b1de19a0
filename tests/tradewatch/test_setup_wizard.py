"""`tradewatch setup` driven through a real pseudo-terminal and by flags, against a real SMTP server."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pexpect
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.procs import REPO, free_port
from tests.support.smtp import server_tls_context, smtp_server
from tests.support.wizard import Transcript, clean_env, no_channel
from tradewatch.stack_env import read_env_file

PASSWORD = "s3cret-Pa55-wOrd"


class Logins:
    """aiosmtpd authenticator that accepts one user and remembers what it was given."""

    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self.seen: list[tuple[str, str]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, pw = auth_data.login.decode(), auth_data.password.decode()
        self.seen.append((login, pw))
        return AuthResult(success=(login, pw) == (self.user, self.password))


def _env(ca_pem: Path | None = None) -> dict[str, str]:
    # with a CA: the client trusts the test CA, verification stays on
    return clean_env(**({"SSL_CERT_FILE": str(ca_pem)} if ca_pem else {}))


def _setup(*args: str, env: dict[str, str] | None = None,
           stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradewatch.cli", "setup", *args], capture_output=True,
                          text=True, timeout=60, env=env or _env(), input=stdin, cwd=REPO)


def test_interactive_starttls_sends_test_email_never_echoes_password(tmp_path: Path, site: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca_pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    logins = Logins("ops@example.com", PASSWORD)
    env_file = tmp_path / ".env"
    with smtp_server(tls_context=server_tls_context(cert), require_starttls=True,
                     authenticator=logins, auth_require_tls=True) as smtp:
        child = pexpect.spawn(sys.executable, ["-m", "tradewatch.cli", "setup", "--config", str(site),
                                               "--env-file", str(env_file)],
                              cwd=str(REPO), env=_env(ca_pem), encoding="utf-8", timeout=30)
        transcript: list[str] = []
        child.logfile_read = Transcript(transcript)
        child.expect("Email provider")
        child.sendline("2")  # another STARTTLS server
        child.expect("SMTP server")
        child.sendline("127.0.0.1")
        child.expect(r"SMTP port \[587\]")
        child.sendline(str(smtp.port))
        child.expect("Username")
        child.sendline("ops@example.com")
        child.expect("SMTP password")
        child.sendline(PASSWORD)
        child.expect(r"Sender address \[ops@example.com\]")
        child.sendline("")
        child.expect("Alert recipients")
        child.sendline("oncall@example.com, boss@example.com")
        child.expect(r"Links in emails now point to http://localhost:8080 \(this machine only\)")
        child.expect("Dashboard address for links in emails: ")
        child.sendline("phone.example")  # not a URL: asked again
        child.expect("must be an http:// or https:// address")
        child.sendline("https://tw.example.com/")
        child.expect(r"Send a test email now\? \[Y/n\]")
        child.sendline("")
        child.expect("Test email sent")
        no_channel(child)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0, "".join(transcript)
        messages = smtp.mailbox.wait_for(1)

    output = "".join(transcript)
    assert PASSWORD not in output  # not echoed while typed, not printed after
    assert logins.seen == [("ops@example.com", PASSWORD)]
    assert len(messages) == 1
    assert set(smtp.mailbox.envelopes[0].rcpt_tos) == {"oncall@example.com", "boss@example.com"}
    assert messages[0]["X-TradeWatch-Kind"] == "test"

    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = read_env_file(env_file)
    assert values["SMTP_SERVER"] == "127.0.0.1" and values["SMTP_PORT"] == str(smtp.port)
    assert values["SMTP_SECURITY"] == "starttls" and values["SMTP_USERNAME"] == "ops@example.com"
    assert values["SMTP_PASSWORD"] == PASSWORD and values["FROM_EMAIL"] == "ops@example.com"
    assert values["ALERT_EMAIL"] == "oncall@example.com, boss@example.com"
    assert len(values["TRADEWATCH_API_TOKEN"]) >= 32  # no stack here: docker compose needs one
    assert values["TRADEWATCH_EXTERNAL_URL"] == "https://tw.example.com"

    # the config really picks the settings up from .env (the stack runner passes them on)
    from tradewatch.config import load_config

    cfg = load_config(site, env=values)
    assert (cfg.email.smtp_server, cfg.email.smtp_port, cfg.email.security) == ("127.0.0.1", smtp.port,
                                                                                  "starttls")
    assert cfg.email.to == ["oncall@example.com", "boss@example.com"]


def test_interactive_failed_send_can_keep_the_settings_and_ctrl_c_writes_nothing(tmp_path: Path,
                                                                                  site: Path) -> None:
    env_file = tmp_path / ".env"
    dead = free_port()
    child = pexpect.spawn(sys.executable, ["-m", "tradewatch.cli", "setup", "--config", str(site),
                                           "--env-file", str(env_file), "--provider", "ssl",
                                           "--server", "127.0.0.1", "--port", str(dead)],
                          cwd=str(REPO), env=_env(), encoding="utf-8", timeout=30)
    transcript: list[str] = []
    child.logfile_read = Transcript(transcript)
    child.expect("Username")
    child.sendline("me")
    child.expect("SMTP password")
    child.sendline(PASSWORD)
    child.expect("Sender address")
    child.sendline("me@example.com")
    child.expect("Alert recipients")
    child.sendline("")  # defaults to the sender
    child.expect("Dashboard address for links in emails")
    child.sendline("")  # left unset
    child.expect(r"Send a test email now\?")
    child.sendline("y")
    child.expect("Test email FAILED: cannot reach")
    child.expect(r"Save these settings anyway\? \[y/N\]")
    child.sendline("y")
    no_channel(child)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and PASSWORD not in "".join(transcript)
    values = read_env_file(env_file)
    assert values["SMTP_SECURITY"] == "ssl" and values["SMTP_PORT"] == str(dead)
    assert values["ALERT_EMAIL"] == "me@example.com" and values["SMTP_PASSWORD"] == PASSWORD

    # a second run, interrupted: the saved password is offered, nothing changes
    before = env_file.read_text()
    child = pexpect.spawn(sys.executable, ["-m", "tradewatch.cli", "setup", "--config", str(site),
                                           "--env-file", str(env_file)],
                          cwd=str(REPO), env=_env(), encoding="utf-8", timeout=30)
    child.expect(r"Email provider \[3\]")  # the saved provider is the default
    child.sendline("")
    child.expect(r"SMTP server \[127.0.0.1\]")
    child.sendintr()
    child.expect("nothing written")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert env_file.read_text() == before


def test_non_interactive_plain_smtp_with_password_file(tmp_path: Path, site: Path) -> None:
    pw_file = tmp_path / "pw"
    pw_file.write_text(PASSWORD + "\n")
    env_file = tmp_path / "site.env"
    env_file.write_text("# mine\nKEEP_ME='yes'\nTRADEWATCH_API_TOKEN='existing-token'\n")
    logins = Logins("bot", PASSWORD)
    with smtp_server(authenticator=logins, auth_require_tls=False) as smtp:
        res = _setup("--config", str(site), "--provider", "starttls", "--security", "none",
                     "--server", "127.0.0.1", "--port", str(smtp.port), "--username", "bot",
                     "--password-file", str(pw_file), "--from", "bot@example.com",
                     "--to", "a@example.com", "--to", "b@example.com", "--env-file", str(env_file),
                     "--non-interactive")
        assert res.returncode == 0, res.stdout + res.stderr
        smtp.mailbox.wait_for(1)
    assert PASSWORD not in res.stdout + res.stderr
    assert logins.seen == [("bot", PASSWORD)]
    values = read_env_file(env_file)
    assert values["KEEP_ME"] == "yes" and values["TRADEWATCH_API_TOKEN"] == "existing-token"
    assert values["SMTP_SECURITY"] == "none" and values["ALERT_EMAIL"] == "a@example.com, b@example.com"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_failed_test_send_writes_nothing_and_says_why(tmp_path: Path, site: Path) -> None:
    env_file = tmp_path / ".env"
    dead_port = free_port()
    res = _setup("--config", str(site), "--provider", "ssl", "--server", "127.0.0.1", "--port",
                 str(dead_port), "--username", "u", "--password-file", "-", "--to", "x@example.com",
                 "--from", "u@example.com", "--env-file", str(env_file), stdin=PASSWORD + "\n")
    assert res.returncode == 1
    assert "Test email FAILED" in res.stdout and "cannot reach" in res.stdout
    assert "Nothing written" in res.stdout and not env_file.exists()
    assert PASSWORD not in res.stdout + res.stderr


def test_provider_none_uses_the_file_sink(tmp_path: Path, site: Path) -> None:
    env_file = tmp_path / ".env"
    res = _setup("--config", str(site), "--provider", "none", "--to", "me@example.com",
                 "--env-file", str(env_file))
    assert res.returncode == 0, res.stdout + res.stderr
    emls = list((tmp_path / "outbox").glob("*.eml"))
    assert len(emls) == 1 and "me@example.com" in emls[0].read_text()
    values = read_env_file(env_file)
    assert values["SMTP_SERVER"] == "" and values["ALERT_EMAIL"] == "me@example.com"
    assert "SMTP_PASSWORD" not in values


def test_missing_values_are_clear_errors_without_a_terminal(tmp_path: Path) -> None:
    res = _setup("--env-file", str(tmp_path / ".env"), "--no-test-send")
    assert res.returncode == 2 and "--provider is required" in res.stdout
    res = _setup("--provider", "gmail", "--env-file", str(tmp_path / ".env"), "--no-test-send")
    assert res.returncode == 2 and "username" in res.stdout.lower()
    res = _setup("--provider", "gmail", "--username", "me@gmail.com", "--to", "x@example.com",
                 "--env-file", str(tmp_path / ".env"), "--no-test-send")
    assert res.returncode == 2 and "--password-file" in res.stdout
    res = _setup("--provider", "none", "--to", "not-an-address", "--env-file", str(tmp_path / ".env"),
                 "--no-test-send")
    assert res.returncode == 2 and "not an email address" in res.stdout
    assert not (tmp_path / ".env").exists()


def test_gmail_preset_and_no_test_send(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    res = _setup("--provider", "gmail", "--username", "me@gmail.com", "--password-file", "-",
                 "--to", "me@gmail.com", "--no-test-send", "--env-file", str(env_file),
                 stdin="abcd efgh ijkl mnop\n")
    assert res.returncode == 0, res.stdout + res.stderr
    values = read_env_file(env_file)
    assert (values["SMTP_SERVER"], values["SMTP_PORT"], values["SMTP_SECURITY"]) == ("smtp.gmail.com", "587",
                                                                                       "starttls")
    assert values["SMTP_PASSWORD"] == "abcdefghijklmnop"  # Google's display spaces removed
    assert values["FROM_EMAIL"] == "me@gmail.com"
