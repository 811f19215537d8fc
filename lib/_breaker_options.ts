/**
 * Option checks shared by the breaker, the fuse and the fallback: each throws
 * a `TypeError` for a wrong type and a `RangeError` for a value out of range,
 * naming the owner, the option and the value it got.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/** Renders a value for an error message: strings quoted, the rest as is. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";

  return String(value);
}

/** Throws a `TypeError` or `RangeError` reading `owner: message, got value`. */
export function fail(
  kind: "type" | "range",
  owner: string,
  message: string,
  value: unknown,
): never {
  const text = `${owner}: ${message}, got ${show(value)}`;
  throw kind === "type" ? new TypeError(text) : new RangeError(text);
}

function number(owner: string, option: string, value: unknown): number {
  if (typeof value !== "number") {
    fail("type", owner, `${option} must be a number`, value);
  }

  return value;
}

/** An integer >= `min`, or `fallback` when `value` is undefined. */
export function integerAtLeast(
  owner: string,
  option: string,
  value: unknown,
  min: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;

  const checked = number(owner, option, value);
  if (!Number.isSafeInteger(checked) || checked < min) {
    fail("range", owner, `${option} must be an integer >= ${min}`, value);
  }

  return checked;
}

/** A finite number > 0, or `fallback` when `value` is undefined. */
export function positiveMs(
  owner: string,
  option: string,
  value: unknown,
  fallback: number,
): number {
  if (value === undefined) return fallback;

  const checked = number(owner, option, value);
  if (!(checked > 0) || !Number.isFinite(checked)) {
    fail("range", owner, `${option} must be a finite number > 0`, value);
  }

  return checked;
}

/** A finite number >= `min`, or `fallback` when `value` is undefined. */
export function finiteAtLeast(
  owner: string,
  option: string,
  value: unknown,
  min: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;

  const checked = number(owner, option, value);
  if (!(checked >= min) || !Number.isFinite(checked)) {
    fail("range", owner, `${option} must be a finite number >= ${min}`, value);
  }

  return checked;
}

/** A ratio in (0, 1], or `fallback` when `value` is undefined. */
export function ratio(
  owner: string,
  option: string,
  value: unknown,
  fallback: number,
): number {
  if (value === undefined) return fallback;

  const checked = number(owner, option, value);
  if (!(checked > 0 && checked <= 1)) {
    fail("range", owner, `${option} must be in (0, 1]`, value);
  }

  return checked;
}

/** A function, or `fallback` when `value` is undefined. */
export function optionalFunction<F>(
  owner: string,
  option: string,
  value: unknown,
  fallback: F,
): F {
  if (value === undefined) return fallback;
  if (typeof value !== "function") {
    fail("type", owner, `${option} must be a function`, value);
  }

  return value as F;
}

/** A string, or `fallback` when `value` is undefined. */
export function optionalString(
  owner: string,
  option: string,
  value: unknown,
  fallback: string,
): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string") {
    fail("type", owner, `${option} must be a string`, value);
  }

  return value;
}

/** A {@linkcode Clock} (anything with a `now` method), or `fallback`. */
export function optionalClock(
  owner: string,
  value: unknown,
  fallback: Clock,
): Clock {
  if (value === undefined) return fallback;

  const clock = value as Partial<Clock> | null;
  if (
    typeof clock !== "object" || clock === null ||
    typeof clock.now !== "function"
  ) {
    fail("type", owner, "clock must be a Clock with a now() method", value);
  }

  return clock as Clock;
}

/** An object (or undefined, read as `{}`); `what` names it in the message. */
export function optionsObject(
  owner: string,
  what: string,
  value: unknown,
): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("type", owner, `${what} must be an object`, value);
  }

  return value as Record<string, unknown>;
}
