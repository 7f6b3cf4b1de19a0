"""check-config resolves the environment as the services get it and names each value's source
(issue 14.3): the stack's config showed tradewatch@localhost and api_token '' while the running
stack used .env and its token file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.procs import REPO
from tests.support.wizard import clean_env
from tradewatch.stack import Options, stack_env
from tradewatch.stack_env import write_env_file
from tradewatch.stack_layout import Layout, Ports, ensure_config, ensure_token, stack_environment

SMTP_PASSWORD = "pa55-from-dotenv-x"


def _stack(tmp_path: Path) -> tuple[Layout, Path, str]:
    layout = Layout(tmp_path / "stack")
    ensure_config(layout)
    token, _ = ensure_token(layout)
    env_file = tmp_path / ".env"
    write_env_file(env_file, {"SMTP_SERVER": "mail.example.com", "SMTP_PORT": "587", "SMTP_USERNAME": "bot",
                              "SMTP_PASSWORD": SMTP_PASSWORD, "FROM_EMAIL": "bot@example.com",
                              "ALERT_EMAIL": "me@example.com, you@example.com"})
    return layout, env_file, token


def _env(**extra: str) -> dict[str, str]:
    return clean_env(**extra)


def _check(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradewatch.cli", "check-config", *args],
                          capture_output=True, text=True, timeout=60, env=env, cwd=REPO)


def _line(out: str, key: str) -> str:
    return next(ln for ln in out.splitlines() if ln.strip().startswith(f"{key}:"))


def test_the_stack_config_shows_what_the_stack_uses_and_where_it_came_from(tmp_path: Path) -> None:
    layout, env_file, token = _stack(tmp_path)
    res = _check("--config", str(layout.config), "--env-file", str(env_file),
                 env=_env(SMTP_PORT="2525", TRADEWATCH_BRIDGE_PORT="8111"))
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert token not in out and SMTP_PASSWORD not in out  # secrets masked
    assert _line(out, "from_email") == f"  from_email: bot@example.com  # .env ({env_file}): FROM_EMAIL"
    assert _line(out, "to") == f"  to: [me@example.com, you@example.com]  # .env ({env_file}): ALERT_EMAIL"
    assert _line(out, "smtp_port") == "  smtp_port: 2525  # environment: SMTP_PORT"  # the environment wins
    assert _line(out, "password").startswith("  password: '********'  # .env (")
    api = _line(out, "api_token")
    assert api.startswith("  api_token: '********'  # the stack in ") and str(layout.token_file) in api
    listen = "  listen: '127.0.0.1:8111'  # environment: TRADEWATCH_BRIDGE_PORT"
    assert _line(out, "listen").startswith(listen)
    assert _line(out, "timeout").endswith("# default")  # email.timeout: not in the file
    assert _line(out, "database") == f"  database: {layout.root / 'data' / 'tradewatch.db'}  # file"
    assert "only works on this machine" in out  # links would point to localhost

    # JSON: the same, as data
    data = json.loads(_check("--config", str(layout.config), "--env-file", str(env_file), "--json",
                             env=_env()).stdout)
    assert data["config"]["email"]["from_email"] == "bot@example.com"
    assert data["config"]["bridge"]["api_token"] == "********"
    assert data["sources"]["email.smtp_port"] == f".env ({env_file}): SMTP_PORT"
    assert data["sources"]["thresholds.cpu_percent.warning"] == "file"
    assert data["sources"]["bridge.session_lifetime"] == "default"
    assert data["read"]["stack"] == str(layout.root)


def test_check_config_resolves_exactly_what_the_supervisor_gives_its_parts(tmp_path: Path,
                                                                         monkeypatch) -> None:
    layout, env_file, token = _stack(tmp_path)
    monkeypatch.setenv("FROM_EMAIL", "from-the-environment@example.com")
    ports = Ports.from_env(os.environ)
    given = stack_env(Options(layout=layout, ports=ports, env_file=env_file), token)
    resolved = stack_environment(layout, env_file, os.environ).values
    assert {**resolved, "PYTHONUNBUFFERED": "1"} == given  # the supervisor adds only that
    assert resolved["FROM_EMAIL"] == "from-the-environment@example.com"  # the environment over .env
    assert resolved["TRADEWATCH_API_TOKEN"] == token and resolved["SMTP_USERNAME"] == "bot"


def test_without_a_stack_the_env_file_and_unset_variables_are_named(tmp_path: Path) -> None:
    cfg = tmp_path / "site.yaml"
    cfg.write_text("email:\n  smtp_server: ${SMTP_SERVER:-}\n  from_email: me@example.com\n")
    env_file = tmp_path / "site.env"
    env_file.write_text("SMTP_USERNAME='u1'\n")
    out = _check("--config", str(cfg), "--env-file", str(env_file), env=_env()).stdout
    assert _line(out, "smtp_server").endswith("# file (${SMTP_SERVER} is not set: the file's fallback)")
    assert _line(out, "from_email").endswith("  # file")
    # the loader fills email.username from SMTP_USERNAME when the file leaves it out
    assert _line(out, "username") == f"  username: u1  # .env ({env_file}): SMTP_USERNAME " \
        "(the file leaves email.username out)"
    assert "api_token" in out and _line(out, "api_token").endswith("# default")
