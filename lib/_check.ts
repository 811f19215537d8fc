import { show } from "./_show.ts";

/**
 * Throws `owner: name must be expected, got value`: a `RangeError` when
 * `range`, a `TypeError` otherwise.
 */
export function fail(
  owner: string,
  name: string,
  expected: string,
  value: unknown,
  range?: boolean,
): never {
  const message = `${owner}: ${name} must be ${expected}, got ${show(value)}`;
  throw range ? new RangeError(message) : new TypeError(message);
}

/**
 * Throws unless `value` is a number >= `min`, whole when `whole`, finite when
 * `finite`: a `TypeError` for another type, a `RangeError` for a number out of
 * range, each naming `owner`, the option and the value.
 */
export function checkNumber(
  owner: string,
  name: string,
  value: unknown,
  min: number,
  whole = false,
  finite = true,
): void {
  if (
    typeof value === "number" && value >= min &&
    (!whole || Number.isInteger(value)) && (!finite || value < Infinity)
  ) {
    return;
  }

  fail(
    owner,
    name,
    `a ${finite ? "finite " : ""}${whole ? "whole " : ""}number >= ${min}`,
    value,
    typeof value === "number",
  );
}

/**
 * Throws a `TypeError` naming `owner` unless `options` is an object (not an
 * array).
 */
export function checkOptions(owner: string, options: unknown): void {
  if (
    typeof options !== "object" || options === null || Array.isArray(options)
  ) {
    fail(owner, "options", "an object", options);
  }
}

/**
 * Throws a `TypeError` naming `owner` unless `signal` is null, undefined or
 * an `AbortSignal` (anything with `aborted` and both listener methods).
 */
export function checkSignal(owner: string, signal: unknown): void {
  const object = Object(signal);
  if (
    signal != null &&
    (typeof object.addEventListener !== "function" ||
      typeof object.removeEventListener !== "function" ||
      !("aborted" in object))
  ) {
    fail(owner, "signal", "an AbortSignal", signal);
  }
}

/**
 * Throws a `TypeError` unless `value` is a function, or undefined when not
 * `required`.
 */
export function checkFunction(
  owner: string,
  name: string,
  value: unknown,
  required = false,
): void {
  if ((required || value !== undefined) && typeof value !== "function") {
    fail(owner, name, "a function", value);
  }
}

/** Throws a `TypeError` unless `clock` is undefined or has a clock's methods. */
export function checkClock(owner: string, clock: unknown): void {
  const methods: Record<string, unknown> = Object(clock);
  if (clock !== undefined && methods !== clock) {
    fail(owner, "clock", "a Clock object", clock);
  }
  for (const method of ["now", "setTimer", "clearTimer"]) {
    checkFunction(
      owner,
      `clock.${method}`,
      methods[method],
      clock !== undefined,
    );
  }
}

/**
 * Gives `wrapper` the name and length of `fn`, so that a wrapped function
 * reads like the one it wraps in stack traces and introspection.
 */
export function keepShape<F extends (...args: never[]) => unknown>(
  fn: (...args: never[]) => unknown,
  wrapper: F,
): F {
  return Object.defineProperties(wrapper, {
    name: { value: fn.name },
    length: { value: fn.length },
  });
}
