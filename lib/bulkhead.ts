/**
 * A bulkhead: a pool of permits that caps how many calls run at once, with a
 * bounded FIFO queue in front of it, so that one slow dependency cannot take
 * every connection, socket or worker a service has.
 *
 * It accounts honestly for work it cannot stop. A promise cannot be killed, so
 * when a timeout inside the bulkhead gives up on a call whose work keeps
 * running, the bulkhead counts that call as abandoned and, by default, keeps
 * its permit until the work really settles: the number of calls really running
 * against the dependency never exceeds `maxConcurrent`.
 *
 * @example Two at a time, one waiting, the rest turned away
 * ```ts
 * import { Bulkhead, BulkheadRejectedError } from "@dyno/dyno/bulkhead";
 * import assert from "node:assert/strict";
 *
 * const pool = new Bulkhead({ maxConcurrent: 2, maxQueued: 1 });
 * const gate = Promise.withResolvers<void>();
 * const work = () => gate.promise.then(() => "done");
 *
 * const calls = [pool.execute(work), pool.execute(work), pool.execute(work)];
 * assert.equal(pool.running, 2);
 * assert.equal(pool.queued, 1);
 * await assert.rejects(pool.execute(work), BulkheadRejectedError);
 *
 * gate.resolve();
 * assert.deepEqual(await Promise.all(calls), ["done", "done", "done"]);
 * assert.equal(pool.running, 0);
 * ```
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import { RELEASE, TRY_ACQUIRE } from "./_hooks.ts";
import { checkBulkheadOptions } from "./_bulkhead_options.ts";

export type { Clock } from "./clock.ts";

/** What a bulkhead hands to the operation it runs. */
export interface BulkheadContext {
  /** The caller's signal, passed through unchanged. */
  readonly signal?: AbortSignal;
}

/** Why a bulkhead turned a call away without running it. */
export type BulkheadRejectionReason = "full" | "queue-timeout";

/** The structured fields of a {@linkcode BulkheadRejectedError}. */
export interface BulkheadRejectionDetails {
  /** `"full"`: no permit and no queue slot; `"queue-timeout"`: waited too long. */
  readonly reason: BulkheadRejectionReason;
  /** The bulkhead's `name` option, if it had one. */
  readonly bulkheadName?: string | undefined;
  /** The bulkhead's `maxConcurrent`. */
  readonly maxConcurrent: number;
  /** The bulkhead's `maxQueued`. */
  readonly maxQueued: number;
  /** The bulkhead's `queueTimeoutMs`, in milliseconds, if it had one. */
  readonly queueTimeoutMs?: number | undefined;
}

/**
 * The bulkhead did not run the operation: it was full, or the call waited in
 * the queue longer than `queueTimeoutMs`. Either way the operation never
 * started, so retrying it elsewhere or serving a fallback is safe.
 *
 * A queue timeout is deliberately not a `TimeoutError`: that name tells outer
 * layers that work may still be running, and here none ever started.
 *
 * @example Telling "full" from "waited too long"
 * ```ts
 * import { Bulkhead, BulkheadRejectedError } from "@dyno/dyno/bulkhead";
 * import assert from "node:assert/strict";
 *
 * const pool = new Bulkhead({ maxConcurrent: 1, name: "db" });
 * const gate = Promise.withResolvers<void>();
 * const first = pool.execute(() => gate.promise);
 *
 * const error = await pool.execute(() => 1).catch((error) => error);
 * assert.ok(error instanceof BulkheadRejectedError);
 * assert.equal(error.reason, "full");
 * assert.equal(error.bulkheadName, "db");
 * assert.equal(error.maxConcurrent, 1);
 *
 * gate.resolve();
 * await first;
 * ```
 */
export class BulkheadRejectedError extends Error {
  /** `"full"` or `"queue-timeout"`. */
  readonly reason: BulkheadRejectionReason;
  /** The bulkhead's `name` option, if it had one. */
  readonly bulkheadName: string | undefined;
  /** The bulkhead's `maxConcurrent`. */
  readonly maxConcurrent: number;
  /** The bulkhead's `maxQueued`. */
  readonly maxQueued: number;
  /** The bulkhead's `queueTimeoutMs` in milliseconds, if it had one. */
  readonly queueTimeoutMs: number | undefined;

