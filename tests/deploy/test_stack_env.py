"""The .env format shared by `tradewatch setup`, the stack runner and docker compose."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewatch.stack_env import format_env, parse_env, read_env_file, write_env_file

values = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40)


@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True), values, max_size=6))
def test_format_then_parse_round_trips(env: dict[str, str]) -> None:
    assert parse_env(format_env(env)) == env


@pytest.mark.parametrize("value", ["plain", "with space", "quote ' inside", 'dq " and $HOME `x` \\n', ""])
def test_a_posix_shell_reads_the_same_values(tmp_path: Path, value: str) -> None:
    path = tmp_path / ".env"
    path.write_text(format_env({"V": value}))
    out = subprocess.run(["sh", "-c", f'. "{path}"; printf %s "$V"'], capture_output=True, text=True,
                         check=True).stdout
    assert out == value


def test_parse_accepts_common_forms_and_rejects_garbage() -> None:
    text = '# c\n\nexport A=1\nB="two \\"q\\""\nC=three # comment\nD=\n'
    assert parse_env(text) == {"A": "1", "B": 'two "q"', "C": "three", "D": ""}
    with pytest.raises(ValueError, match="line 1"):
        parse_env("not a line\n")
    with pytest.raises(ValueError, match="unterminated"):
        parse_env("A='open\n")


def test_write_merges_keeps_others_and_is_0600(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("KEEP='1'\nSMTP_SERVER='old'\n")
    path.chmod(0o644)
    write_env_file(path, {"SMTP_SERVER": "new", "SMTP_PASSWORD": "p'w"})
    assert read_env_file(path) == {"KEEP": "1", "SMTP_SERVER": "new", "SMTP_PASSWORD": "p'w"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="one line"):
        write_env_file(path, {"X": "a\nb"})
    assert read_env_file(tmp_path / "missing") == {}
