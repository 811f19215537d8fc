// Adversarial review of metrics, stats, timing and the dashboard: window
// rotation edges, stamping after idle gaps, percentile and histogram edges,
// numerical stability, header and exposition escaping, the Hystrix stream's
// shape and lifetime, and the page's handling of untrusted names.

import assert from "node:assert/strict";
import parse from "npm:parse-prometheus-text-format@1.1.1";
import { dashboard, prometheusText } from "../lib/dashboard.ts";
import {
  type CircuitState,
  Metrics,
  type MetricsOptions,
  MetricsRegistry,
} from "../lib/metrics.ts";
import {
  fixedBins,
  LogLinearHistogram,
  mean,
  percentile,
  percentiles,
  RunningStats,
  standardDeviation,
  variance,
} from "../lib/stats.ts";
import { Timing } from "../lib/timing.ts";
import { ManualClock, seededRandom } from "../lib/testing.ts";

/** Metrics on a manual clock that stamp every record exactly. */
function exact(options: Partial<MetricsOptions> = {}) {
  const clock = new ManualClock();
  const metrics = new Metrics({
    name: "review",
    clock,
    maxRecordsPerClockRead: 1,
    ...options,
  });
  return { clock, metrics };
}

/**
 * Records successes on a clock that stands still until the batches reach
 * 64 records and one has just begun, so that 63 records without a clock
 * reading are due; returns how many it recorded.
 */
function burstUntilBatchStart(metrics: Metrics): number {
  let recorded = 0;
  for (; recorded < 300; recorded++) metrics.recordSuccess(1);
  const reads = metrics.clockReads;
  while (metrics.clockReads === reads) {
    metrics.recordSuccess(1);
    recorded++;
  }

  return recorded;
}

const random = seededRandom;

// ---------------------------------------------------------------- metrics

Deno.test("metrics: a record at a bucket's first instant belongs to that bucket", async () => {
  const { clock, metrics } = exact();
  await clock.advance(999.999);
  metrics.recordFailure(1);
  await clock.advance(0.001);
  metrics.recordSuccess(1);

  await clock.advance(9_000 - 0.001);
  assert.deepEqual(
    [metrics.snapshot().rolling.failures, metrics.snapshot().rolling.successes],
    [1, 1],
  );
  await clock.advance(0.001);
  assert.deepEqual(
    [metrics.snapshot().rolling.failures, metrics.snapshot().rolling.successes],
    [0, 1],
  );
  await clock.advance(1_000);
  assert.equal(metrics.snapshot().requests, 0);
});

Deno.test("metrics: idle gaps of buckets - 1, buckets, buckets + 1 and far more roll correctly", async () => {
  for (const gapMs of [9_000, 10_000, 11_000, 123_456_789_000]) {
    const { clock, metrics } = exact();
    metrics.recordSuccess(1);
    await clock.advance(500);
    metrics.recordFailure(1);
    await clock.advance(gapMs);
    metrics.recordTimeout(1);

    const { rolling, cumulative } = metrics.snapshot();
    const kept = gapMs < 9_500 ? 1 : 0;
    assert.deepEqual(
      [rolling.successes, rolling.failures, rolling.timeouts],
      [kept, kept, 1],
      `gap ${gapMs}`,
    );
    assert.deepEqual(
      [cumulative.successes, cumulative.failures, cumulative.timeouts],
      [1, 1, 1],
    );
  }
});

Deno.test("metrics: each skipped bucket is cleared, not only the landing one", async () => {
  const { clock, metrics } = exact();
  for (let bucket = 0; bucket < 10; bucket++) {
    metrics.recordSuccess(1);
    await clock.advance(1_000);
  }
  // Now at 10 000: buckets 1..9 hold one success each.
  assert.equal(metrics.snapshot().rolling.successes, 9);

  await clock.advance(4_000);
  assert.equal(metrics.snapshot().rolling.successes, 5);
  await clock.advance(5_000);
  assert.equal(metrics.snapshot().rolling.successes, 0);
});

