import type { EventCounts, MetricsSnapshot } from "../lib/metrics.ts";

/** Event counts, all zero but the ones given. */
export function counts(overrides: Partial<EventCounts> = {}): EventCounts {
  return {
    successes: 0,
    failures: 0,
    timeouts: 0,
    shortCircuited: 0,
    rejected: 0,
    fallbackSuccesses: 0,
    fallbackFailures: 0,
    retries: 0,
    ...overrides,
  };
}

/** A hand-made snapshot of an idle service "users" in group "api". */
export function snapshot(
  overrides: Partial<MetricsSnapshot> = {},
): MetricsSnapshot {
  return {
    name: "users",
    group: "api",
    atMs: 0,
    windowMs: 10_000,
    rolling: counts(),
    cumulative: counts(),
    requests: 0,
    errorPercentage: 0,
    inFlight: 0,
    inFlightMax: 0,
    queued: 0,
    latency: {
      count: 0,
      meanMs: 0,
      p50Ms: 0,
      p90Ms: 0,
      p99Ms: 0,
      p999Ms: 0,
      maxMs: 0,
    },
    circuit: undefined,
    ...overrides,
  };
}
