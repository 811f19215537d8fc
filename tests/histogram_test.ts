import assert from "node:assert/strict";
import { LogLinearHistogram } from "../lib/stats.ts";
import {
  bucketIndex,
  HISTOGRAM_HIGHEST,
  HISTOGRAM_LOWEST,
  HISTOGRAM_SLOTS,
} from "../lib/_histogram.ts";
import { seededRandom } from "../lib/testing.ts";

const BOUND = LogLinearHistogram.relativeError;
const PERCENTILES = [
  0,
  0.1,
  1,
  5,
  10,
  25,
  50,
  75,
  90,
  95,
  99,
  99.5,
  99.9,
  99.99,
  100,
];

const random = seededRandom;

/** The exact nearest-rank percentile of a sorted sample. */
function nearestRank(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100));
  return sorted[rank - 1];
}

function assertWithinBound(actual: number, exact: number, label: string): void {
  const error = Math.abs(actual - exact);
  assert.ok(
    error <= exact * BOUND,
    `${label}: got ${actual}, exact ${exact}, relative error ${error / exact}`,
  );
}

function checkSample(values: Float64Array, label: string): void {
  const histogram = new LogLinearHistogram();
  for (const value of values) histogram.record(value);
  const sorted = values.slice().sort();

  const reported = histogram.percentiles(PERCENTILES);
  PERCENTILES.forEach((p, index) => {
    assertWithinBound(
      reported[index],
      nearestRank(sorted, p),
      `${label} p${p}`,
    );
  });
}

Deno.test("the stated relative error bound is 1/128, under 1 %", () => {
  assert.equal(BOUND, 1 / 128);
  assert.ok(BOUND < 0.01);
});

Deno.test("percentiles of log-uniform samples from 1 µs to 1 h stay within the bound", () => {
  const next = random(1);
  for (let round = 0; round < 20; round++) {
    const values = Float64Array.from(
      { length: 20_000 },
      () => 1e-3 * 3.6e9 ** next(),
    );
    checkSample(values, `round ${round}`);
  }
});

Deno.test("percentiles within each decade from 1 µs to 1 h stay within the bound", () => {
  const next = random(2);
  for (let decade = -3; decade <= 6; decade++) {
    const low = 10 ** decade;
    const high = Math.min(10 ** (decade + 1), 3.6e6);
    const values = Float64Array.from(
      { length: 10_000 },
      () => low + (high - low) * next(),
    );
    checkSample(values, `decade 1e${decade}`);
  }
});

Deno.test("any single value in the tracked range is reported within the bound", () => {
  const next = random(3);
  const histogram = new LogLinearHistogram();
  for (let sample = 0; sample < 100_000; sample++) {
    const value = HISTOGRAM_LOWEST *
      (HISTOGRAM_HIGHEST / HISTOGRAM_LOWEST) ** next();
    histogram.reset();
    histogram.record(value);
    histogram.record(HISTOGRAM_HIGHEST * 0.999);
    assertWithinBound(histogram.percentile(50), value, `value ${value}`);
  }
});

Deno.test("bucket edges are reported within the bound", () => {
  const histogram = new LogLinearHistogram();
  for (let exponent = -10; exponent < 22; exponent++) {
    for (let sub = 0; sub < 64; sub++) {
      const lower = 2 ** exponent * (1 + sub / 64);
      const justBelowUpper = 2 ** exponent * (1 + (sub + 1) / 64) * (1 - 1e-12);
      for (const value of [lower, justBelowUpper]) {
        histogram.reset();
        histogram.record(value);
        histogram.record(0);
        histogram.record(HISTOGRAM_HIGHEST);
        assertWithinBound(histogram.percentile(50), value, `edge ${value}`);
      }
    }
  }
});

Deno.test("bucket indexes grow with the value and cover every slot", () => {
  const next = random(4);
  const values = Float64Array.from(
    { length: 50_000 },
    () => 1e-5 * 1e13 ** next(),
  ).sort();
  let previous = 0;
  for (const value of values) {
    const index = bucketIndex(value);
    assert.ok(index >= previous, `index of ${value} went down`);
    previous = index;
  }

  assert.equal(bucketIndex(0), 0);
  assert.equal(bucketIndex(-0), 0);
  assert.equal(bucketIndex(HISTOGRAM_LOWEST / 2), 0);
  assert.equal(bucketIndex(HISTOGRAM_LOWEST), 1);
  assert.equal(
    bucketIndex(HISTOGRAM_HIGHEST * (1 - 1e-15)),
    HISTOGRAM_SLOTS - 2,
  );
  assert.equal(bucketIndex(HISTOGRAM_HIGHEST), HISTOGRAM_SLOTS - 1);
  assert.equal(bucketIndex(Number.MAX_VALUE), HISTOGRAM_SLOTS - 1);
  assert.equal(HISTOGRAM_SLOTS, 2050);
});

