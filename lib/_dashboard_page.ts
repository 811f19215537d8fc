/**
 * The dashboard page: one self-contained HTML document with its styles and
 * script inline, no CDN and no build step. It reads the Hystrix event stream
 * next to it (`stream`, relative to the page) and draws one tile per service.
 *
 * @module
 */

/** The page, titled `title` (escaped here). */
export function dashboardPage(title: string): string {
  const heading = escapeHtml(title);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${heading}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header class="bar">
  <div class="brand">
    <span class="mark" aria-hidden="true"></span>
    <h1>${heading}</h1>
    <span class="count" id="count">0 services</span>
  </div>
  <div class="meta">
    <span class="updated" id="updated"></span>
    <span class="status" id="status" data-status="connecting">
      <span class="dot"></span><span id="status-text">Connecting</span>
    </span>
  </div>
</header>
<main>
  <p class="empty" id="empty">Waiting for metrics&hellip; Services appear here
  once they are registered and reporting.</p>
  <section class="grid" id="tiles" aria-live="polite"></section>
</main>
<footer class="foot">
  <span>Rates and percentiles cover each service's rolling window.</span>
  <span><a id="link-metrics" href="metrics">Prometheus metrics</a>
  &middot; <a id="link-stream" href="stream">Hystrix stream</a></span>
</footer>
<noscript><p class="empty">This dashboard needs JavaScript.</p></noscript>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (character) => `&#${character.charCodeAt(0)};`,
  );
}