Deno.test("metrics: a clock that starts negative or very large rolls the same way", async () => {
  for (const startMs of [-12_345.5, 1.7e12 + 0.25]) {
    const clock = new ManualClock(startMs);
    const metrics = new Metrics({
      name: "offset",
      clock,
      maxRecordsPerClockRead: 1,
    });
    metrics.recordSuccess(1);
    await clock.advance(5_000);
    metrics.recordSuccess(2);
    const intoBucketMs = ((startMs % 1_000) + 1_000) % 1_000;
    await clock.advance(10_000 - intoBucketMs - 5_000);

    assert.equal(metrics.snapshot().rolling.successes, 1, `start ${startMs}`);
  }
});

Deno.test("metrics: inFlightMax carries calls still running into new buckets and forgets ended ones", async () => {
  const { clock, metrics } = exact();
  for (let call = 0; call < 5; call++) metrics.callStarted();
  for (let call = 0; call < 3; call++) metrics.callEnded();
  assert.equal(metrics.snapshot().inFlightMax, 5);

  await clock.advance(9_999);
  assert.equal(metrics.snapshot().inFlightMax, 5);
  await clock.advance(1);
  assert.deepEqual(
    [metrics.snapshot().inFlight, metrics.snapshot().inFlightMax],
    [2, 2],
  );

  await clock.advance(3_600_000);
  assert.equal(metrics.snapshot().inFlightMax, 2);
  metrics.callEnded();
  metrics.callEnded();
  metrics.callEnded();
  assert.deepEqual(
    [metrics.snapshot().inFlight, metrics.snapshot().inFlightMax],
    [0, 2],
  );
  await clock.advance(10_000);
  assert.equal(metrics.snapshot().inFlightMax, 0);
});

Deno.test("metrics: resetRolling keeps calls in flight as the new maximum", () => {
  const { metrics } = exact();
  for (let call = 0; call < 4; call++) metrics.callStarted();
  metrics.callEnded();
  metrics.resetRolling();

  assert.equal(metrics.snapshot().inFlightMax, 3);
});

Deno.test("metrics: a snapshot during an idle gap moves the stamp forward, so the next record counts now", async () => {
  const clock = new ManualClock();
  const metrics = new Metrics({ name: "burst", clock });
  const burst = burstUntilBatchStart(metrics);
  await clock.advance(20_000);
  assert.equal(metrics.snapshot().rolling.successes, 0);

  metrics.recordFailure(7);
  const { rolling, latency, cumulative } = metrics.snapshot();
  assert.equal(rolling.failures, 1);
  assert.equal(latency.maxMs, 7);
  assert.equal(cumulative.successes, burst);
});

Deno.test("metrics: snapshots do not disturb the batching of a steady stream", () => {
  const clock = new ManualClock();
  const metrics = new Metrics({ name: "steady", clock });
  for (let call = 0; call < 6_400; call++) {
    metrics.recordSuccess(1);
    if (call % 640 === 0) metrics.snapshot();
  }

  // 7 readings for the first 127 records, one per 64 after, 10 snapshots.
  assert.equal(metrics.clockReads, 7 + Math.ceil((6_400 - 127) / 64) + 10);
});

Deno.test("metrics: without a snapshot, records after a long gap lose at most one batch from the rolling counts", async () => {
  const clock = new ManualClock();
  const metrics = new Metrics({ name: "burst", clock });
  burstUntilBatchStart(metrics);
  await clock.advance(20_000);
  for (let call = 0; call < 100; call++) metrics.recordFailure(1);

  const { rolling, cumulative } = metrics.snapshot();
  assert.ok(rolling.failures >= 100 - 63, `${rolling.failures} counted`);
  assert.equal(cumulative.failures, 100);
});

Deno.test("metrics: execute counts a classified short circuit or rejection without a latency", async () => {
  const clock = new ManualClock();
  const registry = new MetricsRegistry();
  const kinds = ["rejected", "shortCircuited", "failures", "timeouts"] as const;
  let next = 0;
  const metrics = new Metrics({
    name: "classified",
    clock,
    registry,
    classifyError: () => kinds[next++],
  });
  for (const _ of kinds) {
    let fail!: (error: Error) => void;
    const call = metrics.execute(() =>
      new Promise((_, reject) => fail = reject)
    ).catch(() => {});
    await clock.advance(50);
    fail(new Error("down"));
    await call;
  }

  const snapshot = metrics.snapshot();
  assert.deepEqual(
    [snapshot.rolling.rejected, snapshot.rolling.shortCircuited],
    [1, 1],
  );
  assert.equal(snapshot.latency.count, 2);
  assert.deepEqual(snapshot.cumulativeLatency, { count: 2, sumMs: 100 });
  const text = prometheusText(registry.snapshot());
  const labels = '\\{service="classified",group="classified"\\}';
  assert.match(text, new RegExp(`^dyno_latency_ms_count${labels} 2$`, "m"));
  assert.match(text, new RegExp(`^dyno_latency_ms_sum${labels} 100$`, "m"));
});

