/**
 * Test helpers: a manual clock, so that tests of time-dependent code never
 * sleep.
 *
 * @module
 */

import { clampDelay, type Clock } from "./clock.ts";

export type { Clock };

interface ManualTimer {
  readonly id: number;
  readonly dueAt: number;
  readonly callback: () => void;
}

/**
 * A clock whose time moves only when a test advances it. Timers that fall due
 * fire in order of due time (then of creation), each at its own due time, and
 * the promise jobs they start run before the next one fires.
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
 */
export class ManualClock implements Clock {
  #nowMs: number;
  #nextId = 1;
  #timers: ManualTimer[] = [];

  /** Starts the clock at `startMs` (default 0). */
  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) {
      throw new RangeError(
        `ManualClock: startMs must be a finite number, got ${startMs}`,
      );
    }
    this.#nowMs = startMs;
  }

  /** The current manual time in milliseconds. */
  now(): number {
    return this.#nowMs;
  }

  /** Schedules `callback` at `now() + delayMs` of manual time. */
  setTimer(callback: () => void, delayMs: number): unknown {
    const timer = {
      id: this.#nextId++,
      dueAt: this.#nowMs + clampDelay(delayMs),
      callback,
    };
    const index = this.#timers.findIndex((other) => other.dueAt > timer.dueAt);
    if (index === -1) this.#timers.push(timer);
    else this.#timers.splice(index, 0, timer);

    return timer.id;
  }

  /** Cancels a pending timer. */
  clearTimer(handle: unknown): void {
    const index = this.#timers.findIndex((timer) => timer.id === handle);
    if (index !== -1) this.#timers.splice(index, 1);
  }

  /** How many timers are pending. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way
   * at its due time, and letting pending promise jobs run after each.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms)) {
      throw new RangeError(
        `ManualClock.advance: ms must be a finite number >= 0, got ${ms}`,
      );
    }
    const targetMs = this.#nowMs + ms;

    await settle();
    while (this.#timers.length > 0 && this.#timers[0].dueAt <= targetMs) {
      const timer = this.#timers.shift()!;
      this.#nowMs = Math.max(this.#nowMs, timer.dueAt);
      timer.callback();
      await settle();
    }
    this.#nowMs = Math.max(this.#nowMs, targetMs);
    await settle();
  }

  /** Advances to the next pending timer's due time and fires it. */
  async next(): Promise<boolean> {
    await settle();
    if (this.#timers.length === 0) return false;

    await this.advance(this.#timers[0].dueAt - this.#nowMs);
    return true;
  }

  /** Fires timers until none is pending, up to `limit` of them. */
  async runAll(limit = 10_000): Promise<number> {
    let fired = 0;
    while (fired < limit && await this.next()) fired++;

    return fired;
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

/**
 * A seeded random source (mulberry32) giving numbers in [0, 1): the same seed
 * gives the same sequence, so a test of jitter, sampling or early refresh
 * that fails replays exactly.
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
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}
