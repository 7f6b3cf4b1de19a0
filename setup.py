"""Build step that pyproject.toml cannot express: ship the example config inside the package.

The example config lives in deploy/ (where operators and the docs look for it, and what the
committed rule files are rendered from). An installed wheel has no deploy/, so building copies it
to tradewatch/examples/, where `tradewatch.paths` finds it outside a checkout. Everything else
about the distribution is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

EXAMPLE = Path("deploy") / "tradewatch.example.yaml"


class BuildPyWithExample(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "tradewatch" / "examples"
        self.mkpath(str(target))
        self.copy_file(str(EXAMPLE), str(target / EXAMPLE.name))


setup(cmdclass={"build_py": BuildPyWithExample})
