/**
 * Rolling health metrics for one named command or service, after Hystrix's:
 * event counters over a bucketed time window and since start, an in-flight
 * gauge with its rolling maximum, and latency percentiles from a log-linear
 * histogram, read as {@linkcode MetricsSnapshot}s by exporters through a
 * {@linkcode MetricsRegistry}.
 *
 * Recording allocates nothing and mostly reads no clock: see
 * {@linkcode Metrics} for how samples are stamped.
 *
 * @example Recording calls and reading a snapshot
 * ```ts
 * import { Metrics } from "@dyno/dyno/metrics";
 * import { ManualClock } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const metrics = new Metrics({ name: "users", clock: new ManualClock() });
 * metrics.recordSuccess(12);
 * metrics.recordFailure(40);
 *
 * const snapshot = metrics.snapshot();
 * assert.equal(snapshot.requests, 2);
 * assert.equal(snapshot.errorPercentage, 50);
 * assert.equal(snapshot.latency.maxMs, 40);
 * ```
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import {
  checkPercentile,
  clearSegment,
  createSegments,
  type HistogramSegments,
  mergedTotals,
  percentilesOf,
  recordValue,
} from "./_histogram.ts";
import { resolveMetricsOptions } from "./_metrics_options.ts";
import type { MetricsRegistry } from "./_metrics_registry.ts";

import type { BreakerState } from "./breaker.ts";
export type { Clock } from "./clock.ts";
export {
  MetricsRegistry,
  type MetricsRegistryEvent,
} from "./_metrics_registry.ts";

/** A circuit breaker's state as the dashboard shows it. */
export type CircuitState = BreakerState;

/** How many events of each kind happened. */
export interface EventCounts {
  /** Calls that succeeded. */
  successes: number;
  /** Calls that failed. */
  failures: number;
  /** Calls that ran out of time. */
  timeouts: number;
  /** Calls refused by an open circuit without running. */
  shortCircuited: number;
  /** Calls refused by a full bulkhead or rate limit without running. */
  rejected: number;
  /** Fallbacks that succeeded. */
  fallbackSuccesses: number;
  /** Fallbacks that failed. */
  fallbackFailures: number;
  /** Attempts that were retries of an earlier attempt. */
  retries: number;
}

/** The kinds of event that {@linkcode EventCounts} counts. */
export type EventKind = keyof EventCounts;

/** Latency percentiles over the rolling latency window, in milliseconds. */
export interface LatencySummary {
  /** How many latencies were recorded in the window. */
  count: number;
  /** Their exact mean; 0 when there are none. */
  meanMs: number;
  /** The median. */
  p50Ms: number;
  /** The 90th percentile. */
  p90Ms: number;
  /** The 99th percentile. */
  p99Ms: number;
  /** The 99.9th percentile. */
  p999Ms: number;
  /** The largest, exact. */
  maxMs: number;
}

/** One command's metrics at one moment. */
export interface MetricsSnapshot {
  /** The command's name. */
  name: string;
  /** Its group; the name unless one was given. */
  group: string;
  /** When the snapshot was taken, by the metrics' clock. */
  atMs: number;
  /** The length of the rolling counter window, in milliseconds. */
  windowMs: number;
  /** Counts over the rolling window. */
  rolling: EventCounts;
  /** Counts since the metrics were created. */
  cumulative: EventCounts;
  /**
   * Rolling successes + failures + timeouts + shortCircuited + rejected.
   */
  requests: number;
  /**
   * Rolling (failures + timeouts + shortCircuited + rejected) / requests, as
   * a percentage 0..100; 0 when there were no requests.
   */
  errorPercentage: number;
  /**
   * Calls started and not yet ended: in a service, running, queued for a
   * permit or waiting between retries.
   */
  inFlight: number;
  /**
   * Most calls running at once in the rolling window, as seen when a call
   * started or the clock was read: a call that ended between two readings
   * counts only in the buckets up to the earlier one.
   */
  inFlightMax: number;
  /** Calls waiting now, from the `queued` option; 0 without it. */
  queued: number;
  /** Latency over the rolling latency window. */
  latency: LatencySummary;
  /**
   * Every latency recorded since the metrics were created: how many and
   * their sum in milliseconds (a Prometheus summary's `_count` and `_sum`).
   */
  cumulativeLatency?: { count: number; sumMs: number };
  /** From the `circuitState` option; undefined without it. */
  circuit: CircuitState | undefined;
}

