/**
 * Small, exact descriptive statistics: a streaming accumulator (Welford's
 * algorithm) for count, mean, variance, standard deviation, minimum and
 * maximum; percentiles of a sample by linear interpolation; fixed-width
 * bins; and the log-linear histogram that dyno's metrics use for latency.
 *
 * Every function checks its input: samples must hold finite numbers, and
 * percentiles must be in [0, 100]. Statistics of an empty sample are `NaN`.
 *
 * @example Summarising a sample
 * ```ts
 * import { percentile, RunningStats } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * const stats = new RunningStats();
 * for (const value of [2, 4, 4, 4, 5, 5, 7, 9]) stats.add(value);
 * assert.equal(stats.mean, 5);
 * assert.equal(stats.standardDeviation, 2);
 * assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
 * ```
 *
 * @module
 */

import {
  checkPercentile,
  clearSegment,
  createSegments,
  HISTOGRAM_HIGHEST,
  HISTOGRAM_LOWEST,
  HISTOGRAM_RELATIVE_ERROR,
  HISTOGRAM_SLOTS,
  type HistogramSegments,
  mergedTotals,
  percentilesOf,
  recordValue,
  snapToInteger,
} from "./_histogram.ts";

/** Count, mean, spread and extremes of a sample. */
export interface StatsSummary {
  /** How many values. */
  count: number;
  /** Their mean; NaN when empty. */
  mean: number;
  /** Their population variance (divided by count); NaN when empty. */
  variance: number;
  /** The square root of `variance`; NaN when empty. */
  standardDeviation: number;
  /** The smallest; NaN when empty. */
  min: number;
  /** The largest; NaN when empty. */
  max: number;
}

/**
 * A streaming accumulator of count, mean, variance and extremes, updated in
 * constant time and memory per value with Welford's algorithm, which stays
 * accurate where the naive sum of squares cancels catastrophically (values
 * with a large mean and a small spread). Values are taken relative to the
 * first one, so a large offset costs no precision in the variance.
 *
 * @example Streaming values
 * ```ts
 * import { RunningStats } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * const stats = new RunningStats();
 * for (const value of [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16]) stats.add(value);
 * assert.equal(stats.mean, 1e9 + 10);
 * assert.equal(stats.variance, 22.5);
 * assert.equal(stats.sampleVariance, 30);
 * ```
 */
export class RunningStats {
  #count = 0;
  #shift = 0;
  #mean = 0;
  #squaredDeviations = 0;
  #min = Infinity;
  #max = -Infinity;

