"""Small PNG sparklines for the report, drawn with matplotlib's Agg backend.

matplotlib is imported inside the function: it costs ~0.7 s and tens of MB, and only the report
needs it. Sizes are fixed (pixels below) and PNG metadata is stripped, so the same points give
the same bytes and each chart stays a few kB.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

WIDTH_PX, HEIGHT_PX, DPI = 260, 56, 100
LINE = "#2563eb"
FILL = "#dbeafe"
WARN = "#d97706"
_lock = threading.Lock()  # pyplot's state is global; the report may render from two threads


def sparkline(
    points: Sequence[tuple[float, float]],
    *,
    ymin: float | None = 0.0,
    ymax: float | None = None,
    threshold: float | None = None,
    color: str = LINE,
    width_px: int = WIDTH_PX,
    height_px: int = HEIGHT_PX,
) -> bytes:
    """A PNG line chart of (time, value) points, with an optional dashed threshold line."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    with _lock:
        fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        if len(xs) == 1:  # one point: draw a short flat line so it is visible
            xs, ys = [xs[0] - 1, xs[0]], [ys[0], ys[0]]
        if xs:
            ax.plot(xs, ys, color=color, linewidth=1.4, solid_capstyle="round")
            base = ymin if ymin is not None else min(ys)
            ax.fill_between(xs, ys, base, color=FILL if color == LINE else color, alpha=0.35, linewidth=0)
            ax.set_xlim(xs[0], xs[-1])
        lo = ymin if ymin is not None else (min(ys) if ys else 0.0)
        hi = ymax if ymax is not None else (max(ys) if ys else 1.0)
        if threshold is not None:
            hi = max(hi, threshold)
            ax.axhline(threshold, color=WARN, linewidth=0.8, linestyle=(0, (3, 2)))
        if hi <= lo:
            hi = lo + 1.0
        pad = (hi - lo) * 0.06
        ax.set_ylim(lo - pad, hi + pad)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, transparent=False,
                    facecolor="white")
    return buf.getvalue()
