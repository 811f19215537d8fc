/**
 * Checks a breaker's options and its `initialState` snapshot at construction,
 * and fills in the defaults.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import type {
  BreakerBucketCounts,
  BreakerSnapshot,
  BreakerState,
} from "./breaker.ts";
import {
  fail,
  finiteAtLeast,
  integerAtLeast,
  optionalClock,
  optionalFunction,
  optionalString,
  optionsObject,
  positiveMs,
  ratio,
} from "./_breaker_options.ts";
import type { Outcome } from "./_breaker_window.ts";

const OWNER = "Breaker";

/** The window settings after checking. */
export type WindowConfig =
  | { kind: "time"; windowMs: number; buckets: number }
  | { kind: "count"; size: number };

/** A breaker's options after checking, with the defaults filled in. */
export interface BreakerConfig {
  name: string;
  clock: Clock;
  window: WindowConfig;
  minimumCalls: number;
  failureRateThreshold: number;
  slowCallDurationMs: number | undefined;
  slowCallRateThreshold: number;
  isFailure: (error: unknown) => boolean;
  retryAfterMs: ((error: unknown) => number | undefined) | undefined;
  openMs: number;
  openBackoff: number;
  maxOpenMs: number;
  halfOpenProbes: number;
  successesToClose: number;
  probeTimeoutMs: number;
  initialState: BreakerSnapshot | undefined;
}

const countsAll = (): boolean => true;
const noHint = (): undefined => undefined;

/** The state names a snapshot may carry. */
export const BREAKER_STATES: readonly BreakerState[] = [
  "closed",
  "open",
  "half-open",
  "forced-open",
  "forced-closed",
  "disabled",
];

function checkWindow(value: unknown): WindowConfig {
  if (value === undefined) {
    return { kind: "time", windowMs: 10_000, buckets: 10 };
  }

  const raw = optionsObject(OWNER, "window", value);
  if (raw.kind === "count") {
    const size = integerAtLeast(OWNER, "window.size", raw.size, 1, Number.NaN);
    if (Number.isNaN(size)) {
      fail("type", OWNER, "window.size must be a number", raw.size);
    }
    return { kind: "count", size };
  }
  if (raw.kind !== "time") {
    fail("type", OWNER, 'window.kind must be "time" or "count"', raw.kind);
  }

  const windowMs = integerAtLeast(
    OWNER,
    "window.windowMs",
    raw.windowMs,
    1,
    10_000,
  );
  const buckets = integerAtLeast(OWNER, "window.buckets", raw.buckets, 1, 10);
  if (windowMs % buckets !== 0) {
    fail(
      "range",
      OWNER,
      `window.buckets must divide window.windowMs (${windowMs}) evenly`,
      buckets,
    );
  }

  return { kind: "time", windowMs, buckets };
}

function checkMinimumCalls(value: unknown, window: WindowConfig): number {
  const cap = window.kind === "count" ? window.size : Infinity;
  const minimumCalls = integerAtLeast(
    OWNER,
    "minimumCalls",
    value,
    1,
    Math.min(20, cap),
  );
  if (minimumCalls > cap) {
    fail(
      "range",
      OWNER,
      `minimumCalls must be <= window.size (${cap}) of a count window`,
      minimumCalls,
    );
  }

  return minimumCalls;
}

