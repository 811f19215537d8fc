// Recording cost of dyno's metrics next to opossum's rolling stats.
//
// Group `metrics` has the required async baseline (`raw async call`, an
// `async () => 1` awaited); every other entry in it is synchronous.
// `dyno metrics record` runs on the real clock, so its amortised clock reads
// (about one per 64 records at this rate) are in its numbers.
// `opossum stats` is what an opossum breaker records on each successful
// `fire`: its `Status` object gets a `fires` and a `successes` increment,
// the latter pushing the latency into the current bucket's array.

import CircuitBreaker from "npm:opossum@10";
import { Metrics } from "../lib/metrics.ts";
import { LogLinearHistogram } from "../lib/stats.ts";

const LATENCIES = Float64Array.from(
  { length: 4096 },
  (_, index) => 0.05 + ((index * 7919) % 4096) * 0.37,
);
const MASK = LATENCIES.length - 1;

// deno-lint-ignore require-await
const noop = async () => 1;
const metrics = new Metrics({ name: "bench" });
const exactMetrics = new Metrics({
  name: "bench-exact",
  maxRecordsPerClockRead: 1,
});
const histogram = new LogLinearHistogram();
const breaker = new CircuitBreaker(() => 1, { enableSnapshots: false });
const status = breaker.status;
const idleBreaker = new CircuitBreaker(() => 1, { enableSnapshots: false });

let next = 0;

Deno.bench("raw async call", { group: "metrics", baseline: true }, async () => {
  await noop();
});

Deno.bench("dyno metrics record", { group: "metrics" }, () => {
  metrics.recordSuccess(LATENCIES[next++ & MASK]);
});

Deno.bench("dyno metrics record + gauge", { group: "metrics" }, () => {
  metrics.callStarted();
  metrics.recordSuccess(LATENCIES[next++ & MASK]);
  metrics.callEnded();
});

Deno.bench("dyno metrics record, exact stamps", { group: "metrics" }, () => {
  exactMetrics.recordSuccess(LATENCIES[next++ & MASK]);
});

Deno.bench("dyno histogram record", { group: "metrics" }, () => {
  histogram.record(LATENCIES[next++ & MASK]);
});

Deno.bench("opossum stats", { group: "metrics" }, () => {
  status.increment("fires");
  status.increment("successes", LATENCIES[next++ & MASK]);
});

Deno.bench("performance.now()", { group: "metrics" }, () => {
  performance.now();
});

Deno.bench("raw async call", { group: "call", baseline: true }, async () => {
  await noop();
});

Deno.bench("dyno metrics execute", { group: "call" }, async () => {
  await metrics.execute(noop);
});

Deno.bench("opossum fire", { group: "call" }, async () => {
  await idleBreaker.fire();
});

const snapshotMetrics = new Metrics({ name: "bench-snapshot" });
const snapshotBreaker = new CircuitBreaker(() => 1, { enableSnapshots: false });
for (let index = 0; index < 10_000; index++) {
  snapshotMetrics.recordSuccess(LATENCIES[index & MASK]);
  snapshotBreaker.status.increment("successes", LATENCIES[index & MASK]);
}

Deno.bench("dyno metrics snapshot", { group: "snapshot" }, () => {
  snapshotMetrics.snapshot();
});

Deno.bench("opossum stats getter", { group: "snapshot" }, () => {
  snapshotBreaker.status.stats;
});

addEventListener("unload", () => {
  breaker.shutdown();
  idleBreaker.shutdown();
  snapshotBreaker.shutdown();
});
