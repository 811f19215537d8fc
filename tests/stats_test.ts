import assert from "node:assert/strict";
import {
  fixedBins,
  max,
  mean,
  min,
  percentile,
  percentiles,
  RunningStats,
  standardDeviation,
  summarize,
  variance,
} from "../lib/stats.ts";

const CLASSIC = [2, 4, 4, 4, 5, 5, 7, 9];

function assertClose(actual: number, expected: number, label = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)),
    `${label} got ${actual}, expected ${expected}`,
  );
}

Deno.test("RunningStats gives the exact mean, variance and deviation of a known sample", () => {
  const stats = new RunningStats();
  for (const value of CLASSIC) stats.add(value);

  assert.equal(stats.count, 8);
  assert.equal(stats.mean, 5);
  assert.equal(stats.variance, 4);
  assert.equal(stats.standardDeviation, 2);
  assert.equal(stats.sampleVariance, 32 / 7);
  assert.equal(stats.sampleStandardDeviation, Math.sqrt(32 / 7));
  assert.equal(stats.min, 2);
  assert.equal(stats.max, 9);
});

Deno.test("RunningStats stays exact with a large mean and a small spread", () => {
  for (const offset of [1e9, 1e12, 1e15]) {
    const stats = new RunningStats();
    for (const deviation of [4, 7, 13, 16]) stats.add(offset + deviation);

    assert.equal(stats.mean, offset + 10, `mean at ${offset}`);
    assert.equal(stats.variance, 22.5, `variance at ${offset}`);
    assert.equal(stats.sampleVariance, 30, `sample variance at ${offset}`);
  }
});

Deno.test("RunningStats beats the naive sum of squares where it cancels", () => {
  const values = [4, 7, 13, 16].map((deviation) => 1e9 + deviation);
  const naiveMean = values.reduce((a, b) => a + b) / values.length;
  const naive = values.reduce((sum, value) => sum + value * value, 0) /
      values.length - naiveMean * naiveMean;

  assert.notEqual(naive, 22.5);
  assert.equal(variance(values), 22.5);
});

Deno.test("RunningStats of nothing is NaN, of one value has zero variance", () => {
  const stats = new RunningStats();
  assert.equal(stats.count, 0);
  for (const value of [stats.mean, stats.variance, stats.min, stats.max]) {
    assert.ok(Number.isNaN(value));
  }

  stats.add(3);
  assert.equal(stats.mean, 3);
  assert.equal(stats.variance, 0);
  assert.ok(Number.isNaN(stats.sampleVariance));
  assert.deepEqual(stats.summary(), {
    count: 1,
    mean: 3,
    variance: 0,
    standardDeviation: 0,
    min: 3,
    max: 3,
  });
});

Deno.test("RunningStats.merge equals adding every value to one accumulator", () => {
  const all = new RunningStats();
  const left = new RunningStats();
  const right = new RunningStats();
  for (let value = 1; value <= 100; value++) {
    all.add(value * 1.5);
    (value % 3 === 0 ? left : right).add(value * 1.5);
  }
  left.merge(right);
  left.merge(new RunningStats());

  const merged = left.summary();
  const expected = all.summary();
  assert.equal(merged.count, expected.count);
  assert.equal(merged.min, expected.min);
  assert.equal(merged.max, expected.max);
  assertClose(merged.mean, expected.mean, "mean");
  assertClose(merged.variance, expected.variance, "variance");

  const empty = new RunningStats();
  empty.merge(all);
  assert.deepEqual(empty.summary(), all.summary());
});

Deno.test("RunningStats.add rejects non-finite values and keeps its state", () => {
  const stats = new RunningStats();
  stats.add(1);
  for (const value of [NaN, Infinity, -Infinity, "2" as unknown as number]) {
    assert.throws(() => stats.add(value), {
      name: "RangeError",
      message: `RunningStats.add: values must be finite numbers, got ${value}`,
    });
  }

  assert.deepEqual(stats.summary(), {
    count: 1,
    mean: 1,
    variance: 0,
    standardDeviation: 0,
    min: 1,
    max: 1,
  });
});

Deno.test("the sample functions agree with known values", () => {
  assert.equal(mean(CLASSIC), 5);
  assert.equal(variance(CLASSIC), 4);
  assert.equal(variance(CLASSIC, { sample: true }), 32 / 7);
  assert.equal(standardDeviation(CLASSIC), 2);
  assert.equal(
    standardDeviation([1, 2, 3, 4], { sample: true }),
    Math.sqrt(5 / 3),
  );
  assert.equal(min(CLASSIC), 2);
  assert.equal(max(CLASSIC), 9);
  assert.deepEqual(summarize(new Set([1, 2, 3])), {
    count: 3,
    mean: 2,
    variance: 2 / 3,
    standardDeviation: Math.sqrt(2 / 3),
    min: 1,
    max: 3,
  });
});

