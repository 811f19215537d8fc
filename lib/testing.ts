/**
 * Test helpers: a manual clock, so that tests of time-dependent code never
 * sleep.
 *
 * @module
 */

import { clampDelay, type Clock } from "./clock.ts";
import { checkNumber, checkOptions, fail } from "./_check.ts";

export type { Clock };

/** A pending timer; {@linkcode ManualClock.setTimer} returns it as the handle. */
interface ManualTimer {
  readonly dueAt: number;
  readonly callback: () => void;
}

/** Options for {@linkcode ManualClock}. */
export interface ManualClockOptions {
  /**
   * The most timers one {@linkcode ManualClock.advance} fires. Past it the
   * advance rejects with a `RangeError`, whatever the timers are: most often
   * one timer keeps rescheduling itself, but as many separate timers due in
   * one window count the same. That error wins over any error a callback
   * threw earlier in the same advance. Every
   * timer fired waits for a real macrotask (about 2 ms in Deno), so the
   * default is reached after some 20 s.
   *
   * @default {10_000}
   */
  maxTimersPerAdvance?: number;
}

/**
 * A clock whose time moves only when a test advances it. Timers that fall due
 * fire in order of due time (then of creation), each at its own due time, and
 * the promise jobs they start run before the next one fires.
 *
 * A timer callback that throws does not stop the clock: the method that fired
 * it fires the other timers it would have fired, then rejects with the first
 * error thrown.
 *
 * @example Driving a timer by hand
 * ```ts
 * import { ManualClock } from "@dyno/dyno/testing";
 * import { sleep } from "@dyno/dyno/clock";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * let woke = false;
 * const waiting = sleep(1_000, { clock }).then(() => (woke = true));
 *
 * await clock.advance(999);
 * assert.equal(woke, false);
 * await clock.advance(1);
 * await waiting;
 * assert.equal(woke, true);
 * assert.equal(clock.now(), 1_000);
 * ```
 *
 * @example A timer that keeps rescheduling itself
 * ```ts
 * import { ManualClock } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock(0, { maxTimersPerAdvance: 100 });
 * let ticks = 0;
 * const tick = () => {
 *   ticks++;
 *   clock.setTimer(tick, 0);
 * };
 * clock.setTimer(tick, 0);
 *
 * assert.equal(await clock.runAll(5), 5);
 * await assert.rejects(clock.advance(1), RangeError);
 * assert.equal(ticks, 105);
 * ```
 */
export class ManualClock implements Clock {
  #nowMs: number;
  #timers: ManualTimer[] = [];
  readonly #maxTimersPerAdvance: number;

  /**
   * Starts the clock at `startMs` (default 0).
   *
   * @throws {RangeError} When `startMs` is not finite, or
   * `maxTimersPerAdvance` is not a whole number >= 1.
   * @throws {TypeError} When `startMs` or `maxTimersPerAdvance` is not a
   * number, or `options` is not an object.
   */
  constructor(startMs = 0, options: ManualClockOptions = {}) {
    if (!Number.isFinite(startMs)) {
      fail(
        "ManualClock",
        "startMs",
        "a finite number",
        startMs,
        typeof startMs === "number",
      );
    }
    checkOptions("ManualClock", options);
    const { maxTimersPerAdvance = 10_000 } = options;
    checkNumber(
      "ManualClock",
      "maxTimersPerAdvance",
      maxTimersPerAdvance,
      1,
      true,
    );

    this.#nowMs = startMs;
    this.#maxTimersPerAdvance = maxTimersPerAdvance;
  }

  /** The current manual time in milliseconds. */
  now(): number {
    return this.#nowMs;
  }

