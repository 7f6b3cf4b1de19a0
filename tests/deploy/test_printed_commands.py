"""Every command TradeWatch prints works when pasted as printed from the checkout (issue 14.1).

`.venv/bin` is on nobody's PATH: the stack's banner, the error messages and the docs spell the
command as `.venv/bin/tradewatch ...` (or `bash deploy/run-stack.sh ...`). The banner's and the
error messages' commands run (with `--help`) in a fresh `bash` in the checkout; every command in
the docs is parsed by the real argument parser (a wrong subcommand or flag fails).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.pasted import pasted, printed_commands
from tests.support.procs import REPO
from tradewatch.cli import COMMANDS, build_parser
from tradewatch.config import load_config
from tradewatch.operator_command import tradewatch_program
from tradewatch.stack import Options, banner, build_parts
from tradewatch.stack_layout import DEFAULT_DIR, Layout, Ports

DOCS = [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]
_FENCE = re.compile(r"```(sh|console|bash)\n(.*?)```", re.S)
_SPAN = re.compile(r"`([^`\n]+)`")
_BARE = re.compile(rf"^(sudo )?tradewatch ({'|'.join(COMMANDS)}|COMMAND)\b")
_OURS = re.compile(r"^(sudo )?\.venv/bin/tradewatch(\s|$)")


def _banner(layout: Layout, config: Path, env_file: Path) -> str:
    opts = Options(layout=layout, ports=Ports(), env_file=env_file)
    cfg = load_config(REPO / "deploy" / "tradewatch.example.yaml", env={})
    parts = build_parts(opts, cfg, config, Path("prometheus.yml"), Path("alertmanager.yml"))
    return banner(opts, cfg, parts, config, 1.0)


def test_the_checkout_spells_the_command_with_its_venv() -> None:
    assert tradewatch_program() == ".venv/bin/tradewatch"  # tests run from the checkout's .venv
    assert tradewatch_program(checkout=None, which=lambda _: None).endswith("/.venv/bin/tradewatch")


@pytest.mark.parametrize("where", ["default", "elsewhere"])
def test_every_command_the_banner_prints_runs_from_a_fresh_shell(tmp_path: Path, where: str) -> None:
    if where == "default":
        layout, config, env_file = Layout(DEFAULT_DIR), DEFAULT_DIR / "tradewatch.yaml", REPO / ".env"
    else:
        layout, config, env_file = Layout(tmp_path / "my stack"), tmp_path / "site.yaml", tmp_path / "x.env"
    text = _banner(layout, config, env_file)
    commands = printed_commands(text)
    assert len(commands) == 5, text  # status, stop, reload, test email, email setup
    assert any(" setup" in c for c in commands) and "tradewatch setup" not in text.replace("/tradewatch", "")
    for command in commands:
        res = pasted(command, tmp_path)
        assert res.returncode == 0, f"{command!r} as printed: {res.stdout}{res.stderr}"
        assert "usage:" in res.stdout, command
        if where == "elsewhere":  # the flags point at this stack, not the default one
            assert str(tmp_path) in command and shlex.split(command)


def test_commands_in_error_messages_run_from_a_fresh_shell(tmp_path: Path) -> None:
    not_running = subprocess.run([sys.executable, "-m", "tradewatch.stack", "test-email", "--dir",
                                  str(tmp_path / "s")],
                                 capture_output=True, text=True, timeout=60, cwd=tmp_path)
    failed_setup = subprocess.run([sys.executable, "-m", "tradewatch.cli", "setup", "--provider", "ssl",
                                   "--server", "127.0.0.1", "--port", "1", "--username", "u",
                                   "--password-file", "-", "--to", "x@example.com", "--from", "u@example.com",
                                   "--env-file", str(tmp_path / ".env"),
                                   "--stack-dir", str(tmp_path / "none")],
                                  input="pw\n", capture_output=True, text=True, timeout=60, cwd=tmp_path)
    commands = printed_commands(not_running.stdout) + printed_commands(failed_setup.stdout)
    assert any("run-stack.sh" in c for c in commands), not_running.stdout
    assert any(".venv/bin/tradewatch setup" in c for c in commands), failed_setup.stdout
    for command in commands:
        res = pasted(command, tmp_path)
        assert res.returncode == 0, f"{command!r}: {res.stdout}{res.stderr}"


def _doc_commands(text: str) -> list[str]:
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    found: list[str] = []
    for block in _FENCE.finditer(text):
        for line in block.group(2).replace("\\\n", " ").splitlines():
            if block.group(1) != "console" or line.startswith("$ "):  # console: the rest is output
                found.append(line.strip().removeprefix("$ "))
    outside = _FENCE.sub("", text)
    found += [m.group(1).replace("\\|", "|") for m in _SPAN.finditer(outside)]
    return found


def _harmless_argv(command: str) -> list[str]:
    """The command's arguments up to a comment, redirection or pipe; placeholders reduce it to the
    subcommand alone (`stack up|status|stop` -> `stack`)."""
    words = shlex.split(re.split(r"\s(?:#|<|>|\|\||&&|;)\s?|\s\|\s", command)[0].removeprefix("sudo "))[1:]
    if any(re.search(r"[\[|]|^[A-Z]+$|\.\.\.", w) for w in words):
        words = [w for w in words[:1] if re.fullmatch(r"[a-z-]+", w)]
    return words


def test_docs_spell_every_tradewatch_command_so_it_can_be_pasted() -> None:
    bare, checked = [], 0
    parser = build_parser()
    for doc in DOCS:
        for command in _doc_commands(doc.read_text(encoding="utf-8")):
            if _BARE.match(command):
                bare.append(f"{doc.relative_to(REPO)}: {command}")
            if not _OURS.match(command):
                continue
            argv = _harmless_argv(command)
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                    pytest.raises(SystemExit) as exit_:
                parser.parse_args([*argv, "--help"])
            assert exit_.value.code == 0, f"{doc.relative_to(REPO)}: {command!r}: {err.getvalue()}"
            checked += 1
    assert not bare, "not on PATH in a checkout; write .venv/bin/tradewatch:\n" + "\n".join(bare)
    assert checked >= 20
    res = pasted(".venv/bin/tradewatch", REPO)  # and the spelling itself works from a fresh shell
    assert res.returncode == 0 and "check-config" in res.stdout