/** What happened to a call that {@linkcode Metrics.execute} saw fail. */
export type FailureKind =
  | "failures"
  | "timeouts"
  | "shortCircuited"
  | "rejected";

/** Options for {@linkcode Metrics}. */
export interface MetricsOptions {
  /** The command's name: a non-empty string, unique in its registry. */
  name: string;
  /**
   * The group it belongs to, as Hystrix groups commands.
   *
   * @default {name}
   */
  group?: string;
  /**
   * Where time comes from.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * The rolling counter window in milliseconds, a positive integer.
   *
   * @default {10_000}
   */
  windowMs?: number;
  /**
   * How many buckets the counter window rolls in; must divide `windowMs`.
   *
   * @default {10}
   */
  buckets?: number;
  /**
   * The rolling latency window in milliseconds, a positive integer.
   *
   * @default {60_000}
   */
  latencyWindowMs?: number;
  /**
   * How many histograms the latency window rolls in; must divide
   * `latencyWindowMs`. Each takes about 16 KiB.
   *
   * @default {6}
   */
  latencyBuckets?: number;
  /**
   * The most records stamped with one clock reading, from 1 (read the clock
   * on every record: exact stamps) to 1024. See {@linkcode Metrics}.
   *
   * @default {64}
   */
  maxRecordsPerClockRead?: number;
  /** Reports the circuit's state for snapshots; a hook that throws reports undefined. */
  circuitState?: () => CircuitState | undefined;
  /** Reports how many calls wait now; a hook that throws reports 0. */
  queued?: () => number;
  /**
   * Classifies an error seen by {@linkcode Metrics.execute}; a hook that
   * throws counts a failure.
   *
   * @default {(error) => error.name === "TimeoutError" ? "timeouts" : "failures"}
   */
  classifyError?: (error: unknown) => FailureKind;
  /** A registry to join at construction. */
  registry?: MetricsRegistry;
}

/** What {@linkcode Metrics.execute} hands its operation. */
export interface MetricsContext {
  /** The caller's signal, passed through. */
  signal?: AbortSignal;
}

const KINDS: readonly EventKind[] = [
  "successes",
  "failures",
  "timeouts",
  "shortCircuited",
  "rejected",
  "fallbackSuccesses",
  "fallbackFailures",
  "retries",
];
const KIND_COUNT = KINDS.length;
const SUCCESSES = 0;
const FAILURES = 1;
const TIMEOUTS = 2;
const SHORT_CIRCUITED = 3;
const REJECTED = 4;
const FALLBACK_SUCCESSES = 5;
const FALLBACK_FAILURES = 6;
const RETRIES = 7;

const SNAPSHOT_PERCENTILES = [50, 90, 99, 99.9];

/**
 * The share of a counter bucket that a record's stamp may lag behind its
 * real time under a steady rate: the clock is read often enough for that.
 */
const STAMP_TOLERANCE_RATIO = 0.01;

