/**
 * Checks of `stats`: streaming statistics, percentiles, bins, histogram.
 *
 * @module
 */

import {
  fixedBins,
  LogLinearHistogram,
  max,
  mean,
  min,
  percentile,
  percentiles,
  RunningStats,
  standardDeviation,
  summarize,
  variance,
} from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  checkJson,
  checkNear,
  thrown,
} from "./_check.ts";

const SAMPLE = [2, 4, 4, 4, 5, 5, 7, 9];

export const statsChecks: Check[] = [
  ["stats: RunningStats, summarize and variance agree", () => {
    const stats = new RunningStats();
    for (const value of SAMPLE) stats.add(value);
    const left = new RunningStats();
    const right = new RunningStats();
    SAMPLE.slice(0, 3).forEach((value) => left.add(value));
    SAMPLE.slice(3).forEach((value) => right.add(value));
    left.merge(right);
    const shifted = new RunningStats();
    for (const value of [4, 7, 13, 16]) shifted.add(1e9 + value);
    const bad = thrown(() => stats.add(Number.NaN));

    checkJson(stats.summary(), {
      count: 8,
      mean: 5,
      variance: 4,
      standardDeviation: 2,
      min: 2,
      max: 9,
    }, "RunningStats summary");
    checkJson(summarize(SAMPLE), stats.summary(), "summarize()");
    checkJson(left.summary(), stats.summary(), "merged halves");
    checkNear(stats.sampleVariance, 32 / 7, 1e-12, "sample variance");
    checkEqual(shifted.variance, 22.5, "variance with a large mean");
    checkEqual(shifted.sampleVariance, 30, "sample variance, large mean");
    checkEqual(variance([1, 2, 3, 4]), 1.25, "variance()");
    checkNear(variance([1, 2, 3, 4], { sample: true }), 5 / 3, 1e-12, "sample");
    checkEqual(standardDeviation(SAMPLE), 2, "standardDeviation()");
    checkJson([mean(SAMPLE), min(SAMPLE), max(SAMPLE)], [5, 2, 9], "extremes");
    checkEqual(Number.isNaN(mean([])), true, "mean of nothing is NaN");
    check(bad instanceof RangeError, "NaN was accepted");
    checkEqual(stats.count, 8, "count after a refused value");
  }],
  ["stats: percentiles interpolate and fixed bins count", () => {
    const outOfRange = thrown(() => percentile([1, 2], 101));

    checkEqual(percentile([4, 1, 3, 2], 50), 2.5, "median");
    checkEqual(percentile([4, 1, 3, 2], 75), 3.25, "75th percentile");
    checkEqual(percentile([4, 1, 3, 2], 100), 4, "100th percentile");
    checkJson(
      percentiles([1, 2, 3, 4, 5], [25, 50, 75]),
      [2, 3, 4],
      "quartiles",
    );
    checkJson(
      fixedBins([1, 2, 2, 3, 9, 10], { bins: 3, min: 0, max: 12 }),
      [
        { lower: 0, upper: 4, count: 4 },
        { lower: 4, upper: 8, count: 0 },
        { lower: 8, upper: 12, count: 2 },
      ],
      "bins",
    );
    check(outOfRange instanceof RangeError, "percentile 101 was accepted");
  }],
  ["stats: LogLinearHistogram percentiles stay within 1/128", () => {
    const histogram = new LogLinearHistogram();
    for (let ms = 1; ms <= 1_000; ms++) histogram.record(ms);
    const other = new LogLinearHistogram();
    other.record(5_000);
    const bad = thrown(() => histogram.record(-1));
    const before = histogram.summary();
    histogram.merge(other);

    checkEqual(LogLinearHistogram.relativeError, 1 / 128, "relativeError");
    checkEqual(before.count, 1_000, "count");
    checkEqual(before.mean, 500.5, "mean");
    checkEqual(before.min, 1, "min");
    checkEqual(before.max, 1_000, "max");
    checkNear(before.p50, 500, 1 / 128, "p50");
    checkNear(before.p99, 990, 1 / 128, "p99");
    checkNear(before.p999, 999, 1 / 128, "p99.9");
    check(bad instanceof RangeError, "-1 was accepted");
    checkEqual(histogram.count, 1_001, "count after merge");
    checkEqual(histogram.percentile(100), 5_000, "max after merge");
    histogram.reset();
    checkEqual(histogram.percentile(50), 0, "percentile of nothing");
  }],
];