const STYLE = `
:root {
  --bg: #f4f6f9; --panel: #ffffff; --ink: #17202c; --muted: #5f6b7a;
  --faint: #e3e8ef; --accent: #2f6fec; --accent-soft: rgba(47, 111, 236, .14);
  --ok: #1f9d55; --warn: #d98a00; --bad: #d93636; --off: #8a94a3;
  --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .08);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f141b; --panel: #171e28; --ink: #e6ebf2; --muted: #93a0b1;
    --faint: #263140; --accent: #6c9cff; --accent-soft: rgba(108, 156, 255, .16);
    --ok: #3ccf7e; --warn: #f2b340; --bad: #ff6b6b; --off: #6d7889;
    --shadow: none;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body {
  margin: 0; color: var(--ink); background: var(--bg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu,
    "Helvetica Neue", Arial, sans-serif;
  font-variant-numeric: tabular-nums;
}
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.bar {
  display: flex; align-items: center; justify-content: space-between;
  gap: 16px; padding: 14px 24px; background: var(--panel);
  border-bottom: 1px solid var(--faint); position: sticky; top: 0; z-index: 1;
}
.brand { display: flex; align-items: baseline; gap: 12px; min-width: 0; }
.mark {
  width: 12px; height: 12px; border-radius: 3px; align-self: center;
  background: linear-gradient(135deg, var(--accent), var(--ok));
}
h1 {
  margin: 0; font-size: 18px; font-weight: 650; letter-spacing: -.01em;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
.count, .updated { color: var(--muted); font-size: 13px; }
.meta { display: flex; align-items: center; gap: 14px; }
.status {
  display: inline-flex; align-items: center; gap: 6px; font-size: 12px;
  font-weight: 600; padding: 3px 10px; border-radius: 999px;
  background: var(--faint); color: var(--muted);
}
.status .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--off); }
.status[data-status="live"] { color: var(--ok); }
.status[data-status="live"] .dot {
  background: var(--ok); box-shadow: 0 0 0 3px rgba(31, 157, 85, .18);
}
.status[data-status="down"] { color: var(--bad); }
.status[data-status="down"] .dot { background: var(--bad); }
main { padding: 20px 24px 8px; }
.empty { color: var(--muted); margin: 48px auto; text-align: center; max-width: 420px; }
.grid {
  display: grid; gap: 16px;
  grid-template-columns: repeat(auto-fill, minmax(300px, 1fr));
}
.tile {
  background: var(--panel); border: 1px solid var(--faint); border-radius: 10px;
  box-shadow: var(--shadow); padding: 14px 16px 12px; position: relative;
  overflow: hidden;
}
.tile::before {
  content: ""; position: absolute; inset: 0 auto 0 0; width: 4px;
  background: var(--ok);
}
.tile[data-health="warn"]::before { background: var(--warn); }
.tile[data-health="bad"]::before { background: var(--bad); }
.tile header { display: flex; justify-content: space-between; gap: 10px; align-items: flex-start; }
.tile h2 {
  margin: 0; font-size: 15px; font-weight: 650; overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap;
}
.titles { min-width: 0; }
.group { color: var(--muted); font-size: 12px; }
.badge {
  flex: none; font-size: 11px; font-weight: 700; letter-spacing: .04em;
  text-transform: uppercase; padding: 3px 8px; border-radius: 6px;
  color: var(--off); background: var(--faint);
}
.badge[data-state="closed"] { color: var(--ok); background: rgba(31, 157, 85, .13); }
.badge[data-state="open"], .badge[data-state="forced-open"] {
  color: #fff; background: var(--bad);
}
.badge[data-state="half-open"] { color: #1d1400; background: var(--warn); }
.badge[data-state="forced-closed"] { color: var(--accent); background: var(--accent-soft); }
.spark { display: block; width: 100%; height: 44px; margin: 12px 0 10px; }
.spark .area { fill: var(--accent-soft); }
.spark .line {
  fill: none; stroke: var(--accent); stroke-width: 1.6;
  vector-effect: non-scaling-stroke;
}
.spark .errors {
  fill: none; stroke: var(--bad); stroke-width: 1.4;
  vector-effect: non-scaling-stroke;
}
.spark .base { stroke: var(--faint); stroke-width: 1; vector-effect: non-scaling-stroke; }
.stats { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
.stat .value {
  display: block; font-size: 22px; font-weight: 650; letter-spacing: -.02em;
  line-height: 1.15;
}
.stat .label { color: var(--muted); font-size: 12px; }
.stat .value[data-health="warn"] { color: var(--warn); }
.stat .value[data-health="bad"] { color: var(--bad); }
.latency {
  display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px;
  margin: 12px 0 0; padding: 10px 0 0; border-top: 1px solid var(--faint);
}
.latency div { min-width: 0; }
.latency dt {
  color: var(--muted); font-size: 11px; text-transform: uppercase;
  letter-spacing: .04em;
}
.latency dd { margin: 0; font-weight: 600; white-space: nowrap; }
.counts { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 10px; }
.chip {
  font-size: 12px; padding: 2px 8px; border-radius: 999px;
  background: var(--faint); color: var(--muted);
}
.chip b { font-weight: 650; color: var(--ink); }
.chip[data-kind="failure"] b, .chip[data-kind="timeout"] b { color: var(--bad); }
.chip[data-kind="shortCircuited"] b, .chip[data-kind="rejected"] b,
.chip[data-kind="queued"] b { color: var(--warn); }
.chip[data-zero] b { color: var(--muted); }
.foot {
  display: flex; justify-content: space-between; flex-wrap: wrap; gap: 8px;
  padding: 8px 24px 24px; color: var(--muted); font-size: 12px;
}
`;