/**
 * Metrics for one named command: rolling and cumulative event counts, an
 * in-flight gauge and rolling latency percentiles.
 *
 * The counter window `windowMs` rolls in `buckets` buckets; the latency
 * window rolls in `latencyBuckets` histograms, merged when read. A window
 * covers the current bucket and the ones before it, so it spans between
 * `windowMs - windowMs / buckets` and `windowMs` of history.
 *
 * **Stamping.** Recording methods take the latency as an argument (the
 * caller measures it) and may take `atMs`, the caller's own reading of the
 * same clock (usually the end time it measured with): a record with `atMs`
 * is stamped exactly and reads no clock. A record without it is stamped with
 * the latest time known to these metrics, and the clock is read again only
 * after a batch of records: a batch is sized from the recent rate so that
 * it spans about 1 % of a counter bucket, between 1 and
 * `maxRecordsPerClockRead` records. A slow stream thus reads the clock on
 * every record, a fast one about once per 64. After a sudden drop in rate,
 * the rest of a batch (at most `maxRecordsPerClockRead - 1` records) may be
 * stamped early, into an older bucket: after an idle gap longer than the
 * window, out of the rolling counts altogether (never out of the cumulative
 * ones), unless a snapshot during the gap, as an exporter polling takes,
 * moved the latest known time forward. Stamps never go backwards: a record
 * with an `atMs` older than the latest known time counts in the current
 * bucket, so `atMs` must come from the metrics' own clock (one from another
 * clock far ahead would hold the windows still). {@linkcode Metrics.snapshot}
 * always reads the clock; {@linkcode Metrics.clockReads} counts the
 * readings.
 *
 * **Latency** goes into a log-linear histogram with 64 buckets per power of
 * two from 2^-10 ms (about 1 µs) to 2^22 ms (about 70 minutes): every
 * percentile is within 1/128 (0.78 %) of the true nearest-rank value. Below
 * that range percentiles are within 1 µs; above it they report the maximum.
 * Memory is fixed: about 16 KiB per latency bucket.
 *
 * @example Counting calls by hand
 * ```ts
 * import { Metrics } from "@dyno/dyno/metrics";
 * import { ManualClock } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const metrics = new Metrics({ name: "search", clock });
 *
 * const startMs = clock.now();
 * metrics.callStarted();
 * await clock.advance(30);
 * const endMs = clock.now();
 * metrics.recordSuccess(endMs - startMs, endMs);
 * metrics.callEnded();
 *
 * const { rolling, inFlight, inFlightMax, latency } = metrics.snapshot();
 * assert.equal(rolling.successes, 1);
 * assert.equal(inFlight, 0);
 * assert.equal(inFlightMax, 1);
 * assert.equal(latency.p50Ms, 30);
 * ```
 */
export class Metrics {
  /** The command's name. */
  readonly name: string;
  /** The command's group. */
  readonly group: string;
  /** The rolling counter window in milliseconds. */
  readonly windowMs: number;
  /** The rolling latency window in milliseconds. */
  readonly latencyWindowMs: number;

  #clock: Clock;
  #circuitState: (() => CircuitState | undefined) | undefined;
  #queued: (() => number) | undefined;
  #classifyError: ((error: unknown) => FailureKind) | undefined;

  #bucketCount: number;
  #bucketMs: number;
  #counts: Float64Array;
  #inFlightMaxes: Float64Array;
  #cumulative = new Float64Array(KIND_COUNT);
  #bucket = -Infinity;
  #slot = 0;
  #countOffset = 0;

  #latencyBucketCount: number;
  #latencyBucketMs: number;
  #latency: HistogramSegments;
  #latencySumMs = 0;
  #latencyBucket = -Infinity;
  #latencySlot = 0;

  #inFlight = 0;

  #lastMs = -Infinity;
  #maxBatch: number;
  #batch = 1;
  #untilClockRead = 1;
  #batchStartMs = -Infinity;
  #clockReads = 0;

  /**
   * Makes empty metrics; reads no clock and starts no timer.
   *
   * @throws {TypeError} If `name` or `group` is not a non-empty string, or a
   * hook is not a function.
   * @throws {RangeError} If a window or bucket count is not a positive
   * integer, buckets do not divide their window, or
   * `maxRecordsPerClockRead` is out of range.
   */
  constructor(options: MetricsOptions) {
    const resolved = resolveMetricsOptions(options);
    this.name = resolved.name;
    this.group = resolved.group;
    this.windowMs = resolved.windowMs;
    this.latencyWindowMs = resolved.latencyWindowMs;
    this.#clock = resolved.clock;
    this.#circuitState = resolved.circuitState;
    this.#queued = resolved.queued;
    this.#classifyError = resolved.classifyError;
    this.#maxBatch = resolved.maxRecordsPerClockRead;

    this.#bucketCount = resolved.buckets;
    this.#bucketMs = this.windowMs / this.#bucketCount;
    this.#counts = new Float64Array(this.#bucketCount * KIND_COUNT);
    this.#inFlightMaxes = new Float64Array(this.#bucketCount);

    this.#latencyBucketCount = resolved.latencyBuckets;
    this.#latencyBucketMs = this.latencyWindowMs / this.#latencyBucketCount;
    this.#latency = createSegments(this.#latencyBucketCount);

    options.registry?.register(this);
  }

  /** How many times these metrics have read their clock. */
  get clockReads(): number {
    return this.#clockReads;
  }

