/**
 * The log-linear bucketing behind dyno's latency histograms, shared by
 * `LogLinearHistogram` (one histogram) and `Metrics` (a ring of them).
 *
 * A value's bucket comes straight from the bits of its IEEE 754 encoding: the
 * exponent picks a power-of-two range and the top six bits of the mantissa
 * split that range into 64 equal sub-buckets. A bucket in the range
 * `[2^k, 2^(k+1))` is `2^k / 64` wide, so its midpoint is within
 * `1 / 128` (0.78 %) of any value in it, relative to that value. Reading the
 * bits costs two typed-array accesses; no `Math.log` on the hot path.
 *
 * The tracked range is `[2^-10, 2^22)`, which for milliseconds is about
 * 0.98 µs to 69.9 minutes: 32 powers of two, 2,048 buckets, plus one bucket
 * for smaller values (zero included) and one for larger ones.
 *
 * @module
 */

/** log2 of the number of sub-buckets in each power-of-two range. */
const SUB_BUCKET_BITS = 6;

/** The smallest tracked power of two: 2^-10. */
const LOWEST_EXPONENT = -10;

/** The first power of two past the tracked range: 2^22. */
const HIGHEST_EXPONENT = 22;

const REGULAR_BUCKETS = (HIGHEST_EXPONENT - LOWEST_EXPONENT) <<
  SUB_BUCKET_BITS;

/** The slot that counts values below the tracked range, zero included. */
const UNDERFLOW = 0;

/** The slot that counts values at or above the tracked range. */
const OVERFLOW = REGULAR_BUCKETS + 1;

/** Slots per histogram: the regular buckets, underflow and overflow. */
export const HISTOGRAM_SLOTS: number = REGULAR_BUCKETS + 2;

/** The smallest value with its own bucket: 2^-10. */
export const HISTOGRAM_LOWEST: number = 2 ** LOWEST_EXPONENT;

/** The first value past the tracked range: 2^22. */
export const HISTOGRAM_HIGHEST: number = 2 ** HIGHEST_EXPONENT;

/**
 * The largest error of a reported percentile relative to the true one, for
 * values in `[HISTOGRAM_LOWEST, HISTOGRAM_HIGHEST)`: 1/128.
 */
export const HISTOGRAM_RELATIVE_ERROR: number = 1 / 2 ** (SUB_BUCKET_BITS + 1);

const scratch = new Float64Array(1);
const words = new Uint32Array(scratch.buffer);
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** The first slot's biased exponent and sub-bucket, shifted into place. */
const INDEX_OFFSET = ((1023 + LOWEST_EXPONENT) << SUB_BUCKET_BITS) - 1;

/**
 * The slot that counts `value`, which must be a finite number >= 0 (or -0).
 */
export function bucketIndex(value: number): number {
  scratch[0] = value;
  const index = ((words[HIGH_WORD] & 0x7fffffff) >>>
    (20 - SUB_BUCKET_BITS)) - INDEX_OFFSET;

  if (index < UNDERFLOW) return UNDERFLOW;
  return index > OVERFLOW ? OVERFLOW : index;
}

/**
 * The value that stands for slot `index`: the bucket's midpoint, clamped to
 * the smallest and largest values seen. Underflow reports `min`, overflow
 * `max`: the only values known there.
 */
export function bucketValue(index: number, min: number, max: number): number {
  if (index === UNDERFLOW) return min;
  if (index === OVERFLOW) return max;

  const regular = index - 1;
  const base = 2 ** ((regular >> SUB_BUCKET_BITS) + LOWEST_EXPONENT);
  const subBucket = regular & ((1 << SUB_BUCKET_BITS) - 1);
  const midpoint = base * (1 + (subBucket + 0.5) / (1 << SUB_BUCKET_BITS));

  return midpoint < min ? min : midpoint > max ? max : midpoint;
}

/**
 * One or more histograms side by side: segment `s` counts in
 * `counts[s * HISTOGRAM_SLOTS ..]` and keeps its count, sum, smallest and
 * largest value at index `s` of the other arrays.
 */
export interface HistogramSegments {
  readonly counts: Float64Array;
  readonly totals: Float64Array;
  readonly sums: Float64Array;
  readonly mins: Float64Array;
  readonly maxs: Float64Array;
}