  /**
   * Adds one value.
   *
   * @throws {RangeError} If `value` is not a finite number; nothing changes
   * then.
   */
  add(value: number): void {
    checkFinite(value, "RunningStats.add");

    if (this.#count === 0) this.#shift = value;
    this.#count++;
    const shifted = value - this.#shift;
    const delta = shifted - this.#mean;
    this.#mean += delta / this.#count;
    this.#squaredDeviations += delta * (shifted - this.#mean);
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /**
   * Adds every value that `other` has seen, as if they had been added here
   * (Chan et al.'s parallel update).
   */
  merge(other: RunningStats): void {
    if (other.#count === 0) return;
    if (this.#count === 0) this.#shift = other.#shift;

    const count = this.#count + other.#count;
    const delta = (other.#shift - this.#shift) + (other.#mean - this.#mean);
    this.#mean += (delta * other.#count) / count;
    this.#squaredDeviations += other.#squaredDeviations +
      (delta * delta * this.#count * other.#count) / count;
    this.#count = count;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  /** How many values were added. */
  get count(): number {
    return this.#count;
  }

  /** Their mean; NaN when empty. */
  get mean(): number {
    return this.#count === 0 ? NaN : this.#shift + this.#mean;
  }

  /** Their population variance (divided by count); NaN when empty. */
  get variance(): number {
    return this.#count === 0 ? NaN : this.#squaredDeviations / this.#count;
  }

  /** Their sample variance (divided by count - 1); NaN below two values. */
  get sampleVariance(): number {
    return this.#count < 2 ? NaN : this.#squaredDeviations / (this.#count - 1);
  }

  /** The population standard deviation; NaN when empty. */
  get standardDeviation(): number {
    return Math.sqrt(this.variance);
  }

  /** The sample standard deviation; NaN below two values. */
  get sampleStandardDeviation(): number {
    return Math.sqrt(this.sampleVariance);
  }

  /** The smallest value; NaN when empty. */
  get min(): number {
    return this.#count === 0 ? NaN : this.#min;
  }

  /** The largest value; NaN when empty. */
  get max(): number {
    return this.#count === 0 ? NaN : this.#max;
  }

  /** Everything at once, as plain data. */
  summary(): StatsSummary {
    return {
      count: this.count,
      mean: this.mean,
      variance: this.variance,
      standardDeviation: this.standardDeviation,
      min: this.min,
      max: this.max,
    };
  }
}

/**
 * Count, mean, population variance and standard deviation, minimum and
 * maximum of `values`, in one pass.
 *
 * @throws {RangeError} If a value is not a finite number.
 *
 * @example A summary
 * ```ts
 * import { summarize } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(summarize([2, 4, 4, 4, 5, 5, 7, 9]), {
 *   count: 8,
 *   mean: 5,
 *   variance: 4,
 *   standardDeviation: 2,
 *   min: 2,
 *   max: 9,
 * });
 * ```
 */
export function summarize(values: Iterable<number>): StatsSummary {
  return accumulate(values, "summarize").summary();
}

/**
 * The arithmetic mean of `values`; NaN when empty.
 *
 * @throws {RangeError} If a value is not a finite number.
 *
 * @example A mean
 * ```ts
 * import { mean } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * assert.equal(mean([1, 2, 3, 4]), 2.5);
 * assert.ok(Number.isNaN(mean([])));
 * ```
 */
export function mean(values: Iterable<number>): number {
  return accumulate(values, "mean").mean;
}

/** Options for {@linkcode variance} and {@linkcode standardDeviation}. */
export interface VarianceOptions {
  /**
   * Divide by count - 1 (the unbiased sample variance) instead of by count
   * (the population variance).
   *
   * @default {false}
   */
  sample?: boolean;
}

/**
 * The variance of `values`: population by default, sample with
 * `{ sample: true }`. NaN when empty (or below two values for the sample
 * variance).
 *
 * @throws {RangeError} If a value is not a finite number.
 *
 * @example Population and sample variance
 * ```ts
 * import { variance } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * assert.equal(variance([1, 2, 3, 4]), 1.25);
 * assert.equal(variance([1, 2, 3, 4], { sample: true }), 5 / 3);
 * ```
 */
export function variance(
  values: Iterable<number>,
  options: VarianceOptions = {},
): number {
  const stats = accumulate(values, "variance");
  return options.sample ? stats.sampleVariance : stats.variance;
}

/**
 * The standard deviation of `values`: the square root of
 * {@linkcode variance} with the same options.
 *
 * @throws {RangeError} If a value is not a finite number.
 *
 * @example A standard deviation
 * ```ts
 * import { standardDeviation } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * assert.equal(standardDeviation([2, 4, 4, 4, 5, 5, 7, 9]), 2);
 * ```
 */
export function standardDeviation(
  values: Iterable<number>,
  options: VarianceOptions = {},
): number {
  return Math.sqrt(variance(values, options));
}

/**
 * The smallest of `values`; NaN when empty.
 *
 * @throws {RangeError} If a value is not a finite number.
 *
 * @example The minimum
 * ```ts
 * import { min } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * assert.equal(min([3, -1, 2]), -1);
 * ```
 */
export function min(values: Iterable<number>): number {
  return accumulate(values, "min").min;
}

/**
 * The largest of `values`; NaN when empty.
 *
 * @throws {RangeError} If a value is not a finite number.
 *
 * @example The maximum
 * ```ts
 * import { max } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * assert.equal(max([3, -1, 2]), 3);
 * ```
 */
export function max(values: Iterable<number>): number {
  return accumulate(values, "max").max;
}

/**
 * The `p`-th percentile (0..100) of `values`, by linear interpolation
 * between the two nearest ranks: with the values sorted as `x[0..n-1]` and
 * `h = (n - 1) * p / 100`, it is `x[⌊h⌋] + (h - ⌊h⌋) * (x[⌊h⌋+1] - x[⌊h⌋])`.
 * This is Hyndman and Fan's type 7, NumPy's default and Excel's
 * `PERCENTILE.INC`. NaN when empty. `values` is not modified.
 *
 * @throws {RangeError} If `p` is NaN or outside [0, 100], or a value is not
 * a finite number.
 *
 * @example Percentiles between values
 * ```ts
 * import { percentile } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * assert.equal(percentile([4, 1, 3, 2], 50), 2.5);
 * assert.equal(percentile([4, 1, 3, 2], 75), 3.25);
 * assert.equal(percentile([4, 1, 3, 2], 100), 4);
 * ```
 */
export function percentile(values: Iterable<number>, p: number): number {
  return percentiles(values, [p])[0];
}

/**
 * Several percentiles of `values` at once, sorting a copy only once; see
 * {@linkcode percentile} for the method.
 *
 * @throws {RangeError} If a percentile is NaN or outside [0, 100], or a
 * value is not a finite number.
 *
 * @example Median and quartiles
 * ```ts
 * import { percentiles } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(percentiles([1, 2, 3, 4, 5], [25, 50, 75]), [2, 3, 4]);
 * ```
 */
export function percentiles(
  values: Iterable<number>,
  ps: readonly number[],
): number[] {
  for (const p of ps) checkPercentile(p, "percentiles");
  const sorted = Float64Array.from(checkedValues(values, "percentiles")).sort();

  return ps.map((p) => interpolate(sorted, p));
}

/** One bin of {@linkcode fixedBins}: values in `[lower, upper)`. */
export interface Bin {
  /** The bin's inclusive lower edge. */
  lower: number;
  /** Its exclusive upper edge; the last bin includes it. */
  upper: number;
  /** How many values fell in it. */
  count: number;
}

/** Options for {@linkcode fixedBins}. */
export interface FixedBinsOptions {
  /**
   * How many equal-width bins, a positive integer.
   *
   * @default {10}
   */
  bins?: number;
  /**
   * The first bin's lower edge.
   *
   * @default {the smallest value}
   */
  min?: number;
  /**
   * The last bin's upper edge, included in the last bin.
   *
   * @default {the largest value}
   */
  max?: number;
}

/**
 * Counts `values` in equal-width bins from `min` to `max`. Values outside
 * the range are not counted. An empty sample with no explicit range gives no
 * bins; a range of zero width gives one bin holding every value.
 *
 * @throws {RangeError} If `bins` is not a positive integer, `min` or `max`
 * is not finite, `max < min`, `max - min` overflows, or a value is not a
 * finite number.
 *
 * @example Five bins
 * ```ts
 * import { fixedBins } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * const bins = fixedBins([1, 2, 2, 3, 9, 10], { bins: 3, min: 0, max: 12 });
 * assert.deepEqual(bins, [
 *   { lower: 0, upper: 4, count: 4 },
 *   { lower: 4, upper: 8, count: 0 },
 *   { lower: 8, upper: 12, count: 2 },
 * ]);
 * ```
 */
export function fixedBins(
  values: Iterable<number>,
  options: FixedBinsOptions = {},
): Bin[] {
  const sample = checkedValues(values, "fixedBins");
  const binCount = options.bins ?? 10;
  if (!Number.isSafeInteger(binCount) || binCount < 1) {
    throw new RangeError(
      `fixedBins: bins must be a positive integer, got ${String(binCount)}`,
    );
  }
  if (
    sample.length === 0 && options.min === undefined &&
    options.max === undefined
  ) {
    return [];
  }
  const extremes = accumulate(sample, "fixedBins");
  const lower = options.min ?? extremes.min;
  const upper = options.max ?? extremes.max;
  checkRange(lower, upper);

  const width = (upper - lower) / binCount;
  const bins = Array.from({ length: width === 0 ? 1 : binCount }, (_, i) => ({
    lower: lower + i * width,
    upper: i === binCount - 1 ? upper : lower + (i + 1) * width,
    count: 0,
  }));
  for (const value of sample) {
    if (value < lower || value > upper) continue;
    bins[binOf(bins, value, width)].count++;
  }

  return bins;
}

/** Count, mean, extremes and percentiles of a {@linkcode LogLinearHistogram}. */
export interface HistogramSummary {
  /** How many values were recorded. */
  count: number;
  /** Their exact mean; 0 when empty. */
  mean: number;
  /** The smallest, exact; 0 when empty. */
  min: number;
  /** The median. */
  p50: number;
  /** The 90th percentile. */
  p90: number;
  /** The 99th percentile. */
  p99: number;
  /** The 99.9th percentile. */
  p999: number;
  /** The largest, exact; 0 when empty. */
  max: number;
}

/**
 * A histogram of non-negative values in fixed memory (about 16 KiB), with
 * 64 log-linear buckets per power of two from 2^-10 to 2^22: for
 * milliseconds, about 1 µs to 70 minutes.
 *
 * Percentiles are by nearest rank: the smallest recorded value that at
 * least `p` % of the values are less than or equal to, reported as the
 * midpoint of its bucket, so within {@linkcode LogLinearHistogram.relativeError}
 * (1/128, 0.78 %) of the exact value, as HdrHistogram gives with two
 * significant digits. Percentile 0 and 100 are the exact minimum and
 * maximum; the count, sum and mean are exact. Below 2^-10 a percentile
 * reports the minimum (an absolute error under 2^-10); at or above 2^22 it
 * reports the maximum.
 *
 * @example Latency percentiles
 * ```ts
 * import { LogLinearHistogram } from "@dyno/dyno/stats";
 * import assert from "node:assert/strict";
 *
 * const histogram = new LogLinearHistogram();
 * for (let ms = 1; ms <= 1000; ms++) histogram.record(ms);
 *
 * const p99 = histogram.percentile(99);
 * assert.ok(Math.abs(p99 - 990) <= 990 * LogLinearHistogram.relativeError);
 * assert.equal(histogram.percentile(100), 1000);
 * assert.equal(histogram.mean, 500.5);
 * ```
 */
export class LogLinearHistogram {
  /** The largest relative error of a percentile in the tracked range. */
  static readonly relativeError: number = HISTOGRAM_RELATIVE_ERROR;
  /** The smallest value with its own bucket: 2^-10. */
  static readonly lowest: number = HISTOGRAM_LOWEST;
  /** The first value past the tracked range: 2^22. */
  static readonly highest: number = HISTOGRAM_HIGHEST;

  #segments: HistogramSegments = createSegments(1);

  /**
   * Records one value.
   *
   * @throws {RangeError} If `value` is negative, NaN or infinite; nothing is
   * recorded then.
   */
  record(value: number): void {
    if (!(typeof value === "number" && value >= 0 && value < Infinity)) {
      throw new RangeError(
        `LogLinearHistogram.record: value must be a finite number >= 0, got ${
          String(value)
        }`,
      );
    }

    recordValue(this.#segments, 0, value);
  }

  /** Adds every value recorded in `other` to this histogram. */
  merge(other: LogLinearHistogram): void {
    const mine = this.#segments;
    const theirs = other.#segments;
    if (theirs.totals[0] === 0) return;

    for (let index = 0; index < HISTOGRAM_SLOTS; index++) {
      mine.counts[index] += theirs.counts[index];
    }
    mine.totals[0] += theirs.totals[0];
    mine.sums[0] += theirs.sums[0];
    mine.mins[0] = Math.min(mine.mins[0], theirs.mins[0]);
    mine.maxs[0] = Math.max(mine.maxs[0], theirs.maxs[0]);
  }

  /** Forgets every value. */
  reset(): void {
    clearSegment(this.#segments, 0);
  }

  /** How many values were recorded. */
  get count(): number {
    return this.#segments.totals[0];
  }

  /** The exact sum of the values. */
  get sum(): number {
    return this.#segments.sums[0];
  }

  /** Their exact mean; 0 when empty. */
  get mean(): number {
    const count = this.count;
    return count === 0 ? 0 : this.sum / count;
  }

  /** The smallest value, exact; 0 when empty. */
  get min(): number {
    return this.count === 0 ? 0 : this.#segments.mins[0];
  }

  /** The largest value, exact; 0 when empty. */
  get max(): number {
    return this.count === 0 ? 0 : this.#segments.maxs[0];
  }

  /**
   * The value at `p` (0..100) by nearest rank; 0 when empty.
   *
   * @throws {RangeError} If `p` is NaN or outside [0, 100].
   */
  percentile(p: number): number {
    checkPercentile(p, "LogLinearHistogram.percentile");

    return percentilesOf(this.#segments, [p])[0];
  }

  /**
   * The values at several percentiles in one pass; see
   * {@linkcode LogLinearHistogram.percentile}.
   *
   * @throws {RangeError} If a percentile is NaN or outside [0, 100].
   */
  percentiles(ps: readonly number[]): number[] {
    for (const p of ps) checkPercentile(p, "LogLinearHistogram.percentiles");

    return percentilesOf(this.#segments, ps);
  }

  /** Count, mean, extremes and the usual percentiles. */
  summary(): HistogramSummary {
    const totals = mergedTotals(this.#segments);
    const [p50, p90, p99, p999] = percentilesOf(
      this.#segments,
      [50, 90, 99, 99.9],
    );

    return {
      count: totals.count,
      mean: this.mean,
      min: this.min,
      p50,
      p90,
      p99,
      p999,
      max: this.max,
    };
  }
}

function accumulate(values: Iterable<number>, caller: string): RunningStats {
  const stats = new RunningStats();
  for (const value of checkedValues(values, caller)) stats.add(value);

  return stats;
}

function checkedValues(values: Iterable<number>, caller: string): number[] {
  if (
    typeof (values as Partial<Iterable<number>> | null)?.[Symbol.iterator] !==
      "function"
  ) {
    throw new TypeError(
      `${caller}: values must be an iterable of numbers, got ${
        values === null ? "null" : typeof values
      }`,
    );
  }
  const sample = [...values];
  for (const value of sample) checkFinite(value, caller);

  return sample;
}

function checkFinite(value: number, caller: string): void {
  if (typeof value === "number" && Number.isFinite(value)) return;

  throw new RangeError(
    `${caller}: values must be finite numbers, got ${String(value)}`,
  );
}

/**
 * The bin whose `[lower, upper)` holds `value`: the quotient by `width`,
 * moved by one where rounding put it across an edge the bins report.
 */
function binOf(bins: readonly Bin[], value: number, width: number): number {
  if (width === 0) return 0;

  const last = bins.length - 1;
  const index = Math.min(Math.floor((value - bins[0].lower) / width), last);
  if (index < last && value >= bins[index + 1].lower) return index + 1;
  if (index > 0 && value < bins[index].lower) return index - 1;

  return index;
}

function checkRange(lower: number, upper: number): void {
  if (!(Number.isFinite(lower) && Number.isFinite(upper) && lower <= upper)) {
    throw new RangeError(
      `fixedBins: need finite min <= max, got min ${lower} and max ${upper}`,
    );
  }
  if (!Number.isFinite(upper - lower)) {
    throw new RangeError(
      `fixedBins: max - min must be finite, got ${upper} - ${lower}`,
    );
  }
}

function interpolate(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;

  const position = snapToInteger(((sorted.length - 1) * p) / 100);
  const below = Math.floor(position);
  const fraction = position - below;
  if (fraction === 0) return sorted[below];

  const low = sorted[below];
  const high = sorted[below + 1];
  const value = low + fraction * (high - low);

  return Number.isFinite(value)
    ? value
    : low * (1 - fraction) + high * fraction;
}