  /**
   * Schedules `callback` at `now() + delayMs` of manual time. The handle it
   * returns is the timer itself, which only this clock can cancel.
   */
  setTimer(callback: () => void, delayMs: number): unknown {
    const timer = { dueAt: this.#nowMs + clampDelay(delayMs), callback };
    const index = this.#timers.findIndex((other) => other.dueAt > timer.dueAt);
    if (index === -1) this.#timers.push(timer);
    else this.#timers.splice(index, 0, timer);

    return timer;
  }

  /**
   * Cancels a pending timer of this clock; a handle from another clock, or
   * of a timer that already fired, changes nothing.
   */
  clearTimer(handle: unknown): void {
    const index = this.#timers.indexOf(handle as ManualTimer);
    if (index !== -1) this.#timers.splice(index, 1);
  }

  /** How many timers are pending. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way
   * at its due time, and letting pending promise jobs run after each.
   *
   * @throws {RangeError} When `ms` is not a finite number >= 0, or when it
   * would fire more than `maxTimersPerAdvance` timers (10,000 by default),
   * as when a timer keeps rescheduling itself within the window. Time then
   * stays at the last timer fired; step through such a timer with
   * `runAll(limit)` or `next()`.
   * @throws {TypeError} When `ms` is not a number.
   */
  async advance(ms: number): Promise<void> {
    checkNumber("ManualClock.advance", "ms", ms, 0);
    const targetMs = this.#nowMs + ms;
    const errors: unknown[] = [];

    await settle();
    for (let fired = 0; this.#isDue(targetMs); fired++) {
      if (fired === this.#maxTimersPerAdvance) throw this.#rescheduling(ms);
      await this.#fireFirst(errors);
    }
    this.#nowMs = Math.max(this.#nowMs, targetMs);
    await settle();

    if (errors.length > 0) throw errors[0];
  }

  /**
   * Fires the next pending timer alone, moving time to its due time, and
   * lets the promise jobs it starts run. Resolves false when none is pending.
   */
  async next(): Promise<boolean> {
    const errors: unknown[] = [];

    await settle();
    if (this.#timers.length === 0) return false;
    await this.#fireFirst(errors);

    if (errors.length > 0) throw errors[0];
    return true;
  }

  /**
   * Fires timers one by one until none is pending or `limit` of them fired,
   * and resolves with how many fired.
   *
   * @throws {RangeError} When `limit` is not a number >= 0.
   * @throws {TypeError} When `limit` is not a number.
   */
  async runAll(limit = 10_000): Promise<number> {
    checkNumber("ManualClock.runAll", "limit", limit, 0, false, false);
    const errors: unknown[] = [];
    let fired = 0;

    await settle();
    while (fired < limit && this.#timers.length > 0) {
      await this.#fireFirst(errors);
      fired++;
    }

    if (errors.length > 0) throw errors[0];
    return fired;
  }

  /**
   * Fires the earliest timer at its due time, keeping an error its callback
   * throws in `errors`, then lets promise jobs run.
   */
  async #fireFirst(errors: unknown[]): Promise<void> {
    const timer = this.#timers.shift()!;
    this.#nowMs = Math.max(this.#nowMs, timer.dueAt);
    try {
      timer.callback();
    } catch (error) {
      errors.push(error);
    }

    await settle();
  }

  #isDue(targetMs: number): boolean {
    return this.#timers.length > 0 && this.#timers[0].dueAt <= targetMs;
  }

  #rescheduling(ms: number): RangeError {
    const limit = this.#maxTimersPerAdvance;

    return new RangeError(
      `ManualClock.advance: advance(${ms}) fired maxTimersPerAdvance ` +
        `(${limit}) timers; a timer may keep rescheduling itself: step ` +
        "through it with runAll(limit) or next(), or raise maxTimersPerAdvance",
    );
  }
}

/**
 * Lets every pending promise job run, by waiting for one real macrotask.
 *
 * @example Waiting for promise chains
 * ```ts
 * import { settle } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * let done = false;
 * Promise.resolve().then(() => Promise.resolve()).then(() => (done = true));
 * await settle();
 * assert.equal(done, true);
 * ```
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

const MAX_SEED = 2 ** 32 - 1;

/**
 * A seeded random source (mulberry32) giving numbers in [0, 1): the same seed
 * gives the same sequence, so a test of jitter, sampling or early refresh
 * that fails replays exactly.
 *
 * @throws {RangeError} When `seed` is a number but not a whole one from 0 to
 * 2^32-1.
 * @throws {TypeError} When `seed` is not a number.
 *
 * @example Reproducible draws
 * ```ts
 * import { seededRandom } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const first = seededRandom(42);
 * const again = seededRandom(42);
 * const draws = [first(), first(), first()];
 * assert.deepEqual([again(), again(), again()], draws);
 * assert.ok(draws.every((draw) => draw >= 0 && draw < 1));
 * ```
 */
export function seededRandom(seed: number): () => number {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    fail(
      "seededRandom",
      "seed",
      `a whole number from 0 to ${MAX_SEED}`,
      seed,
      typeof seed === "number",
    );
  }
  let state = seed;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}
