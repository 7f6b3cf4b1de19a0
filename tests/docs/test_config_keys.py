"""Every key of the config schema is named on a docs page, so a new key cannot go undocumented.

A key counts as named when a page shows its dotted path (`email.smtp_server`, in a code span or
not), its last part in a code span (`smtp_server`, as in a section's key table), or the key of a
YAML sample (`smtp_server:`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from tradewatch.config import Config

REPO = Path(__file__).resolve().parents[2]


def keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Dotted paths of every key a config file may set (fields excluded from dumps are internal)."""
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        path = prefix + (field.alias or name)
        nested = [t for t in (field.annotation, *getattr(field.annotation, "__args__", ()))
                  if isinstance(t, type) and issubclass(t, BaseModel)]
        yield path
        for sub in nested:
            yield from keys(sub, path + ".")


def named_in_docs() -> set[str]:
    text = "\n".join(p.read_text() for p in sorted((REPO / "docs").glob("*.md")))
    spans = set(re.findall(r"`([^`\n]+)`", text))
    words = {w.strip(".") for s in spans for w in re.findall(r"[\w.]+", s)}
    parts = {part for w in words for part in w.split(".")}
    dotted = set(re.findall(r"\b[a-z_]+(?:\.[a-z_]+)+\b", text))
    yaml_keys = set(re.findall(r"^\s*-?\s*(\w+):", text, re.M))
    return words | parts | dotted | yaml_keys


def test_the_schema_walk_finds_nested_keys() -> None:
    found = set(keys(Config))
    assert {"email.smtp_server", "thresholds.cpu_percent.warning", "probes.http.name",
            "exporter.collectors.enabled"} <= found
    assert "source_file" not in found


def test_every_config_key_is_named_on_a_page() -> None:
    named = named_in_docs()
    missing = [k for k in keys(Config) if k not in named and k.rsplit(".", 1)[-1] not in named]
    assert not missing, f"config keys no docs page names (say what they do): {missing}"