const SCRIPT = `
"use strict";
(function () {
  var HISTORY = 60;
  var SVG = "http://www.w3.org/2000/svg";
  var grid = document.getElementById("tiles");
  var empty = document.getElementById("empty");
  var count = document.getElementById("count");
  var updated = document.getElementById("updated");
  var status = document.getElementById("status");
  var statusText = document.getElementById("status-text");
  var tiles = new Map();

  var path = location.pathname;
  var base = path.charAt(path.length - 1) === "/" ? path : path + "/";
  document.getElementById("link-metrics").href = base + "metrics";
  document.getElementById("link-stream").href = base + "stream";

  var source = new EventSource(base + "stream");
  source.onopen = function () { setStatus("live", "Live"); };
  source.onerror = function () { setStatus("down", "Reconnecting"); };
  source.onmessage = function (event) {
    var data;
    try { data = JSON.parse(event.data); } catch (error) { return; }
    if (!data || data.type !== "HystrixCommand") return;

    render(read(data));
    updated.textContent = "Updated " + new Date().toLocaleTimeString();
  };

  function setStatus(kind, text) {
    status.setAttribute("data-status", kind);
    statusText.textContent = text;
  }

  function read(data) {
    var extra = data.dyno || {};
    var hosts = data.reportingHosts || 1;
    var execute = data.latencyExecute || {};
    var latency = extra.latencyMs || {
      p50: execute["50"], p90: execute["90"], p99: execute["99"],
      max: execute["100"]
    };
    if (latency.count === 0) latency = {};
    var windowMs = extra.windowMs ||
      data.propertyValue_metricsRollingStatisticalWindowInMilliseconds / hosts ||
      10000;
    var state = extra.circuitState;
    if (state === undefined) state = data.isCircuitBreakerOpen ? "open" : "closed";
    var errors = extra.errorPercentage;
    if (errors === undefined) errors = (data.errorPercentage || 0) / hosts;

    return {
      name: String(data.name),
      group: String(data.group || ""),
      state: state,
      rate: Math.max(0, data.requestCount || 0) / (windowMs / 1000),
      errors: errors,
      inFlight: data.currentConcurrentExecutionCount || 0,
      latency: latency,
      counts: [
        ["success", "ok", data.rollingCountSuccess],
        ["failure", "failed", data.rollingCountFailure],
        ["timeout", "timed out", data.rollingCountTimeout],
        ["shortCircuited", "short-circuited", data.rollingCountShortCircuited],
        ["rejected", "rejected",
          (data.rollingCountSemaphoreRejected || 0) +
          (data.rollingCountThreadPoolRejected || 0)],
        ["fallback", "fallbacks", data.rollingCountFallbackSuccess],
        ["queued", "queued now", extra.queued]
      ]
    };
  }

  function render(service) {
    var tile = tiles.get(service.name) || createTile(service);
    var health = healthOf(service);
    tile.root.setAttribute("data-health", health);
    tile.root.setAttribute("data-state", service.state || "none");
    tile.group.textContent = service.group === service.name ? "" : service.group;
    tile.badge.setAttribute("data-state", service.state || "none");
    tile.badge.textContent = service.state ? service.state.replace("-", " ") : "no breaker";
    tile.rate.textContent = formatRate(service.rate);
    tile.errors.textContent = formatPercent(service.errors);
    var errorHealth = service.errors >= 10 ? "bad" : service.errors >= 1 ? "warn" : "ok";
    tile.errors.setAttribute("data-health", errorHealth);
    tile.inFlight.textContent = String(service.inFlight);
    tile.p50.textContent = formatMs(service.latency.p50);
    tile.p90.textContent = formatMs(service.latency.p90);
    tile.p99.textContent = formatMs(service.latency.p99);
    tile.max.textContent = formatMs(service.latency.max);
    service.counts.forEach(function (entry) {
      var chip = tile.chips[entry[0]];
      var value = entry[2] || 0;
      chip.value.textContent = String(value);
      if (value === 0) chip.root.setAttribute("data-zero", "");
      else chip.root.removeAttribute("data-zero");
      chip.root.hidden = entry[0] === "queued" && value === 0;
    });

    tile.history.push({ rate: service.rate, errors: service.rate * service.errors / 100 });
    if (tile.history.length > HISTORY) tile.history.shift();
    drawSpark(tile);
  }

  function healthOf(service) {
    if (service.state === "open" || service.state === "forced-open") return "bad";
    if (service.errors >= 10) return "bad";
    if (service.state === "half-open" || service.errors >= 1) return "warn";
    return "ok";
  }

  function createTile(service) {
    var root = element("article", "tile");
    root.setAttribute("data-command", service.name);

    var header = element("header");
    var titles = element("div", "titles");
    var name = element("h2", "name", service.name);
    name.title = service.name;
    var group = element("div", "group");
    titles.append(name, group);
    var badge = element("span", "badge");
    badge.setAttribute("data-field", "circuit");
    header.append(titles, badge);

    var spark = document.createElementNS(SVG, "svg");
    spark.setAttribute("class", "spark");
    spark.setAttribute("viewBox", "0 0 " + (HISTORY - 1) + " 40");
    spark.setAttribute("preserveAspectRatio", "none");
    spark.setAttribute("aria-hidden", "true");
    var baseLine = svgPath("base", "M0 39.5 H" + (HISTORY - 1));
    var area = svgPath("area", "");
    var line = svgPath("line", "");
    var errorLine = svgPath("errors", "");
    spark.append(baseLine, area, line, errorLine);

    var stats = element("div", "stats");
    var rate = stat(stats, "rate", "requests/s");
    var errors = stat(stats, "errors", "errors");
    var inFlight = stat(stats, "inFlight", "in flight");

    var latency = element("dl", "latency");
    var p50 = term(latency, "p50", "p50");
    var p90 = term(latency, "p90", "p90");
    var p99 = term(latency, "p99", "p99");
    var max = term(latency, "max", "max");

    var countsRow = element("div", "counts");
    var chips = {};
    service.counts.forEach(function (entry) {
      var chip = element("span", "chip");
      chip.setAttribute("data-kind", entry[0]);
      var value = element("b");
      value.setAttribute("data-field", entry[0]);
      chip.append(value, " " + entry[1]);
      countsRow.append(chip);
      chips[entry[0]] = { root: chip, value: value };
    });

    root.append(header, spark, stats, latency, countsRow);
    insertSorted(root, service.name);

    var tile = {
      root: root, group: group, badge: badge, area: area, line: line,
      errorLine: errorLine, rate: rate.value, errors: errors.value,
      inFlight: inFlight.value,
      p50: p50, p90: p90, p99: p99, max: max, chips: chips, history: []
    };
    tiles.set(service.name, tile);
    empty.hidden = true;
    count.textContent = tiles.size + (tiles.size === 1 ? " service" : " services");
    return tile;
  }

  function insertSorted(root, name) {
    var before = null;
    tiles.forEach(function (other, otherName) {
      if (otherName > name && (!before || otherName < before.name)) {
        before = { name: otherName, root: other.root };
      }
    });
    grid.insertBefore(root, before ? before.root : null);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svgPath(className, d) {
    var node = document.createElementNS(SVG, "path");
    node.setAttribute("class", className);
    node.setAttribute("d", d);
    return node;
  }

  function stat(parent, field, label) {
    var box = element("div", "stat");
    var value = element("span", "value", "–");
    value.setAttribute("data-field", field);
    var caption = element("span", "label", label);
    box.append(value, caption);
    parent.append(box);
    return { value: value, label: caption };
  }

  function term(parent, field, label) {
    var box = element("div");
    var value = element("dd", "", "–");
    value.setAttribute("data-field", field);
    box.append(element("dt", "", label), value);
    parent.append(box);
    return value;
  }

  function drawSpark(tile) {
    var points = tile.history;
    var top = 1;
    points.forEach(function (point) { top = Math.max(top, point.rate); });
    var offset = HISTORY - points.length;
    var line = "";
    var errors = "";
    points.forEach(function (point, index) {
      var x = offset + index;
      var command = index === 0 ? "M" : "L";
      line += command + x + " " + y(point.rate, top) + " ";
      errors += command + x + " " + y(point.errors, top) + " ";
    });
    tile.line.setAttribute("d", line);
    tile.errorLine.setAttribute("d", points.some(function (point) {
      return point.errors > 0;
    }) ? errors : "");
    tile.area.setAttribute("d", points.length === 0 ? "" :
      line + "L" + (HISTORY - 1) + " 40 L" + offset + " 40 Z");
  }

  function y(value, top) {
    return (38 - (value / top) * 34).toFixed(2);
  }

  function formatRate(value) {
    if (!isFinite(value)) return "–";
    return value >= 100 ? Math.round(value).toLocaleString() : value.toFixed(1);
  }

  function formatPercent(value) {
    if (!isFinite(value)) return "–";
    return (value >= 10 ? value.toFixed(0) : value.toFixed(1)) + "%";
  }

  function formatMs(value) {
    if (typeof value !== "number" || !isFinite(value)) return "–";
    if (value >= 1000) return (value / 1000).toFixed(value >= 10000 ? 0 : 1) + " s";
    if (value >= 10) return Math.round(value) + " ms";
    if (value >= 1) return value.toFixed(1) + " ms";
    return value.toFixed(2) + " ms";
  }
})();
`;
