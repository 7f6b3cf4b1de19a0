"""Writing a scrape: the text format 0.0.4 or OpenMetrics 1.0, byte for byte as prometheus_client.

Why not prometheus_client's encoders for everything: they format every sample from scratch
(escaping and sorting the labels, an f-string per line), which was a third of the exporter's CPU
per scrape in the text format and half in OpenMetrics (the format Prometheus asks for), more
than the collectors themselves; and importing them loads the whole client package (about 10 MB
of resident memory, `ssl` included). Our families come from `FamilySpec`s, whose label sets
repeat scrape after scrape, so their `# HELP`/`# TYPE` lines and series text are rendered once
(`header_text`, `series_text`) and a scrape only formats the values. Families from elsewhere
(the textfile parser's) and the rarely negotiated `dots`/`values` name escapings go through
prometheus_client's own encoders, imported only then. Tests compare our output with
prometheus_client's, byte for byte, parse it with its parsers and run `promtool check metrics`.

`negotiate` is prometheus_client's `choose_encoder` (same Accept header rules, same
Content-Type answers), returning a `Format` instead of an encoder function.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from exporter.metric import Metric

EOF_LINE = "# EOF\n"
ALLOWUTF8, UNDERSCORES, DOTS, VALUES = "allow-utf-8", "underscores", "dots", "values"
# escapings under which our (legacy-valid) names are written unchanged
PLAIN_ESCAPINGS = frozenset({UNDERSCORES, ALLOWUTF8})
TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TEXT_1_CONTENT_TYPE = "text/plain; version=1.0.0; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
# how the text format 0.0.4 spells OpenMetrics types (name suffix, type)
TEXT_TYPES = {"counter": ("_total", "counter"), "info": ("_info", "gauge"), "stateset": ("", "gauge"),
              "gaugehistogram": ("", "histogram"), "unknown": ("", "untyped")}


class Format(NamedTuple):
    openmetrics: bool
    escaping: str = UNDERSCORES
    version: str = ""
    content_type: str = TEXT_CONTENT_TYPE


TEXT = Format(False)


def _version(version: str) -> tuple[int | str, ...]:
    return tuple(int(p) if p.isdigit() else p for p in version.split("."))


def _params(tokens: Sequence[str]) -> tuple[str, str]:
    """(version, escaping) from `;key=value` parameters, as prometheus_client reads them."""
    version = escaping = ""
    for tok in tokens:
        if "=" not in tok:
            continue
        key, value = tok.strip().split("=", 1)
        if key == "version" and not version:
            version = value
        elif key == "escaping" and not escaping:
            escaping = value if value in (ALLOWUTF8, UNDERSCORES, DOTS, VALUES) else UNDERSCORES
    return version, escaping or UNDERSCORES


def negotiate(accept: str | None) -> Format:
    """prometheus_client's `choose_encoder`: the first acceptable OpenMetrics or text entry wins."""
    for accepted in (accept or "").split(","):
        tokens = accepted.split(";")
        mime = tokens[0].strip()
        if mime == "application/openmetrics-text":
            version, escaping = _params(tokens)
            if not version:
                return Format(True, UNDERSCORES, "1.0.0", OPENMETRICS_CONTENT_TYPE)
            if _version(version) >= (1, 0, 0):
                return Format(True, escaping, version, f"application/openmetrics-text; version={version}; "
                                                       f"charset=utf-8; escaping={escaping}")
        elif mime == "text/plain":
            version, escaping = _params(tokens)
            if version and _version(version) >= (1, 0, 0):
                return Format(False, escaping, version, f"{TEXT_1_CONTENT_TYPE}; escaping={escaping}")
    return TEXT


def gzip_accepted(accept_encoding: str | None) -> bool:
    return any(a.split(";")[0].strip().lower() == "gzip" for a in (accept_encoding or "").split(","))


