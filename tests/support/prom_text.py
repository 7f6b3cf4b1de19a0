"""Exposition text as comparable data: {family: (type, help, {sorted label pairs: value})}.

For comparing what a collector emits over a recorded fixture with what node_exporter 1.5
served on the same machine at the same moment (the fixture's node_exporter-1.5.prom)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from exporter.exposition import encode

Series = dict[tuple[tuple[str, str], ...], float]
Families = dict[str, tuple[str, str, Series]]


def parse(text: str) -> Families:
    return {
        f.name: (f.type, f.documentation, {tuple(sorted(s.labels.items())): s.value for s in f.samples})
        for f in text_string_to_metric_families(text)
    }


def of(families: Iterable[Any]) -> Families:
    """Our families, through our own encoder (what a scrape serves), parsed back."""
    return parse(encode(list(families)).decode())


def differences(ours: Families, theirs: Families) -> list[str]:
    """Every family, type, help text, series and value that differs, one line each."""
    out = []
    for name in sorted(set(ours) | set(theirs)):
        if name not in ours:
            out.append(f"{name}: only node_exporter has it")
            continue
        if name not in theirs:
            out.append(f"{name}: only ours has it")
            continue
        (t1, h1, s1), (t2, h2, s2) = ours[name], theirs[name]
        if (t1, h1) != (t2, h2):
            out.append(f"{name}: ours {t1} {h1!r}, node_exporter {t2} {h2!r}")
        for labels in sorted(set(s1) | set(s2)):
            if s1.get(labels) != s2.get(labels):
                out.append(f"{name}{dict(labels)}: ours {s1.get(labels)}, node_exporter {s2.get(labels)}")
    return out