Deno.test("metrics: one latency, tiny or huge, is every percentile exactly", () => {
  for (
    const latencyMs of [
      0,
      5e-324,
      1e-300,
      2 ** -10 - 2 ** -30,
      2 ** -10,
      1,
      2 ** 22 - 2 ** -20,
      2 ** 22,
      1e300,
    ]
  ) {
    const { metrics } = exact();
    metrics.recordSuccess(latencyMs);
    const { latency } = metrics.snapshot();

    assert.deepEqual(
      [latency.p50Ms, latency.p90Ms, latency.p99Ms, latency.p999Ms],
      [latencyMs, latencyMs, latencyMs, latencyMs],
      `latency ${latencyMs}`,
    );
    assert.equal(latency.maxMs, latencyMs);
    assert.equal(metrics.latencyPercentile(0), latencyMs);
    assert.equal(metrics.latencyPercentile(100), latencyMs);
  }
});

Deno.test("metrics: percentiles stay within 1/128 on both sides of every power of two", () => {
  for (let exponent = -10; exponent < 22; exponent++) {
    const { metrics } = exact();
    const below = 2 ** exponent * (1 - 2 ** -40);
    const at = 2 ** exponent;
    const values = [below, at, at * (1 + 1 / 64), at * (2 - 2 ** -40)];
    for (const value of values) metrics.recordSuccess(value);

    values.forEach((value, index) => {
      const reported = metrics.latencyPercentile(((index + 1) / 4) * 100);
      assert.ok(
        Math.abs(reported - value) <= value / 128,
        `2^${exponent}: value ${value} reported as ${reported}`,
      );
    });
  }
});

Deno.test("metrics: the nearest rank of a decimal percentile is not pushed up by its binary rounding", () => {
  // 99.9 % of 41 000 is exactly 40 959, but 99.9 * 41_000 / 100 is a hair
  // above it in binary: the 40 960th value, far from the 40 959th, must not
  // be reported.
  const { metrics } = exact();
  for (let call = 0; call < 40_959; call++) metrics.recordSuccess(1);
  for (let call = 40_959; call < 41_000; call++) metrics.recordSuccess(1_000);

  assert.ok(Math.abs(metrics.latencyPercentile(99.9) - 1) <= 1 / 128);
  assert.equal(
    metrics.snapshot().latency.p999Ms,
    metrics.latencyPercentile(99.9),
  );

  const histogram = new LogLinearHistogram();
  for (let value = 0; value < 10_000; value++) {
    histogram.record(value < 7 ? 1 : 50);
  }
  assert.ok(Math.abs(histogram.percentile(0.07) - 1) <= 1 / 128);
});

Deno.test("metrics: latencyPercentile rejects what is not a number in [0, 100]", () => {
  const { metrics } = exact();
  metrics.recordSuccess(5);
  for (const bad of [NaN, -0.001, 100.001, Infinity, "50", null, undefined]) {
    assert.throws(
      () => metrics.latencyPercentile(bad as number),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.startsWith(
          "Metrics.latencyPercentile: percentile must be a number in [0, 100], got ",
        ),
    );
  }
});

Deno.test("metrics: latencies that are not finite numbers >= 0 are rejected and never recorded", () => {
  const { metrics } = exact();
  for (const bad of [-1, -Infinity, Infinity, NaN, "5", null, undefined, 5n]) {
    assert.throws(
      () => metrics.recordSuccess(bad as number),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.startsWith(
          "Metrics: latencyMs must be a finite number >= 0, got ",
        ),
    );
  }
  assert.throws(() => metrics.recordFailure(1, NaN), RangeError);

  const { cumulative, latency, cumulativeLatency } = metrics.snapshot();
  assert.equal(cumulative.successes + cumulative.failures, 0);
  assert.equal(latency.count, 0);
  assert.deepEqual(cumulativeLatency, { count: 0, sumMs: 0 });
});

