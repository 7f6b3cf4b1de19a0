"""`tradewatch rules`: render Prometheus rules, prometheus.yml and alertmanager.yml from the config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tradewatch.config import Config, default_config_path
from tradewatch.generated import Files, describe, on_disk, stale, write

HELP = (
    "render prometheus/rules/*.yml, their promtool tests, prometheus.yml, alertmanager.yml and "
    "targets/*.yml from the config; --check fails when the files on disk are stale"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", default="prometheus",
                        help="folder to write into (default: ./prometheus)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 with a summary of the differences when the files "
                        "in --out (and --docs) are not what the config renders")
    parser.add_argument("--docs", metavar="FILE",
                        help="also update the generated alert table in this Markdown file "
                        "(the project's is docs/alerts.md)")


def owned_files(cfg: Config, source: str, out: Path, docs_page: Path | None = None) -> Files:
    """Every file this command owns under `out` (rendered, or carrying our header but no longer
    rendered), and the alert table of `docs_page`."""
    from tradewatch.rules import docs
    from tradewatch.rules.render import generated_on_disk, render_files

    files: Files = {out / rel: text for rel, text in render_files(cfg, source=source).items()}
    files.update({out / rel: None for rel in generated_on_disk(out) if out / rel not in files})
    if docs_page is not None:
        page = on_disk(docs_page) or "# Alerts\n"
        files[docs_page] = docs.update_page(page, docs.generated_block(cfg, source))
    return files


def run(args: argparse.Namespace) -> int:
    from tradewatch.cli import load_or_exit
    from tradewatch.rules.render import source_label

    cfg = load_or_exit(args.config)
    source = source_label(args.config or default_config_path())
    out = Path(args.out)
    files = owned_files(cfg, source, out, Path(args.docs) if args.docs else None)
    removed = [path for path, text in files.items() if text is None]

    if args.check:
        bad = stale(files)
        if bad:
            docs_flag = f" --docs {args.docs}" if args.docs else ""
            print(f"tradewatch rules: {len(bad)} file(s) are not what {source} renders:\n"
                  + "\n".join("  " + describe(str(path), on_disk(path), files[path]) for path in bad)
                  + f"\nrun `tradewatch rules --config {source} --out {out}{docs_flag}` and commit the "
                  "result",
                  file=sys.stderr)
            return 1
        print(f"tradewatch rules: {len(files)} files are up to date with {source}")
        return 0

    write(files)
    print(f"tradewatch rules: wrote {len(files) - len(removed)} files from {source} to {out}"
          + (f" (removed {len(removed)} stale)" if removed else ""))
    return 0
