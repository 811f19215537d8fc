/**
 * What every conformance check shares: the {@linkcode Check} type, small
 * assertions that need no test framework, promise helpers on the real clock,
 * and {@linkcode HandClock}, a clock whose time moves only when a check
 * advances it. Web-standard APIs only, so it runs in every runtime.
 *
 * @module
 */

import { clampDelay, type Clock } from "../../../mod.ts";

/** A named check: returns or resolves when the behaviour holds, throws when not. */
export type Check = readonly [name: string, run: () => void | Promise<void>];

/**
 * Long enough that a timer left behind by mistake keeps a CLI runtime alive
 * well past the runner's deadline, so a leak shows as a failure.
 */
export const LONG_WAIT_MS = 60_000;

/** A check's expectation did not hold. */
export class ConformanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConformanceError";
  }
}

/**
 * Thrown by a check that cannot run here because the runtime lacks what it
 * needs; the runner counts it as skipped, not as passed or failed.
 */
export class SkippedCheck extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SkippedCheck";
  }
}

/** An error an operation throws on purpose. */
export class Flaky extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Flaky";
  }
}

/** Skips the running check, saying why. */
export function skip(reason: string): never {
  throw new SkippedCheck(reason);
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceError(message);
}

export function checkEqual<T>(actual: T, expected: T, what: string): void {
  if (!Object.is(actual, expected)) {
    throw new ConformanceError(
      `${what}: expected ${String(expected)}, got ${String(actual)}`,
    );
  }
}

/** Compares two values as JSON, for arrays and plain objects. */
export function checkJson(actual: unknown, expected: unknown, what: string) {
  const actualText = JSON.stringify(actual);
  const expectedText = JSON.stringify(expected);
  if (actualText !== expectedText) {
    throw new ConformanceError(
      `${what}: expected ${expectedText}, got ${actualText}`,
    );
  }
}

/** Checks that `actual` is within `relative` (a ratio) of `expected`. */
export function checkNear(
  actual: number,
  expected: number,
  relative: number,
  what: string,
): void {
  if (!(Math.abs(actual - expected) <= Math.abs(expected) * relative)) {
    throw new ConformanceError(
      `${what}: expected ${expected} within ${relative * 100} %, got ${actual}`,
    );
  }
}

/** Checks that `run` throws synchronously, and returns what it threw. */
export function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new ConformanceError("expected a throw, but it returned");
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new ConformanceError("expected a rejection, but it resolved");
}

/** A promise that rejects with the signal's reason once it aborts. */
export function never(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason), {
      once: true,
    });
  });
}

export function later<T>(delayMs: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), delayMs));
}

export function abortLater(controller: AbortController, reason: unknown): void {
  setTimeout(() => controller.abort(reason), 5);
}

/** Resolves once every pending promise job has run (one real timer turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A promise and the functions that settle it (`Promise.withResolvers`, which Node 20 lacks). */
export interface Gate<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function gate<T = void>(): Gate<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });

  return { promise, resolve, reject };
}

interface HandTimer {
  readonly dueAtMs: number;
  readonly callback: () => void;
}

/**
 * A {@linkcode Clock} whose time moves only in {@linkcode HandClock.advance},
 * which fires the timers that fall due in order, so that time-based behaviour
 * is checked without waiting and without depending on the runtime's timer
 * precision. It starts at 1 000 ms, so that nothing relies on a zero origin.
 */
export class HandClock implements Clock {
  #nowMs: number;
  #nextId = 1;
  #timers = new Map<number, HandTimer>();

  constructor(startMs = 1_000) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  setTimer(callback: () => void, delayMs: number): number {
    const id = this.#nextId++;
    this.#timers.set(id, {
      dueAtMs: this.#nowMs + clampDelay(delayMs),
      callback,
    });

    return id;
  }

  clearTimer(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** How many timers are set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing each timer that falls due (including
   * timers those set) in due order, and letting promise jobs run after each.
   */
  async advance(ms: number): Promise<void> {
    const targetMs = this.#nowMs + ms;

    await settle();
    for (
      let due = this.#firstDue(targetMs);
      due !== undefined;
      due = this.#firstDue(targetMs)
    ) {
      const [id, timer] = due;
      this.#timers.delete(id);
      this.#nowMs = Math.max(this.#nowMs, timer.dueAtMs);
      timer.callback();
      await settle();
    }
    this.#nowMs = targetMs;
    await settle();
  }

  #firstDue(targetMs: number): [number, HandTimer] | undefined {
    let first: [number, HandTimer] | undefined;
    for (const entry of this.#timers) {
      const dueAtMs = entry[1].dueAtMs;
      if (dueAtMs <= targetMs && (!first || dueAtMs < first[1].dueAtMs)) {
        first = entry;
      }
    }

    return first;
  }
}