Deno.test("the sample functions return NaN for an empty sample", () => {
  for (const fn of [mean, variance, standardDeviation, min, max]) {
    assert.ok(Number.isNaN(fn([])), fn.name);
  }
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.equal(summarize([]).count, 0);
});

Deno.test("the sample functions reject non-finite values and non-iterables", () => {
  for (const value of [NaN, Infinity, -Infinity]) {
    assert.throws(() => mean([1, value]), {
      name: "RangeError",
      message: `mean: values must be finite numbers, got ${value}`,
    });
    assert.throws(() => percentile([value], 50), {
      name: "RangeError",
      message: `percentiles: values must be finite numbers, got ${value}`,
    });
  }
  for (const values of [null, 5, undefined]) {
    assert.throws(() => max(values as unknown as number[]), {
      name: "TypeError",
      message: `max: values must be an iterable of numbers, got ${
        values === null ? "null" : typeof values
      }`,
    });
  }
});

Deno.test("percentile interpolates linearly between ranks, as NumPy does", () => {
  const values = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
  // numpy.percentile(range(1, 11), [0, 10, 25, 50, 75, 90, 100])
  const expected = [1, 1.9, 3.25, 5.5, 7.75, 9.1, 10];
  const actual = percentiles(values, [0, 10, 25, 50, 75, 90, 100]);
  actual.forEach((value, index) => assertClose(value, expected[index]));

  assert.equal(percentile([7], 0), 7);
  assert.equal(percentile([7], 100), 7);
  assert.equal(percentile([1, 3], 50), 2);
  assert.deepEqual(values, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
});

Deno.test("percentile sorts numerically, not as strings", () => {
  assert.equal(percentile([100, 20, 3], 50), 20);
  assert.equal(percentile([-5, 10, -20], 0), -20);
});

Deno.test("percentile rejects NaN and values outside [0, 100]", () => {
  for (const p of [NaN, -1, 101, Infinity]) {
    assert.throws(() => percentile([1, 2], p), {
      name: "RangeError",
      message: `percentiles: percentile must be a number in [0, 100], got ${p}`,
    });
  }
});

Deno.test("fixedBins counts values in equal-width bins, the last one closed", () => {
  assert.deepEqual(fixedBins([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { bins: 5 }), [
    { lower: 0, upper: 2, count: 2 },
    { lower: 2, upper: 4, count: 2 },
    { lower: 4, upper: 6, count: 2 },
    { lower: 6, upper: 8, count: 2 },
    { lower: 8, upper: 10, count: 3 },
  ]);
});

Deno.test("fixedBins leaves out values outside an explicit range", () => {
  assert.deepEqual(
    fixedBins([-1, 0, 5, 10, 11], { bins: 2, min: 0, max: 10 }),
    [
      { lower: 0, upper: 5, count: 1 },
      { lower: 5, upper: 10, count: 2 },
    ],
  );
});

Deno.test("fixedBins handles empty samples and zero-width ranges", () => {
  assert.deepEqual(fixedBins([]), []);
  assert.deepEqual(fixedBins([], { bins: 2, min: 0, max: 2 }), [
    { lower: 0, upper: 1, count: 0 },
    { lower: 1, upper: 2, count: 0 },
  ]);
  assert.deepEqual(fixedBins([3, 3, 3], { bins: 4 }), [
    { lower: 3, upper: 3, count: 3 },
  ]);
  assert.equal(
    fixedBins(Array.from({ length: 200_000 }, (_, i) => i)).length,
    10,
  );
});

Deno.test("fixedBins rejects bad bin counts and ranges", () => {
  const cases: [Parameters<typeof fixedBins>[1], string][] = [
    [{ bins: 0 }, "fixedBins: bins must be a positive integer, got 0"],
    [{ bins: 2.5 }, "fixedBins: bins must be a positive integer, got 2.5"],
    [
      { min: 5, max: 1 },
      "fixedBins: need finite min <= max, got min 5 and max 1",
    ],
    [
      { min: -Infinity },
      "fixedBins: need finite min <= max, got min -Infinity and max 2",
    ],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => fixedBins([1, 2], options), {
      name: "RangeError",
      message,
    });
  }
});
