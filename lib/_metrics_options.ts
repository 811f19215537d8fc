/**
 * Checks and fills in the options of `Metrics`, so that its constructor
 * only allocates.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import type { CircuitState, FailureKind, MetricsOptions } from "./metrics.ts";

const MAX_RECORDS_PER_CLOCK_READ = 1024;

/** Every option of `Metrics` checked, with its default filled in. */
export interface ResolvedMetricsOptions {
  name: string;
  group: string;
  clock: Clock;
  windowMs: number;
  buckets: number;
  latencyWindowMs: number;
  latencyBuckets: number;
  maxRecordsPerClockRead: number;
  circuitState: (() => CircuitState | undefined) | undefined;
  queued: (() => number) | undefined;
  classifyError: ((error: unknown) => FailureKind) | undefined;
}

/**
 * Checks `options`, throwing a `TypeError` or `RangeError` that names the
 * first bad option and its value.
 */
export function resolveMetricsOptions(
  options: MetricsOptions,
): ResolvedMetricsOptions {
  checkName(options?.name, "name");
  if (options.group !== undefined) checkName(options.group, "group");

  const windowMs = positiveInteger(options.windowMs ?? 10_000, "windowMs");
  const buckets = positiveInteger(options.buckets ?? 10, "buckets");
  checkDivides(windowMs, buckets, "windowMs", "buckets");
  const latencyWindowMs = positiveInteger(
    options.latencyWindowMs ?? 60_000,
    "latencyWindowMs",
  );
  const latencyBuckets = positiveInteger(
    options.latencyBuckets ?? 6,
    "latencyBuckets",
  );
  checkDivides(
    latencyWindowMs,
    latencyBuckets,
    "latencyWindowMs",
    "latencyBuckets",
  );

  return {
    name: options.name,
    group: options.group ?? options.name,
    clock: options.clock ?? systemClock,
    windowMs,
    buckets,
    latencyWindowMs,
    latencyBuckets,
    maxRecordsPerClockRead: checkMaxBatch(options.maxRecordsPerClockRead ?? 64),
    circuitState: checkHook(options.circuitState, "circuitState"),
    queued: checkHook(options.queued, "queued"),
    classifyError: checkHook(options.classifyError, "classifyError"),
  };
}

function checkName(value: unknown, option: string): void {
  if (typeof value === "string" && value.length > 0) return;

  throw new TypeError(
    `Metrics: ${option} must be a non-empty string, got ${describe(value)}`,
  );
}

function checkHook<F>(value: F | undefined, option: string): F | undefined {
  if (value === undefined || typeof value === "function") return value;

  throw new TypeError(
    `Metrics: ${option} must be a function, got ${typeName(value)}`,
  );
}

function positiveInteger(value: number, option: string): number {
  if (Number.isSafeInteger(value) && value > 0) return value;

  throw new RangeError(
    `Metrics: ${option} must be a positive integer, got ${describe(value)}`,
  );
}

function checkDivides(
  windowMs: number,
  buckets: number,
  windowOption: string,
  bucketsOption: string,
): void {
  if (windowMs % buckets === 0) return;

  throw new RangeError(
    `Metrics: ${bucketsOption} must divide ${windowOption}, got ${buckets} for ${windowMs}`,
  );
}

function checkMaxBatch(value: number): number {
  if (
    Number.isInteger(value) && value >= 1 && value <= MAX_RECORDS_PER_CLOCK_READ
  ) {
    return value;
  }

  throw new RangeError(
    "Metrics: maxRecordsPerClockRead must be an integer in " +
      `[1, ${MAX_RECORDS_PER_CLOCK_READ}], got ${describe(value)}`,
  );
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function typeName(value: unknown): string {
  return value === null ? "null" : typeof value;
}
