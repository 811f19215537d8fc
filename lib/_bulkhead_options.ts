/**
 * Checks a bulkhead's options at construction, so that a bad value fails
 * loudly there, naming the option and the value, and never later at a call.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/** What {@linkcode checkBulkheadOptions} reads from the caller's options. */
export interface RawBulkheadOptions {
  maxConcurrent?: unknown;
  maxQueued?: unknown;
  queueTimeoutMs?: unknown;
  holdAbandonedPermits?: unknown;
  clock?: unknown;
  name?: unknown;
  onQueued?: unknown;
  onRejected?: unknown;
  onAbandoned?: unknown;
}

/** The options after checking, with defaults filled in. */
export interface CheckedBulkheadOptions {
  maxConcurrent: number;
  maxQueued: number;
  queueTimeoutMs: number | undefined;
  holdAbandonedPermits: boolean;
  clock: Clock | undefined;
  name: string | undefined;
}

/** Renders a value for an error message: strings quoted, the rest as is. */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";

  return String(value);
}

function fail(kind: "type" | "range", message: string, value: unknown): never {
  const text = `Bulkhead: ${message}, got ${show(value)}`;
  throw kind === "type" ? new TypeError(text) : new RangeError(text);
}

function checkMaxConcurrent(value: unknown): number {
  if (typeof value !== "number") {
    fail("type", "maxConcurrent must be a number", value);
  }
  if (!Number.isSafeInteger(value) || value < 1) {
    fail("range", "maxConcurrent must be an integer >= 1", value);
  }

  return value;
}

function checkMaxQueued(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== "number") {
    fail("type", "maxQueued must be a number", value);
  }
  if (value !== Infinity && (!Number.isSafeInteger(value) || value < 0)) {
    fail("range", "maxQueued must be an integer >= 0 or Infinity", value);
  }

  return value;
}

function checkQueueTimeoutMs(value: unknown): number | undefined {
  if (value === undefined || value === Infinity) return undefined;
  if (typeof value !== "number") {
    fail("type", "queueTimeoutMs must be a number", value);
  }
  if (!(value >= 0)) {
    fail("range", "queueTimeoutMs must be a number >= 0", value);
  }

  return value;
}

function checkClock(value: unknown): Clock | undefined {
  if (value === undefined) return undefined;

  const clock = value as Partial<Clock> | null;
  if (
    typeof clock !== "object" || clock === null ||
    typeof clock.setTimer !== "function" ||
    typeof clock.clearTimer !== "function"
  ) {
    fail("type", "clock must be a Clock with setTimer and clearTimer", value);
  }

  return clock as Clock;
}

function checkOptional(
  option: string,
  value: unknown,
  type: "string" | "boolean" | "function",
): void {
  if (value !== undefined && typeof value !== type) {
    fail("type", `${option} must be a ${type}`, value);
  }
}

/**
 * Checks every option, throwing a `TypeError` for a wrong type and a
 * `RangeError` for a value out of range, and fills in the defaults.
 */
export function checkBulkheadOptions(
  options: unknown,
): CheckedBulkheadOptions {
  if (typeof options !== "object" || options === null) {
    fail("type", "options must be an object with maxConcurrent", options);
  }

  const raw = options as RawBulkheadOptions;
  checkOptional("name", raw.name, "string");
  checkOptional("holdAbandonedPermits", raw.holdAbandonedPermits, "boolean");
  checkOptional("onQueued", raw.onQueued, "function");
  checkOptional("onRejected", raw.onRejected, "function");
  checkOptional("onAbandoned", raw.onAbandoned, "function");

  return {
    maxConcurrent: checkMaxConcurrent(raw.maxConcurrent),
    maxQueued: checkMaxQueued(raw.maxQueued),
    queueTimeoutMs: checkQueueTimeoutMs(raw.queueTimeoutMs),
    holdAbandonedPermits: raw.holdAbandonedPermits !== false,
    clock: checkClock(raw.clock),
    name: raw.name as string | undefined,
  };
}