// ---------------------------------------------------------------- stats

Deno.test("stats: the variance of 1e9 plus small noise matches the exact value to 1e-12", () => {
  const next = random(7);
  const steps = Array.from(
    { length: 2_000 },
    () => Math.floor(next() * 2 ** 20),
  );
  // Every value is exact in binary: 1e9 + k / 2^20.
  const values = steps.map((step) => 1e9 + step / 2 ** 20);
  const n = BigInt(steps.length);
  const sum = steps.reduce((total, step) => total + BigInt(step), 0n);
  const squares = steps.reduce(
    (total, step) => total + BigInt(step) ** 2n,
    0n,
  );
  const exactVariance = Number(n * squares - sum * sum) /
    Number(n * n * 2n ** 40n);
  const exactMean = 1e9 + Number(sum) / Number(n) / 2 ** 20;

  const got = variance(values);
  assert.ok(
    Math.abs(got - exactVariance) <= exactVariance * 1e-12,
    `variance ${got}, exact ${exactVariance}`,
  );
  assert.ok(Math.abs(mean(values) - exactMean) <= 1e9 * Number.EPSILON);
  assert.ok(
    Math.abs(standardDeviation(values) - Math.sqrt(exactVariance)) <=
      Math.sqrt(exactVariance) * 1e-12,
  );
});

Deno.test("stats: merging accumulators with far-apart first values equals one accumulator", () => {
  const next = random(11);
  const left = Array.from({ length: 300 }, () => 1e9 + next());
  const right = Array.from({ length: 200 }, () => -3e8 + next() * 1e6);
  const merged = new RunningStats();
  const other = new RunningStats();
  const whole = new RunningStats();
  for (const value of left) merged.add(value);
  for (const value of right) other.add(value);
  for (const value of [...left, ...right]) whole.add(value);
  merged.merge(other);

  assert.equal(merged.count, whole.count);
  assert.ok(Math.abs(merged.mean - whole.mean) <= Math.abs(whole.mean) * 1e-12);
  assert.ok(
    Math.abs(merged.variance - whole.variance) <= whole.variance * 1e-12,
  );
  assert.deepEqual([merged.min, merged.max], [whole.min, whole.max]);

  const empty = new RunningStats();
  empty.merge(whole);
  assert.deepEqual(empty.summary(), whole.summary());
});

Deno.test("stats: percentile edges: p0 and p100 are the extremes, one value is every percentile", () => {
  assert.equal(percentile([42], 0), 42);
  assert.equal(percentile([42], 37.5), 42);
  assert.equal(percentile([42], 100), 42);
  assert.deepEqual(percentiles([3, 1], [0, 50, 100]), [1, 2, 3]);
  assert.deepEqual(percentiles([-0, 0], [0, 100]), [-0, 0]);
  assert.deepEqual(
    percentiles([5, 5, 5], [0, 33.3, 50, 99.9, 100]),
    [5, 5, 5, 5, 5],
  );
});

Deno.test("stats: percentile between extreme values neither overflows nor gives NaN", () => {
  const values = [-1e308, 1e308];
  assert.equal(percentile(values, 0), -1e308);
  assert.equal(percentile(values, 100), 1e308);
  assert.equal(percentile(values, 50), 0);
  assert.equal(percentile(values, 75), 5e307);
  const half = percentile([Number.MAX_VALUE, -Number.MAX_VALUE], 25);
  assert.ok(
    Math.abs(half + Number.MAX_VALUE / 2) <= Number.MAX_VALUE * 2 ** -52,
    `${half}`,
  );
});

Deno.test("stats: an interpolated percentile at a whole decimal rank is that value exactly", () => {
  const values = Array.from({ length: 41_001 }, (_, index) => index * 3);
  // (41 001 - 1) * 99.9 / 100 is 40 959 exactly, not 40 959.00000000001.
  assert.equal(percentile(values, 99.9), 40_959 * 3);
  assert.equal(percentile(values, 50), 20_500 * 3);
});

