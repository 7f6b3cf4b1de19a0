"""Weak secrets on public binds (issue 13.7): refused at start naming the key; blank ones never match."""

from __future__ import annotations

import secrets
import subprocess

import pytest

from alert_bridge.web.auth import token_matches
from alert_bridge.web.token_strength import estimated_bits, password_problem, token_problem
from tests.support.bridge import config_data, write_config
from tests.support.procs import binary, free_port

WEAK = [" ", "x", "changeme", "a" * 40, "abcabcabcabcabcabcabcabc", " " + "A" * 30, "password123password123"]


@pytest.mark.parametrize("weak", WEAK)
def test_weak_tokens_are_refused(weak):
    assert token_problem(weak) is not None


@pytest.mark.parametrize("generate", [secrets.token_urlsafe, secrets.token_hex], ids=["urlsafe32", "hex32"])
def test_generated_tokens_pass(generate):
    # what the stack, the wizard and the error message use; 1000 draws, so a rare draw that the
    # estimate would refuse shows up here rather than once in a while in CI
    for _ in range(1000):
        strong = generate(32)
        assert token_problem(strong) is None, (strong, estimated_bits(strong))


def test_a_short_random_token_without_digits_is_under_the_estimate():
    # 22 letters (a token_urlsafe(16) draw seen in CI): 22 x log2(52) = 125 bits, refused; the
    # message recommends 43 characters, which pass whatever classes a draw happens to contain
    problem = token_problem("gbNxrjHmDjyHoemHVmAECw")
    assert problem is not None and "43 random URL-safe characters" in problem


def test_blank_passwords_are_refused_and_never_match():
    assert password_problem(" ") and password_problem("short") and password_problem("aaaaaaaaaaaaaaa")
    assert password_problem("correct horse battery") is None
    assert not token_matches(" ", " ")
    assert not token_matches("", "")
    assert token_matches("s3cret-token", "s3cret-token")


def _start(tmp_path, token: str, password: str = "") -> subprocess.CompletedProcess:
    data = config_data(tmp_path)
    data["bridge"]["api_token"] = token
    if password:
        data["bridge"]["dashboard_password"] = password
    path = write_config(tmp_path, data)
    args = [binary("tradewatch-bridge"), "--listen", f"0.0.0.0:{free_port()}", "--config", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


@pytest.mark.integration
@pytest.mark.parametrize("token", [" ", "x"])
def test_a_public_bind_with_a_weak_token_exits_2_naming_the_key(tmp_path, token):
    proc = _start(tmp_path, token)
    assert proc.returncode == 2, proc.stderr
    assert "bridge.api_token is too weak" in proc.stderr and "tradewatch.yaml" in proc.stderr


@pytest.mark.integration
def test_a_public_bind_with_a_weak_dashboard_password_exits_2(tmp_path):
    proc = _start(tmp_path, secrets.token_urlsafe(32), password=" ")
    assert proc.returncode == 2 and "bridge.dashboard_password is too weak" in proc.stderr