  /** Calls started and not yet ended. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Counts a call that succeeded after `latencyMs`.
   *
   * @param latencyMs The call's latency, a finite number >= 0.
   * @param atMs When it ended, by the same clock; see stamping above.
   * @throws {RangeError} If `latencyMs` or `atMs` is out of range; nothing
   * is recorded then.
   */
  recordSuccess(latencyMs: number, atMs?: number): void {
    this.#recordCall(SUCCESSES, latencyMs, atMs);
  }

  /** Counts a call that failed after `latencyMs`, as {@linkcode Metrics.recordSuccess} does. */
  recordFailure(latencyMs: number, atMs?: number): void {
    this.#recordCall(FAILURES, latencyMs, atMs);
  }

  /** Counts a call that timed out after `latencyMs`, as {@linkcode Metrics.recordSuccess} does. */
  recordTimeout(latencyMs: number, atMs?: number): void {
    this.#recordCall(TIMEOUTS, latencyMs, atMs);
  }

  /** Counts a call that an open circuit refused; it has no latency. */
  recordShortCircuited(atMs?: number): void {
    this.#recordEvent(SHORT_CIRCUITED, atMs);
  }

  /** Counts a call that a full bulkhead or limit refused; it has no latency. */
  recordRejected(atMs?: number): void {
    this.#recordEvent(REJECTED, atMs);
  }

  /** Counts a fallback that succeeded. */
  recordFallbackSuccess(atMs?: number): void {
    this.#recordEvent(FALLBACK_SUCCESSES, atMs);
  }

  /** Counts a fallback that failed. */
  recordFallbackFailure(atMs?: number): void {
    this.#recordEvent(FALLBACK_FAILURES, atMs);
  }

  /** Counts a retry: an attempt after the first. */
  recordRetry(atMs?: number): void {
    this.#recordEvent(RETRIES, atMs);
  }

  /** Counts one more call in flight and updates the rolling maximum. */
  callStarted(atMs?: number): void {
    this.#stamp(atMs);
    const inFlight = ++this.#inFlight;
    if (inFlight > this.#inFlightMaxes[this.#slot]) {
      this.#inFlightMaxes[this.#slot] = inFlight;
    }
  }

  /**
   * Counts one call fewer in flight. Never goes below 0: an unmatched call
   * is ignored rather than thrown from a `finally` block.
   */
  callEnded(): void {
    if (this.#inFlight > 0) this.#inFlight--;
  }

  /**
   * Runs `operation` and records it: in flight while it runs, then a success,
   * or the kind `classifyError` picks for its error, with the latency read
   * from the clock (a short circuit or rejection, like
   * {@linkcode Metrics.recordRejected}, carries none). A rejection with the
   * caller's abort reason is counted neither way. Errors and results pass
   * through unchanged.
   *
   * @example Measuring an operation
   * ```ts
   * import { Metrics } from "@dyno/dyno/metrics";
   * import assert from "node:assert/strict";
   *
   * const metrics = new Metrics({ name: "lookup" });
   * assert.equal(await metrics.execute(() => 42), 42);
   * await assert.rejects(metrics.execute(() => Promise.reject(new Error("down"))));
   * assert.deepEqual(
   *   [metrics.snapshot().rolling.successes, metrics.snapshot().rolling.failures],
   *   [1, 1],
   * );
   * ```
   */
  async execute<T>(
    operation: (context: MetricsContext) => T | PromiseLike<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) throw signal.reason;

    const startMs = this.#readClock();
    this.callStarted(startMs);
    try {
      const result = await operation({ signal });
      const endMs = this.#readClock();
      this.recordSuccess(Math.max(0, endMs - startMs), endMs);
      return result;
    } catch (error) {
      if (!(signal?.aborted && error === signal.reason)) {
        const endMs = this.#readClock();
        const kind = this.#failureKind(error);
        if (kind === FAILURES || kind === TIMEOUTS) {
          this.#recordCall(kind, Math.max(0, endMs - startMs), endMs);
        } else {
          this.#recordEvent(kind, endMs);
        }
      }
      throw error;
    } finally {
      this.callEnded();
    }
  }

