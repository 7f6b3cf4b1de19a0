"""Every module path a docs page names exists, so the pages follow when code moves.

Checked: paths under the Python packages (alert_bridge/, exporter/, tradewatch/) and test files
(tests/....py), wildcards allowed. Paths relative to some other folder (`--out`, a container)
and files made at run time (tests/artifacts/) are not repository paths and are left alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted((REPO / "docs").glob("*.md"))
PATH = re.compile(
    r"(?:(?<=[\s`(\"'=])|^)((?:alert_bridge|exporter|tradewatch)/[\w.*/-]*|tests/[\w*/-]*\.py)", re.M
)


def named_paths(text: str) -> list[str]:
    return sorted({m.group(1).rstrip(".,:;") for m in PATH.finditer(text)})


def test_the_pattern_finds_paths() -> None:
    text = "see `alert_bridge/alerts/ingest.py`, (tests/e2e/test_e2e_*.py) and exporter/collectors/."
    assert named_paths(text) == [
        "alert_bridge/alerts/ingest.py", "exporter/collectors/", "tests/e2e/test_e2e_*.py"
    ]
    assert named_paths("`--out` writes rules/x.yml; /etc/tradewatch/tradewatch.yaml") == []


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_path_named_on_the_page_exists(page: Path) -> None:
    missing = [p for p in named_paths(page.read_text()) if not any(REPO.glob(p.rstrip("/")))]
    assert not missing, f"docs/{page.name} names paths that do not exist: {missing}"
