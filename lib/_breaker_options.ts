/**
 * Option checks shared by the breaker, the fuse and the fallback. Every check
 * throws a `TypeError` for a wrong type and a `RangeError` for a value out of
 * range, with one message shape: `Owner: option must be X, got value`.
 *
 * @module
 */

import { fail } from "./_check.ts";
import { show } from "./_show.ts";

/** A number check's flag: the value must be an integer. */
export const INTEGER = 1;
/** A number check's flag: the value must be above `min`, not equal to it. */
export const ABOVE = 2;
/** A number check's flag: the value must be below `max`, not equal to it. */
export const BELOW = 4;

export { fail } from "./_check.ts";
export { show } from "./_show.ts";

/** An object (not an array), or `{}` when `value` is undefined. */
export function object(
  owner: string,
  option: string,
  value: unknown,
): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(owner, option, "an object", value);
  }

  return value as Record<string, unknown>;
}

/** `value` when it is undefined or of JavaScript type `type`. */
export function typed<T>(
  owner: string,
  option: string,
  value: unknown,
  type: "string" | "function",
): T | undefined {
  if (value !== undefined && typeof value !== type) {
    fail(owner, option, `a ${type}`, value);
  }

  return value as T | undefined;
}

/** `value` when it is one of `allowed`; the message lists them. */
export function oneOf<T>(
  owner: string,
  option: string,
  value: unknown,
  allowed: readonly T[],
  range?: boolean,
): T {
  if (!allowed.includes(value as T)) {
    fail(owner, option, allowed.map(show).join(" or "), value, range);
  }

  return value as T;
}

/** An array. */
export function array(
  owner: string,
  option: string,
  value: unknown,
): unknown[] {
  if (!Array.isArray(value)) fail(owner, option, "an array", value);

  return value;
}

/**
 * A finite number (a safe integer with `INTEGER`) from `min` to `max`, both
 * included unless the `ABOVE` or `BELOW` flag excludes them; `fallback`,
 * checked the same way, when `value` is undefined.
 */
export function number(
  owner: string,
  option: string,
  value: unknown,
  fallback: number | undefined,
  min: number,
  flags = 0,
  max = Infinity,
): number {
  if (value === undefined) value = fallback;
  if (typeof value !== "number") fail(owner, option, "a number", value);

  const integer = flags & INTEGER;
  if (
    !(integer ? Number.isSafeInteger(value) : Number.isFinite(value)) ||
    (flags & ABOVE ? value <= min : value < min) ||
    (flags & BELOW ? value >= max : value > max)
  ) {
    fail(
      owner,
      option,
      max < Infinity
        ? `${integer ? "an integer " : ""}in ${flags & ABOVE ? "(" : "["}` +
          `${min}, ${max}${flags & BELOW ? ")" : "]"}`
        : `${integer ? "an integer" : "a finite number"} ` +
          `${flags & ABOVE ? ">" : ">="} ${min}`,
      value,
      true,
    );
  }

  return value;
}

/** A clock-like object with a `now` method, or `fallback`. */
export function clock<C>(owner: string, value: unknown, fallback: C): C {
  if (value === undefined) return fallback;
  if (
    typeof value !== "object" ||
    typeof (value as { now?: unknown } | null)?.now !== "function"
  ) {
    fail(owner, "clock", "a Clock with a now() method", value);
  }

  return value as C;
}