  /**
   * Returns a function that runs `fn` through {@linkcode Metrics.execute}
   * with the same arguments.
   *
   * @example Wrapping a function
   * ```ts
   * import { Metrics } from "@dyno/dyno/metrics";
   * import assert from "node:assert/strict";
   *
   * const metrics = new Metrics({ name: "double" });
   * const double = metrics.wrap(async (n: number) => n * 2);
   * assert.equal(await double(21), 42);
   * assert.equal(metrics.snapshot().cumulative.successes, 1);
   * ```
   */
  wrap<A extends unknown[], T>(
    fn: (...args: A) => T | PromiseLike<T>,
  ): (...args: A) => Promise<T> {
    return (...args: A): Promise<T> => this.execute(() => fn(...args));
  }

  /**
   * The latency at `percentile` (0..100) over the rolling latency window, by
   * nearest rank, within 1/128 of the true value; 0 when nothing was
   * recorded. Reads the clock.
   *
   * @throws {RangeError} If `percentile` is NaN or outside [0, 100].
   */
  latencyPercentile(percentile: number): number {
    checkPercentile(percentile, "Metrics.latencyPercentile");
    this.#advance(this.#readClock());

    return percentilesOf(this.#latency, [percentile])[0];
  }

  /**
   * Forgets the rolling counts and latencies, as after a circuit closes;
   * cumulative counts and the in-flight gauge stay.
   */
  resetRolling(): void {
    this.#counts.fill(0);
    this.#inFlightMaxes.fill(this.#inFlight);
    for (let slot = 0; slot < this.#latencyBucketCount; slot++) {
      clearSegment(this.#latency, slot);
    }
  }

  /** Reads the clock, rolls the windows forward and reports everything. */
  snapshot(): MetricsSnapshot {
    const atMs = this.#readClock();
    this.#advance(atMs);

    const rolling = this.#rollingCounts();
    const requests = rolling.successes + rolling.failures + rolling.timeouts +
      rolling.shortCircuited + rolling.rejected;
    const errors = requests - rolling.successes;

    return {
      name: this.name,
      group: this.group,
      atMs,
      windowMs: this.windowMs,
      rolling,
      cumulative: toCounts(this.#cumulative, 0),
      requests,
      errorPercentage: requests === 0 ? 0 : (errors / requests) * 100,
      inFlight: this.#inFlight,
      inFlightMax: Math.max(this.#inFlight, ...this.#inFlightMaxes),
      queued: this.#queuedNow(),
      latency: this.#latencySummary(),
      cumulativeLatency: {
        count: this.#cumulative[SUCCESSES] + this.#cumulative[FAILURES] +
          this.#cumulative[TIMEOUTS],
        sumMs: this.#latencySumMs,
      },
      circuit: this.#circuitNow(),
    };
  }

  #recordCall(kind: number, latencyMs: number, atMs: number | undefined): void {
    if (
      !(typeof latencyMs === "number" && latencyMs >= 0 && latencyMs < Infinity)
    ) {
      throw new RangeError(
        `Metrics: latencyMs must be a finite number >= 0, got ${
          String(latencyMs)
        }`,
      );
    }

    this.#stamp(atMs);
    this.#counts[this.#countOffset + kind]++;
    this.#cumulative[kind]++;
    this.#latencySumMs += latencyMs;
    recordValue(this.#latency, this.#latencySlot, latencyMs);
  }

  #recordEvent(kind: number, atMs: number | undefined): void {
    this.#stamp(atMs);
    this.#counts[this.#countOffset + kind]++;
    this.#cumulative[kind]++;
  }

  #stamp(atMs: number | undefined): void {
    if (atMs !== undefined) {
      if (!Number.isFinite(atMs)) {
        throw new RangeError(
          `Metrics: atMs must be a finite number, got ${String(atMs)}`,
        );
      }
      this.#advance(atMs);
      return;
    }

    if (--this.#untilClockRead > 0) return;
    this.#readClockForBatch();
  }

  #readClockForBatch(): void {
    const nowMs = this.#readClock();
    const elapsedMs = nowMs - this.#batchStartMs;
    const toleranceMs = this.#bucketMs * STAMP_TOLERANCE_RATIO;
    const fitting = elapsedMs > 0
      ? Math.floor((this.#batch * toleranceMs) / elapsedMs)
      : Infinity;

    this.#batch = Math.max(
      1,
      Math.min(fitting, 2 * this.#batch, this.#maxBatch),
    );
    this.#untilClockRead = this.#batch;
    this.#batchStartMs = nowMs;
    this.#advance(nowMs);
  }

  #readClock(): number {
    this.#clockReads++;
    return this.#clock.now();
  }

  #advance(nowMs: number): void {
    if (!(nowMs > this.#lastMs)) return;

    this.#lastMs = nowMs;
    const bucket = Math.floor(nowMs / this.#bucketMs);
    if (bucket > this.#bucket) this.#rollCounters(bucket);
    const latencyBucket = Math.floor(nowMs / this.#latencyBucketMs);
    if (latencyBucket > this.#latencyBucket) this.#rollLatency(latencyBucket);
  }

  #rollCounters(bucket: number): void {
    const steps = Math.min(bucket - this.#bucket, this.#bucketCount);
    for (let step = steps - 1; step >= 0; step--) {
      const slot = ringSlot(bucket - step, this.#bucketCount);
      this.#counts.fill(0, slot * KIND_COUNT, (slot + 1) * KIND_COUNT);
      this.#inFlightMaxes[slot] = this.#inFlight;
    }

    this.#bucket = bucket;
    this.#slot = ringSlot(bucket, this.#bucketCount);
    this.#countOffset = this.#slot * KIND_COUNT;
  }

  #rollLatency(bucket: number): void {
    const steps = Math.min(
      bucket - this.#latencyBucket,
      this.#latencyBucketCount,
    );
    for (let step = steps - 1; step >= 0; step--) {
      clearSegment(
        this.#latency,
        ringSlot(bucket - step, this.#latencyBucketCount),
      );
    }

    this.#latencyBucket = bucket;
    this.#latencySlot = ringSlot(bucket, this.#latencyBucketCount);
  }

  #rollingCounts(): EventCounts {
    const sums = new Float64Array(KIND_COUNT);
    for (let index = 0; index < this.#counts.length; index++) {
      sums[index % KIND_COUNT] += this.#counts[index];
    }

    return toCounts(sums, 0);
  }

  #latencySummary(): LatencySummary {
    const totals = mergedTotals(this.#latency);
    if (totals.count === 0) {
      return {
        count: 0,
        meanMs: 0,
        p50Ms: 0,
        p90Ms: 0,
        p99Ms: 0,
        p999Ms: 0,
        maxMs: 0,
      };
    }

    const [p50Ms, p90Ms, p99Ms, p999Ms] = percentilesOf(
      this.#latency,
      SNAPSHOT_PERCENTILES,
    );
    return {
      count: totals.count,
      meanMs: totals.sum / totals.count,
      p50Ms,
      p90Ms,
      p99Ms,
      p999Ms,
      maxMs: totals.max,
    };
  }

  #failureKind(error: unknown): number {
    let kind: FailureKind = isTimeout(error) ? "timeouts" : "failures";
    if (this.#classifyError) {
      try {
        kind = this.#classifyError(error);
      } catch {
        kind = "failures";
      }
    }

    const index = KINDS.indexOf(kind);
    return index >= FAILURES && index <= REJECTED ? index : FAILURES;
  }

  #queuedNow(): number {
    if (!this.#queued) return 0;

    try {
      const queued = this.#queued();
      return typeof queued === "number" && queued >= 0 && queued < Infinity
        ? queued
        : 0;
    } catch {
      return 0;
    }
  }

  #circuitNow(): CircuitState | undefined {
    if (!this.#circuitState) return undefined;

    try {
      return this.#circuitState();
    } catch {
      return undefined;
    }
  }
}

function toCounts(counts: Float64Array, offset: number): EventCounts {
  return {
    successes: counts[offset + SUCCESSES],
    failures: counts[offset + FAILURES],
    timeouts: counts[offset + TIMEOUTS],
    shortCircuited: counts[offset + SHORT_CIRCUITED],
    rejected: counts[offset + REJECTED],
    fallbackSuccesses: counts[offset + FALLBACK_SUCCESSES],
    fallbackFailures: counts[offset + FALLBACK_FAILURES],
    retries: counts[offset + RETRIES],
  };
}

function ringSlot(bucket: number, size: number): number {
  return ((bucket % size) + size) % size;
}

function isTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { name?: unknown }).name === "TimeoutError";
}
