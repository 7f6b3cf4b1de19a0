"""Pure builders for Grafana dashboard JSON (schema 39: Grafana 10.4 / 11 import it as is).

Every function returns plain dicts, so a dashboard is data that tests can inspect and compare.
Panels reference the Prometheus datasource only through the `$datasource` variable, which lets
one JSON file work both when provisioned and when imported by hand into any Grafana.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tradewatch.config import Levels

SCHEMA_VERSION = 39
DATASOURCE_VAR = "datasource"
DATASOURCE = {"type": "prometheus", "uid": "${%s}" % DATASOURCE_VAR}  # noqa: UP031 - braces
GRID_WIDTH = 24

# One colour per alert severity, used by every threshold so that a level looks the same on
# every panel; the bridge's dashboard and the emails use the same order.
SEVERITY_COLOURS = {
    "ok": "green",
    "info": "blue",
    "warning": "orange",
    "critical": "red",
    "emergency": "dark-red",
}


# --------------------------------------------------------------------------- thresholds

def steps(base: str, *levels: tuple[float, str]) -> dict[str, Any]:
    """Absolute threshold steps: `base` colour below the first level."""
    out: list[dict[str, Any]] = [{"color": base, "value": None}]
    out += [{"color": colour, "value": value} for value, colour in levels]
    return {"mode": "absolute", "steps": out}


def rising(levels: Levels, scale: float = 1.0) -> dict[str, Any]:
    """Thresholds from a config level set where higher is worse (cpu_percent, ...).

    `scale` converts the config's unit to the panel's (0.01 for percent -> ratio, 0.001 for
    ms -> s), so the colour change sits exactly where the alert rule fires.
    """
    return steps("green", *((_round(v * scale), SEVERITY_COLOURS[s]) for s, v in levels.items()))


def falling(levels: Levels, scale: float = 1.0) -> dict[str, Any]:
    """Thresholds from a level set where lower is worse (hours until a disk is full)."""
    items = sorted(levels.items(), key=lambda sv: sv[1])  # most severe (lowest) first
    # the most severe colour covers everything below the lowest level
    return steps(SEVERITY_COLOURS[items[0][0]], *_shift(items, scale))


def _shift(items: list[tuple[str, float]], scale: float) -> list[tuple[float, str]]:
    """For falling levels: at each level's value the colour becomes the next milder one."""
    colours = [SEVERITY_COLOURS[s] for s, _ in items[1:]] + ["green"]
    return [(_round(v * scale), colour) for (_, v), colour in zip(items, colours, strict=True)]


def _round(value: float) -> float:
    """Keep 0.8 as 0.8 and not 0.8000000000000002 in the JSON."""
    rounded = round(value, 9)
    return int(rounded) if rounded == int(rounded) else rounded


# --------------------------------------------------------------------------- queries

def target(expr: str, legend: str = "__auto", *, ref: str = "A", instant: bool = False,
           table: bool = False) -> dict[str, Any]:
    """One PromQL query of a panel, as Grafana's Prometheus query editor saves it."""
    out: dict[str, Any] = {
        "datasource": dict(DATASOURCE),
        "editorMode": "code",
        "expr": expr,
        "instant": instant,
        "legendFormat": legend,
        "range": not instant,
        "refId": ref,
    }
    if table:
        out["format"] = "table"
    return out


def targets(*queries: tuple[str, str]) -> list[dict[str, Any]]:
    """Range queries with refIds A, B, C ... from (expr, legend) pairs."""
    return [target(expr, legend, ref=chr(ord("A") + i)) for i, (expr, legend) in enumerate(queries)]


def selector(**labels: str) -> str:
    """A label matcher list: selector(job='=$job', instance='=~$instance') -> {job="$job",...}."""
    parts = []
    for name, spec in labels.items():
        op = spec[:2] if spec[:2] in ("=~", "!~", "!=") else spec[:1]
        parts.append(f'{name}{op}"{spec[len(op):]}"')
    return "{" + ", ".join(parts) + "}"


# --------------------------------------------------------------------------- panels

@dataclass
class Panel:
    """A panel before layout: width and height in grid units, the JSON body without id/gridPos."""

    body: dict[str, Any]
    w: int = 12
    h: int = 8


@dataclass
class Row:
    title: str
    panels: list[Panel] = field(default_factory=list)


