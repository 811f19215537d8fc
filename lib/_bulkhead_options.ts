/**
 * Checks a bulkhead's options at construction, so that a bad value fails
 * loudly there, naming the option and the value, and never later at a call.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import { fail } from "./_check.ts";

/** The options after checking, with defaults filled in. */
export interface CheckedBulkheadOptions {
  maxConcurrent: number;
  maxQueued: number;
  queueTimeoutMs: number | undefined;
  holdAbandonedPermits: boolean;
  clock: Clock | undefined;
  name: string | undefined;
}

/** Optional options that only need the right JavaScript type. */
const TYPED = [
  ["name", "string"],
  ["holdAbandonedPermits", "boolean"],
  ["onQueued", "function"],
  ["onRejected", "function"],
  ["onAbandoned", "function"],
] as const;

/** Throws `Bulkhead: option must be expected, got value` unless `ok`. */
function check(
  ok: boolean,
  option: string,
  expected: string,
  value: unknown,
  range?: boolean,
): void {
  if (!ok) fail("Bulkhead", option, expected, value, range);
}

/** A number; `ok` tells whether it is in range, `expected` what that is. */
function checkNumber(
  option: string,
  value: unknown,
  ok: (value: number) => boolean,
  expected: string,
): void {
  check(typeof value === "number", option, "a number", value);
  check(ok(value as number), option, expected, value, true);
}

/**
 * Checks every option, throwing a `TypeError` for a wrong type and a
 * `RangeError` for a value out of range, and fills in the defaults.
 */
export function checkBulkheadOptions(
  options: unknown,
): CheckedBulkheadOptions {
  check(
    typeof options === "object" && options !== null,
    "options",
    "an object with maxConcurrent",
    options,
  );

  const raw = options as Record<string, unknown>;
  for (const [option, type] of TYPED) {
    const value = raw[option];
    check(
      value === undefined || typeof value === type,
      option,
      `a ${type}`,
      value,
    );
  }
  const { maxConcurrent, maxQueued = 0, clock } = raw;
  const queueTimeoutMs = raw.queueTimeoutMs === Infinity
    ? undefined
    : raw.queueTimeoutMs;
  checkNumber(
    "maxConcurrent",
    maxConcurrent,
    (value) => Number.isSafeInteger(value) && value >= 1,
    "an integer >= 1",
  );
  checkNumber(
    "maxQueued",
    maxQueued,
    (value) =>
      value === Infinity || (Number.isSafeInteger(value) && value >= 0),
    "an integer >= 0 or Infinity",
  );
  if (queueTimeoutMs !== undefined) {
    checkNumber(
      "queueTimeoutMs",
      queueTimeoutMs,
      (value) => value >= 0,
      "a number >= 0",
    );
  }
  const { setTimer, clearTimer } = Object(clock) as Partial<Clock>;
  check(
    clock === undefined ||
      (typeof setTimer === "function" && typeof clearTimer === "function"),
    "clock",
    "a Clock with setTimer and clearTimer",
    clock,
  );

  return {
    maxConcurrent,
    maxQueued,
    queueTimeoutMs,
    holdAbandonedPermits: raw.holdAbandonedPermits !== false,
    clock,
    name: raw.name,
  } as CheckedBulkheadOptions;
}
