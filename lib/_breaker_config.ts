/**
 * Checks a breaker's options and its `initialState` snapshot at construction,
 * and fills in the defaults.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import type { BreakerState } from "./breaker.ts";
import {
  ABOVE,
  array,
  clock,
  fail,
  INTEGER,
  number,
  object,
  oneOf,
  typed,
} from "./_breaker_options.ts";

const OWNER = "Breaker";
const KINDS = ["time", "count"];
const STATES: BreakerState[] = [
  "closed",
  "open",
  "half-open",
  "forced-open",
  "forced-closed",
  "disabled",
];

/** The default clock: the breaker only reads the time, it sets no timer. */
const performanceClock = { now: (): number => performance.now() };

/** A slot's counts: calls, failures, slow calls. */
type Counts = [number, number, number];

/**
 * A snapshot after checking, with the defaults filled in. Its window is
 * a list of slot counts, newest first: a time window's buckets, or a count
 * window's outcomes, one call per slot.
 */
export interface CheckedSnapshot {
  state: BreakerState;
  openRemainingMs: number;
  reopens: number;
  probeSuccesses: number;
  /** A time window's bucket length; `Infinity` for a count window. */
  bucketMs: number;
  buckets: Counts[];
}

/** A breaker's options after checking, with the defaults filled in. */
export interface BreakerConfig {
  name: string;
  clock: Pick<Clock, "now">;
  /** A time window's buckets, or a count window's size. */
  size: number;
  /** A time window's bucket length; `Infinity` for a count window. */
  bucketMs: number;
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
  initialState: CheckedSnapshot | undefined;
}

/** Checks every option and fills in the defaults. */
export function checkBreakerOptions(options: unknown): BreakerConfig {
  const raw = object(OWNER, "options", options);
  const config: Record<string, unknown> = {};
  const check = (
    option: string,
    fallback: number,
    min: number,
    flags?: number,
    max?: number,
  ) =>
    config[option] = number(
      OWNER,
      option,
      raw[option],
      fallback,
      min,
      flags,
      max,
    );
  const checkType = (
    option: string,
    type: "string" | "function",
    fallback?: unknown,
  ) => config[option] = typed(OWNER, option, raw[option], type) ?? fallback;

  const window = raw.window === undefined
    ? { kind: "time" }
    : object(OWNER, "window", raw.window);
  let size: number;
  let bucketMs = Infinity;
  if (oneOf(OWNER, "window.kind", window.kind, KINDS) === "count") {
    size = number(OWNER, "window.size", window.size, undefined, 1, INTEGER);
  } else {
    const windowMs = number(
      OWNER,
      "window.windowMs",
      window.windowMs,
      10_000,
      1,
      INTEGER,
    );
    size = number(OWNER, "window.buckets", window.buckets, 10, 1, INTEGER);
    if (windowMs % size) {
      fail(
        OWNER,
        "window.buckets",
        `a divisor of window.windowMs (${windowMs})`,
        size,
        true,
      );
    }
    bucketMs = windowMs / size;
  }
  config.size = size;
  config.bucketMs = bucketMs;

  const most = bucketMs < Infinity ? Infinity : size;
  const openMs = check("openMs", 5_000, 0, ABOVE);
  checkType("name", "string", "breaker");
  checkType("isFailure", "function", () => true);
  checkType("retryAfterMs", "function");
  config.clock = clock(OWNER, raw.clock, performanceClock);
  check("minimumCalls", Math.min(20, most), 1, INTEGER, most);
  check("failureRateThreshold", 0.5, 0, ABOVE, 1);
  if (raw.slowCallDurationMs !== undefined) {
    check("slowCallDurationMs", 0, 0, ABOVE);
  }
  check("slowCallRateThreshold", 1, 0, ABOVE, 1);
  check("openBackoff", 1, 1);
  check("maxOpenMs", Math.max(openMs, 300_000), openMs);
  check("halfOpenProbes", 1, 1, INTEGER);
  check("successesToClose", 1, 1, INTEGER);
  check("probeTimeoutMs", 10_000, 0, ABOVE);
  if (raw.initialState !== undefined) {
    config.initialState = checkSnapshot(raw.initialState);
  }

  return config as unknown as BreakerConfig;
}

/** Checks a snapshot from `Breaker.toJSON()`, perhaps after a JSON trip. */
function checkSnapshot(value: unknown): CheckedSnapshot {
  const at = (option: string) => `initialState.${option}`;
  const count = (option: string, value: unknown, max?: number) =>
    number(OWNER, at(option), value, 0, 0, INTEGER, max);
  const list = (option: string, value: unknown) =>
    array(OWNER, at(option), value);

  const raw = object(OWNER, "initialState", value);
  const window = object(OWNER, at("window"), raw.window);
  oneOf(OWNER, at("version"), raw.version, [1], true);
  const counted = oneOf(OWNER, at("window.kind"), window.kind, KINDS) ===
    "count";

  return {
    state: oneOf(OWNER, at("state"), raw.state, STATES, true),
    openRemainingMs: number(
      OWNER,
      at("openRemainingMs"),
      raw.openRemainingMs,
      0,
      0,
    ),
    reopens: count("reopens", raw.reopens),
    probeSuccesses: count("probeSuccesses", raw.probeSuccesses),
    bucketMs: counted
      ? Infinity
      : number(OWNER, at("window.bucketMs"), window.bucketMs, 1, 0, ABOVE),
    buckets: counted
      ? list("window.outcomes", window.outcomes).map((outcome, index) => {
        const checked = number(
          OWNER,
          at(`window.outcomes[${index}]`),
          outcome,
          undefined,
          0,
          INTEGER,
          3,
        );
        return [1, checked & 1, checked >> 1] as Counts;
      }).reverse()
      : list("window.buckets", window.buckets).map((bucket, index) => {
        const where = `window.buckets[${index}]`;
        const counts = object(OWNER, at(where), bucket);
        const calls = count(`${where}.calls`, counts.calls);
        return [
          calls,
          count(`${where}.failures`, counts.failures, calls),
          count(`${where}.slowCalls`, counts.slowCalls, calls),
        ];
      }),
  };
}
