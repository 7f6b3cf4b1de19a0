"""Generate `promtool test rules` files alongside the rules, so the cases follow the thresholds.

For every level of every alert: one case with the measured quantity just past the threshold
(the alert fires at that severity, and at every lower level it also passes, which Alertmanager
then inhibits) and one just short of it (that level stays silent). Fixed-severity rules get a
broken and a healthy case. Every recording rule gets a case with its exact expected value.
The expected annotations are rendered by `humanize.expand`, so the human-unit text is tested too.
"""

from __future__ import annotations

from typing import Any

from tradewatch.config import Config
from tradewatch.rules.humanize import expand
from tradewatch.rules.render import FILE_ORDER, annotations, levels
from tradewatch.rules.specs import ALERTS, RECORDS, AlertSpec, Scenario, sel, threshold_text
from tradewatch.vocabulary import WATCHDOG_ALERT


def probe_values(spec: AlertSpec, t: float) -> tuple[float, float]:
    """(a value that breaches t, a value just short of it), in the threshold's units."""
    if spec.compare == ">=":
        return t, t - 1
    if spec.compare == "<":
        return t * 0.9, t * 1.1
    step = t * 0.05
    if spec.unit == "%":  # a share of a whole cannot pass 100 %
        step = min(step, (100 - t) / 2)
    return t + step, t - step


def breaches(spec: AlertSpec, value: float, threshold: float) -> bool:
    if spec.compare == ">=":
        return value >= threshold
    if spec.compare == "<":
        return value < threshold
    return value > threshold


def _series(scenario: Scenario) -> list[dict[str, str]]:
    return [{"series": s, "values": v} for s, v in scenario.series]


def _case(cfg: Config, spec: AlertSpec, name: str, scenario: Scenario,
          firing: list[tuple[str, float | None]]) -> dict[str, Any]:
    exp = []
    for severity, threshold in firing:
        ann = annotations(cfg, spec, severity, threshold)
        exp.append({
            "exp_labels": {**scenario.labels, "severity": severity, "category": spec.category},
            "exp_annotations": {k: expand(v, scenario.labels, scenario.value) for k, v in ann.items()},
        })
    return {
        "name": name,
        "interval": "1m",
        "input_series": _series(scenario),
        "alert_rule_test": [{"eval_time": f"{scenario.minutes}m", "alertname": spec.name, "exp_alerts": exp}],
    }


def alert_cases(cfg: Config, spec: AlertSpec) -> list[dict[str, Any]]:
    for_s = cfg.alerting.for_(spec.name, spec.for_default)
    lv = levels(cfg, spec)
    if not lv:  # an optional threshold left unset renders no rule, so nothing to test
        return []
    cases = [
        _case(cfg, spec, f"{spec.name}: {what} -> silent", build(cfg, 0, for_s), [])
        for what, build in spec.quiet
    ]
    if lv and spec.threshold_key is not None:
        top = probe_values(spec, lv[-1][1] or 0)[0]  # past the highest level: every level fires
        cases += [_case(cfg, spec, f"{spec.name}: {what} -> {', '.join(s for s, _ in lv)}",
                        build(cfg, top, for_s), lv) for what, build in spec.also_fires]
    elif lv:
        cases += [_case(cfg, spec, f"{spec.name}: {what} -> {lv[0][0]}", build(cfg, 1, for_s), lv)
                  for what, build in spec.also_fires]
    if spec.threshold_key is None:
        cases.append(_case(cfg, spec, f"{spec.name}: broken -> {lv[0][0]}", spec.scenario(cfg, 1, for_s), lv))
        if spec.name != WATCHDOG_ALERT:  # the Watchdog has no healthy state: it always fires
            healthy = spec.scenario(cfg, 0, for_s)
            cases.append(_case(cfg, spec, f"{spec.name}: healthy -> silent", healthy, []))
        return cases
    for severity, threshold in lv:
        assert threshold is not None
        for label, value in zip(("past", "short of"), probe_values(spec, threshold), strict=True):
            firing = [(s, t) for s, t in lv if t is not None and breaches(spec, value, t)]
            outcome = ", ".join(s for s, _ in firing) or "silent"
            name = (f"{spec.name}: {threshold_text(spec.unit, value)} is {label} the {severity} level "
                    f"{threshold_text(spec.unit, threshold)} -> {outcome}")
            cases.append(_case(cfg, spec, name, spec.scenario(cfg, value, for_s), firing))
    return cases


def record_cases(cfg: Config, file: str) -> list[dict[str, Any]]:
    cases = []
    for rec in (r for r in RECORDS if r.file == file):
        series, minutes, samples = rec.sample(cfg)
        cases.append({
            "name": f"record {rec.record}",
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in series],
            "promql_expr_test": [{
                "expr": rec.record,
                "eval_time": f"{minutes}m",
                "exp_samples": [
                    {"labels": sel(rec.record, labels), "value": value} for labels, value in samples
                ],
            }],
        })
    return cases


def rule_test_files(cfg: Config) -> dict[str, dict[str, Any]]:
    out = {}
    for file in FILE_ORDER:
        tests = record_cases(cfg, file)
        for spec in (s for s in ALERTS if s.file == file):
            tests += alert_cases(cfg, spec)
        if tests:
            out[file] = {"rule_files": [f"../rules/{file}.yml"], "evaluation_interval": "1m", "tests": tests}
    return out
