/**
 * Deadlines that abort work through an `AbortSignal`.
 *
 * A call whose operation returns a value or an already settled promise (an
 * `async` function that never awaits) costs no timer and no clock read. A
 * call still pending one microtask later is put on its policy's deadline
 * queue, which keeps one clock timer for all of its pending calls, so a burst
 * of calls costs one timer, not one each. An operation that awaits even once
 * is still pending then: if no other call of the policy is pending, it pays
 * for starting and clearing that timer (about 1.5 µs in Deno).
 *
 * @module
 */

import { type Clock, MAX_DELAY_MS, systemClock } from "./clock.ts";
import {
  checkClock,
  checkFunction,
  checkOptions,
  checkSignal,
  fail,
  keepShape,
} from "./_check.ts";

export type { Clock };

/**
 * Thrown when a call outlives its deadline. Its `name` is `"TimeoutError"`,
 * as for the web platform's timeouts, so one check covers both.
 *
 * @example Recognising a timeout
 * ```ts
 * import { TimeoutError } from "@dyno/dyno/timeout";
 * import assert from "node:assert/strict";
 *
 * const error = new TimeoutError(250);
 * assert.equal(error.name, "TimeoutError");
 * assert.equal(error.message, "Timed out after 250 ms");
 * ```
 */
export class TimeoutError extends Error {
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;
  /**
   * Resolves when the work that was given up on really settles; a timeout
   * cannot stop work that ignores its signal. Undefined when unknown.
   */
  readonly abandoned: Promise<void> | undefined;

  /** Makes the error for a deadline of `timeoutMs`. */
  constructor(
    timeoutMs: number,
    options?: ErrorOptions & { abandoned?: Promise<void> },
  ) {
    super(`Timed out after ${timeoutMs} ms`, options);
    this.name = "TimeoutError";
    this.timeoutMs = timeoutMs;
    this.abandoned = options?.abandoned;
  }
}

/** What a timed operation receives. */
export interface TimeoutContext {
  /**
   * Aborts with a {@linkcode TimeoutError} at the deadline, or with the
   * caller's reason when the caller's signal aborts. Made on first read.
   */
  readonly signal: AbortSignal;
  /**
   * When the deadline started, by the policy's clock: the end of the
   * microtask turn the call started in, where a call still pending goes on
   * the deadline queue. Undefined before that, and for good when the call
   * settled within that turn, as it then reads no clock (its duration is
   * taken as 0).
   */
  readonly startedAtMs: number | undefined;
}

/** Options for {@linkcode Timeout} and {@linkcode timeout}. */
export interface TimeoutOptions {
  /** The deadline in milliseconds, from 1 to 2^31-1. */
  timeoutMs: number;
  /**
   * Where time comes from.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /** Called when a call times out; a hook that throws is ignored. */
  onTimeout?: (error: TimeoutError) => void;
}

/**
 * A deadline policy: runs operations and rejects any that is still pending
 * `timeoutMs` after it started, aborting its signal.
 *
 * @example A deadline around a fetch-like call
 * ```ts
 * import { Timeout } from "@dyno/dyno/timeout";
 * import { ManualClock } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const deadline = new Timeout({ timeoutMs: 100, clock });
 *
 * const call = deadline.execute(({ signal }) =>
 *   new Promise((_, reject) => {
 *     signal.addEventListener("abort", () => reject(signal.reason));
 *   })
 * ).catch((error) => error.name);
 * await clock.advance(100);
 *
 * assert.equal(await call, "TimeoutError");
 * ```
 */
export class Timeout {
  /** The deadline in milliseconds. */
  readonly timeoutMs: number;
  readonly #queue: DeadlineQueue;

  /**
   * Checks the options; starts no timer.
   *
   * @throws {TypeError} When `options` is not an object, `timeoutMs` is not a
   * number, `onTimeout` is not a function or `clock` is not a clock.
   * @throws {RangeError} When `timeoutMs` is not from 1 to 2^31-1.
   */
  constructor(options: TimeoutOptions) {
    checkOptions("Timeout", options);
    const { timeoutMs, clock = systemClock, onTimeout } = options;
    checkTimeoutMs(timeoutMs);
    checkFunction("Timeout", "onTimeout", onTimeout);
    checkClock("Timeout", clock);

    this.timeoutMs = timeoutMs;
    this.#queue = new DeadlineQueue(clock, timeoutMs, onTimeout);
  }

