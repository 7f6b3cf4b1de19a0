"""The documentation site (mkdocs.yml, pages in docs/) builds with no warning at all.

mkdocs.yml sets `strict: true` and turns every link check to a warning (missing page, link to a
file outside docs/, absolute link, missing anchor), so one broken link fails this test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def build(site: Path, root: Path = REPO) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of root/mkdocs.yml into site."""
    # NO_MKDOCS_2_WARNING: the theme's end-of-life banner is a notice, not a warning about the pages
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(root / "mkdocs.yml"),
         "--site-dir", str(site)],
        capture_output=True, text=True, env=env, cwd=root, timeout=120,
    )


def test_site_builds_strictly(tmp_path: Path) -> None:
    res = build(tmp_path / "site")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    warnings = [line for line in out.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not warnings, "\n".join(warnings)
    for page in sorted((REPO / "docs").glob("*.md")):
        html = tmp_path / "site" / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert html.is_file(), f"docs/{page.name} is not on the site"
    home = (tmp_path / "site" / "index.html").read_text()
    assert 'src="img/dashboard.png"' in home
    assert (tmp_path / "site" / "img" / "dashboard.png").is_file()


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    """The strictness itself: a copy of the docs with one bad anchor must not build."""
    import shutil

    docs = tmp_path / "docs"
    shutil.copytree(REPO / "docs", docs)
    (docs / "grafana.md").write_text((docs / "grafana.md").read_text() + "\n[x](deploy.md#no-such-heading)\n")
    shutil.copyfile(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    res = build(tmp_path / "site", root=tmp_path)
    assert res.returncode != 0
    assert "no-such-heading" in res.stderr
