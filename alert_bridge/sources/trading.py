"""Per-bot trading figures for the dashboard: from Prometheus (the recording rules, each OR-ed
with the PromQL it records, both from tradewatch.trading_quantities), or, when Prometheus is not
configured or down, from each bot's own /metrics, a new scrape paired with an earlier one
(sources.scrapes), with the same formulas.

A bot is any scrape target that exports `trading_*`, one per `bot` label value where the target
has one. Values are plain numbers (ratios 0..1, seconds, account currency); `level` says which
configured threshold a value is over, as the alert rules compare (`>`).

A bot that was seen and is gone (frozen, crashed: its scrape fails and its series go stale) keeps
its card, marked down since it was last seen (issue 14: a SIGSTOPped bot read "No trading bot
found"). Seen means: in the bridge's memory of earlier collections (`remember`, kept for
FORGET_AFTER), in Prometheus's recent samples (`trading_quantities.last_seen`), or a bot scrape
target Prometheus reports down (`up == 0`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests

from alert_bridge.sources.host_metrics import parse_exposition
from alert_bridge.sources.prometheus import PrometheusAPI, PrometheusUnavailable
from alert_bridge.sources.scrapes import ScrapeMemory
from tradewatch import metric_names as mn
from tradewatch import trading_quantities as tq
from tradewatch.config import Levels, Thresholds
from tradewatch.duration import format_duration
from tradewatch.quantities import Samples
from tradewatch.vocabulary import SEVERITY_ORDER

POINTS = 120  # points per sparkline
FORGET_AFTER = 7 * 86400.0  # a bot unseen this long is forgotten (removed from the config, say)
LAST_SEEN_LOOKBACK = 6 * 3600.0  # how far back Prometheus is asked when a bot was last seen
Key = tuple[str, str, str]  # (job, instance, bot); bot "" where the target has no bot label
Points = list[list[float]]


def bot_key(labels: dict[str, str]) -> Key:
    return labels.get("job", ""), labels.get("instance", ""), labels.get(tq.BOT, "")


def bot_name(job: str, instance: str, bot: str) -> str:
    """The `bot` label when there is one, else the target's job and host."""
    if bot:
        return bot
    return f"{job} on {instance}" if job else instance


def level(value: float | None, levels: Levels, scale: float = 1.0) -> str | None:
    """The most severe level `value` (in the quantity's unit) is above; "ok" below all; None
    without a value. `scale` converts the threshold's unit (percent, ms) into the value's."""
    if value is None:
        return None
    for severity in SEVERITY_ORDER:  # most severe first
        limit = getattr(levels, severity, None)
        if limit is not None and value > limit * scale:
            return severity
    return "ok"


def _finite(v: Any) -> float | None:
    f = float(v)
    return f if math.isfinite(f) else None


def _points(values: Iterable[list[Any]]) -> Points:
    return [[float(t), round(f, 6)] for t, v in values if (f := _finite(v)) is not None]


# --------------------------------------------------------------------------- window change

def first_values(api: PrometheusAPI, metric: str, series: dict[Any, Points],
                 key: Callable[[dict[str, str]], Any], at_start: dict[Any, float], step: float
                 ) -> dict[Any, float]:
    """The value each series had when the window began (`at_start`), or its first sample when it
    began later.

    A range query's first point of a series that starts inside the window is the last sample at
    or before that step, up to `step` seconds after the series' first sample: a bot that started
    mid-window would lose what it made in between (issue 14.6: "+0.00" while the P&L went from
    0.78 to 12.06). So for those, the raw samples of the step before that point are read and the
    earliest one counts (summed over the raw series of a key).
    """
    out: dict[Any, float] = {}
    late: dict[float, list[Any]] = {}
    for k, pts in series.items():
        if k in at_start:
            out[k] = at_start[k]
        elif pts:
            out[k] = pts[0][1]
            late.setdefault(pts[0][0], []).append(k)
    for t0, keys in late.items():
        firsts: dict[Any, float] = {}
        for s in api.query(f"{metric}[{max(1, math.ceil(step))}s]", t0):
            k = key(s["metric"])
            pts = _points(s.get("values", []))
            if k in keys and pts:
                firsts[k] = firsts.get(k, 0.0) + pts[0][1]
        out.update(firsts)
    return out


