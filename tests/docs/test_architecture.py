"""docs/architecture.md shows the bridge's packages and one alert's path in at most 15 lines,
naming modules that exist."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "architecture.md"
BRIDGE = REPO / "alert_bridge"


def diagram() -> list[str]:
    """The page's first ```text block."""
    m = re.search(r"^```text\n(.*?)^```", PAGE.read_text(), re.S | re.M)
    assert m, "docs/architecture.md has no ```text block"
    return m.group(1).splitlines()


def test_the_diagram_fits_in_15_lines() -> None:
    assert 0 < len(diagram()) <= 15


def test_every_module_on_the_path_exists() -> None:
    text = "\n".join(diagram())
    # alerts/ingest.py, notify/templates/, store/: paths under alert_bridge/
    paths = re.findall(r"(?<![\w/.-])([a-z_]+/(?:[a-z_]+/)*(?:[a-z_]+\.py)?)(?![\w/])", text)
    assert sum(p.endswith(".py") for p in set(paths)) >= 10, paths
    for path in paths:
        assert (BRIDGE / path).exists(), f"docs/architecture.md names alert_bridge/{path}: no such file"
    packages = {p.name + "/" for p in BRIDGE.iterdir() if (p / "__init__.py").is_file()}
    missing = packages - set(paths)
    assert not missing, f"packages of alert_bridge/ not shown on docs/architecture.md: {sorted(missing)}"


def test_the_path_runs_from_webhook_to_smtp() -> None:
    names = re.findall(r"^\s*([a-z_]+/[a-z_]+\.py)", "\n".join(diagram()), re.M)
    assert names[0] == "alerts/webhook.py"
    assert "notify/transport.py" in names
    order = [names.index(n) for n in ("alerts/ingest.py", "notify/sender.py", "notify/transport.py")]
    assert order == sorted(order), names