Deno.test("stats: fixedBins rejects a range whose width overflows instead of crashing", () => {
  assert.throws(
    () => fixedBins([0, 1e308], { min: -1e308, max: 1e308 }),
    {
      name: "RangeError",
      message: "fixedBins: max - min must be finite, got 1e+308 - -1e+308",
    },
  );
  assert.throws(() => fixedBins([-1.7e308, 1.7e308]), RangeError);
});

Deno.test("stats: fixedBins puts a value on a bin's reported edge in that bin", () => {
  const cases: [number, number, number][] = [
    [6.7, 11.3, 4],
    [4.4, 13.8, 7],
    [8.3, 18, 5],
    [0, 1, 10],
    [0.1, 0.7, 6],
  ];
  for (const [min, max, bins] of cases) {
    const edges = fixedBins([], { bins, min, max });
    for (const [index, bin] of edges.entries()) {
      for (const value of [bin.lower, bin.upper]) {
        const counted = fixedBins([value], { bins, min, max });
        const holder = counted.findIndex((candidate) => candidate.count === 1);
        const expected = value === bin.upper && index < bins - 1
          ? index + 1
          : index;
        assert.equal(
          holder,
          expected,
          `${value} in [${min}, ${max}] / ${bins}`,
        );
        const { lower, upper } = counted[holder];
        assert.ok(
          lower <= value && (value < upper || holder === bins - 1),
          `${value} outside its bin [${lower}, ${upper})`,
        );
      }
    }
  }
});

Deno.test("stats: the histogram's p0 and p100 are exact at the range's ends", () => {
  const histogram = new LogLinearHistogram();
  for (const value of [0, 2 ** -11, 3, 2 ** 22, 1e12]) histogram.record(value);

  assert.deepEqual(histogram.percentiles([0, 100]), [0, 1e12]);
  assert.equal(histogram.summary().max, 1e12);
  assert.equal(histogram.summary().min, 0);
  // Above the tracked range, percentiles report the maximum.
  assert.equal(histogram.percentile(80), 1e12);
});

// ---------------------------------------------------------------- timing

Deno.test("timing: using stops every nested interval when a scope throws", async () => {
  const clock = new ManualClock();
  const timing = new Timing({ clock });
  await assert.rejects(async () => {
    using _outer = timing.start("outer");
    await clock.advance(1);
    {
      using _inner = timing.start("inner");
      await clock.advance(2);
      throw new Error("boom");
    }
  }, { message: "boom" });
  await clock.advance(5);
  timing.start("after").stop();

  assert.deepEqual(
    timing.entries().map((entry) => [
      entry.name,
      entry.depth,
      entry.durationMs,
      entry.running,
    ]),
    [["outer", 0, 3, false], ["inner", 1, 2, false], ["after", 0, 0, false]],
  );
});

Deno.test("timing: record rejects durations that are not numbers and records nothing", () => {
  const timing = new Timing({ clock: new ManualClock() });
  for (const bad of ["5", null, true, undefined, [], -1e-9, NaN]) {
    assert.throws(
      () => timing.record("db", bad as number),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message.startsWith(
          "Timing.record: durationMs must be a finite number >= 0, got ",
        ),
    );
  }

  assert.deepEqual(timing.entries(), []);
});

Deno.test("timing: Server-Timing escapes quotes and backslashes and makes one stand-in per character", () => {
  const timing = new Timing({ clock: new ManualClock() });
  timing.mark('db "primary"\\é🚀', {
    desc: 'say "hi" \\ é🚀\x7f\r\n\tend',
  });

  assert.equal(
    timing.serverTiming(),
    'db__primary____;desc="say \\"hi\\" \\\\ ?????\tend"',
  );
});

