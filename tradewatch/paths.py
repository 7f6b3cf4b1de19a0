"""Where TradeWatch's own files are: in a source checkout, or inside the installed package.

Run from a checkout (an editable install, `python -m ...` in the repository), the example config
is `deploy/tradewatch.example.yaml` and the files a command writes by default (the local stack's
folder, `.env`) go into the checkout. Installed from a wheel there is no checkout: the example
config ships inside this package (setup.py copies it to `tradewatch/examples/` at build time) and
default output goes to the current folder. Nothing else may assume a source tree.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
EXAMPLE_NAME = "tradewatch.example.yaml"
EXAMPLE_IN_CHECKOUT = Path("deploy") / EXAMPLE_NAME  # relative to a checkout's root
EXAMPLE_IN_PACKAGE = PACKAGE_DIR / "examples" / EXAMPLE_NAME  # written by setup.py's build step


def is_checkout(root: Path) -> bool:
    """A TradeWatch source tree: the project file and the example config beside it."""
    return (root / "pyproject.toml").is_file() and (root / EXAMPLE_IN_CHECKOUT).is_file()


def find_checkout(package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The checkout this package is imported from, or None when it is installed."""
    root = package_dir.parent
    return root if is_checkout(root) else None


CHECKOUT = find_checkout()


def example_config(checkout: Path | None = CHECKOUT) -> Path:
    """The example config: the checkout's, so edits to it count, else the packaged copy."""
    return checkout / EXAMPLE_IN_CHECKOUT if checkout is not None else EXAMPLE_IN_PACKAGE


def config_folder(source: Path) -> Path:
    """The folder a config file's relative paths resolve against: its own, except the packaged
    example, which acts as if it were ./deploy/tradewatch.example.yaml: its `../var/...` is then
    ./var/..., as in a checkout, and nothing is written inside the installed package."""
    resolved = source.resolve()
    if resolved == EXAMPLE_IN_PACKAGE.resolve():
        return Path.cwd() / EXAMPLE_IN_CHECKOUT.parent
    return resolved.parent


def default_home(checkout: Path | None = CHECKOUT) -> Path:
    """Where files a command writes by default go: the checkout, else the current folder."""
    return checkout if checkout is not None else Path.cwd()
