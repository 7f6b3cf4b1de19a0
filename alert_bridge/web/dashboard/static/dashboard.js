/* TradeWatch live dashboard: refreshes the server-rendered page from the bridge's JSON API.
 * No dependencies, no build step. Config comes from data- attributes on <body> (the page's
 * Content-Security-Policy forbids inline script). Every value is inserted with textContent.
 */
(function () {
  "use strict";

  var body = document.body;
  // most urgent first, and the ones that need a person now (tradewatch/vocabulary.py)
  var SEVERITIES = (body.dataset.severities || "").split(" ");
  var SVG_NS = "http://www.w3.org/2000/svg";
  var HEALTH_EVERY_MS = 60000;
  // {metric: [[severity, percent], ...]} lowest first: the configured thresholds (dashboard/levels.py)
  var LEVELS = {};
  try { LEVELS = JSON.parse(body.dataset.levels || "{}"); } catch (e) { LEVELS = {}; }
  var state = {
    csrf: body.dataset.csrf || "",
    loggedIn: body.dataset.loggedIn === "true",
    canLogin: body.dataset.canLogin === "true",
    loopbackWrite: body.dataset.loopbackWrite === "true",
    refreshMs: Math.max(1, parseInt(body.dataset.refreshSeconds || "30", 10)) * 1000,
    window: parseInt(body.dataset.window || "3600", 10),
    lastOk: null,
    alertsKey: null,
    healthAt: 0,
    timer: null
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function clockTime(iso) {
    var d = iso instanceof Date ? iso : new Date(iso);
    if (isNaN(d.getTime())) { return String(iso); }
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function shortTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return String(iso); }
    var sameDay = d.toDateString() === new Date().toDateString();
    var time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return sameDay ? time : d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + time;
  }

  function timeEl(iso, fmt) {
    return el("time", { datetime: iso, text: (fmt || shortTime)(iso) });
  }

  function localiseTimes(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("time[datetime]"), function (t) {
      t.textContent = t.id === "updated-time" ? clockTime(t.dateTime) : shortTime(t.dateTime);
    });
  }

  function capitalise(s) { return s.charAt(0).toUpperCase() + s.slice(1); }

  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }

  function rate(v) {
    if (v === null || v === undefined) { return "—"; }
    if (v >= 1048576) { return (v / 1048576).toFixed(1) + " MB/s"; }
    if (v >= 1024) { return (v / 1024).toFixed(1) + " kB/s"; }
    return v.toFixed(0) + " B/s";
  }

  // the most severe level the ratio is above (the rules compare with ">"), or null
  function levelOf(ratio, levels) {
    if (ratio === null || ratio === undefined || !levels) { return null; }
    var found = null;
    levels.forEach(function (l) { if (ratio * 100 > l[1]) { found = l[0]; } });
    return found;
  }

  function severityBadge(sev) {
    return el("span", { "class": "sev sev-" + sev }, [
      el("span", { "class": "sev-icon", "aria-hidden": "true" }), capitalise(sev)
    ]);
  }

  // ------------------------------------------------------------------ HTTP

  function api(method, path, payload) {
    var headers = { "Accept": "application/json" };
    if (payload !== undefined) { headers["Content-Type"] = "application/json"; }
    if (method !== "GET" && state.csrf) { headers["X-CSRF-Token"] = state.csrf; }
    return fetch(path, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      cache: "no-store",
      body: payload === undefined ? undefined : JSON.stringify(payload)
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { ok: resp.ok, status: resp.status, data: data };
      });
    });
  }

  function errorText(res) {
    if (res && res.data && res.data.error) {
      var detail = res.data.detail;
      if (detail && typeof detail === "object" && detail.error) { detail = detail.error; }
      return res.data.error + (detail && typeof detail === "string" ? ": " + detail : "");
    }
    return "the bridge answered HTTP " + (res ? res.status : "?");
  }

  function say(id, text, kind) {
    var node = $(id);
    if (!node) { return; }
    node.textContent = text;
    node.className = "result" + (kind ? " result-" + kind : "");
  }

  // ------------------------------------------------------------------ sparklines

  function sparkline(points, scaleMax, endTime) {
    var w = 120, h = 28, pad = 2;
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "spark-svg");
    svg.setAttribute("focusable", "false");
    if (!points || !points.length) { return svg; }
    // x spans the data (at most the window): a young Prometheus still draws a readable line
    var end = Math.max(endTime || 0, points[points.length - 1][0]);
    var start = Math.max(end - state.window, points[0][0]);
    var span = Math.max(1, end - start);
    var max = scaleMax, min = 0;
    if (scaleMax === "range") {  // min..max of the data: P&L goes below 0, equity sits far above it
      min = Infinity; max = -Infinity;
      points.forEach(function (p) { min = Math.min(min, p[1]); max = Math.max(max, p[1]); });
      if (max - min < 1e-9) { min -= 1; max += 1; }
    } else if (max === null) {
      max = 0;
      points.forEach(function (p) { if (p[1] > max) { max = p[1]; } });
      max = max > 0 ? max * 1.15 : 1;
    }
    function x(t) { return Math.max(0, Math.min(w, ((t - start) / span) * w)); }
    function y(v) { return h - pad - Math.max(0, Math.min(1, (v - min) / (max - min))) * (h - 2 * pad); }
    if (points.length === 1) {
      var dot = document.createElementNS(SVG_NS, "circle");
      dot.setAttribute("cx", String(w - 3));
      dot.setAttribute("cy", y(points[0][1]).toFixed(2));
      dot.setAttribute("r", "2.5");
      dot.setAttribute("class", "spark-dot");
      svg.appendChild(dot);
      return svg;
    }
    var line = points.map(function (p, i) {
      return (i ? "L" : "M") + x(p[0]).toFixed(2) + " " + y(p[1]).toFixed(2);
    }).join(" ");
    var area = document.createElementNS(SVG_NS, "path");
    area.setAttribute("d", line + " L" + x(points[points.length - 1][0]).toFixed(2) + " " + h +
      " L" + x(points[0][0]).toFixed(2) + " " + h + " Z");
    area.setAttribute("class", "spark-area");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", line);
    path.setAttribute("class", "spark-line");
    path.setAttribute("vector-effect", "non-scaling-stroke");
    svg.appendChild(area);
    svg.appendChild(path);
    return svg;
  }

  function metricRow(key, label, series, kind, mount, endTime) {
    var current = series ? series.current : null;
    var attrs = { "class": "metric", "data-metric": key };
    if (mount) { attrs["data-mount"] = mount; }
    var spark = el("span", { "class": "spark", "aria-hidden": "true" });
    spark.appendChild(sparkline(series ? series.points : [], kind === "rate" ? null : 1, endTime));
    var level = kind === "rate" ? null : levelOf(current, LEVELS[key]);
    var value = { "class": "value" + (level ? " level-" + level : ""), text: kind === "rate" ? rate(current) : pct(current) };
    if (level) { value.title = capitalise(level) + " level"; }
    // a line may break after each "/" of a mount path (<wbr>), and anywhere in a long name
    var parts = [];
    label.split("/").forEach(function (p, i) { if (i) { parts.push("/", el("wbr")); } parts.push(p); });
    return el("div", attrs, [el("dt", { title: label }, parts), el("dd", {}, [el("span", value), spark])]);
  }

  function renderHosts(data) {
    var box = $("hosts");
    var source = $("metrics-source");
    var end = Date.parse(data.generated_at) / 1000;
    if (data.source === "prometheus") {
      source.textContent = "From Prometheus, last " + Math.round(data.window_seconds / 60) + " min";
    } else {
      source.textContent = "Current values from the exporter (Prometheus unavailable: no history)";
    }
    var cards = Object.keys(data.hosts).map(function (instance) {
      var h = data.hosts[instance];
      var rows = [
        metricRow("cpu", "CPU", h.cpu, "pct", "", end),
        metricRow("memory", "Memory", h.memory, "pct", "", end),
        metricRow("network_receive", "Network in", h.network_receive, "rate", "", end),
        metricRow("network_transmit", "Network out", h.network_transmit, "rate", "", end)
      ];
      h.filesystems.forEach(function (fs) {
        rows.push(metricRow("filesystem", "Disk " + fs.mountpoint, fs, "pct", fs.mountpoint, end));
      });
      var title = el("h3", {}, [el("span", { "class": "host-name", text: h.nodename || instance })]);
      if (h.nodename) { title.appendChild(document.createTextNode(" ")); title.appendChild(el("span", { "class": "host-address", text: instance })); }
      return el("article", { "class": "card host", "data-instance": instance }, [
        title, el("dl", { "class": "metrics" }, rows)
      ]);
    });
    box.replaceChildren.apply(box, cards.length ? cards : [el("p", { "class": "empty", text: "No host metrics yet." })]);
  }

  // ------------------------------------------------------------------ trading bots

  // the same formats as the macros in templates/dashboard/_macros.html
  var fmt = {
    money: function (v, signed) {
      if (v === null || v === undefined) { return "—"; }
      var text = v.toFixed(2);
      return signed && v >= 0 ? "+" + text : text;
    },
    seconds: function (v) {
      if (v === null || v === undefined) { return "—"; }
      return v < 1 ? (v * 1000).toFixed(0) + " ms" : v.toFixed(2) + " s";
    },
    age: function (v) {
      if (v === null || v === undefined) { return "—"; }
      var s = Math.floor(v);
      if (s < 120) { return s + " s ago"; }
      if (s < 7200) { return Math.floor(s / 60) + " min " + (s % 60) + " s ago"; }
      if (s < 172800) { return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min ago"; }
      return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h ago";
    }
  };

  function figure(key, label, text, level, wide) {
    var cls = "figure" + (wide ? " wide" : "") + (level ? " lvl-" + level : "");
    var dd = el("dd", {}, [el("span", { "class": "value", "data-q": key, text: text })]);
    if (level && level !== "ok") { dd.appendChild(el("span", { "class": "lvl-word", text: level })); }
    return el("div", { "class": cls, "data-figure": key }, [el("dt", { text: label }), dd]);
  }

  function pair(key, text, unit) {
    var parts = [el("span", { "class": "value", "data-q": key, text: text })];
    if (unit) { parts.push(" ", el("span", { "class": "unit", text: unit })); }
    return el("span", { "class": "pair" }, parts);
  }

  function sparkSpan(points, end) {
    var spark = el("span", { "class": "spark", "aria-hidden": "true" });
    spark.appendChild(sparkline(points, "range", end));
    return spark;
  }

  function alertList(b) {
    return el("ul", { "class": "bot-alerts", "aria-label": "Active alerts of " + b.name }, b.alerts.map(function (a) {
      var li = el("li", {}, [severityBadge(a.severity), " ", el("strong", { text: a.alertname })]);
      if (a.acked) { li.appendChild(el("span", { "class": "acked", text: " ✓ Acknowledged" })); }
      return li;
    }));
  }

  // a bot seen before that exports nothing now (frozen, crashed, unreachable): not "not found"
  function downCard(b) {
    var text = [el("span", { "class": "state-icon", "aria-hidden": "true", text: "!" }), " ", el("strong", { text: "Down" })];
    if (b.down_since !== null && b.down_since !== undefined) {
      text.push(" since ", timeEl(new Date(b.down_since * 1000).toISOString()));
    } else {
      text.push(", unreachable");
    }
    text.push(": " + b.down_reason + ".");
    var head = [el("h3", { text: b.name })];
    if (b.bot) { head.push(el("span", { "class": "muted bot-target", text: (b.job ? b.job + " · " : "") + b.instance })); }
    var parts = [el("div", { "class": "bot-head" }, head), el("p", { "class": "bot-down-text" }, text)];
    if (b.alerts.length) { parts.push(alertList(b)); }
    return el("article", { "class": "card bot bot-down", "data-bot": b.id, "data-status": "down" }, parts);
  }

  function botCard(b, end) {
    if (b.status === "down") { return downCard(b); }
    var pnl = b.realized_pnl, orders = Object.keys(b.orders_per_minute).sort();
    var figures = [
      el("div", { "class": "figure wide", "data-figure": "pnl" }, [el("dt", { text: "Realized P&L" }), el("dd", {}, [
        pair("pnl_today", fmt.money(pnl.today, true), "today"), " ",
        pair("pnl_total", fmt.money(pnl.current, true), "since start"), sparkSpan(pnl.points, end)
      ])]),
      el("div", { "class": "figure wide", "data-figure": "equity" }, [el("dt", { text: "Equity" }), el("dd", {}, [
        pair("equity", fmt.money(b.equity.current, false), ""), sparkSpan(b.equity.points, end)
      ])]),
      figure("open_positions", "Open positions", b.open_positions === null ? "—" : b.open_positions.toFixed(0)),
      el("div", { "class": "figure orders-figure", "data-figure": "orders" }, [el("dt", { text: "Orders / min" }),
        el("dd", { "class": "orders" }, orders.length ? orders.map(function (st) {
          return pair("orders_" + st, b.orders_per_minute[st].toFixed(2), st);
        }) : [el("span", { "class": "value", text: "—" })])]),
      figure("rejection_ratio", "Rejected orders", pct(b.rejection_ratio.value), b.rejection_ratio.level),
      figure("api_p95", "Exchange API p95", fmt.seconds(b.api.p95_seconds.value), b.api.p95_seconds.level),
      figure("api_errors", "Exchange API errors", pct(b.api.error_ratio.value), b.api.error_ratio.level)
    ];
    b.api.exchanges.forEach(function (x) {
      figures.push(figure("api_p95@" + x.exchange, x.exchange + " p95", fmt.seconds(x.p95_seconds.value), x.p95_seconds.level));
      figures.push(figure("api_errors@" + x.exchange, x.exchange + " errors", pct(x.error_ratio.value), x.error_ratio.level));
    });
    figures.push(figure("heartbeat_age", "Heartbeat", fmt.age(b.heartbeat.age_seconds), b.heartbeat.level));
    figures.push(figure("last_trade_age", "Last trade", fmt.age(b.last_trade.age_seconds), b.last_trade.level));
    var alerts = b.alerts.length
      ? alertList(b)
      : el("p", { "class": "bot-alerts ok-text" }, [el("span", { "aria-hidden": "true", text: "✓" }), " No active alerts"]);
    return el("article", { "class": "card bot", "data-bot": b.id }, [
      el("div", { "class": "bot-head" }, b.bot ? [el("h3", { text: b.name }),
        el("span", { "class": "muted bot-target", text: (b.job ? b.job + " · " : "") + b.instance })]
        : [el("h3", { text: b.name })]),
      el("dl", { "class": "figures" }, figures), alerts
    ]);
  }

  function renderBots(data) {
    var box = $("bots");
    var end = data.generated_at_epoch;
    $("trading-source").textContent = data.source === "prometheus"
      ? "From Prometheus, last " + Math.round(data.window_seconds / 60) + " min"
      : "Current values from the bots' /metrics (Prometheus unavailable: no history)";
    var cards = data.bots.map(function (b) { return botCard(b, end); });
    box.replaceChildren.apply(box, cards.length ? cards
      : [el("p", { "class": "empty", text: "No trading bot found (no scrape target exports trading_*)." })]);
    box.dataset.generatedAt = String(end);
  }

  // a 503 is "no source answered" (the section's own text says why); anything else is named
  function unanswered(res) {
    return res && res.status === 503 ? "No metrics source answered" : "No metrics source answered: " + errorText(res);
  }

  function metricsUnavailable(res) {
    $("metrics-source").textContent = unanswered(res);
  }

  // ------------------------------------------------------------------ alerts, pause, outbox

  function renderAlerts(data) {
    var counts = data.counts || {};
    SEVERITIES.forEach(function (sev) {
      var n = counts[sev] || 0;
      var strong = document.querySelector('[data-count="' + sev + '"]');
      if (strong) {
        strong.textContent = String(n);
        strong.parentNode.classList.toggle("nonzero", n > 0);
      }
    });
    // one row per alert identity at its highest severity, the Watchdog never among them (server side)
    // while paused, the alerts Alertmanager's silence holds (no id: they never reached the bridge)
    var firing = (data.active || []).concat(data.held || []);
    var heldError = $("held-error");
    if (heldError) {
      heldError.hidden = !data.held_error;
      heldError.textContent = data.held_error || "";
    }
    var urgent = $("urgent");
    urgent.hidden = !data.banner;
    urgent.classList.toggle("pulsing", (data.unacknowledged || 0) > 0);
    $("urgent-text").textContent = data.banner || "";
    document.title = (data.unacknowledged ? "(" + data.unacknowledged + ") " : "") + "TradeWatch — live";
    if (data.heartbeat) {
      var beat = $("heartbeat");
      beat.classList.toggle("ok", !!data.heartbeat.healthy);
      beat.classList.toggle("bad", !data.heartbeat.healthy);
      beat.querySelector(".state-icon").textContent = data.heartbeat.healthy ? "♥" : "!";
      $("heartbeat-detail").textContent = data.heartbeat.detail;
    }

    var key = JSON.stringify(firing.map(function (a) { return [a.id, a.fingerprint, a.acked_at, a.severity]; }));
    if (key === state.alertsKey) { return; }  // unchanged: keep the table (and keyboard focus) as is
    state.alertsKey = key;
    var box = $("alerts-body");
    if (!firing.length) {
      box.replaceChildren(el("p", { "class": "empty ok-text" }, [
        el("span", { "aria-hidden": "true", text: "✓" }), " No alerts firing."
      ]));
      return;
    }
    var rows = firing.map(function (a) {
      var what = el("td", { "data-label": "Alert" }, [el("strong", { text: a.alertname })]);
      if (a.annotations && a.annotations.summary) {
        what.appendChild(el("br"));
        what.appendChild(el("span", { "class": "muted", text: a.annotations.summary }));
      }
      var action = a.held_by
        ? el("span", { "class": "held-note", text: "❚❚ Held by the pause: in the summary on resume" })
        : a.acked_at
        ? el("span", { "class": "acked", text: "✓ Acknowledged" })
        : el("button", {
          type: "button", "class": "ack needs-auth", "data-alert-id": String(a.id),
          "aria-label": "Acknowledge " + a.alertname + " on " + a.instance, text: "Acknowledge"
        });
      var rowAttrs = a.held_by ? { "data-fingerprint": a.fingerprint, "class": "row-" + a.severity + " held-row" }
        : { "data-alert-id": String(a.id), "class": "row-" + a.severity };
      return el("tr", rowAttrs, [
        el("td", { "data-label": "Severity" }, [severityBadge(a.severity)]), what,
        el("td", { "data-label": "Instance", text: (a.labels && a.labels.nodename) || a.instance }),
        el("td", { "data-label": "Since" }, [timeEl(a.starts_at)]), el("td", { "data-label": "Action" }, [action])
      ]);
    });
    var head = el("tr", {}, ["Severity", "Alert", "Instance", "Since", "Action"].map(function (t) {
      return el("th", { scope: "col", text: t });
    }));
    box.replaceChildren(el("table", { "class": "alerts" }, [el("thead", {}, [head]), el("tbody", {}, rows)]));
    applyAuth();
  }

  function renderPause(p) {
    var node = $("pause-state");
    node.className = "pause-state " + (p ? "paused" : "active");
    if (!p) {
      node.replaceChildren(el("span", { "class": "state-icon", "aria-hidden": "true", text: "▶" }),
        " Active: emails are sent");
      return;
    }
    var parts = [el("span", { "class": "state-icon", "aria-hidden": "true", text: "❚❚" }),
      " Paused until ", timeEl(p.until)];
    if (p.comment) { parts.push(" — " + p.comment); }
    if (p.include_emergencies) { parts.push(" (emergencies too)"); }
    node.replaceChildren.apply(node, parts);
  }

  function renderNotifications(data) {
    var box = $("notifications-body");
    var list = data.notifications || [];
    if (!list.length) {
      box.replaceChildren(el("p", { "class": "empty", text: "No notifications yet." }));
      return;
    }
    var rows = list.map(function (n) {
      var status = el("td", { "data-label": "Status" }, [el("span", { "class": "status status-" + n.status }, [
        el("span", { "class": "status-icon", "aria-hidden": "true" }), n.status
      ])]);
      if (n.last_error) {
        status.appendChild(el("br"));
        status.appendChild(el("span", { "class": "muted", text: n.last_error }));
      }
      return el("tr", { "data-notification-id": String(n.id) }, [
        el("td", { "data-label": "Queued" }, [timeEl(n.created_at)]),
        el("td", { "data-label": "Kind", text: n.kind.replace(/_/g, " ") }),
        el("td", { "data-label": "To", text: n.channel || "email" }),
        el("td", { "data-label": "About", text: n.subject || "—" }), status
      ]);
    });
    var head = el("tr", {}, ["Queued", "Kind", "To", "About", "Status"].map(function (t) {
      return el("th", { scope: "col", text: t });
    }));
    box.replaceChildren(el("table", { "class": "notifications" }, [el("thead", {}, [head]), el("tbody", {}, rows)]));
  }

  function renderSilences(res) {
    var box = $("silences-body");
    if (!res.ok) {
      box.replaceChildren(el("p", { "class": "empty", text: "Cannot list silences: " + errorText(res) }));
      return;
    }
    var list = res.data.silences || [];
    if (!list.length) {
      box.replaceChildren(el("p", { "class": "empty", text: res.data.configured
        ? "No active silences." : "No Alertmanager configured (bridge.alertmanager_url)." }));
      return;
    }
    var items = list.map(function (s) {
      var who = [el("strong", { text: s.comment || "(no comment)" }), " — by " + (s.created_by || "?")];
      if (s.state === "pending") { who.push(" (starts ", timeEl(s.starts_at), ")"); }
      var action = s.pause
        ? el("span", { "class": "held-note", text: "The pause: Resume ends it" })
        : el("button", { type: "button", "class": "expire needs-auth secondary", "data-silence-id": s.id,
          "aria-label": "Expire the silence " + s.comment, text: "Expire" });
      return el("li", { "class": "silence", "data-silence-id": s.id }, [
        el("div", {}, [el("p", {}, who), el("p", { "class": "muted" }, [
          "Until ", timeEl(s.ends_at), " · ", el("code", { text: s.matchers.join(", ") })
        ])]), action
      ]);
    });
    box.replaceChildren(el("ul", { "class": "silences" }, items));
    applyAuth();
  }

  function onExpire(event) {
    var button = event.target.closest("button.expire");
    if (!button) { return; }
    var id = button.dataset.silenceId;
    act(button, "silence-result", "POST", "/api/monitoring/silences/" + encodeURIComponent(id) + "/expire", {},
      function () { say("silence-result", "Silence expired.", "ok"); });
  }

  function renderChannels(data) {
    var box = $("channels-body");
    if (!box) { return; }
    (data.channels || []).forEach(function (c) {
      var row = box.querySelector('tr[data-channel="' + c.name + '"]');
      if (!row) { return; }
      var cell = row.querySelector('td[data-label="Last"]');
      var parts = [];
      if (c.last) {
        parts.push(el("span", { "class": "status status-" + c.last.status }, [
          el("span", { "class": "status-icon", "aria-hidden": "true" }), c.last.status
        ]), " " + c.last.kind.replace(/_/g, " ") + " ", timeEl(c.last.at));
        if (c.last.error) { parts.push(el("br"), el("span", { "class": "muted", text: c.last.error })); }
      } else {
        parts.push(el("span", { "class": "muted", text: "none yet" }));
      }
      if (c.backlog) { parts.push(el("br"), el("span", { "class": "muted", text: c.backlog + " waiting" })); }
      cell.replaceChildren.apply(cell, parts);
    });
  }

  function renderHealth(data) {
    $("health-score").textContent = data.score === null || data.score === undefined ? "—" : String(Math.floor(data.score));
    $("health-grade").textContent = data.grade || "—";
  }

  // ------------------------------------------------------------------ refresh loop

  function setStale(failed, reason) {
    var banner = $("stale");
    if (failed) {
      var since = state.lastOk ? " since " + clockTime(state.lastOk) : "";
      var what = reason ? "The bridge refused the refresh (" + reason + ")" : "The bridge has not answered";
      $("stale-text").textContent = what + since +
        ": the figures below may be out of date. Retrying every " + state.refreshMs / 1000 + " s.";
    }
    banner.hidden = !failed;
    body.classList.toggle("is-stale", failed);
  }

  function markUpdated() {
    state.lastOk = new Date();
    var t = $("updated-time");
    t.dateTime = state.lastOk.toISOString();
    t.textContent = clockTime(state.lastOk);
  }

  function refresh() {
    clearTimeout(state.timer);
    var core = api("GET", "/api/monitoring/alerts?status=firing&limit=200").then(function (res) {
      if (!res.ok) { throw { refused: errorText(res) }; }
      renderAlerts(res.data);
      renderPause(res.data.paused);
    });
    var extras = [
      api("GET", "/api/monitoring/sparklines?window=" + state.window + "s").then(function (res) {
        if (res.ok) { renderHosts(res.data); } else { metricsUnavailable(res); }
      }),
      api("GET", "/api/monitoring/trading?window=" + state.window + "s").then(function (res) {
        if (res.ok) { renderBots(res.data); } else {
          $("trading-source").textContent = unanswered(res);
        }
      }),
      api("GET", "/api/monitoring/channels").then(function (res) {
        if (res.ok) { renderChannels(res.data); }
      }),
      api("GET", "/api/monitoring/notifications?limit=20").then(function (res) {
        if (res.ok) { renderNotifications(res.data); }
      }),
      api("GET", "/api/monitoring/silences").then(renderSilences),
    ];
    // the score covers report.window (24 h): computing it every few seconds would only cost queries
    if (Date.now() - state.healthAt >= Math.max(state.refreshMs, HEALTH_EVERY_MS)) {
      state.healthAt = Date.now();
      extras.push(api("GET", "/api/monitoring/health-score").then(function (res) {
        if (res.ok) { renderHealth(res.data); }
      }));
    }
    return Promise.all([core].concat(extras)).then(function () {
      markUpdated();
      setStale(false);
    }, function (err) {
      setStale(true, err && err.refused);
    }).then(function () {
      state.timer = setTimeout(refresh, state.refreshMs);
    });
  }

  // ------------------------------------------------------------------ auth and actions

  function canAct() { return state.loggedIn || state.loopbackWrite; }

  function applyAuth() {
    var allowed = canAct();
    Array.prototype.forEach.call(document.querySelectorAll(".needs-auth"), function (b) {
      b.disabled = !allowed;
    });
    var hint = $("auth-hint");
    if (hint) { hint.hidden = allowed; }
    var form = $("login-form");
    if (form && body.dataset.page === "dashboard") { form.hidden = state.loggedIn || !state.canLogin; }
    var signed = $("signed-in");
    if (signed) { signed.hidden = !state.loggedIn; }
  }

  function onLogin(event) {
    event.preventDefault();
    var input = $("login-password");
    say("login-result", "Checking…");
    api("POST", "/api/auth/login", { password: input.value }).then(function (res) {
      input.value = "";
      if (!res.ok) {
        say("login-result", res.status === 401 ? "Wrong password or token." : errorText(res), "error");
        input.focus();
        return;
      }
      if (body.dataset.page === "login") { window.location.reload(); return; }
      state.csrf = res.data.csrf_token;
      state.loggedIn = true;
      say("login-result", "");
      applyAuth();
    }, function () { say("login-result", "The bridge is not answering.", "error"); });
  }

  function onLogout() {
    api("POST", "/api/auth/logout", {}).then(function () {
      state.csrf = "";
      state.loggedIn = false;
      say("login-result", "Signed out.");
      applyAuth();
    });
  }

  function act(button, resultId, method, path, payload, done) {
    button.disabled = true;
    var old = button.textContent;
    button.setAttribute("aria-busy", "true");
    say(resultId, "Working…");
    api(method, path, payload).then(function (res) {
      if (res.ok) { done(res); } else {
        say(resultId, (res.status === 401 || res.status === 403) && !canAct()
          ? "Log in first." : "Failed: " + errorText(res), "error");
      }
    }, function () {
      say(resultId, "Failed: the bridge is not answering.", "error");
    }).then(function () {
      button.removeAttribute("aria-busy");
      button.textContent = old;
      button.disabled = !canAct();
      return refresh();
    });
  }

  function onAck(event) {
    var button = event.target.closest("button.ack");
    if (!button) { return; }
    var id = button.dataset.alertId;
    act(button, "ack-result", "POST", "/api/monitoring/alerts/" + id + "/ack", {}, function (res) {
      var a = res.data.alert;
      say("ack-result", "Acknowledged " + a.alertname + " on " + a.instance + ".", "ok");
      $("alerts").focus();
    });
  }

  function onPause(event) {
    event.preventDefault();
    var payload = {
      duration: $("pause-duration").value,
      comment: $("pause-comment").value,
      include_emergencies: $("pause-emergencies").checked
    };
    act($("pause-button"), "pause-result", "POST", "/api/monitoring/stop", payload, function (res) {
      var p = res.data.paused;
      var warn = p.silence_error ? " (Alertmanager silence failed: " + p.silence_error + ")" : "";
      say("pause-result", "Notifications paused until " + clockTime(p.until) + "." + warn, warn ? "error" : "ok");
    });
  }

  function onResume() {
    act($("resume-button"), "pause-result", "POST", "/api/monitoring/start", {}, function (res) {
      var d = res.data;
      var text = d.resumed ? "Notifications resumed." : "Notifications were not paused.";
      if (d.held_alerts) { text += " " + d.held_alerts + " held alert(s) summarised by email."; }
      say("pause-result", text, "ok");
    });
  }

  function onTestEmail() {
    var button = $("test-email");
    act(button, "test-result", "POST", "/api/monitoring/send-test-email", {}, function (res) {
      var d = res.data;
      say("test-result", "Delivered to " + d.recipients.join(", ") + " (" + d.message_id + ").", "ok");
    });
  }

  function onChannelTest(event) {
    var button = event.target.closest("button.channel-test");
    if (!button) { return; }
    var name = button.dataset.channel;
    act(button, "channel-result", "POST", "/api/monitoring/channels/" + encodeURIComponent(name) + "/test", {},
      function () { say("channel-result", "Test message delivered to " + name + ".", "ok"); });
  }

  function start() {
    var login = $("login-form");
    if (login) { login.addEventListener("submit", onLogin); }
    if (body.dataset.page !== "dashboard") { return; }
    localiseTimes(document);
    $("logout").addEventListener("click", onLogout);
    $("alerts-body").addEventListener("click", onAck);
    $("silences-body").addEventListener("click", onExpire);
    $("pause-form").addEventListener("submit", onPause);
    $("resume-button").addEventListener("click", onResume);
    $("test-email").addEventListener("click", onTestEmail);
    if ($("channels-body")) { $("channels-body").addEventListener("click", onChannelTest); }
    applyAuth();
    refresh();
  }

  start();
}());