Deno.test("timing: every Server-Timing value parses by the W3C grammar and round-trips ASCII descriptions", async () => {
  const clock = new ManualClock();
  const timing = new Timing({ clock });
  const descs = ['a "quoted" word', "back\\slash", "semi;colon, comma=x", ""];
  for (const [index, desc] of descs.entries()) {
    using _ = timing.start(`step ${index}`, { desc });
    await clock.advance(0.1234 * (index + 1));
  }
  timing.mark("t\u00e4g");

  const token = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
  const quoted =
    '"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t\\x20-\\x7e])*"';
  const param = `${token}=(?:${token}|${quoted})`;
  const metric = new RegExp(`^${token}(?:;${param})*$`);
  const header = timing.serverTiming();
  const metrics = header.split(/, (?=[^"]*(?:"[^"]*"[^"]*)*$)/);
  assert.equal(metrics.length, 5);
  for (const item of metrics) assert.match(item, metric);

  const unquote = (text: string) => text.slice(1, -1).replace(/\\(.)/g, "$1");
  const sent = metrics.slice(0, 4).map((item) =>
    unquote(item.slice(item.indexOf(";desc=") + 6))
  );
  assert.deepEqual(sent, descs);
  assert.equal(metrics[0].split(";")[1], "dur=0.123");
  assert.equal(metrics[4], "t_g");
});

Deno.test("timing: time stops its interval when a thenable settles", async () => {
  const clock = new ManualClock();
  const timing = new Timing({ clock });
  const thenable: PromiseLike<number> = {
    then(onFulfilled, onRejected) {
      return new Promise<number>((resolve) => setTimeout(() => resolve(7), 0))
        .then(onFulfilled, onRejected);
    },
  };
  const result = timing.time("remote", () => thenable);
  assert.equal(timing.entries()[0].running, true);

  assert.equal(await result, 7);
  assert.equal(timing.entries()[0].running, false);
});

// ---------------------------------------------------------------- dashboard

const ODD_NAMES = [
  'say "hi"',
  "back\\slash\\",
  "new\nline",
  "carriage\rreturn",
  "ünïcødé 🚀",
  "\\n not a newline",
  '<img src=x onerror="alert(1)">',
];

function oddRegistry(clock: ManualClock): MetricsRegistry {
  const registry = new MetricsRegistry();
  const states: (CircuitState | undefined)[] = [
    "closed",
    "open",
    "half-open",
    "forced-open",
    "forced-closed",
    "disabled",
    undefined,
  ];
  for (const [index, name] of ODD_NAMES.entries()) {
    const metrics = new Metrics({
      name,
      group: `${name} group`,
      clock,
      registry,
      circuitState: () => states[index],
    });
    metrics.recordSuccess(3);
    metrics.recordFailure(9.5);
    metrics.recordShortCircuited();
  }
  new Metrics({ name: "idle", clock, registry });
  return registry;
}

Deno.test("dashboard: the exposition of odd names parses and gives the names back", () => {
  const text = prometheusText(oddRegistry(new ManualClock()).snapshot());
  const families = parse(text) as {
    name: string;
    metrics: { labels?: Record<string, string>; quantiles?: object }[];
  }[];

  const inFlight = families.find((family) => family.name === "dyno_in_flight")!;
  assert.deepEqual(
    inFlight.metrics.map((metric) => metric.labels),
    [...ODD_NAMES, "idle"].map((name) => ({
      service: name,
      group: name === "idle" ? "idle" : `${name} group`,
    })),
  );
  for (const line of text.split("\n")) {
    if (line.startsWith('dyno_latency_ms{service="idle"')) {
      assert.match(line, / NaN$/);
    }
  }
  assert.ok(text.includes('service="new\\nline"'));
  assert.ok(text.includes('service="\\\\n not a newline"'));
  assert.ok(text.includes('service="back\\\\slash\\\\"'));
});

Deno.test("dashboard: Hystrix events carry numbers, booleans and the nine latency keys", async () => {
  const clock = new ManualClock();
  const handler = dashboard(oddRegistry(clock), { clock });
  const response = handler(new Request("http://localhost/stream"));
  const reader = response.body!.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  assert.equal(clock.pendingTimers, 0);

  const text = new TextDecoder().decode(value);
  const events = text.split("\n\n").filter(Boolean).map((event) => {
    assert.ok(event.startsWith("data: ") && !event.includes("\n"));
    return JSON.parse(event.slice(6));
  });
  assert.deepEqual(
    events.map((event) => event.name),
    [...ODD_NAMES, "idle"],
  );
  const open = [false, true, true, true, false, false, false, false];
  for (const [index, event] of events.entries()) {
    assert.equal(event.type, "HystrixCommand");
    assert.equal(event.isCircuitBreakerOpen, open[index], event.name);
    for (const [field, fieldValue] of Object.entries(event)) {
      if (field.startsWith("rollingCount") || field.endsWith("Count")) {
        assert.ok(Number.isInteger(fieldValue), `${field} is ${fieldValue}`);
      }
    }
    for (const field of ["latencyExecute", "latencyTotal"]) {
      const latency = event[field] as Record<string, unknown>;
      assert.deepEqual(
        Object.keys(latency).sort(),
        ["0", "100", "25", "50", "75", "90", "95", "99", "99.5"].sort(),
      );
      for (const ms of Object.values(latency)) {
        assert.ok(Number.isInteger(ms), `${field} holds ${ms}`);
      }
    }
    assert.equal(typeof event.errorPercentage, "number");
    assert.equal(typeof event.currentTime, "number");
    assert.equal(typeof event.propertyValue_circuitBreakerForceOpen, "boolean");
  }
  assert.equal(events[0].errorPercentage, 67);
  assert.equal(events[0].latencyExecute["100"], 10);
  assert.equal(events[7].requestCount, 0);
});

Deno.test("dashboard: the stream's timer is cleared by cancel, by abort, and by abort after cancel", async () => {
  const clock = new ManualClock();
  const controller = new AbortController();
  const registry = oddRegistry(clock);
  const handler = dashboard(registry, { clock });
  const response = handler(
    new Request("http://localhost/stream", { signal: controller.signal }),
  );
  const reader = response.body!.getReader();
  await reader.read();
  await clock.advance(1_000);
  await reader.read();
  assert.equal(clock.pendingTimers, 1);

  await reader.cancel();
  assert.equal(clock.pendingTimers, 0);
  controller.abort();
  await clock.advance(60_000);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("dashboard: a huge ?delay= is clamped to a timer, not a busy loop", async () => {
  const clock = new ManualClock();
  let reads = 0;
  const handler = dashboard({
    snapshot: () => {
      reads++;
      return [];
    },
  }, { clock });
  const response = handler(
    new Request("http://localhost/stream?delay=1e300"),
  );
  const reader = response.body!.getReader();
  await reader.read();
  await clock.advance(86_400_000);

  assert.equal(reads, 1);
  assert.equal(clock.pendingTimers, 1);
  await reader.cancel();
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("dashboard: near-miss paths are 404 and read no metrics", async () => {
  let reads = 0;
  const handler = dashboard({
    snapshot: () => {
      reads++;
      return [];
    },
  }, { basePath: "/dyno" });
  for (
    const path of [
      "/dynosaur",
      "/dynometrics",
      "/dyno/metrics/",
      "/dyno/Metrics",
      "/dyno//metrics",
      "/dyno/stream/x",
      "/dyno/%6Detrics",
      "/metrics",
    ]
  ) {
    const response = handler(new Request(`http://localhost${path}`));
    assert.equal(response.status, 404, path);
    await response.body?.cancel();
  }
  assert.equal(reads, 0);
});

Deno.test("dashboard: the page escapes its title and writes service names only as text", async () => {
  const title = `</title><script>alert("x")</script>&'`;
  const handler = dashboard(new MetricsRegistry(), { title });
  const page = await handler(new Request("http://localhost/")).text();

  assert.ok(!page.includes("<script>alert"));
  assert.ok(
    page.includes(
      "&#60;/title&#62;&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;",
    ),
  );
  const script = page.slice(
    page.indexOf("<script>") + 8,
    page.lastIndexOf("</script>"),
  );
  for (
    const sink of [
      "innerHTML",
      "outerHTML",
      "insertAdjacentHTML",
      "document.write",
      "eval(",
      "new Function",
      'setAttribute("href"',
      'setAttribute("style"',
    ]
  ) {
    assert.ok(!script.includes(sink), `the page script uses ${sink}`);
  }
  // Names reach the page through textContent and data attributes only.
  assert.match(script, /element\("h2", "name", service\.name\)/);
  assert.match(script, /node\.textContent = text/);
});