def window_change(api: PrometheusAPI, metric: str, by: str, key: Callable[[dict[str, str]], Any],
                  start: float, end: float, step: float) -> dict[Any, dict[str, Any]]:
    """{key: {"first", "last", "change", "points"}} of `sum by (<by>) (<metric>)` over [start, end]:
    the last value at `end`, the first at `start` or at the series' first sample (first_values).
    The range's points end at `end` exactly, so a series younger than one step has a point."""
    expr = f"sum by ({by}) ({metric})"

    def instant(at: float) -> dict[Any, float]:
        return {key(s["metric"]): v for s in api.query(expr, at) if (v := _finite(s["value"][1])) is not None}

    step = max(step, 1.0)
    range_start = end - math.floor((end - start) / step) * step
    series: dict[Any, Points] = {}
    for s in api.query_range(expr, range_start, end, step):
        pts = _points(s.get("values", []))
        if pts:
            series[key(s["metric"])] = pts
    if not series:
        return {}
    last = instant(end)
    first = first_values(api, metric, series, key, instant(start), step)
    out = {}
    for k, pts in series.items():
        lv = last.get(k, pts[-1][1])
        fv = first.get(k, pts[0][1])
        out[k] = {"first": fv, "last": lv, "change": round(lv - fv, 6), "points": pts}
    return out


# --------------------------------------------------------------------------- card assembly

def _empty(key: Key) -> dict[str, Any]:
    job, instance, bot = key
    return {
        "id": "/".join(key), "name": bot_name(job, instance, bot), "job": job, "instance": instance,
        "bot": bot or None,
        "realized_pnl": {"current": None, "today": None, "points": []},
        "equity": {"current": None, "points": []},
        "open_positions": None,
        "orders_per_minute": {},
        "rejection_ratio": {"value": None, "level": None},
        "api": {"p95_seconds": {"value": None, "level": None}, "error_ratio": {"value": None, "level": None},
                "exchanges": []},
        "heartbeat": {"timestamp": None, "age_seconds": None, "level": None},
        "last_trade": {"timestamp": None, "age_seconds": None, "level": None},
        "alerts": [],
        "status": "up",
        "down_since": None,
        "down_reason": None,
    }


# --------------------------------------------------------------------------- bots seen before

def _target(job: str, instance: str, bot: str) -> tuple[str, str]:
    """What identifies a bot across sources (the exporter fallback knows no job): instance and bot."""
    del job
    return instance, bot


def remember(seen: dict[str, dict[str, Any]], bots: list[dict[str, Any]],
             now: float) -> dict[str, dict[str, Any]]:
    """The bridge's memory of bots: `seen` with the bots present now, minus those unseen for
    FORGET_AFTER. Keyed by card id; values: job, instance, bot, name, last_seen (unix time)."""
    out = {k: v for k, v in seen.items() if now - float(v.get("last_seen", 0)) < FORGET_AFTER}
    present = {_target(b["job"], b["instance"], b["bot"] or "") for b in bots if b["status"] == "up"}
    out = {k: v for k, v in out.items() if _target("", v["instance"], v["bot"]) not in present}
    for b in bots:
        if b["status"] == "up":
            out[b["id"]] = {"job": b["job"], "instance": b["instance"], "bot": b["bot"] or "",
                            "name": b["name"], "last_seen": now}
    return out