Deno.test("percentiles follow the nearest-rank definition", () => {
  const histogram = new LogLinearHistogram();
  for (let value = 1; value <= 1000; value++) histogram.record(value);

  assert.equal(histogram.percentile(0), 1);
  assert.equal(histogram.percentile(100), 1000);
  assert.equal(histogram.count, 1000);
  assert.equal(histogram.sum, 500_500);
  assert.equal(histogram.mean, 500.5);
  assert.equal(histogram.min, 1);
  assert.equal(histogram.max, 1000);
  assertWithinBound(histogram.percentile(50), 500, "p50");
  assertWithinBound(histogram.percentile(99.9), 999, "p99.9");
  assertWithinBound(histogram.percentile(0.05), 1, "p0.05");
});

Deno.test("a percentile inside the range reports its bucket's midpoint", () => {
  const histogram = new LogLinearHistogram();
  for (const value of [1, 2, 3]) histogram.record(value);

  // 2 falls in [2, 2 + 2/64), whose midpoint is 2.015625.
  assert.deepEqual(histogram.percentiles([0, 34, 67, 100]), [
    1,
    2.015625,
    3,
    3,
  ]);
});

Deno.test("an empty histogram reports zeros", () => {
  const histogram = new LogLinearHistogram();

  assert.deepEqual(histogram.summary(), {
    count: 0,
    mean: 0,
    min: 0,
    p50: 0,
    p90: 0,
    p99: 0,
    p999: 0,
    max: 0,
  });
  assert.equal(histogram.percentile(50), 0);
});

Deno.test("values below the range report the minimum, above it the maximum", () => {
  const below = new LogLinearHistogram();
  for (const value of [0, 1e-6, 2e-4]) below.record(value);
  assert.equal(below.percentile(50), 0);
  assert.equal(below.percentile(90), 2e-4);

  const above = new LogLinearHistogram();
  for (const value of [1, 5e6, 9e6]) above.record(value);
  assert.equal(above.percentile(50), 9e6);
  assert.equal(above.percentile(100), 9e6);
  assert.equal(above.percentile(0), 1);
});

Deno.test("the summary reports count, exact mean and extremes, and bounded percentiles", () => {
  const histogram = new LogLinearHistogram();
  for (let value = 1; value <= 100; value++) histogram.record(value / 10);
  const summary = histogram.summary();

  assert.equal(summary.count, 100);
  assert.ok(Math.abs(summary.mean - 5.05) < 1e-12);
  assert.equal(summary.min, 0.1);
  assert.equal(summary.max, 10);
  assertWithinBound(summary.p50, 5, "p50");
  assertWithinBound(summary.p90, 9, "p90");
  assertWithinBound(summary.p99, 9.9, "p99");
  assert.equal(summary.p999, 10);
});

Deno.test("merge adds another histogram's values", () => {
  const low = new LogLinearHistogram();
  const high = new LogLinearHistogram();
  const both = new LogLinearHistogram();
  for (let value = 1; value <= 500; value++) {
    low.record(value);
    both.record(value);
  }
  for (let value = 501; value <= 1000; value++) {
    high.record(value);
    both.record(value);
  }
  low.merge(high);
  low.merge(new LogLinearHistogram());

  assert.deepEqual(low.summary(), both.summary());
});

Deno.test("reset forgets every value", () => {
  const histogram = new LogLinearHistogram();
  histogram.record(5);
  histogram.record(7_000);
  histogram.reset();
  histogram.record(3);

  assert.deepEqual(histogram.percentiles([0, 50, 100]), [3, 3, 3]);
  assert.equal(histogram.count, 1);
});

Deno.test("record rejects negative, NaN and infinite values without recording", () => {
  const histogram = new LogLinearHistogram();
  for (
    const value of [
      -1,
      -1e-9,
      NaN,
      Infinity,
      -Infinity,
      "5" as unknown as number,
    ]
  ) {
    assert.throws(() => histogram.record(value), {
      name: "RangeError",
      message:
        `LogLinearHistogram.record: value must be a finite number >= 0, got ${
          String(value)
        }`,
    });
  }

  assert.equal(histogram.count, 0);
});

Deno.test("percentile rejects NaN and values outside [0, 100]", () => {
  const histogram = new LogLinearHistogram();
  histogram.record(1);
  for (const p of [NaN, -0.1, 100.1, Infinity, "50" as unknown as number]) {
    assert.throws(() => histogram.percentile(p), {
      name: "RangeError",
      message:
        `LogLinearHistogram.percentile: percentile must be a number in [0, 100], got ${
          String(p)
        }`,
    });
    assert.throws(() => histogram.percentiles([50, p]), RangeError);
  }
});
