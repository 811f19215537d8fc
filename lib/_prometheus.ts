/**
 * Renders metrics snapshots in the Prometheus text exposition format 0.0.4.
 *
 * @module
 */

import type { CircuitState, MetricsSnapshot } from "./metrics.ts";

type Kind = "counter" | "gauge" | "summary";

interface Sample {
  readonly suffix?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Family {
  readonly name: string;
  readonly kind: Kind;
  readonly help: string;
  readonly samples: (snapshot: MetricsSnapshot) => readonly Sample[];
}

const CIRCUIT_STATES: readonly CircuitState[] = [
  "closed",
  "open",
  "half-open",
  "forced-open",
  "forced-closed",
  "disabled",
];

const QUANTILES = [
  ["0.5", "p50Ms"],
  ["0.9", "p90Ms"],
  ["0.99", "p99Ms"],
  ["0.999", "p999Ms"],
  ["1", "maxMs"],
] as const;

const FAMILIES: readonly Family[] = [
  {
    name: "dyno_requests_total",
    kind: "counter",
    help: "Calls since the metrics were created, by outcome.",
    samples: ({ cumulative }) => [
      { labels: { outcome: "success" }, value: cumulative.successes },
      { labels: { outcome: "failure" }, value: cumulative.failures },
      { labels: { outcome: "timeout" }, value: cumulative.timeouts },
      {
        labels: { outcome: "short_circuited" },
        value: cumulative.shortCircuited,
      },
      { labels: { outcome: "rejected" }, value: cumulative.rejected },
    ],
  },
  {
    name: "dyno_fallbacks_total",
    kind: "counter",
    help: "Fallbacks run since the metrics were created, by outcome.",
    samples: ({ cumulative }) => [
      { labels: { outcome: "success" }, value: cumulative.fallbackSuccesses },
      { labels: { outcome: "failure" }, value: cumulative.fallbackFailures },
    ],
  },
  {
    name: "dyno_retries_total",
    kind: "counter",
    help: "Retries since the metrics were created.",
    samples: ({ cumulative }) => [{ value: cumulative.retries }],
  },
  {
    name: "dyno_in_flight",
    kind: "gauge",
    help: "Calls started and not yet ended, queued ones included.",
    samples: ({ inFlight }) => [{ value: inFlight }],
  },
  {
    name: "dyno_in_flight_max",
    kind: "gauge",
    help: "Most calls running at once during the rolling window.",
    samples: ({ inFlightMax }) => [{ value: inFlightMax }],
  },
  {
    name: "dyno_queued",
    kind: "gauge",
    help: "Calls waiting for a slot now.",
    samples: ({ queued }) => [{ value: queued }],
  },
  {
    name: "dyno_error_ratio",
    kind: "gauge",
    help: "Share of calls in the rolling window that did not succeed, 0..1.",
    samples: ({ errorPercentage }) => [{ value: errorPercentage / 100 }],
  },
  {
    name: "dyno_circuit_state",
    kind: "gauge",
    help: "1 for the circuit breaker's current state, 0 for the others.",
    samples: ({ circuit }) =>
      circuit === undefined ? [] : CIRCUIT_STATES.map((state) => ({
        labels: { state },
        value: state === circuit ? 1 : 0,
      })),
  },
  {
    name: "dyno_latency_ms",
    kind: "summary",
    help: "Call latency in milliseconds: quantiles over the rolling " +
      "latency window, _sum and _count since start.",
    samples: ({ latency, cumulativeLatency }) => [
      ...QUANTILES.map(([quantile, field]) => ({
        labels: { quantile },
        value: latency.count > 0 ? latency[field] : Number.NaN,
      })),
      {
        suffix: "_sum",
        value: cumulativeLatency?.sumMs ??
          (latency.count * latency.meanMs || 0),
      },
      { suffix: "_count", value: cumulativeLatency?.count ?? latency.count },
    ],
  },
];

/**
 * Renders snapshots as Prometheus text exposition format 0.0.4: counters from
 * the cumulative totals, gauges for what is running and queued now and for
 * the rolling window, and a latency summary (quantiles over the rolling
 * latency window; `_sum` and `_count` since start, when the snapshot has them). Every
 * series carries the labels `service` (the snapshot's name) and `group`.
 *
 * The latency summary's `_sum` and `_count` only grow, as Prometheus
 * expects; a hand-made snapshot without `cumulativeLatency` falls back to
 * the rolling window's. Without measured latencies the quantiles are `NaN`.
 *
 * @example Exposing a registry's metrics
 * ```ts
 * import { prometheusText } from "@dyno/dyno/dashboard";
 * import { Metrics, MetricsRegistry } from "@dyno/dyno/metrics";
 * import { ManualClock } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * const metrics = new Metrics({
 *   name: "users", group: "api", registry, clock: new ManualClock(),
 * });
 * metrics.recordSuccess(4);
 * metrics.recordFailure(9);
 *
 * const text = prometheusText(registry.snapshot());
 * assert.ok(text.includes(
 *   'dyno_requests_total{service="users",group="api",outcome="success"} 1\n',
 * ));
 * assert.ok(text.includes(
 *   'dyno_latency_ms{service="users",group="api",quantile="1"} 9\n',
 * ));
 * ```
 *
 * @param snapshots One snapshot per service, with distinct names.
 * @returns The exposition, one line per sample, ending in a newline (or
 *   empty when there are no snapshots).
 */
export function prometheusText(
  snapshots: readonly MetricsSnapshot[],
): string {
  let text = "";
  for (const family of FAMILIES) {
    let lines = "";
    for (const snapshot of snapshots) {
      const common = { service: snapshot.name, group: snapshot.group };
      for (const sample of family.samples(snapshot)) {
        const labels = formatLabels({ ...common, ...sample.labels });
        const name = family.name + (sample.suffix ?? "");
        lines += `${name}{${labels}} ${formatValue(sample.value)}\n`;
      }
    }
    if (lines === "") continue;

    text += `# HELP ${family.name} ${escapeHelp(family.help)}\n`;
    text += `# TYPE ${family.name} ${family.kind}\n`;
    text += lines;
  }

  return text;
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
    .join(",");
}

function escapeLabelValue(value: string): string {
  return String(value).replace(/[\\"\n]/g, (character) => {
    if (character === "\n") return "\\n";

    return "\\" + character;
  });
}

function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (character) => {
    return character === "\n" ? "\\n" : "\\\\";
  });
}

function formatValue(value: number): string {
  if (typeof value !== "number" || Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";

  return String(value);
}
