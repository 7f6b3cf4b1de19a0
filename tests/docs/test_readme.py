"""README.md is the front page generated from docs/index.md, and says what CI really runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
# Markdown links and images: [text](target) / ![alt](target)
LINK = re.compile(r"\]\(([^)\s]+)[^)]*\)")


def test_readme_is_current() -> None:
    res = subprocess.run([sys.executable, str(REPO / "docs" / "build_readme.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_readme_is_a_front_page() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines: the reference belongs in docs/"


def test_ci_runs_the_readme_test_command() -> None:
    readme = README.read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "\nbash tests/run.sh\n" in ci
    assert "bash tests/run.sh" in readme
    assert "bash deploy/run-stack.sh" in readme
    assert (REPO / "deploy" / "run-stack.sh").exists()
    assert (REPO / "tests" / "run.sh").exists()


def test_every_image_the_readme_shows_exists() -> None:
    readme = README.read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert images, "the README shows no screenshot"
    for path in images:
        assert (REPO / path).is_file(), path


def test_every_relative_link_in_the_readme_exists() -> None:
    targets = [t for t in LINK.findall(README.read_text()) if not re.match(r"^[a-z][a-z0-9+.-]*:|#", t)]
    assert any(t.startswith("docs/") and t.endswith(".md") for t in targets), "no link onward to the docs"
    for target in targets:
        path = target.split("#", 1)[0]
        assert (REPO / path).is_file(), f"README.md links to {target}, which does not exist"
