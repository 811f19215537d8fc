import type { Clock } from "./clock.ts";

/**
 * Throws a `RangeError` naming `owner`, the option and the value unless
 * `value` is a number >= `min`, whole when `whole`, finite when `finite`.
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

  throw new RangeError(
    `${owner}: ${name} must be a ${finite ? "finite " : ""}${
      whole ? "whole " : ""
    }number >= ${min}, got ${String(value)}`,
  );
}

/** Throws a `TypeError` unless `value` is undefined or a function. */
export function checkFunction(owner: string, name: string, value: unknown) {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(
      `${owner}: ${name} must be a function, got ${typeof value}`,
    );
  }
}

/** Throws a `TypeError` unless `clock` is undefined or has a clock's methods. */
export function checkClock(owner: string, clock: unknown): void {
  const { now, setTimer, clearTimer } = Object(clock) as Partial<Clock>;
  if (
    clock === undefined ||
    [now, setTimer, clearTimer].every((method) => typeof method === "function")
  ) {
    return;
  }

  throw new TypeError(
    `${owner}: clock must have now, setTimer and clearTimer methods, got ${
      Object.prototype.toString.call(clock)
    }`,
  );
}
