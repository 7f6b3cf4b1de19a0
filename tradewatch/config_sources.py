"""Where each effective config value came from: the file, the environment, `.env`, the stack, or
the built-in default, so `tradewatch check-config` can say why a service sees what it sees.

Pure functions over the file's raw YAML (before `${VAR}` interpolation), the environment the
services get (tradewatch.stack_env.ServiceEnv) and the effective config as data. Sources name
variables and files, never values, so they are safe to print next to masked secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from tradewatch.config import EMAIL_ENV
from tradewatch.stack_env import ServiceEnv

DEFAULT = "default"
FILE = "file"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_MISSING = object()


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    return []


def _variable_source(name: str, default: str | None, env: ServiceEnv) -> str:
    if env.values.get(name, "") != "":
        return f"{env.origins.get(name, 'environment')}: {name}"
    if default is not None:
        return f"{FILE} (${{{name}}} is not set: the file's fallback)"
    return f"{FILE} (${{{name}}} is not set: empty)"


def raw_source(node: Any, env: ServiceEnv) -> str:
    """The source of one value as written in the file: literal, or the variables it names."""
    found = [m for s in _strings(node) for m in _VAR.finditer(s)]
    if not found:
        return FILE
    return "; ".join(dict.fromkeys(_variable_source(m.group(1), m.group(2), env) for m in found))


def _lookup(raw: Any, path: tuple[str, ...]) -> Any:
    node = raw
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _email_fallback(path: tuple[str, ...], raw: Any, env: ServiceEnv) -> str | None:
    """The email keys the loader fills from SMTP_USERNAME, ... when the file leaves them out."""
    if len(path) != 2 or path[0] != "email":
        return None
    var = {**EMAIL_ENV, "to": "ALERT_EMAIL"}.get(path[1])
    if var and env.values.get(var) and _lookup(raw, path) is _MISSING:
        return f"{env.origins.get(var, 'environment')}: {var} (the file leaves email.{path[1]} out)"
    return None


def value_sources(raw: Any, effective: Mapping[str, Any], env: ServiceEnv) -> dict[str, str]:
    """dotted key -> source, for every leaf (scalar or list) of the effective config."""
    out: dict[str, str] = {}

    def walk(node: Mapping[str, Any], path: tuple[str, ...]) -> None:
        for key, value in node.items():
            here = (*path, str(key))
            if isinstance(value, Mapping) and value:
                walk(value, here)
                continue
            written = _lookup(raw, here)
            source = _email_fallback(here, raw, env)
            if source is None:
                source = DEFAULT if written is _MISSING else raw_source(written, env)
            out[".".join(here)] = source

    walk(effective, ())
    return out


def _flow(value: Any) -> str:
    """One value as flow-style YAML on one line."""
    return yaml.safe_dump([value], default_flow_style=True, width=10**6, sort_keys=False).strip()[1:-1]


def annotated_yaml(effective: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """The effective config as YAML with `# source` after each value. A mapping of plain values
    that all come from one place is written on one line (`cpu_percent: {warning: 80.0}  # file`)."""
    lines: list[str] = []

    def emit(node: Mapping[str, Any], path: tuple[str, ...], indent: int) -> None:
        pad = " " * indent
        for key, value in node.items():
            here = (*path, str(key))
            dotted = ".".join(here)
            if isinstance(value, Mapping) and value:
                leaves = {src for k, src in sources.items() if k.startswith(dotted + ".")}
                plain = not any(isinstance(v, Mapping) and v for v in value.values())
                one_line = f"{pad}{_flow(key)}: {_flow(dict(value))}  # {min(leaves, default='')}"
                if plain and len(leaves) == 1 and len(one_line) <= 110:
                    lines.append(one_line)
                else:
                    lines.append(f"{pad}{_flow(key)}:")
                    emit(value, here, indent + 2)
                continue
            source = sources.get(dotted)
            lines.append(f"{pad}{_flow(key)}: {_flow(value)}" + (f"  # {source}" if source else ""))

    emit(effective, (), 0)
    return "\n".join(lines)