def _field_config(unit: str, thresholds: dict[str, Any] | None, *, min_: float | None = None,
                  max_: float | None = None, decimals: int | None = None,
                  custom: dict[str, Any] | None = None, mappings: list[dict[str, Any]] | None = None,
                  colour_mode: str = "palette-classic",
                  overrides: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "color": {"mode": colour_mode},
        "mappings": mappings or [],
        "thresholds": thresholds or steps("green"),
        "unit": unit,
    }
    if min_ is not None:
        defaults["min"] = min_
    if max_ is not None:
        defaults["max"] = max_
    if decimals is not None:
        defaults["decimals"] = decimals
    if custom:
        defaults["custom"] = custom
    return {"defaults": defaults, "overrides": overrides or []}


def timeseries(title: str, queries: Sequence[dict[str, Any]], unit: str, *,
               description: str = "", thresholds: dict[str, Any] | None = None,
               min_: float | None = None, max_: float | None = None, stack: bool = False,
               fill: int = 10, w: int = 12, h: int = 8,
               overrides: list[dict[str, Any]] | None = None) -> Panel:
    """A time series; thresholds, when given, are drawn as dashed lines at the alert levels."""
    custom = {
        "drawStyle": "line",
        "fillOpacity": fill,
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if stack else "none"},
        "thresholdsStyle": {"mode": "dashed" if thresholds else "off"},
    }
    return Panel({
        "datasource": dict(DATASOURCE),
        "description": description,
        "fieldConfig": _field_config(unit, thresholds, min_=min_, max_=max_, custom=custom,
                                     overrides=overrides),
        "options": {
            "legend": {"calcs": ["mean", "max", "lastNotNull"], "displayMode": "table",
                       "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": list(queries),
        "title": title,
        "type": "timeseries",
    }, w, h)


def stat(title: str, queries: Sequence[dict[str, Any]], unit: str, *, description: str = "",
         thresholds: dict[str, Any] | None = None, decimals: int | None = None,
         mappings: list[dict[str, Any]] | None = None, graph: bool = True, w: int = 4,
         h: int = 4, text_mode: str = "auto") -> Panel:
    """A single figure coloured by thresholds (background), with a sparkline when `graph`."""
    return Panel({
        "datasource": dict(DATASOURCE),
        "description": description,
        "fieldConfig": _field_config(unit, thresholds, decimals=decimals, mappings=mappings,
                                     colour_mode="thresholds"),
        "options": {
            "colorMode": "background",
            "graphMode": "area" if graph else "none",
            "justifyMode": "auto",
            "orientation": "auto",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "textMode": text_mode,
        },
        "targets": list(queries),
        "title": title,
        "type": "stat",
    }, w, h)


def gauge(title: str, queries: Sequence[dict[str, Any]], unit: str, *, description: str = "",
          thresholds: dict[str, Any] | None = None, min_: float = 0, max_: float = 1,
          w: int = 4, h: int = 6) -> Panel:
    return Panel({
        "datasource": dict(DATASOURCE),
        "description": description,
        "fieldConfig": _field_config(unit, thresholds, min_=min_, max_=max_,
                                     colour_mode="thresholds"),
        "options": {
            "orientation": "auto",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "showThresholdLabels": False,
            "showThresholdMarkers": True,
        },
        "targets": list(queries),
        "title": title,
        "type": "gauge",
    }, w, h)


def bargauge(title: str, queries: Sequence[dict[str, Any]], unit: str, *, description: str = "",
             thresholds: dict[str, Any] | None = None, min_: float = 0, max_: float = 1,
             w: int = 12, h: int = 8) -> Panel:
    """One bar per series (per mount point, say), coloured by the alert levels."""
    return Panel({
        "datasource": dict(DATASOURCE),
        "description": description,
        "fieldConfig": _field_config(unit, thresholds, min_=min_, max_=max_,
                                     colour_mode="thresholds"),
        "options": {
            "displayMode": "gradient",
            "orientation": "horizontal",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "showUnfilled": True,
            "valueMode": "color",
        },
        "targets": list(queries),
        "title": title,
        "type": "bargauge",
    }, w, h)


def table(title: str, queries: Sequence[dict[str, Any]], *, description: str = "",
          hide: Iterable[str] = ("Time", "Value", "__name__", "alertstate"),
          unit: str = "none", w: int = 24, h: int = 8) -> Panel:
    """An instant table of label sets (the firing alerts, say), one row per series."""
    return Panel({
        "datasource": dict(DATASOURCE),
        "description": description,
        "fieldConfig": _field_config(unit, None),
        "options": {"cellHeight": "sm", "footer": {"show": False}, "showHeader": True},
        "targets": list(queries),
        "title": title,
        "transformations": [
            {"id": "organize", "options": {"excludeByName": dict.fromkeys(hide, True)}},
        ],
        "type": "table",
    }, w, h)


def value_map(mapping: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """Value mappings: {'0': ('Active', 'green')} -> Grafana's value-to-text mapping."""
    options = {
        value: {"color": colour, "index": i, "text": text}
        for i, (value, (text, colour)) in enumerate(mapping.items())
    }
    return [{"options": options, "type": "value"}]


def override_colour(series: str, colour: str) -> dict[str, Any]:
    """Pin the colour of a series by its display name (e.g. the `failed` email rate red)."""
    return {
        "matcher": {"id": "byName", "options": series},
        "properties": [{"id": "color", "value": {"fixedColor": colour, "mode": "fixed"}}],
    }


# --------------------------------------------------------------------------- layout

def layout(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Flow panels left to right into the 24-column grid, a row header before each section.

    Ids are assigned in reading order starting at 1, so they are unique and stable between runs
    (a diff of the generated JSON shows only real changes).
    """
    out: list[dict[str, Any]] = []
    y, next_id = 0, 1
    for row in rows:
        out.append({
            "collapsed": False,
            "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y},
            "id": next_id,
            "panels": [],
            "title": row.title,
            "type": "row",
        })
        next_id += 1
        y += 1
        x, line_h = 0, 0
        for panel in row.panels:
            if panel.w > GRID_WIDTH:
                raise ValueError(f"panel {panel.body.get('title')!r} is wider than the grid")
            if x + panel.w > GRID_WIDTH:
                y += line_h
                x, line_h = 0, 0
            body = dict(panel.body)
            body["id"] = next_id
            body["gridPos"] = {"h": panel.h, "w": panel.w, "x": x, "y": y}
            out.append(dict(sorted(body.items())))
            next_id += 1
            x += panel.w
            line_h = max(line_h, panel.h)
        y += line_h
    return out


# --------------------------------------------------------------------------- templating

def datasource_variable() -> dict[str, Any]:
    """`$datasource`: any Prometheus datasource; Grafana preselects the default one."""
    return {
        "current": {},
        "hide": 0,
        "includeAll": False,
        "label": "Data source",
        "multi": False,
        "name": DATASOURCE_VAR,
        "options": [],
        "query": "prometheus",
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
        "type": "datasource",
    }


def query_variable(name: str, label: str, query: str, *, multi: bool = False,
                   include_all: bool = False) -> dict[str, Any]:
    """A `label_values(...)` variable refreshed when the time range changes."""
    out: dict[str, Any] = {
        "current": {},
        "datasource": dict(DATASOURCE),
        "definition": query,
        "hide": 0,
        "includeAll": include_all,
        "label": label,
        "multi": multi,
        "name": name,
        "options": [],
        "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "regex": "",
        "skipUrlSync": False,
        "sort": 1,
        "type": "query",
    }
    if include_all:
        out["allValue"] = ".*"
    return out


def alert_annotation() -> dict[str, Any]:
    """Marks on every graph while a critical or emergency alert fires (Prometheus's ALERTS)."""
    return {
        "datasource": dict(DATASOURCE),
        "enable": True,
        "expr": 'ALERTS{alertstate="firing", severity=~"critical|emergency"}',
        "hide": False,
        "iconColor": SEVERITY_COLOURS["critical"],
        "name": "Critical alerts",
        "step": "60s",
        "tagKeys": "severity,instance",
        "textFormat": "{{instance}}",
        "titleFormat": "{{alertname}}",
        "useValueForTime": False,
    }


def dashboard(uid: str, title: str, *, description: str, tags: Sequence[str], rows: Sequence[Row],
              variables: Sequence[dict[str, Any]], refresh: str = "30s",
              time_from: str = "now-6h") -> dict[str, Any]:
    """A complete dashboard, importable as is (`id: null`) or provisioned from a file."""
    return {
        "annotations": {"list": [{
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True,
            "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        }, alert_annotation()]},
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [{
            "asDropdown": True,
            "icon": "external link",
            "includeVars": False,
            "keepTime": True,
            "tags": ["tradewatch"],
            "targetBlank": False,
            "title": "TradeWatch",
            "type": "dashboards",
        }],
        "panels": layout(rows),
        "refresh": refresh,
        "schemaVersion": SCHEMA_VERSION,
        "tags": list(tags),
        "templating": {"list": [datasource_variable(), *variables]},
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "utc",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }
