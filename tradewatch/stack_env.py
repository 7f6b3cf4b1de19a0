"""The `.env` file: SMTP settings and secrets kept out of the YAML config.

`tradewatch setup` writes it (mode 0600), `deploy/run-stack.sh` and docker compose read it. The
format is the common subset of docker compose's `env_file`, systemd's `EnvironmentFile` and a
POSIX shell: `KEY='value'` lines, `#` comments. Values are single-quoted so nothing in them is
expanded; a single quote inside a value is written the shell way (`'\\''`) and read back here.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SETUP_HEADER = ("TradeWatch settings written by `tradewatch setup` (mode 0600).\n"
                "Read by deploy/run-stack.sh and docker compose; keep it out of version control.")


def parse_env(text: str) -> dict[str, str]:
    """KEY=VALUE pairs; VALUE may be bare, 'single' or "double" quoted; `export` is allowed."""
    out: dict[str, str] = {}
    for lineno, raw in enumerate(text.split("\n"), 1):  # not splitlines(): \f or \x85 is data
        line = raw.strip(" \t\r")
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            raise ValueError(f"line {lineno}: expected KEY=VALUE")
        out[key] = _unquote(value.strip(), lineno)
    return out


def _unquote(value: str, lineno: int) -> str:
    if not value:
        return ""
    if value[0] == "'":
        # 'abc'\''def' -> abc'def (the shell idiom write_env uses for a quote inside a value)
        parts = value.split("'\\''")
        joined = "'".join(parts)
        if len(joined) < 2 or not joined.endswith("'"):
            raise ValueError(f"line {lineno}: unterminated single quote")
        return joined[1:-1]
    if value[0] == '"':
        if len(value) < 2 or not value.endswith('"'):
            raise ValueError(f"line {lineno}: unterminated double quote")
        return re.sub(r'\\(["\\$`])', r"\1", value[1:-1])
    return value.split(" #", 1)[0].rstrip()


def format_env(values: Mapping[str, str], header: str = "") -> str:
    lines = [f"# {h}" if h else "#" for h in header.splitlines()]
    for key, value in values.items():
        if not _KEY.fullmatch(key):
            raise ValueError(f"not an environment variable name: {key!r}")
        if "\n" in value or "\r" in value:
            raise ValueError(f"{key}: a value must be one line")
        lines.append(f"{key}='" + value.replace("'", "'\\''") + "'")
    return "\n".join(lines) + "\n"


def read_env_file(path: Path) -> dict[str, str]:
    """The file's variables, or {} when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        return parse_env(text)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def write_secret_file(path: Path, text: str) -> None:
    """Write atomically with mode 0600 from the first byte (never world-readable, even briefly)."""
    write_atomically(path, text, 0o600)


def write_atomically(path: Path, text: str, mode: int) -> None:
    """Replace `path` with `text` in one step (a reader sees the old file or the new), with `mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_env_file(path: Path, values: Mapping[str, str], header: str = "") -> None:
    """Merge `values` into the file (other variables are kept), mode 0600."""
    merged = {**read_env_file(path), **values}
    write_secret_file(path, format_env(merged, header))


@dataclass(frozen=True)
class ServiceEnv:
    """The variables a service starts with, and where each came from (for `check-config`)."""

    values: dict[str, str]
    origins: dict[str, str]  # variable -> "environment", ".env (PATH)" or what the runner set


def service_environment(environ: Mapping[str, str], env_file: Path, *,
                        overrides: Mapping[str, str] | None = None,
                        fallbacks: Mapping[str, str] | None = None, runner: str = "the stack") -> ServiceEnv:
    """What the stack (tradewatch/stack.py) gives its services, as one function that `check-config`
    and `setup` call too: `fallbacks` (the stack's token) under `.env` under the real environment,
    and `overrides` (the ports the stack chose) over everything."""
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    layers = ((fallbacks or {}, runner), (read_env_file(env_file), f".env ({env_file})"),
              (environ, "environment"))
    for layer, origin in layers:
        for key, value in layer.items():
            values[key], origins[key] = value, origin
    for key, value in (overrides or {}).items():
        if values.get(key) != value or origins.get(key) != "environment":
            origins[key] = runner
        values[key] = value
    return ServiceEnv(values, origins)
