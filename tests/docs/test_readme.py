"""README.md is assembled from docs/ and must say what CI really runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_readme_is_current() -> None:
    res = subprocess.run([sys.executable, str(REPO / "docs" / "build_readme.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_ci_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "bash tests/run.sh" in ci
    assert "bash tests/run.sh" in readme
    assert "bash deploy/run-stack.sh" in readme
    assert (REPO / "deploy" / "run-stack.sh").exists()


def test_every_image_the_readme_shows_exists() -> None:
    import re

    readme = (REPO / "README.md").read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert images, "the README shows no screenshot"
    for path in images:
        assert (REPO / path).is_file(), path