def absent_cards(bots: list[dict[str, Any]], seen: dict[str, dict[str, Any]], last: dict[Key, float],
                 down: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """Cards for the bots seen before and gone now: from the bridge's memory (`seen`), from
    Prometheus's recent samples (`last`: key -> time last seen) and the bot targets that are down
    (`down`: (job, instance), or ("", instance) for a /metrics URL that failed). Each says since
    when it is gone, when known, and why."""
    present = {_target(b["job"], b["instance"], b["bot"] or "") for b in bots}
    keys: dict[tuple[str, str], Key] = {}
    since: dict[tuple[str, str], float | None] = {}
    for v in seen.values():
        key = (v["job"], v["instance"], v["bot"])
        keys[_target(*key)], since[_target(*key)] = key, float(v["last_seen"])
    for key, ts in last.items():
        t = _target(*key)
        if t not in keys or (key[0] and not keys[t][0]):  # prefer the name that has the job
            keys[t] = key
        since[t] = max(ts, since.get(t) or ts)
    for job, instance in sorted(down):  # a bot target down that no card names: still a bot
        if not any(t[0] == instance for t in (*keys, *present)):
            keys[(instance, "")], since[(instance, "")] = (job, instance, ""), None
    down_instances = {instance for _, instance in down}
    cards = []
    for t, key in sorted(keys.items()):
        if t in present:
            continue
        card = _empty(key)
        card["status"] = "down"
        card["down_since"] = since[t]
        card["down_reason"] = ("its metrics endpoint does not answer (scrape failing: stopped, frozen or "
                               "unreachable)" if key[1] in down_instances
                               else "it exports no trading metrics any more")
        cards.append(card)
    return cards


def absent_in_prometheus(api: PrometheusAPI, bots: dict[Key, dict[str, Any]],
                         seen: dict[str, dict[str, Any]],
                         now: float) -> tuple[dict[Key, float], set[tuple[str, str]]]:
    """(when each bot last exported trading_*, the bot targets down now) from Prometheus. The
    look-back query runs only when something is missing: a target down, or a remembered bot."""
    down = {(s["metric"].get("job", ""), s["metric"].get("instance", ""))
            for s in api.query(tq.DOWN_TARGETS, now)}
    present = {_target(*k) for k in bots}
    if not down and all(_target("", v["instance"], v["bot"]) in present for v in seen.values()):
        return {}, down
    query = tq.last_seen(format_duration(LAST_SEEN_LOOKBACK),
                         format_duration(max(15.0, LAST_SEEN_LOOKBACK / POINTS)))
    last = {bot_key(s["metric"]): v for s in api.query(query, now)
            if (v := _finite(s["value"][1])) is not None}
    return {k: v for k, v in last.items() if _target(*k) not in present}, down


def _fill(bots: dict[Key, dict[str, Any]], values: dict[str, list[tuple[dict[str, str], float]]],
          thresholds: Thresholds, now: float) -> None:
    """Put instant values ({quantity key or key_by_exchange: [(labels, value)]}) into the cards."""
    th = thresholds

    def one(name: str) -> dict[Key, float]:
        return {bot_key(lb): v for lb, v in values.get(name, [])}

    for k, v in one("realized_pnl").items():
        bots[k]["realized_pnl"]["current"] = v
    for k, v in one("equity").items():
        bots[k]["equity"]["current"] = v
    for k, v in one("open_positions").items():
        bots[k]["open_positions"] = v
    for lb, v in values.get("orders_per_minute", []):
        bots[bot_key(lb)]["orders_per_minute"][lb.get("status", "")] = v
    for k, v in one("rejection_ratio").items():
        bots[k]["rejection_ratio"] = {"value": v, "level": level(v, th.order_rejection_percent, 0.01)}
    for k, v in one("api_p95_seconds").items():
        bots[k]["api"]["p95_seconds"] = {"value": v, "level": level(v, th.api_response_time_ms, 0.001)}
    for k, v in one("api_error_ratio").items():
        bots[k]["api"]["error_ratio"] = {"value": v, "level": level(v, th.error_rate_percent, 0.01)}
    exchanges: dict[tuple[Key, str], dict[str, Any]] = {}
    for name, field, scale, levels in (
            (tq.API_P95_BY_EXCHANGE.key, "p95_seconds", 0.001, th.api_response_time_ms),
            (tq.API_ERROR_RATIO_BY_EXCHANGE.key, "error_ratio", 0.01, th.error_rate_percent)):
        for lb, v in values.get(name, []):
            if lb.get("exchange"):
                row = exchanges.setdefault((bot_key(lb), lb["exchange"]), {
                    "exchange": lb["exchange"], "p95_seconds": {"value": None, "level": None},
                    "error_ratio": {"value": None, "level": None}})
                row[field] = {"value": v, "level": level(v, levels, scale)}
    for (k, _), row in sorted(exchanges.items()):
        bots[k]["api"]["exchanges"].append(row)
    for name, levels in (("heartbeat_timestamp", th.trading_heartbeat_stale_seconds),
                         ("last_trade_timestamp", None)):
        field = name.removesuffix("_timestamp")
        for k, ts in one(name).items():
            age = max(0.0, now - ts)
            bots[k][field] = {"timestamp": ts, "age_seconds": age,
                              "level": level(age, levels) if levels is not None else None}


def midnight(now: float, timezone: str) -> float:
    """Start of the day `now` is in, in the report's time zone: "today" on the dashboard."""
    local = datetime.fromtimestamp(now, ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def _instant_values(api: PrometheusAPI, now: float) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for q in tq.CARD_QUANTITIES:
        out[q.key] = [(s["metric"], v) for s in api.query(q.rule_or_raw(), now)
                     if (v := _finite(s["value"][1])) is not None]
    return out


def from_prometheus(api: PrometheusAPI, thresholds: Thresholds, *, now: float, window: float,
                    timezone: str) -> dict[Key, dict[str, Any]]:
    bots = {bot_key(s["metric"]): _empty(bot_key(s["metric"])) for s in api.query(tq.PRESENCE, now)}
    if not bots:
        return {}
    values = _instant_values(api, now)
    values = {name: [(lb, v) for lb, v in rows if bot_key(lb) in bots] for name, rows in values.items()}
    _fill(bots, values, thresholds, now)
    step = max(1.0, round(window / POINTS, 3))
    for q in (tq.REALIZED_PNL, tq.EQUITY):
        for s in api.query_range(q.expr, now - window, now, step):
            k = bot_key(s["metric"])
            if k in bots:
                bots[k][q.key]["points"] = _points(s.get("values", []))
    day_start = midnight(now, timezone)
    day_step = max(1.0, round((now - day_start) / POINTS, 3))
    today = window_change(api, mn.TRADING_REALIZED_PNL, tq.BY_BOT, bot_key, day_start, now, day_step)
    for k, change in today.items():
        if k in bots:
            bots[k]["realized_pnl"]["today"] = change["change"]
    return bots


# --------------------------------------------------------------------------- exporter fallback

def _scrape(url: str, timeout: float) -> Samples:
    resp = requests.get(url, timeout=timeout)
    resp.raise_for_status()
    return parse_exposition(resp.text)


def _is_bot(samples: Samples) -> bool:
    return any(name.startswith("trading_") for name in samples)


def from_samples(before: Samples, after: Samples, seconds: float, instance: str, thresholds: Thresholds,
                 now: float) -> dict[Key, dict[str, Any]]:
    """Cards of one target from two of its scrapes `seconds` apart (the quantities' raw formulas)."""
    if not _is_bot(after):
        return {}
    values: dict[str, list[tuple[dict[str, str], float]]] = {}
    for q in tq.CARD_QUANTITIES:
        values[q.key] = [({**lb, "instance": instance}, v) for lb, v in q.raw(before, after, seconds)]
    keys = {("", instance, lb.get(tq.BOT, "")) for name in after if name.startswith("trading_")
            for lb, _ in after[name]}
    bots = {k: _empty(k) for k in keys}
    values = {n: [(lb, v) for lb, v in rows if bot_key(lb) in bots] for n, rows in values.items()}
    _fill(bots, values, thresholds, now)
    for field in ("realized_pnl", "equity"):
        for bot in bots.values():
            v = bot[field]["current"]
            bot[field]["points"] = [] if v is None else [[now, v]]
    return bots


def from_targets(urls: list[str], thresholds: Thresholds, *, timeout: float, now: float,
                 scrapes: ScrapeMemory | None = None) -> tuple[dict[Key, dict[str, Any]], dict[str, str]]:
    """Each URL scraped (all at once) and paired with an earlier scrape; cards and errors per URL."""
    errors: dict[str, str] = {}
    memory = scrapes or ScrapeMemory()

    def pair(url: str) -> tuple[Samples, Samples, float] | None:
        try:
            return memory.pair(url, lambda: _scrape(url, timeout))
        except (requests.RequestException, ValueError) as exc:
            errors[url] = f"{url}: {exc}"
            return None

    bots: dict[Key, dict[str, Any]] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(urls)))) as pool:
        for url, got in zip(urls, pool.map(pair, urls), strict=True):
            if got is not None:
                instance = url.split("://", 1)[-1].split("/", 1)[0]
                bots.update(from_samples(*got, instance, thresholds, now))
    return bots, errors


