"""Drop-in for node_exporter, measured: every "Node Exporter Full" query and every node-mixin rule
input that has data for Debian's node_exporter 1.5 on this machine has data for our exporter, and
the compatibility table in docs/exporter.md is the one this machine measures.

The measurement (tests/support/node_compat.py, also `python -m tests.bench.node_compat`) runs
both exporters on their default collectors, node_exporter with upstream 1.5's defaults restored
(Debian compiles in others; /etc/default/prometheus-node-exporter is only read by the service
unit), and a real Prometheus scraping both under job="node" with the vendored mixin rules.
"""

from __future__ import annotations

import pytest

from tests.support import node_compat
from tests.support.node_compat import (
    DOC_PAGES,
    Compat,
    dashboard_queries,
    docs_table,
    grafana_expr,
    metric_name,
    mixin_rules,
    selectors,
    with_docs_table,
)


@pytest.fixture(scope="module")
def compat(tmp_path_factory: pytest.TempPathFactory) -> Compat:
    return node_compat.run(tmp_path_factory.mktemp("node-compat"))


@pytest.mark.integration
def test_every_dashboard_query_with_node_exporter_data_has_data_for_ours(compat: Compat) -> None:
    assert len(compat.node_queries()) > 150, "node_exporter answered too few queries: is it running?"
    gaps = compat.unexplained_query_gaps()
    listed = "\n".join(f"  {q.row} / {q.panel}: {q.expr.strip()}\n    missing: "
                       f"{', '.join(compat.query_missing.get(q, [])) or '(series exist, result empty)'}"
                       for q in gaps)
    if gaps:
        pytest.fail(f"{len(gaps)} dashboard queries have data for node_exporter only:\n{listed}")


@pytest.mark.integration
def test_every_mixin_rule_input_for_node_exporter_exists_for_ours(compat: Compat) -> None:
    assert sum(1 for r in compat.alerts() if compat.rules[r][node_compat.NODE]) > 10
    gaps = compat.unexplained_rule_gaps()
    listed = "\n".join(f"  {r.kind} {r.name}: {', '.join(compat.rule_missing[r])}" for r in gaps)
    if gaps:
        pytest.fail(f"{len(gaps)} mixin rules lack input series on our exporter:\n{listed}")
    no_output = [r.name for r in compat.recording()
                 if compat.records[r][node_compat.NODE] and not compat.records[r][node_compat.OURS]]
    assert not no_output, f"recording rules with output for node_exporter only: {no_output}"


@pytest.mark.integration
@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda p: p.name)
def test_docs_table_is_this_machines_measurement(compat: Compat, page) -> None:
    """The docs hold the table the command prints. The counts depend on the machine (disks,
    interfaces, swap), so they are shown but not compared; what is compared exactly is the last
    column, the gaps that hardware this machine class lacks does not explain."""
    documented = docs_table(page.read_text())
    live = compat.rows()
    assert documented, f"{page} has no table between <!-- node-compat:begin/end --> markers"
    fix = "run `.venv/bin/python -m tests.bench.node_compat --write-docs` and `python docs/build_readme.py`"
    assert len(documented) == len(live), f"the table's rows changed: {fix}"
    for (doc_label, _, _, doc_gap), (label, ours, node, gap) in zip(documented, live, strict=True):
        assert doc_label.split(" (")[0] == label.split(" (")[0], fix
        assert doc_gap == str(gap), (f"{page.name}: {label}: the docs say {doc_gap} missing, this machine "
                                     f"measures {gap} (ours {ours}, node_exporter {node}): {fix}")


# -- the measurement's own parts, without processes ------------------------------------------

def test_selectors_skip_functions_keywords_grouping_and_strings() -> None:
    expr = ('1 - avg without (cpu) (sum without (mode) (rate(node_cpu_seconds_total{job="node", '
            'mode=~"idle|iowait"}[5m]))) and on (instance) node_load1 > bool 0 '
            'unless count by (device) (node_md_disks{state="fai}led"} offset 5m)')
    assert selectors(expr) == ['node_cpu_seconds_total{job="node", mode=~"idle|iowait"}', "node_load1",
                               'node_md_disks{state="fai}led"}']
    assert [metric_name(s) for s in selectors("instance:node_num_cpu:sum{job='node'} * 2")] == [
        "instance:node_num_cpu:sum"]


def test_grafana_expr_fills_variables_and_interval_macros() -> None:
    expr = 'rate(node_x{instance="$node",job="${job}"}[$__rate_interval]) + node_y[$__interval]'
    assert grafana_expr(expr, "node", "ours") == 'rate(node_x{instance="ours",job="node"}[4s]) + node_y[1s]'
    assert grafana_expr("increase(node_x[$__range])", "node", "ours", 300) == "increase(node_x[300s])"
    with pytest.raises(ValueError, match="nodename"):
        grafana_expr('node_uname_info{nodename="$nodename"}', "node", "ours")


def test_vendored_artefacts_are_read_whole() -> None:
    queries = dashboard_queries()
    assert len(queries) > 250 and all("$node" in q.expr for q in queries)
    assert len({q.panel_id for q in queries}) > 100
    rules = mixin_rules()
    assert sum(r.kind == "alert" for r in rules) == 26 and sum(r.kind == "record" for r in rules) == 15
    assert all(selectors(r.expr) for r in rules)


def test_docs_table_parser_reads_the_marked_table_only() -> None:
    text = ("| a | b | c | d |\n<!-- node-compat:begin -->\n| quantity | x | y | z |\n|---|---:|---:|---:|\n"
            "| families (of 9) | 7 | 9 | 2 |\n<!-- node-compat:end -->\n")
    assert docs_table(text) == [("families (of 9)", "7", "9", "2")]
    assert docs_table("no table") == []
    table = "| quantity | x | y | z |\n|---|---:|---:|---:|\n| families (of 8) | 8 | 8 | 0 |"
    assert docs_table(with_docs_table(text, table)) == [("families (of 8)", "8", "8", "0")]
    with pytest.raises(ValueError, match="markers"):
        with_docs_table("no table", table)
