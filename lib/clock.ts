/**
 * The clock that every time-dependent part of dyno reads, and a cancellable
 * wait built on it.
 *
 * Nothing here starts a timer at import or construction: a timer exists only
 * while somebody waits, which keeps dyno usable at a Cloudflare Worker's module
 * scope, where timers outside a request are forbidden.
 *
 * @module
 */

import { checkOptions, checkSignal, fail } from "./_check.ts";
import { wait } from "./_wait.ts";

/**
 * The largest delay that `setTimeout` honours (2^31-1 ms, about 24.8 days).
 * Every wait in dyno is clamped to it, so a huge or infinite delay can never
 * wrap around to an immediate timer.
 *
 * @example The cap on a wait
 * ```ts
 * import { clampDelay, MAX_DELAY_MS } from "@dyno/dyno/clock";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_DELAY_MS, 2 ** 31 - 1);
 * assert.equal(clampDelay(30 * 24 * 60 * 60 * 1_000), MAX_DELAY_MS);
 * ```
 */
export const MAX_DELAY_MS = 2_147_483_647;

/** What {@linkcode Clock.setTimer} returns; only its clock understands it. */
export type TimerHandle = unknown;

/**
 * A source of time and timers. dyno's {@linkcode systemClock} reads
 * `performance.now()`; `@dyno/dyno/testing` has a manual clock for tests.
 */
export interface Clock {
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  now(): number;
  /** Calls `callback` once after `delayMs` milliseconds. */
  setTimer(callback: () => void, delayMs: number): unknown;
  /** Cancels a timer from {@linkcode Clock.setTimer}; a no-op once it ran. */
  clearTimer(handle: unknown): void;
}

/**
 * The real clock: `performance.now()` and the global `setTimeout`, with every
 * delay clamped to 0..{@linkcode MAX_DELAY_MS}.
 *
 * @example Reading the time
 * ```ts
 * import { systemClock } from "@dyno/dyno/clock";
 * import assert from "node:assert/strict";
 *
 * const before = systemClock.now();
 * assert.ok(systemClock.now() >= before);
 * ```
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, clampDelay(delayMs)),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Clamps a delay to what a timer can honour: NaN and negatives become 0,
 * anything above {@linkcode MAX_DELAY_MS} (Infinity included) becomes that.
 *
 * @example Safe delays
 * ```ts
 * import { clampDelay, MAX_DELAY_MS } from "@dyno/dyno/clock";
 * import assert from "node:assert/strict";
 *
 * assert.equal(clampDelay(Number.NaN), 0);
 * assert.equal(clampDelay(-5), 0);
 * assert.equal(clampDelay(Infinity), MAX_DELAY_MS);
 * ```
 */
export function clampDelay(delayMs: number): number {
  if (!(delayMs > 0)) return 0;

  return delayMs > MAX_DELAY_MS ? MAX_DELAY_MS : delayMs;
}

/** Options for {@linkcode sleep}. */
export interface SleepOptions {
  /** Aborting it rejects the wait at once with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * The clock whose timer to use.
   *
   * @default {systemClock}
   */
  clock?: Clock;
}

/**
 * Waits `delayMs` milliseconds, clamped as {@linkcode clampDelay} does. An
 * aborted `signal` rejects at once with its reason and leaves no timer
 * behind. Options that are not an object, a `signal` that is not an
 * `AbortSignal` or a `delayMs` that is not a number reject with a
 * `TypeError` and start no timer. The abort listener is added only once the
 * timer has started and not yet fired, and removed when it fires, so a clock
 * that fires at once or fails to start a timer leaves no listener behind.
 *
 * @example A wait that a signal cuts short
 * ```ts
 * import { sleep } from "@dyno/dyno/clock";
 * import assert from "node:assert/strict";
 *
 * const controller = new AbortController();
 * const waiting = sleep(60_000, { signal: controller.signal });
 * controller.abort(new Error("shutting down"));
 * await assert.rejects(waiting, { message: "shutting down" });
 * ```
 */
export function sleep(
  delayMs: number,
  options: SleepOptions = {},
): Promise<void> {
  try {
    checkOptions("sleep", options);
    checkSignal("sleep", options.signal);
    if (typeof delayMs !== "number") {
      fail("sleep", "delayMs", "a number", delayMs);
    }
  } catch (error) {
    return Promise.reject(error);
  }

  return wait(
    clampDelay(delayMs),
    options.signal,
    options.clock ?? systemClock,
  );
}