  /** Builds the message from `details`; `options.cause` is kept as usual. */
  constructor(details: BulkheadRejectionDetails, options?: ErrorOptions) {
    super(rejectionMessage(details), options);
    this.name = "BulkheadRejectedError";
    this.reason = details.reason;
    this.bulkheadName = details.bulkheadName;
    this.maxConcurrent = details.maxConcurrent;
    this.maxQueued = details.maxQueued;
    this.queueTimeoutMs = details.queueTimeoutMs;
  }
}

function rejectionMessage(details: BulkheadRejectionDetails): string {
  const who = details.bulkheadName === undefined
    ? "Bulkhead"
    : `Bulkhead ${JSON.stringify(details.bulkheadName)}`;
  if (details.reason === "queue-timeout") {
    return `${who}: no permit within queueTimeoutMs ${details.queueTimeoutMs}`;
  }

  return `${who} is full: maxConcurrent ${details.maxConcurrent} running, ` +
    `maxQueued ${details.maxQueued} waiting`;
}

/** A snapshot of a bulkhead's gauges, handed to its hooks. */
export interface BulkheadEvent {
  /** The bulkhead's `name` option, if it had one. */
  readonly bulkheadName: string | undefined;
  /** Calls whose operation has not settled yet. */
  readonly running: number;
  /** Calls waiting for a permit. */
  readonly queued: number;
  /** Timed-out calls whose work has not really settled yet. */
  readonly abandoned: number;
}

/** The event for {@linkcode BulkheadOptions.onRejected}. */
export interface BulkheadRejectedEvent extends BulkheadEvent {
  /** The error the caller receives. */
  readonly error: BulkheadRejectedError;
}

/** The event for {@linkcode BulkheadOptions.onAbandoned}. */
export interface BulkheadAbandonedEvent extends BulkheadEvent {
  /** The `TimeoutError` whose `abandoned` promise the bulkhead now watches. */
  readonly error: Error;
}

/** Options for {@linkcode Bulkhead} and {@linkcode bulkhead}. */
export interface BulkheadOptions {
  /** How many calls may run at once: an integer >= 1. Required. */
  maxConcurrent: number;
  /**
   * How many calls may wait for a permit, in FIFO order: an integer >= 0, or
   * `Infinity`. Calls beyond it are rejected at once.
   *
   * @default {0}
   */
  maxQueued?: number;
  /**
   * How long, in milliseconds, a call may wait in the queue before it is
   * rejected with reason `"queue-timeout"`. A timer runs only while a call
   * waits. `undefined` or `Infinity`: wait as long as it takes.
   *
   * @default {undefined}
   */
  queueTimeoutMs?: number;
  /**
   * Whether a call that a timeout gave up on keeps its permit until its work
   * really settles (the `TimeoutError`'s `abandoned` promise settles).
   *
   * On (the default), the dependency never sees more than `maxConcurrent`
   * calls, even when it is slow: that is when a limit matters most, and
   * freeing permits at the timeout would let new calls pile onto work that
   * is still running. Work that honours its signal settles soon after the
   * timeout, so holding costs little; work that never settles keeps its
   * permit for good, as it keeps the dependency's slot.
   *
   * Off, the permit frees at the timeout (as in other libraries) and
   * abandoned work runs beyond the limit; {@linkcode Bulkhead.abandoned}
   * still counts it. Use it when abandoned work costs the dependency nothing.
   *
   * @default {true}
   */
  holdAbandonedPermits?: boolean;
  /**
   * The clock whose timers measure `queueTimeoutMs`.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * A name carried by errors and events.
   *
   * @default {undefined}
   */
  name?: string;
  /** Called when a call has to wait for a permit. Throwing is ignored. */
  onQueued?: (event: BulkheadEvent) => void;
  /** Called when a call is turned away. Throwing is ignored. */
  onRejected?: (event: BulkheadRejectedEvent) => void;
  /** Called when a timeout abandons a running call. Throwing is ignored. */
  onAbandoned?: (event: BulkheadAbandonedEvent) => void;
}

/** The operation a bulkhead runs. */
export type BulkheadOperation<T> = (
  context: BulkheadContext,
) => T | PromiseLike<T>;

const NO_SIGNAL: BulkheadContext = Object.freeze({});

