"""Print the node_exporter compatibility table of docs/exporter.md, measured on this machine.

Not a test (pytest does not collect it). Run from the repository root:

    .venv/bin/python -m tests.bench.node_compat [--gaps] [--scrapes 12]

Starts Debian's node_exporter 1.5 (with upstream's defaults restored) and tradewatch-exporter,
both on their default collectors, and a real Prometheus that scrapes both under job="node" and
loads the vendored node-mixin rules; then runs every visible query of the vendored "Node
Exporter Full" dashboard and looks up every mixin rule's input series for each exporter
(tests/support/node_compat.py). Everything runs on 127.0.0.1 and is stopped at the end.
`--gaps` also lists every query, rule and family node_exporter has data for and ours has not;
`--write-docs` puts the table into docs/exporter.md and docs/index.md (then run
`python docs/build_readme.py`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.support.node_compat import DOC_PAGES, run, with_docs_table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=12, help="scrapes of each exporter to wait for (3-60)")
    parser.add_argument("--gaps", action="store_true", help="also list every gap (query, rule, family)")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the table between the node-compat markers of the docs pages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="node-compat-") as tmp:
        compat = run(Path(tmp), scrapes=max(3, min(args.scrapes, 60)))
    print(compat.table())
    if args.write_docs:
        for page in DOC_PAGES:
            page.write_text(with_docs_table(page.read_text(), compat.table()))
    if args.gaps:
        print()
        print(compat.gap_report() or "no gaps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