# --------------------------------------------------------------------------- entry point

def collect(
    prometheus_url: str,
    target_urls: list[str],
    thresholds: Thresholds,
    *,
    timezone: str = "UTC",
    window: float = 3600.0,
    now: float | None = None,
    timeout: float = 3.0,
    scrapes: ScrapeMemory | None = None,
    seen: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """{"source", "window_seconds", "generated_at", "bots": [card...], "errors"}.

    `target_urls` are the /metrics URLs scraped when Prometheus is not configured or does not
    answer (the exporter and each bot's own). `seen`: the bridge's memory of bots (`remember`);
    a bot seen before and gone now gets a card marked down. A source that answers with no bot
    gives an empty list; raises LookupError (errors per source) when no source answered.
    """
    seen = seen or {}
    # Prometheus evaluates at millisecond precision: the same instant for both, so an age shown
    # here is exactly `time() - ...` evaluated at generated_at
    now = round(time.time() if now is None else now, 3)
    errors: dict[str, str] = {}
    base = {"window_seconds": window, "generated_at": now}
    if prometheus_url:
        try:
            api = PrometheusAPI(prometheus_url, timeout=timeout)
            bots = from_prometheus(api, thresholds, now=now, window=window, timezone=timezone)
            last, down = absent_in_prometheus(api, bots, seen, now)
            cards = [bots[k] for k in sorted(bots)]
            cards += absent_cards(cards, seen, last, down)
            return {**base, "source": "prometheus", "bots": cards, "errors": errors}
        except PrometheusUnavailable as exc:
            errors["prometheus"] = str(exc)
    if not target_urls:
        errors.setdefault("exporter", "neither bridge.exporter_url nor bridge.bot_urls is set")
        raise LookupError(errors)
    bots, scrape_errors = from_targets(target_urls, thresholds, timeout=timeout, now=now, scrapes=scrapes)
    errors.update(scrape_errors)
    if len(scrape_errors) == len(target_urls):
        raise LookupError(errors)
    cards = [bots[k] for k in sorted(bots)]
    # a failed URL says why a bot seen before is gone; it is no bot of its own (the exporter's is one)
    known = {v["instance"] for v in seen.values()}
    failed = {url.split("://", 1)[-1].split("/", 1)[0] for url in scrape_errors}
    down = {("", inst) for inst in failed & known}
    return {**base, "source": "exporter", "bots": cards + absent_cards(cards, seen, {}, down),
            "errors": errors}


def attach_alerts(bots: list[dict[str, Any]], firing: list[dict[str, Any]]) -> None:
    """Each bot's active alerts: same instance, and the same `bot` label where the alert has one."""
    for bot in bots:
        bot["alerts"] = [
            {"id": a["id"], "alertname": a["alertname"], "severity": a["severity"],
             "summary": (a.get("annotations") or {}).get("summary") or "",
             "acked": bool(a.get("acked_at"))}
            for a in firing
            if a.get("instance") == bot["instance"]
            and (a.get("labels") or {}).get(tq.BOT, bot["bot"] or "") == (bot["bot"] or "")
        ]