  /**
   * Runs `operation` with a deadline. Rejects with a {@linkcode TimeoutError}
   * at the deadline even if the operation ignores its signal, and with
   * `signal.reason` at once when the caller's `signal` aborts. Never throws:
   * an operation that throws, or returns a thenable whose `then` cannot be
   * read, rejects with that error. A thenable's `then` is called once.
   *
   * Rejects with a `TypeError`, before anything runs, when `operation` is not
   * a function or `signal` is neither an `AbortSignal` nor null or undefined.
   */
  execute<T>(
    operation: (context: TimeoutContext) => T | PromiseLike<T>,
    signal?: AbortSignal | null,
  ): Promise<T> {
    if (signal != null || typeof operation !== "function") {
      try {
        checkFunction("Timeout.execute", "operation", operation, true);
        checkSignal("Timeout.execute", signal);
      } catch (error) {
        return Promise.reject(error);
      }
      if (signal?.aborted) return Promise.reject(signal.reason);
    }

    const call = new TimedCall<T>(this.#queue, signal ?? undefined);
    let result: T | PromiseLike<T>;
    try {
      result = operation(call);
      if (!isThenable(result)) {
        call.settled = true;
        return Promise.resolve(result);
      }
    } catch (error) {
      call.settled = true;
      return Promise.reject(error);
    }

    return call.run(result);
  }
}

/**
 * Wraps `fn` so that every call has a deadline of `options.timeoutMs`. The
 * wrapper keeps `fn`'s signature, `name` and `length`, and passes on the
 * `this` it is called with, so a wrapped method still works as one. Use
 * {@linkcode Timeout.execute} when the work needs the deadline's
 * `AbortSignal`.
 *
 * @example A function with a deadline
 * ```ts
 * import { timeout } from "@dyno/dyno/timeout";
 * import assert from "node:assert/strict";
 *
 * const double = timeout(async (n: number) => n * 2, { timeoutMs: 1_000 });
 * assert.equal(await double(21), 42);
 * ```
 *
 * @example A method with a deadline
 * ```ts
 * import { timeout } from "@dyno/dyno/timeout";
 * import assert from "node:assert/strict";
 *
 * class Inventory {
 *   stock = 3;
 *   async count(): Promise<number> {
 *     return this.stock;
 *   }
 * }
 * Inventory.prototype.count = timeout(Inventory.prototype.count, {
 *   timeoutMs: 1_000,
 * });
 *
 * assert.equal(await new Inventory().count(), 3);
 * assert.equal(Inventory.prototype.count.name, "count");
 * ```
 */
export function timeout<A extends unknown[], T, This = unknown>(
  fn: (this: This, ...args: A) => T | PromiseLike<T>,
  options: TimeoutOptions,
): (this: This, ...args: A) => Promise<T> {
  checkFunction("timeout", "fn", fn, true);
  const policy = new Timeout(options);

  return keepShape(fn, function (this: This, ...args: A): Promise<T> {
    return policy.execute(() => fn.apply(this, args));
  });
}

function checkTimeoutMs(timeoutMs: unknown): void {
  if (
    typeof timeoutMs !== "number" || !(timeoutMs >= 1) ||
    timeoutMs > MAX_DELAY_MS
  ) {
    fail(
      "Timeout",
      "timeoutMs",
      `a number from 1 to ${MAX_DELAY_MS}`,
      timeoutMs,
      typeof timeoutMs === "number",
    );
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === "function";
}

function armIfPending(this: TimedCall<unknown>): void {
  if (this.settled) return;

  try {
    this.queue.add(this);
  } catch (error) {
    this.abortWith(error);
  }
}

/** @internal One call under a deadline. */
class TimedCall<T> implements TimeoutContext {
  readonly queue: DeadlineQueue;
  readonly outer: AbortSignal | undefined;
  settled = false;
  startedAtMs: number | undefined;
  /** Where the deadline queue keeps this call, counted from its first call. */
  queueIndex = 0;
  #controller: AbortController | undefined;
  #timeoutError: TimeoutError | undefined;
  #reject: ((reason: unknown) => void) | undefined;
  #abandon: (() => void) | undefined;

  constructor(queue: DeadlineQueue, outer: AbortSignal | undefined) {
    this.queue = queue;
    this.outer = outer;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#timeoutError) this.#controller.abort(this.#timeoutError);
      else if (this.outer?.aborted) this.#controller.abort(this.outer.reason);
    }

    return this.#controller.signal;
  }

  /** Calls `work.then` once; a late settlement resolves `abandoned`. */
  run(work: PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      work.then(
        (value) => this.#finish() ? resolve(value) : this.#abandon?.(),
        (error) => this.#finish() ? reject(error) : this.#abandon?.(),
      );
      if (this.settled) return;
      if (this.outer?.aborted) {
        this.handleEvent();
        return;
      }

      this.outer?.addEventListener("abort", this);
      queueMicrotask(armIfPending.bind(this as TimedCall<unknown>));
    });
  }

  /** Called when the caller's signal aborts. */
  handleEvent(): void {
    this.abortWith(this.outer!.reason);
  }

  /**
   * Ends the call with `reason`, aborting the work's signal: the caller
   * aborted, or the clock failed to start the deadline.
   */
  abortWith(reason: unknown): void {
    const reject = this.#reject;
    if (!this.#finish()) return;

    this.#controller?.abort(reason);
    reject!(reason);
  }

  /** Called by the deadline queue once the deadline has passed. */
  expire(): void {
    const reject = this.#reject;
    if (!this.#finish(false)) return;

    const abandoned = new Promise<void>((resolve) => (this.#abandon = resolve));
    const error = new TimeoutError(this.queue.timeoutMs, { abandoned });
    this.#timeoutError = error;
    this.#controller?.abort(error);
    reject!(error);
    this.queue.report(error);
  }

  #finish(leaveQueue = true): boolean {
    if (this.settled) return false;

    this.settled = true;
    this.#reject = undefined;
    this.outer?.removeEventListener("abort", this);
    if (this.startedAtMs !== undefined && leaveQueue) this.queue.remove(this);
    return true;
  }
}

/**
 * The pending calls of one policy in deadline order. Every call of a policy
 * has the same timeout and the clock never goes backwards, so arrival order
 * is deadline order and a plain FIFO suffices. A call that settles leaves an
 * empty slot, so the queue holds nothing of a settled call.
 */
class DeadlineQueue {
  readonly timeoutMs: number;
  readonly #clock: Clock;
  readonly #onTimeout: ((error: TimeoutError) => void) | undefined;
  #calls: (TimedCall<unknown> | undefined)[] = [];
  /** How many slots compaction has cut from the front of `#calls`. */
  #dropped = 0;
  #head = 0;
  #live = 0;
  #timer: unknown;
  #timerDueMs = 0;

  constructor(
    clock: Clock,
    timeoutMs: number,
    onTimeout: ((error: TimeoutError) => void) | undefined,
  ) {
    this.#clock = clock;
    this.timeoutMs = timeoutMs;
    this.#onTimeout = onTimeout;
  }

  /** Tells the policy's hook of a timeout; a hook that throws is ignored. */
  report(error: TimeoutError): void {
    try {
      this.#onTimeout?.(error);
    } catch {
      // A hook cannot change the outcome of the call.
    }
  }

  add(call: TimedCall<unknown>): void {
    call.startedAtMs = this.#clock.now();
    call.queueIndex = this.#dropped + this.#calls.push(call) - 1;
    this.#live++;
    if (this.#timer === undefined) this.#startTimer(this.#deadlineMs(call));
  }

  remove(call: TimedCall<unknown>): void {
    this.#calls[call.queueIndex - this.#dropped] = undefined;
    this.#live--;
    if (this.#live === 0) this.#stop();
  }

  /**
   * Starts the timer for `dueMs`. While `setTimer` runs, the timer is null:
   * a clock that fires at once has then already moved the queue on, and its
   * spent handle is not kept.
   */
  #startTimer(dueMs: number): void {
    let handle: unknown;
    this.#timerDueMs = dueMs;
    this.#timer = null;
    try {
      handle = this.#clock.setTimer(
        () => this.#fire(),
        dueMs - this.#clock.now(),
      );
    } finally {
      if (this.#timer === null) this.#timer = handle;
    }
  }

  #stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#calls = [];
    this.#dropped = 0;
    this.#head = 0;
  }

  #fire(): void {
    this.#timer = undefined;
    const nowMs = Math.max(this.#clock.now(), this.#timerDueMs);

    while (this.#head < this.#calls.length) {
      const call = this.#calls[this.#head];
      if (call && this.#deadlineMs(call) > nowMs) break;

      this.#calls[this.#head++] = undefined;
      if (call) {
        this.#live--;
        call.expire();
      }
    }
    this.#compact();
    if (this.#live === 0) this.#stop();
    else this.#startTimer(this.#deadlineMs(this.#calls[this.#head]!));
  }

  #deadlineMs(call: TimedCall<unknown>): number {
    return call.startedAtMs! + this.timeoutMs;
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#calls.length) {
      this.#calls = this.#calls.slice(this.#head);
      this.#dropped += this.#head;
      this.#head = 0;
    }
  }
}