/**
 * A pool of `maxConcurrent` permits with a FIFO queue of up to `maxQueued`
 * callers in front of it.
 *
 * Every call takes a permit and gives it back exactly once, whether the
 * operation resolves, rejects, throws synchronously or is abandoned. With a
 * free permit, `execute` reads no clock, starts no timer and adds no listener.
 *
 * Cancellation: a queued caller whose signal aborts leaves the queue at once
 * and gets `signal.reason`. Once running, the signal is the operation's to
 * honour: the bulkhead cannot stop a promise, so an operation that ignores
 * the signal keeps its permit, and the caller waits, until it settles. That
 * is the truth about the dependency; to stop waiting, run a timeout inside
 * the bulkhead: `pool.execute((ctx) => timeout.execute(op, ctx.signal))`.
 *
 * Abandoned work: when the operation rejects with an error whose `name` is
 * `"TimeoutError"` and whose `abandoned` is a thenable (dyno's timeout does
 * this), the call counts in {@linkcode Bulkhead.abandoned} until `abandoned`
 * settles and, with `holdAbandonedPermits` (the default), keeps its permit
 * until then. The bulkhead sees only the error that reaches it, so put it
 * directly around the timeout: a retry or fallback between the two hides the
 * abandoned work.
 *
 * @example Abort while queued
 * ```ts
 * import { Bulkhead } from "@dyno/dyno/bulkhead";
 * import assert from "node:assert/strict";
 *
 * const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 5 });
 * const gate = Promise.withResolvers<void>();
 * const first = pool.execute(() => gate.promise);
 *
 * const controller = new AbortController();
 * const waiting = pool.execute(() => "never runs", controller.signal);
 * assert.equal(pool.queued, 1);
 * controller.abort(new Error("user left"));
 * assert.equal(pool.queued, 0);
 * await assert.rejects(waiting, { message: "user left" });
 *
 * gate.resolve();
 * await first;
 * ```
 *
 * @example Holding the permit of abandoned work
 * ```ts
 * import { Bulkhead } from "@dyno/dyno/bulkhead";
 * import assert from "node:assert/strict";
 *
 * const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 });
 * const work = Promise.withResolvers<void>();
 * const timedOut = Object.assign(new Error("too slow"), {
 *   name: "TimeoutError",
 *   abandoned: work.promise,
 * });
 *
 * await assert.rejects(pool.execute(() => Promise.reject(timedOut)));
 * assert.equal(pool.running, 0);
 * assert.equal(pool.abandoned, 1);
 *
 * const next = pool.execute(() => "ran");
 * assert.equal(pool.queued, 1);
 * work.resolve();
 * assert.equal(await next, "ran");
 * assert.equal(pool.abandoned, 0);
 * ```
 */
export class Bulkhead {
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  readonly #queueTimeoutMs: number | undefined;
  readonly #holdAbandonedPermits: boolean;
  readonly #clock: Clock;
  readonly #name: string | undefined;
  readonly #onQueued: BulkheadOptions["onQueued"];
  readonly #onRejected: BulkheadOptions["onRejected"];
  readonly #onAbandoned: BulkheadOptions["onAbandoned"];

  /** The waiters, in FIFO order; each takes a permit when called. */
  readonly #queue = new Set<() => void>();
  #running = 0;
  #heldPermits = 0;
  #abandoned = 0;
  #draining = false;

  /**
   * Checks `options`, throwing a `TypeError` for a wrong type and a
   * `RangeError` for a value out of range, naming the option and the value.
   */
  constructor(options: BulkheadOptions) {
    const checked = checkBulkheadOptions(options);
    this.#maxConcurrent = checked.maxConcurrent;
    this.#maxQueued = checked.maxQueued;
    this.#queueTimeoutMs = checked.queueTimeoutMs;
    this.#holdAbandonedPermits = checked.holdAbandonedPermits;
    this.#clock = checked.clock ?? systemClock;
    this.#name = checked.name;
    this.#onQueued = options.onQueued;
    this.#onRejected = options.onRejected;
    this.#onAbandoned = options.onAbandoned;
  }

  /** The `name` option, if any. */
  get name(): string | undefined {
    return this.#name;
  }

  /** The `maxConcurrent` option. */
  get maxConcurrent(): number {
    return this.#maxConcurrent;
  }

  /** The `maxQueued` option. */
  get maxQueued(): number {
    return this.#maxQueued;
  }

  /** Calls whose operation has started and not settled yet. */
  get running(): number {
    return this.#running;
  }

  /** Calls waiting in the queue for a permit. */
  get queued(): number {
    return this.#queue.size;
  }

  /**
   * Calls a timeout gave up on whose work has not really settled yet. With
   * `holdAbandonedPermits`, each still holds a permit, so
   * `running + abandoned <= maxConcurrent`.
   */
  get abandoned(): number {
    return this.#abandoned;
  }