def float_text(value: float) -> str:
    """A sample value as Go (and prometheus_client's `floatToGoString`) writes it."""
    d = float(value)
    if d == math.inf:
        return "+Inf"
    if d == -math.inf:
        return "-Inf"
    if d != d:
        return "NaN"
    s = repr(d)
    dot = s.find(".")
    if d > 0 and dot > 6:  # Go switches to exponents sooner than Python
        mantissa = f"{s[0]}.{s[1:dot]}{s[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    return s


def _escape(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def header_text(name: str, documentation: str, typ: str, openmetrics: bool) -> str:
    """The `# HELP` / `# TYPE` lines of a family with a legacy-valid name and no unit (a spec's)."""
    if openmetrics:
        return f"# HELP {name} {_escape(documentation)}\n# TYPE {name} {typ}\n"
    suffix, text_type = TEXT_TYPES.get(typ, ("", typ))
    name += suffix
    help_text = documentation.replace("\\", r"\\").replace("\n", r"\n")  # no '"' escaping here
    return f"# HELP {name} {help_text}\n# TYPE {name} {text_type}\n"


def series_text(sample_name: str, labels: dict[str, str]) -> str:
    """`name{label="value",...}`, labels sorted: the same in both formats for such names."""
    if ":" in sample_name:  # OpenMetrics under `underscores` would rewrite it; recording rules only
        raise ValueError(f"{sample_name}: ':' is reserved for recording rules")
    if not labels:
        return sample_name
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{sample_name}{{{inner}}}"


def _fallback(families: list[Any], fmt: Format) -> str:
    """prometheus_client's encoder for what ours does not write (imported only when needed)."""
    if fmt.openmetrics:
        from prometheus_client.openmetrics.exposition import generate_latest as encoder

        kwargs: dict[str, str] = {"escaping": fmt.escaping, "version": fmt.version}
    else:
        from prometheus_client.exposition import generate_latest as encoder

        kwargs = {"escaping": fmt.escaping}
    text = encoder(_Families(families), **kwargs).decode()
    return text.removesuffix(EOF_LINE) if fmt.openmetrics else text


class _Families:
    """The one-method collector prometheus_client's encoders read from."""

    __slots__ = ("families",)

    def __init__(self, families: Iterable[Any]):
        self.families = families

    def collect(self) -> Iterable[Any]:
        return self.families


def encode(families: Iterable[Metric], fmt: Format = TEXT) -> bytes:
    """The families in the negotiated format."""
    if fmt.escaping not in PLAIN_ESCAPINGS:
        out = [_fallback(list(families), fmt)]
    else:
        out = []
        append = out.append
        fmt_value = float_text
        openmetrics = fmt.openmetrics
        for m in families:
            entries = getattr(m, "entries", None)
            if entries is not None and len(entries) == len(m.samples):
                append(m.spec.header(openmetrics))
                for entry, sample in zip(entries, m.samples, strict=True):
                    append(f"{entry[1]} {fmt_value(sample.value)}\n")
            else:
                append(_fallback([m], fmt))
    if fmt.openmetrics:
        out.append(EOF_LINE)
    return "".join(out).encode()


def restrict(families: Iterable[Metric], names: Iterable[str]) -> list[Metric]:
    """prometheus_client's `name[]` filter (its restricted registry): only samples with those
    names, and only families left with a sample."""
    wanted = set(names)
    out: list[Metric] = []
    for m in families:
        keep = [i for i, s in enumerate(m.samples) if s.name in wanted]
        if not keep:
            continue
        if len(keep) == len(m.samples):
            out.append(m)
            continue
        entries = getattr(m, "entries", None)
        if entries is not None and len(entries) == len(m.samples):
            copy = m.spec.new()
            copy.entries = [entries[i] for i in keep]
        else:
            copy = Metric(m.name, m.documentation, m.type)
        copy.samples = [m.samples[i] for i in keep]
        out.append(copy)
    return out
