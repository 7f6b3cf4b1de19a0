"""Writing a scrape: the text format 0.0.4 or OpenMetrics 1.0, as prometheus_client writes them.

Why not prometheus_client's `generate_latest` for everything: it formats every sample from
scratch (escaping and sorting the labels, an f-string per line), which was a third of the
exporter's CPU per scrape in the text format and half in OpenMetrics (the format Prometheus asks
for), more than the collectors themselves. Our host families come from `FamilySpec`s, whose
label sets repeat scrape after scrape, so their `# HELP`/`# TYPE` lines and series text are
rendered once (by prometheus_client's own encoders, see `header_text` and `series_text`) and a
scrape only formats the values, with prometheus_client's `floatToGoString`. Every other family
(probes, textfile files, merged families) and any negotiated escaping other than the default
ones go through prometheus_client's encoders unchanged. Tests parse our output with
prometheus_client's parsers, compare it with `generate_latest` byte for byte and run
`promtool check metrics` on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import exposition as om
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

Encoder = Callable[..., bytes]
EOF_LINE = "# EOF\n"
# escapings under which our (legacy-valid) names are written unchanged
PLAIN_ESCAPINGS = frozenset({om.UNDERSCORES, om.ALLOWUTF8})


class _Families:
    """The one-method collector prometheus_client's encoders read from."""

    __slots__ = ("families",)

    def __init__(self, families: Iterable[Metric]):
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def header_text(name: str, documentation: str, typ: str, openmetrics: bool) -> str:
    """The HELP/TYPE lines prometheus_client writes for a family without samples."""
    out = _encode_one(Metric(name, documentation, typ), openmetrics)
    return out.removesuffix(EOF_LINE) if openmetrics else out


def series_text(sample_name: str, labels: dict[str, str]) -> str:
    """`name{label="value",...}` exactly as prometheus_client writes it (same in both formats)."""
    m = Metric("x", "x", "untyped")
    m.samples.append(Sample(sample_name, labels, 0.0))
    line = generate_latest(_Families([m])).decode().splitlines()[-1]  # the sample's line
    text = line.removesuffix(" 0.0")
    if _encode_one(m, True).splitlines()[-2].removesuffix(" 0.0") != text:  # pragma: no cover
        raise ValueError(f"text and OpenMetrics differ for {sample_name}{labels}")
    return text


def _encode_one(metric: Metric, openmetrics: bool) -> str:
    encoder = om.generate_latest if openmetrics else generate_latest
    return encoder(_Families([metric])).decode()


def is_openmetrics(content_type: str) -> bool:
    return content_type.startswith("application/openmetrics-text")


def encode(families: Iterable[Metric], encoder: Encoder, content_type: str) -> bytes:
    """The families in the format `prometheus_client.exposition.choose_encoder` negotiated."""
    escaping = om.UNDERSCORES
    if isinstance(encoder, partial):
        escaping = encoder.keywords.get("escaping", escaping)
    if escaping not in PLAIN_ESCAPINGS:
        return encoder(_Families(families))
    openmetrics = is_openmetrics(content_type)
    fmt = floatToGoString
    out: list[str] = []
    append = out.append
    for m in families:
        entries = getattr(m, "entries", None)
        if entries is not None and len(entries) == len(m.samples):
            append(m.spec.header(openmetrics))
            for entry, sample in zip(entries, m.samples, strict=True):
                append(f"{entry[1]} {fmt(sample.value)}\n")
            continue
        text = encoder(_Families([m])).decode()
        append(text.removesuffix(EOF_LINE) if openmetrics else text)
    if openmetrics:
        append(EOF_LINE)
    return "".join(out).encode()