  /**
   * Runs `operation` when a permit is free, waits in the queue when one is
   * not, and rejects with a {@linkcode BulkheadRejectedError} when the queue
   * is full too. An already-aborted `signal` rejects at once with its reason.
   *
   * @example Running a call
   * ```ts
   * import { Bulkhead } from "@dyno/dyno/bulkhead";
   * import assert from "node:assert/strict";
   *
   * const pool = new Bulkhead({ maxConcurrent: 4 });
   * assert.equal(await pool.execute(async () => 42), 42);
   * ```
   */
  execute<T>(
    operation: BulkheadOperation<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (typeof operation !== "function") {
      return Promise.reject(
        new TypeError(`Bulkhead: operation must be a function`),
      );
    }

    if (this[TRY_ACQUIRE]()) return this.#start(operation, signal);

    if (this.#queue.size < this.#maxQueued) {
      return this.#enqueue(operation, signal);
    }

    return this.#reject("full");
  }

  /**
   * Returns a function with `fn`'s parameters that runs `fn` through this
   * bulkhead. Several functions wrapped by one bulkhead share its permits.
   *
   * @example Sharing one pool between two functions
   * ```ts
   * import { Bulkhead } from "@dyno/dyno/bulkhead";
   * import assert from "node:assert/strict";
   *
   * const pool = new Bulkhead({ maxConcurrent: 8 });
   * const getUser = pool.wrap(async (id: number) => ({ id }));
   * const getOrder = pool.wrap(async (id: number) => ({ id, total: 3 }));
   *
   * assert.deepEqual(await getUser(1), { id: 1 });
   * assert.deepEqual(await getOrder(2), { id: 2, total: 3 });
   * ```
   */
  wrap<A extends unknown[], T>(
    fn: (...args: A) => T | PromiseLike<T>,
  ): (...args: A) => Promise<T> {
    return wrapWith(this, fn);
  }

  /**
   * @internal Takes a permit for a caller that runs its work itself, when
   * `execute` would run the call at once: a permit is free, nobody waits and
   * `signal` has not aborted. False otherwise: the call goes through
   * `execute`. Give the permit back with the release hook.
   */
  [TRY_ACQUIRE](signal?: AbortSignal): boolean {
    if (
      signal?.aborted || this.#queue.size !== 0 ||
      this.#running + this.#heldPermits >= this.#maxConcurrent
    ) {
      return false;
    }

    this.#running++;
    return true;
  }

  /**
   * @internal Gives back a permit from the acquire hook once
   * its work settled, `failed` with `error`: as `execute` does, a timeout's
   * abandoned work keeps the permit until it really settles.
   */
  [RELEASE](failed: boolean, error?: unknown): void {
    if (failed) this.#releaseAfterFailure(error);
    else this.#releaseAfterSuccess();
  }

  #start<T>(
    operation: BulkheadOperation<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    let settled: Promise<T>;
    try {
      settled = Promise.resolve(
        operation(signal === undefined ? NO_SIGNAL : { signal }),
      );
    } catch (error) {
      this.#running--;
      this.#drain();
      return Promise.reject(error);
    }

    settled.then(this.#releaseAfterSuccess, this.#releaseAfterFailure);
    return settled;
  }

  #releaseAfterSuccess = (): void => {
    this.#running--;
    if (this.#queue.size !== 0) this.#drain();
  };

  #releaseAfterFailure = (error: unknown): void => {
    this.#running--;
    const work = abandonedWork(error);
    if (work !== undefined) this.#watchAbandoned(work, error as Error);
    if (this.#queue.size !== 0) this.#drain();
  };

  #watchAbandoned(work: PromiseLike<unknown>, error: Error): void {
    const holds = this.#holdAbandonedPermits;
    this.#abandoned++;
    if (holds) this.#heldPermits++;

    const settled = () => {
      this.#abandoned--;
      if (!holds) return;
      this.#heldPermits--;
      this.#drain();
    };
    new Promise((resolve) => resolve(work)).then(settled, settled);

    if (this.#onAbandoned !== undefined) {
      notify(this.#onAbandoned, { ...this.#snapshot(), error });
    }
  }