/** Allocates `segmentCount` empty histograms. */
export function createSegments(segmentCount: number): HistogramSegments {
  return {
    counts: new Float64Array(segmentCount * HISTOGRAM_SLOTS),
    totals: new Float64Array(segmentCount),
    sums: new Float64Array(segmentCount),
    mins: new Float64Array(segmentCount).fill(Infinity),
    maxs: new Float64Array(segmentCount).fill(-Infinity),
  };
}

/** Counts `value` (finite, >= 0, already checked) in segment `segment`. */
export function recordValue(
  segments: HistogramSegments,
  segment: number,
  value: number,
): void {
  segments.counts[segment * HISTOGRAM_SLOTS + bucketIndex(value)]++;
  segments.totals[segment]++;
  segments.sums[segment] += value;
  if (value < segments.mins[segment]) segments.mins[segment] = value;
  if (value > segments.maxs[segment]) segments.maxs[segment] = value;
}

/** Empties segment `segment`, touching only the slots it used. */
export function clearSegment(
  segments: HistogramSegments,
  segment: number,
): void {
  if (segments.totals[segment] === 0) return;

  const base = segment * HISTOGRAM_SLOTS;
  const first = bucketIndex(segments.mins[segment]);
  const last = bucketIndex(segments.maxs[segment]);
  segments.counts.fill(0, base + first, base + last + 1);
  segments.totals[segment] = 0;
  segments.sums[segment] = 0;
  segments.mins[segment] = Infinity;
  segments.maxs[segment] = -Infinity;
}

/** Count, sum and extremes of all segments together. */
export interface MergedTotals {
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** Adds up the counts, sums and extremes of every segment. */
export function mergedTotals(segments: HistogramSegments): MergedTotals {
  const merged = { count: 0, sum: 0, min: Infinity, max: -Infinity };
  for (let segment = 0; segment < segments.totals.length; segment++) {
    if (segments.totals[segment] === 0) continue;

    merged.count += segments.totals[segment];
    merged.sum += segments.sums[segment];
    merged.min = Math.min(merged.min, segments.mins[segment]);
    merged.max = Math.max(merged.max, segments.maxs[segment]);
  }

  return merged;
}

/**
 * Checks that `percentile` is a number in [0, 100], naming `caller` in the
 * error otherwise.
 */
export function checkPercentile(percentile: number, caller: string): void {
  if (typeof percentile === "number" && percentile >= 0 && percentile <= 100) {
    return;
  }

  throw new RangeError(
    `${caller}: percentile must be a number in [0, 100], got ${
      String(percentile)
    }`,
  );
}

/**
 * The values at `percentiles` (each in [0, 100], in any order) of all
 * segments merged, by nearest rank: the smallest recorded value that at
 * least `p` % of the values are less than or equal to, reported as its
 * bucket's value. 0 asks for the minimum, 100 for the maximum, both exact.
 * An empty histogram reports 0 for every percentile.
 */
export function percentilesOf(
  segments: HistogramSegments,
  percentiles: readonly number[],
): number[] {
  const totals = mergedTotals(segments);
  const results = new Array<number>(percentiles.length).fill(0);
  if (totals.count === 0) return results;

  const order = percentiles.map((_, position) => position)
    .sort((a, b) => percentiles[a] - percentiles[b]);
  const ranks = order.map((position) =>
    Math.max(
      1,
      Math.ceil(snapToInteger((percentiles[position] * totals.count) / 100)),
    )
  );
  const first = bucketIndex(totals.min);
  const last = bucketIndex(totals.max);
  const segmentCount = segments.totals.length;
  let next = 0;
  let seen = 0;

  for (let index = first; index <= last && next < order.length; index++) {
    for (let segment = 0; segment < segmentCount; segment++) {
      seen += segments.counts[segment * HISTOGRAM_SLOTS + index];
    }
    while (next < order.length && ranks[next] <= seen) {
      results[order[next]] = ranks[next] === totals.count
        ? totals.max
        : percentiles[order[next]] === 0
        ? totals.min
        : bucketValue(index, totals.min, totals.max);
      next++;
    }
  }

  return results;
}

/**
 * `value` (>= 0), or the integer it is within rounding error of. A decimal
 * percentile is not exact in binary (99.9 is 99.900000000000006), so that
 * `99.9 * 41_000 / 100` comes out a hair above 40,959, which must not make
 * the nearest rank 40,960.
 */
export function snapToInteger(value: number): number {
  const nearest = Math.round(value);

  return Math.abs(value - nearest) <= value * 2 ** -48 ? nearest : value;
}