/** Checks every option and fills in the defaults. */
export function checkBreakerOptions(options: unknown): BreakerConfig {
  const raw = optionsObject(OWNER, "options", options);
  const window = checkWindow(raw.window);
  const openMs = positiveMs(OWNER, "openMs", raw.openMs, 5_000);
  const maxOpenMs = finiteAtLeast(
    OWNER,
    "maxOpenMs",
    raw.maxOpenMs,
    openMs,
    Math.max(openMs, 300_000),
  );
  const slowCallDurationMs = raw.slowCallDurationMs === undefined
    ? undefined
    : positiveMs(OWNER, "slowCallDurationMs", raw.slowCallDurationMs, 0);

  return {
    name: optionalString(OWNER, "name", raw.name, "breaker"),
    clock: optionalClock(OWNER, raw.clock, systemClock),
    window,
    minimumCalls: checkMinimumCalls(raw.minimumCalls, window),
    failureRateThreshold: ratio(
      OWNER,
      "failureRateThreshold",
      raw.failureRateThreshold,
      0.5,
    ),
    slowCallDurationMs,
    slowCallRateThreshold: ratio(
      OWNER,
      "slowCallRateThreshold",
      raw.slowCallRateThreshold,
      1,
    ),
    isFailure: optionalFunction(OWNER, "isFailure", raw.isFailure, countsAll),
    retryAfterMs: raw.retryAfterMs === undefined
      ? undefined
      : optionalFunction(OWNER, "retryAfterMs", raw.retryAfterMs, noHint),
    openMs,
    openBackoff: finiteAtLeast(OWNER, "openBackoff", raw.openBackoff, 1, 1),
    maxOpenMs,
    halfOpenProbes: integerAtLeast(
      OWNER,
      "halfOpenProbes",
      raw.halfOpenProbes,
      1,
      1,
    ),
    successesToClose: integerAtLeast(
      OWNER,
      "successesToClose",
      raw.successesToClose,
      1,
      1,
    ),
    probeTimeoutMs: positiveMs(
      OWNER,
      "probeTimeoutMs",
      raw.probeTimeoutMs,
      10_000,
    ),
    initialState: raw.initialState === undefined
      ? undefined
      : checkSnapshot(raw.initialState),
  };
}

function count(option: string, value: unknown): number {
  return integerAtLeast(OWNER, `initialState.${option}`, value, 0, 0);
}

function checkOutcomes(value: unknown): Outcome[] {
  if (!Array.isArray(value)) {
    fail("type", OWNER, "initialState.window.outcomes must be an array", value);
  }
  for (const outcome of value) {
    if (outcome !== 0 && outcome !== 1 && outcome !== 2 && outcome !== 3) {
      fail(
        "range",
        OWNER,
        "initialState.window.outcomes must hold 0, 1, 2 or 3",
        outcome,
      );
    }
  }

  return value as Outcome[];
}

function checkBuckets(value: unknown): BreakerBucketCounts[] {
  if (!Array.isArray(value)) {
    fail("type", OWNER, "initialState.window.buckets must be an array", value);
  }

  return value.map((bucket: unknown, index) => {
    const where = `window.buckets[${index}]`;
    const raw = optionsObject(OWNER, `initialState.${where}`, bucket);
    const calls = count(`${where}.calls`, raw.calls);
    const failures = count(`${where}.failures`, raw.failures);
    const slowCalls = count(`${where}.slowCalls`, raw.slowCalls);
    if (failures > calls) {
      fail(
        "range",
        OWNER,
        `initialState.${where}.failures must be <= its calls (${calls})`,
        failures,
      );
    }
    if (slowCalls > calls) {
      fail(
        "range",
        OWNER,
        `initialState.${where}.slowCalls must be <= its calls (${calls})`,
        slowCalls,
      );
    }
    return { calls, failures, slowCalls };
  });
}

function checkSnapshotWindow(value: unknown): BreakerSnapshot["window"] {
  const raw = optionsObject(OWNER, "initialState.window", value);
  if (raw.kind === "count") {
    return { kind: "count", outcomes: checkOutcomes(raw.outcomes) };
  }
  if (raw.kind !== "time") {
    fail(
      "type",
      OWNER,
      'initialState.window.kind must be "time" or "count"',
      raw.kind,
    );
  }

  return {
    kind: "time",
    bucketMs: positiveMs(
      OWNER,
      "initialState.window.bucketMs",
      raw.bucketMs,
      1,
    ),
    buckets: checkBuckets(raw.buckets),
  };
}

/** Checks a snapshot from `Breaker.toJSON()`, perhaps after a JSON trip. */
export function checkSnapshot(value: unknown): BreakerSnapshot {
  const raw = optionsObject(OWNER, "initialState", value);
  if (raw.version !== 1) {
    fail("range", OWNER, "initialState.version must be 1", raw.version);
  }
  if (!BREAKER_STATES.includes(raw.state as BreakerState)) {
    fail(
      "range",
      OWNER,
      `initialState.state must be one of ${BREAKER_STATES.join(", ")}`,
      raw.state,
    );
  }

  return {
    version: 1,
    state: raw.state as BreakerState,
    openRemainingMs: finiteAtLeast(
      OWNER,
      "initialState.openRemainingMs",
      raw.openRemainingMs,
      0,
      0,
    ),
    reopens: count("reopens", raw.reopens),
    probeSuccesses: count("probeSuccesses", raw.probeSuccesses),
    window: checkSnapshotWindow(raw.window),
  };
}