  #enqueue<T>(
    operation: BulkheadOperation<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const promise = new Promise<T>((resolve, reject) => {
      let timer: unknown;
      const leave = (): boolean => {
        if (timer !== undefined) this.#clock.clearTimer(timer);
        signal?.removeEventListener("abort", onAbort);
        return this.#queue.delete(take);
      };
      const take = (): void => {
        leave();
        if (signal?.aborted) return reject(signal.reason);

        this.#running++;
        resolve(this.#start(operation, signal));
      };
      const onAbort = (): void => {
        if (leave()) reject(signal!.reason);
      };

      this.#queue.add(take);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (this.#queueTimeoutMs !== undefined) {
        timer = this.#clock.setTimer(() => {
          timer = undefined;
          if (!leave()) return;

          const error = this.#rejection("queue-timeout");
          reject(error);
          this.#notifyRejected(error);
        }, this.#queueTimeoutMs);
      }
    });

    if (this.#onQueued !== undefined) notify(this.#onQueued, this.#snapshot());
    return promise;
  }

  /** Lets waiters in, in FIFO order, while permits are free. */
  #drain(): void {
    if (this.#draining) return;

    this.#draining = true;
    try {
      for (const take of this.#queue) {
        if (this.#running + this.#heldPermits >= this.#maxConcurrent) break;
        take();
      }
    } finally {
      this.#draining = false;
    }
  }

  #reject(reason: BulkheadRejectionReason): Promise<never> {
    const error = this.#rejection(reason);
    this.#notifyRejected(error);
    return Promise.reject(error);
  }

  #rejection(reason: BulkheadRejectionReason): BulkheadRejectedError {
    return new BulkheadRejectedError({
      reason,
      bulkheadName: this.#name,
      maxConcurrent: this.#maxConcurrent,
      maxQueued: this.#maxQueued,
      queueTimeoutMs: this.#queueTimeoutMs,
    });
  }

  #notifyRejected(error: BulkheadRejectedError): void {
    if (this.#onRejected === undefined) return;

    notify(this.#onRejected, { ...this.#snapshot(), error });
  }

  #snapshot(): BulkheadEvent {
    return {
      bulkheadName: this.#name,
      running: this.#running,
      queued: this.#queue.size,
      abandoned: this.#abandoned,
    };
  }
}

/**
 * Wraps `fn` in a new {@linkcode Bulkhead}: the returned function takes
 * `fn`'s parameters, runs at most `maxConcurrent` calls at once and queues
 * up to `maxQueued`. To read the gauges or share the permits between several
 * functions, build a `Bulkhead` and use {@linkcode Bulkhead.wrap}.
 *
 * @example Capping calls to a slow function
 * ```ts
 * import { bulkhead } from "@dyno/dyno/bulkhead";
 * import assert from "node:assert/strict";
 *
 * let inFlight = 0;
 * let peak = 0;
 * const fetchReport = bulkhead(async (id: number) => {
 *   peak = Math.max(peak, ++inFlight);
 *   await Promise.resolve();
 *   inFlight--;
 *   return `report ${id}`;
 * }, { maxConcurrent: 2, maxQueued: 10 });
 *
 * const reports = await Promise.all([1, 2, 3, 4].map(fetchReport));
 * assert.equal(reports[3], "report 4");
 * assert.equal(peak, 2);
 * ```
 */
export function bulkhead<A extends unknown[], T>(
  fn: (...args: A) => T | PromiseLike<T>,
  options: BulkheadOptions,
): (...args: A) => Promise<T> {
  if (typeof fn !== "function") {
    throw new TypeError(`bulkhead: fn must be a function, got ${typeof fn}`);
  }

  return wrapWith(new Bulkhead(options), fn);
}

function wrapWith<A extends unknown[], T>(
  pool: Bulkhead,
  fn: (...args: A) => T | PromiseLike<T>,
): (...args: A) => Promise<T> {
  return function bulkheaded(this: unknown, ...args: A): Promise<T> {
    return pool.execute(() => fn.apply(this, args));
  };
}

/**
 * The `abandoned` thenable of a timeout error (`name === "TimeoutError"`),
 * found by shape so that any timeout with that contract works; `undefined`
 * for any other rejection, or when reading the error throws.
 */
function abandonedWork(error: unknown): PromiseLike<unknown> | undefined {
  try {
    if (typeof error !== "object" || error === null) return undefined;

    const candidate = error as { name?: unknown; abandoned?: unknown };
    if (candidate.name !== "TimeoutError") return undefined;

    const work = candidate.abandoned as { then?: unknown } | null | undefined;
    if (typeof work?.then !== "function") return undefined;

    return work as PromiseLike<unknown>;
  } catch {
    return undefined;
  }
}

function notify<E>(hook: (event: E) => void, event: E): void {
  try {
    hook(event);
  } catch {
    // A hook's failure is the hook's: it cannot change the bulkhead's state.
  }
}
