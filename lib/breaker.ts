/**
 * A circuit breaker: it watches the failure rate of calls to a dependency and,
 * when too many fail, rejects calls at once for a while instead of sending
 * more load to something that is already down.
 *
 * Health is read over a rolling window (the last `windowMs` cut into buckets,
 * or the last `size` calls). The breaker opens when the window holds at least
 * `minimumCalls` calls and the failure rate (or the slow-call rate) reaches
 * its threshold. After `openMs` it lets `halfOpenProbes` calls through; their
 * outcome closes it or opens it again, for longer with `openBackoff`.
 *
 * It starts no timer, ever: every time-based change happens lazily, on the
 * next call or state read, so a breaker at a Worker's module scope costs
 * nothing while idle. Its state exports as JSON and a new breaker can start
 * from it, in another isolate or after a restart.
 *
 * @example Opening after failures, then probing
 * ```ts
 * import { Breaker, BreakerOpenError } from "@dyno/dyno/breaker";
 * import { ManualClock } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const breaker = new Breaker({ name: "payments", minimumCalls: 4, clock });
 * const down = () => Promise.reject(new Error("503"));
 *
 * for (let i = 0; i < 4; i++) {
 *   await assert.rejects(breaker.execute(down), { message: "503" });
 * }
 * assert.equal(breaker.state, "open");
 * await assert.rejects(breaker.execute(() => "ok"), BreakerOpenError);
 *
 * await clock.advance(5_000);
 * assert.equal(breaker.state, "half-open");
 * assert.equal(await breaker.execute(() => "ok"), "ok");
 * assert.equal(breaker.state, "closed");
 * ```
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import { checkBreakerOptions } from "./_breaker_config.ts";
import { Listeners, reportCallbackError } from "./_breaker_listeners.ts";
import {
  CountWindow,
  FAILED,
  type Outcome,
  SLOW,
  TimeWindow,
} from "./_breaker_window.ts";

export type { Clock, TimerHandle } from "./clock.ts";

/**
 * Where a breaker stands. `"closed"`, `"open"` and `"half-open"` are its
 * automatic states; the others are set by hand and left only by hand:
 * `"forced-open"` rejects every call, `"forced-closed"` lets every call
 * through and records nothing, `"disabled"` lets every call through but keeps
 * recording, so its health stays observable.
 */
export type BreakerState =
  | "closed"
  | "open"
  | "half-open"
  | "forced-open"
  | "forced-closed"
  | "disabled";

/** Why a breaker changed state, as told by its `"statechange"` event. */
export type BreakerTransitionReason =
  | "failure-rate"
  | "slow-call-rate"
  | "open-elapsed"
  | "probe-success"
  | "probe-failure"
  | "probe-slow"
  | "probe-timeout"
  | "force-open"
  | "force-closed"
  | "disable"
  | "reset";

/** The structured fields of a {@linkcode BreakerOpenError}. */
export interface BreakerOpenDetails {
  /** The breaker's name. */
  readonly breakerName: string;
  /** The state that turned the call away. */
  readonly state: "open" | "half-open" | "forced-open";
  /**
   * Milliseconds until the breaker will let a call through, at the earliest:
   * until the open period ends; in half-open with every probe slot taken,
   * until the oldest probe times out; `Infinity` when forced open.
   */
  readonly retryAfterMs: number;
}

/**
 * The breaker turned the call away without running it. The operation never
 * started, so serving a fallback or trying elsewhere is safe.
 *
 * @example Reading when to come back
 * ```ts
 * import { Breaker, BreakerOpenError } from "@dyno/dyno/breaker";
 * import { ManualClock } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const breaker = new Breaker({
 *   name: "search",
 *   clock,
 *   minimumCalls: 1,
 *   openMs: 2_000,
 * });
 * await breaker.execute(() => Promise.reject(new Error("down")))
 *   .catch(() => {});
 * await clock.advance(500);
 *
 * const error = await breaker.execute(() => 1).catch((error) => error);
 * assert.ok(error instanceof BreakerOpenError);
 * assert.equal(error.breakerName, "search");
 * assert.equal(error.state, "open");
 * assert.equal(error.retryAfterMs, 1_500);
 * ```
 */
export class BreakerOpenError extends Error {
  /** The breaker's name. */
  readonly breakerName: string;
  /** The state that turned the call away. */
  readonly state: "open" | "half-open" | "forced-open";
  /** Milliseconds until the breaker lets a call through, at the earliest. */
  readonly retryAfterMs: number;

  /** Builds the message from `details`; `options.cause` is kept as usual. */
  constructor(details: BreakerOpenDetails, options?: ErrorOptions) {
    super(openMessage(details), options);
    this.name = "BreakerOpenError";
    this.breakerName = details.breakerName;
    this.state = details.state;
    this.retryAfterMs = details.retryAfterMs;
  }
}

function openMessage(details: BreakerOpenDetails): string {
  const who = `Breaker ${JSON.stringify(details.breakerName)}`;
  if (details.state === "forced-open") return `${who} is forced open`;
  if (details.state === "half-open") {
    return `${who} is half-open and its probes are running: ` +
      `retry in ${Math.ceil(details.retryAfterMs)} ms`;
  }

  return `${who} is open: retry in ${Math.ceil(details.retryAfterMs)} ms`;
}

/**
 * The health window: the calls of the last `windowMs` milliseconds, cut into
 * `buckets` buckets, or the outcomes of the last `size` calls.
 */
export type BreakerWindow =
  | {
    /** A rolling time window. */
    kind: "time";
    /**
     * The window's length in milliseconds, an integer.
     *
     * @default {10_000}
     */
    windowMs?: number;
    /**
     * How many buckets the window is cut into; must divide `windowMs`.
     *
     * @default {10}
     */
    buckets?: number;
  }
  | {
    /** The last `size` calls. */
    kind: "count";
    /** How many of the latest calls the window holds, an integer >= 1. */
    size: number;
  };

/** Counts of one time bucket in a {@linkcode BreakerSnapshot}. */
export interface BreakerBucketCounts {
  /** Calls recorded in the bucket. */
  calls: number;
  /** Of those, failures. */
  failures: number;
  /** Of those, slow calls, successful or not. */
  slowCalls: number;
}

/**
 * A breaker's state as plain JSON, from {@linkcode Breaker.toJSON}. Times are
 * stored as remaining milliseconds, never as clock readings, because each
 * isolate's clock has its own origin.
 */
export interface BreakerSnapshot {
  /** The snapshot format. */
  version: 1;
  /** The state. */
  state: BreakerState;
  /** In `"open"`: milliseconds left until the breaker goes half-open. */
  openRemainingMs: number;
  /** Consecutive re-opens from half-open, which `openBackoff` grows on. */
  reopens: number;
  /** In `"half-open"`: probe successes counted so far. */
  probeSuccesses: number;
  /**
   * The window's contents: a time window's bucket counts, newest first, or
   * a count window's outcomes, oldest first, each `0` (success), `1`
   * (failure), `2` (slow success) or `3` (slow failure).
   */
  window:
    | { kind: "time"; bucketMs: number; buckets: BreakerBucketCounts[] }
    | { kind: "count"; outcomes: (0 | 1 | 2 | 3)[] };
}

/** Options for {@linkcode Breaker}. */
export interface BreakerOptions {
  /**
   * A name carried by errors and events.
   *
   * @default {"breaker"}
   */
  name?: string;
  /**
   * The clock that times the open period, probes, slow calls and the window.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * The health window.
   *
   * @default {{ kind: "time", windowMs: 10_000, buckets: 10 }}
   */
  window?: BreakerWindow;
  /**
   * How many calls the window must hold before the breaker may open, an
   * integer >= 1 (at most a count window's `size`).
   *
   * @default {20, or a count window's size when smaller}
   */
  minimumCalls?: number;
  /**
   * The failure rate, a ratio in (0, 1], at which the breaker opens.
   *
   * @default {0.5}
   */
  failureRateThreshold?: number;
  /**
   * A call that takes at least this many milliseconds is slow. Unset, calls
   * are not timed and nothing is slow; set, every call reads the clock twice.
   *
   * @default {undefined}
   */
  slowCallDurationMs?: number;
  /**
   * The slow-call rate, a ratio in (0, 1], at which the breaker opens.
   *
   * @default {1}
   */
  slowCallRateThreshold?: number;
  /**
   * Whether an error counts as a failure. An error it rejects is ignored:
   * passed to the caller untouched and counted neither as a success nor as
   * a failure. If it throws, the error counts as a failure and the predicate's
   * error goes to the global `reportError`. The caller's own
   * abort (its signal's reason, once aborted) is always ignored.
   *
   * @default {() => true}
   */
  isFailure?: (error: unknown) => boolean;
  /**
   * A hint from the failure that opens the breaker (a server's
   * `Retry-After`, say), in milliseconds: the open period lasts at least
   * that long, still capped by `maxOpenMs`. Undefined or a value that is not
   * a finite number >= 0 leaves the period as `openMs` makes it.
   *
   * @default {undefined}
   */
  retryAfterMs?: (error: unknown) => number | undefined;
  /**
   * How long the breaker stays open before it lets probes through, in
   * milliseconds.
   *
   * @default {5_000}
   */
  openMs?: number;
  /**
   * The factor, >= 1, by which the open period grows on each consecutive
   * re-open from half-open: `openMs * openBackoff ** reopens`, capped at
   * `maxOpenMs`. Closing resets it.
   *
   * @default {1}
   */
  openBackoff?: number;
  /**
   * The longest open period in milliseconds, >= `openMs`.
   *
   * @default {300_000, or openMs when larger}
   */
  maxOpenMs?: number;
  /**
   * How many probes may run at once in half-open, an integer >= 1. Calls
   * beyond that are rejected.
   *
   * @default {1}
   */
  halfOpenProbes?: number;
  /**
   * How many probes must succeed, one after another, before the breaker
   * closes; any failed probe opens it again.
   *
   * @default {1}
   */
  successesToClose?: number;
  /**
   * A probe still running after this many milliseconds counts as failed, so
   * a hung probe cannot hold the breaker half-open. Checked lazily.
   *
   * @default {10_000}
   */
  probeTimeoutMs?: number;
  /**
   * A snapshot from {@linkcode Breaker.toJSON} to start from. Window
   * contents are kept only when the window's kind (and a time window's
   * bucket length) match; in-flight probes are not carried over.
   *
   * @default {undefined}
   */
  initialState?: BreakerSnapshot;
}

/** What a breaker hands to the operation it runs. */
export interface BreakerContext {
  /** The caller's signal, passed through unchanged. */
  readonly signal?: AbortSignal;
}

/** The operation a breaker runs. */
export type BreakerOperation<T> = (
  context: BreakerContext,
) => T | PromiseLike<T>;

/** The `"statechange"` event. */
export interface BreakerStateChangeEvent {
  /** The breaker's name. */
  readonly breakerName: string;
  /** The state left. */
  readonly from: BreakerState;
  /** The state entered. */
  readonly to: BreakerState;
  /** What caused the change. */
  readonly reason: BreakerTransitionReason;
}

/** The `"success"` event. */
export interface BreakerSuccessEvent {
  /** The breaker's name. */
  readonly breakerName: string;
  /** The call's duration in milliseconds, when it was timed. */
  readonly durationMs: number | undefined;
}

/** The `"failure"` event: a call failed with an error that counts. */
export interface BreakerFailureEvent {
  /** The breaker's name. */
  readonly breakerName: string;
  /** The error. */
  readonly error: unknown;
  /** The call's duration in milliseconds, when it was timed. */
  readonly durationMs: number | undefined;
}

/** The `"ignored"` event: a call failed with an error that does not count. */
export interface BreakerIgnoredEvent {
  /** The breaker's name. */
  readonly breakerName: string;
  /** The error. */
  readonly error: unknown;
}

/** The `"rejected"` event: the breaker turned a call away. */
export interface BreakerRejectedEvent {
  /** The breaker's name. */
  readonly breakerName: string;
  /** The error the caller receives. */
  readonly error: BreakerOpenError;
}

/** Every event a breaker emits, by type. */
export interface BreakerEventMap {
  /** The state changed. */
  statechange: BreakerStateChangeEvent;
  /** A call succeeded. */
  success: BreakerSuccessEvent;
  /** A call failed with an error that counts. */
  failure: BreakerFailureEvent;
  /** A call failed with an error that does not count. */
  ignored: BreakerIgnoredEvent;
  /** A call was turned away. */
  rejected: BreakerRejectedEvent;
}

/** Counts over a breaker's lifetime. */
export interface BreakerTotals {
  /** Calls that succeeded. */
  successes: number;
  /** Calls that failed with an error that counts. */
  failures: number;
  /** Calls that failed with an error that does not count. */
  ignored: number;
  /** Calls turned away. */
  rejected: number;
  /** Calls recorded as slow. */
  slowCalls: number;
  /** Times the breaker opened (re-opens included). */
  opens: number;
}

/** A breaker's health, from {@linkcode Breaker.stats}. */
export interface BreakerStats {
  /** The state. */
  state: BreakerState;
  /** Calls in the window. */
  calls: number;
  /** Failed calls in the window. */
  failures: number;
  /** Slow calls in the window. */
  slowCalls: number;
  /** `failures / calls` as a ratio 0..1; 0 for an empty window. */
  failureRate: number;
  /** `slowCalls / calls` as a ratio 0..1; 0 for an empty window. */
  slowCallRate: number;
  /** Counts over the breaker's lifetime. */
  totals: BreakerTotals;
}

const SUCCESS = 0;
const FAILURE = 1;
const IGNORED = 2;
type Kind = typeof SUCCESS | typeof FAILURE | typeof IGNORED;

/** The most successes recorded between two clock reads. */
const MAX_STRIDE = 16;

const NO_SIGNAL: BreakerContext = Object.freeze({});

interface Probe {
  readonly startMs: number;
}

function start<T>(
  operation: BreakerOperation<T>,
  context: BreakerContext,
): Promise<T> {
  try {
    return Promise.resolve(operation(context));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * A circuit breaker. See the module documentation for the state machine; the
 * points a careful reader asks about:
 *
 * **Clock reads.** A closed breaker does not read the clock on every success.
 * The clock is read on every failure, every call while open or half-open,
 * every state read (`state`, `stats`, `toJSON`) and every timed call (with
 * `slowCallDurationMs`). A success that reads no clock is stamped with the
 * time of the last clock read: it lands in that read's bucket. A success
 * reads the clock itself when it is the `stride`-th success since the last
 * read, or when it would bring the window to its opening point. The stride
 * adapts so that it spans at most about half a bucket: it starts at 1,
 * doubles (up to 16) when a stride's successes took at most a quarter of a
 * bucket, and falls back to 1 when they took more than half of one. A count
 * window needs no stamps and reads no clock on successes.
 *
 * **Stale outcomes.** A call's outcome counts only in the state it was let
 * through in: a call admitted while closed that settles after the breaker
 * opened, or a probe that settles after its timeout, still emits its event
 * but changes nothing.
 *
 * **Events** fire after the state change an outcome causes. A throwing
 * listener is reported through `reportError` and cannot break the breaker.
 *
 * @example Wrapping a function
 * ```ts
 * import { Breaker } from "@dyno/dyno/breaker";
 * import assert from "node:assert/strict";
 *
 * const breaker = new Breaker({ name: "users" });
 * const getUser = breaker.wrap(async (id: number) => ({ id }));
 * assert.deepEqual(await getUser(7), { id: 7 });
 * ```
 *
 * @example Carrying the state to a new isolate
 * ```ts
 * import { Breaker } from "@dyno/dyno/breaker";
 * import { ManualClock } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const before = new Breaker({ clock: new ManualClock() });
 * before.forceOpen();
 * const saved = JSON.stringify(before);
 *
 * const after = new Breaker({
 *   clock: new ManualClock(123_456),
 *   initialState: JSON.parse(saved),
 * });
 * assert.equal(after.state, "forced-open");
 * ```
 */
export class Breaker {
  readonly #name: string;
  readonly #clock: Clock;
  readonly #window: TimeWindow | CountWindow;
  readonly #events = new Listeners<BreakerEventMap>("Breaker");
  readonly #isFailure: (error: unknown) => boolean;
  readonly #retryAfterMs: ((error: unknown) => number | undefined) | undefined;
  readonly #minimumCalls: number;
  readonly #failureRateThreshold: number;
  readonly #slowMs: number | undefined;
  readonly #slowCallRateThreshold: number;
  readonly #openMs: number;
  readonly #openBackoff: number;
  readonly #maxOpenMs: number;
  readonly #halfOpenProbes: number;
  readonly #successesToClose: number;
  readonly #probeTimeoutMs: number;
  readonly #bucketMs: number;

  #state: BreakerState = "closed";
  #epoch = 0;
  #fast = false;
  #onSuccess: (value: unknown) => void = () => {};
  #onFailure: (error: unknown) => void = () => {};

  #lastReadMs = Number.NaN;
  #sinceRead = 0;
  #stride: number;

  #openUntilMs = 0;
  #reopens = 0;
  #lastFailure: unknown;
  #probes = new Set<Probe>();
  #probeSuccesses = 0;

  #successes = 0;
  #failures = 0;
  #ignored = 0;
  #rejected = 0;
  #slowCalls = 0;
  #opens = 0;

  /**
   * Checks `options`, throwing a `TypeError` for a wrong type and a
   * `RangeError` for a value out of range, naming the option and the value.
   * Reads the clock only when `initialState` is given.
   */
  constructor(options?: BreakerOptions) {
    const config = checkBreakerOptions(options);
    this.#name = config.name;
    this.#clock = config.clock;
    this.#isFailure = config.isFailure;
    this.#retryAfterMs = config.retryAfterMs;
    this.#minimumCalls = config.minimumCalls;
    this.#failureRateThreshold = config.failureRateThreshold;
    this.#slowMs = config.slowCallDurationMs;
    this.#slowCallRateThreshold = config.slowCallRateThreshold;
    this.#openMs = config.openMs;
    this.#openBackoff = config.openBackoff;
    this.#maxOpenMs = config.maxOpenMs;
    this.#halfOpenProbes = config.halfOpenProbes;
    this.#successesToClose = config.successesToClose;
    this.#probeTimeoutMs = config.probeTimeoutMs;

    const window = config.window;
    if (window.kind === "time") {
      this.#window = new TimeWindow(window.windowMs, window.buckets);
      this.#bucketMs = this.#window.bucketMs;
    } else {
      this.#window = new CountWindow(window.size);
      this.#bucketMs = Infinity;
    }
    this.#stride = window.kind === "time" && this.#slowMs === undefined
      ? 1
      : Infinity;

    this.#enter("closed");
    if (config.initialState !== undefined) this.#restore(config.initialState);
  }

  /** The breaker's name. */
  get name(): string {
    return this.#name;
  }

  /**
   * The state, after applying whatever time has changed (an open period
   * that ended, a probe that timed out). Reads the clock.
   */
  get state(): BreakerState {
    this.#read();
    return this.#state;
  }

  /**
   * The window's counts and rates and the lifetime totals. Reads the clock.
   *
   * @example Watching the failure rate
   * ```ts
   * import { Breaker } from "@dyno/dyno/breaker";
   * import { ManualClock } from "@dyno/dyno/testing";
   * import assert from "node:assert/strict";
   *
   * const breaker = new Breaker({ clock: new ManualClock() });
   * await breaker.execute(() => "ok");
   * await breaker.execute(() => Promise.reject(new Error("x"))).catch(() => {});
   * const stats = breaker.stats;
   * assert.equal(stats.calls, 2);
   * assert.equal(stats.failureRate, 0.5);
   * assert.equal(stats.totals.successes, 1);
   * ```
   */
  get stats(): BreakerStats {
    this.#read();
    const { calls, failures, slowCalls } = this.#window;

    return {
      state: this.#state,
      calls,
      failures,
      slowCalls,
      failureRate: calls === 0 ? 0 : failures / calls,
      slowCallRate: calls === 0 ? 0 : slowCalls / calls,
      totals: {
        successes: this.#successes,
        failures: this.#failures,
        ignored: this.#ignored,
        rejected: this.#rejected,
        slowCalls: this.#slowCalls,
        opens: this.#opens,
      },
    };
  }

  /**
   * Runs `operation` unless the breaker turns the call away with a
   * {@linkcode BreakerOpenError}, and records its outcome. The caller gets
   * the operation's own result or error. An already-aborted `signal` rejects
   * at once with its reason; the signal is passed to the operation.
   *
   * @example Running a call
   * ```ts
   * import { Breaker } from "@dyno/dyno/breaker";
   * import assert from "node:assert/strict";
   *
   * const breaker = new Breaker();
   * const controller = new AbortController();
   * const seen = await breaker.execute(
   *   ({ signal }) => signal === controller.signal,
   *   controller.signal,
   * );
   * assert.equal(seen, true);
   * ```
   */
  execute<T>(operation: BreakerOperation<T>, signal?: AbortSignal): Promise<T> {
    if (typeof operation !== "function") {
      return Promise.reject(
        new TypeError(
          `Breaker: operation must be a function, got ${operation}`,
        ),
      );
    }
    if (this.#fast && signal === undefined) {
      const result = start(operation, NO_SIGNAL);
      result.then(this.#onSuccess, this.#onFailure);
      return result;
    }

    return this.#executeSlowly(operation, signal);
  }

  /**
   * Returns a function with `fn`'s parameters that runs `fn` through this
   * breaker. Several functions wrapped by one breaker share its health.
   *
   * @example Two endpoints of one service
   * ```ts
   * import { Breaker } from "@dyno/dyno/breaker";
   * import assert from "node:assert/strict";
   *
   * const breaker = new Breaker({ name: "inventory" });
   * const stock = breaker.wrap((sku: string) => ({ sku, count: 3 }));
   * assert.deepEqual(await stock("A1"), { sku: "A1", count: 3 });
   * ```
   */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R,
  ): (...args: A) => Promise<Awaited<R>> {
    const run = (self: unknown, args: A): Promise<Awaited<R>> =>
      this.execute(() => fn.apply(self, args) as Awaited<R>);

    return function breakerWrapped(this: unknown, ...args: A) {
      return run(this, args);
    };
  }

  /**
   * Listens to `type`; returns a function that stops listening. With no
   * listener, the breaker builds no events at all.
   *
   * @example Logging state changes
   * ```ts
   * import { Breaker } from "@dyno/dyno/breaker";
   * import assert from "node:assert/strict";
   *
   * const breaker = new Breaker();
   * const changes: string[] = [];
   * const stop = breaker.on("statechange", (event) => {
   *   changes.push(`${event.from}->${event.to}`);
   * });
   * breaker.forceOpen();
   * breaker.reset();
   * stop();
   * breaker.forceOpen();
   * assert.deepEqual(changes, ["closed->forced-open", "forced-open->closed"]);
   * ```
   */
  on<K extends keyof BreakerEventMap>(
    type: K,
    listener: (event: BreakerEventMap[K]) => void,
  ): () => void {
    return this.#events.on(type, listener);
  }

  /**
   * Rejects every call until {@linkcode Breaker.reset},
   * {@linkcode Breaker.forceClosed} or {@linkcode Breaker.disable}.
   *
   * @example Taking a dependency out by hand
   * ```ts
   * import { Breaker, BreakerOpenError } from "@dyno/dyno/breaker";
   * import assert from "node:assert/strict";
   *
   * const breaker = new Breaker();
   * breaker.forceOpen();
   * await assert.rejects(breaker.execute(() => 1), BreakerOpenError);
   * ```
   */
  forceOpen(): void {
    this.#probes.clear();
    this.#transition("forced-open", "force-open");
  }

  /**
   * Lets every call through and records nothing, until
   * {@linkcode Breaker.reset} or another manual state.
   *
   * @example Bypassing the breaker
   * ```ts
   * import { Breaker } from "@dyno/dyno/breaker";
   * import assert from "node:assert/strict";
   *
   * const breaker = new Breaker({ minimumCalls: 1 });
   * breaker.forceClosed();
   * await breaker.execute(() => Promise.reject(new Error("x"))).catch(() => {});
   * assert.equal(breaker.state, "forced-closed");
   * assert.equal(breaker.stats.calls, 0);
   * ```
   */
  forceClosed(): void {
    this.#probes.clear();
    this.#transition("forced-closed", "force-closed");
  }

  /**
   * Lets every call through but keeps recording outcomes, so the window
   * shows what the breaker would see; it never opens while disabled.
   *
   * @example Watching without rejecting
   * ```ts
   * import { Breaker } from "@dyno/dyno/breaker";
   * import assert from "node:assert/strict";
   *
   * const breaker = new Breaker({ minimumCalls: 1 });
   * breaker.disable();
   * await breaker.execute(() => Promise.reject(new Error("x"))).catch(() => {});
   * assert.equal(breaker.state, "disabled");
   * assert.equal(breaker.stats.failureRate, 1);
   * ```
   */
  disable(): void {
    this.#probes.clear();
    this.#transition("disabled", "disable");
  }

  /**
   * Returns to `"closed"` with an empty window and the open period back at
   * `openMs`. Calls still running from before count for nothing.
   *
   * @example Starting over
   * ```ts
   * import { Breaker } from "@dyno/dyno/breaker";
   * import assert from "node:assert/strict";
   *
   * const breaker = new Breaker();
   * breaker.forceOpen();
   * breaker.reset();
   * assert.equal(breaker.state, "closed");
   * ```
   */
  reset(): void {
    this.#close("reset");
  }

  /**
   * The state as JSON, for {@linkcode BreakerOptions.initialState}. Reads
   * the clock; times are stored as remaining milliseconds.
   *
   * @example Saving and restoring
   * ```ts
   * import { Breaker } from "@dyno/dyno/breaker";
   * import { ManualClock } from "@dyno/dyno/testing";
   * import assert from "node:assert/strict";
   *
   * const clock = new ManualClock();
   * const breaker = new Breaker({ clock, window: { kind: "count", size: 5 } });
   * await breaker.execute(() => "ok");
   * const snapshot = breaker.toJSON();
   * assert.deepEqual(snapshot.window, { kind: "count", outcomes: [0] });
   *
   * const copy = new Breaker({
   *   clock,
   *   window: { kind: "count", size: 5 },
   *   initialState: snapshot,
   * });
   * assert.equal(copy.stats.calls, 1);
   * ```
   */
  toJSON(): BreakerSnapshot {
    const nowMs = this.#read();
    const window = this.#window;

    return {
      version: 1,
      state: this.#state,
      openRemainingMs: this.#state === "open" ? this.#openUntilMs - nowMs : 0,
      reopens: this.#reopens,
      probeSuccesses: this.#state === "half-open" ? this.#probeSuccesses : 0,
      window: window instanceof TimeWindow
        ? { kind: "time", bucketMs: window.bucketMs, buckets: window.toJSON() }
        : { kind: "count", outcomes: window.toJSON() },
    };
  }

  #restore(snapshot: BreakerSnapshot): void {
    const nowMs = this.#read();
    const window = this.#window;
    const saved = snapshot.window;
    if (window instanceof TimeWindow) {
      if (saved.kind === "time" && saved.bucketMs === window.bucketMs) {
        window.restore(nowMs, saved.buckets);
      }
    } else if (saved.kind === "count") {
      window.restore(saved.outcomes);
    }

    this.#reopens = snapshot.reopens;
    this.#openUntilMs = nowMs + snapshot.openRemainingMs;
    this.#probeSuccesses = snapshot.state === "half-open"
      ? snapshot.probeSuccesses
      : 0;
    this.#enter(snapshot.state);
  }

  #executeSlowly<T>(
    operation: BreakerOperation<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    const context = signal === undefined ? NO_SIGNAL : { signal };

    switch (this.#state) {
      case "closed":
      case "disabled":
        return this.#runRecorded(operation, context, signal);
      case "forced-closed":
        return this.#runUnrecorded(operation, context, signal);
      case "forced-open":
        return this.#reject(Infinity);
    }

    const nowMs = this.#read();
    if (this.#state === "open") return this.#reject(this.#openUntilMs - nowMs);
    if (this.#probes.size < this.#halfOpenProbes) {
      return this.#runProbe(operation, context, signal, nowMs);
    }

    return this.#reject(
      this.#oldestProbe()!.startMs + this.#probeTimeoutMs - nowMs,
    );
  }

  #runRecorded<T>(
    operation: BreakerOperation<T>,
    context: BreakerContext,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const epoch = this.#epoch;
    const startMs = this.#slowMs === undefined ? Number.NaN : this.#read();
    const result = start(operation, context);
    result.then(
      () => this.#settleRecorded(epoch, startMs, SUCCESS, undefined),
      (error) =>
        this.#settleRecorded(
          epoch,
          startMs,
          this.#classify(error, signal),
          error,
        ),
    );

    return result;
  }

  #runUnrecorded<T>(
    operation: BreakerOperation<T>,
    context: BreakerContext,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const result = start(operation, context);
    result.then(
      () => this.#count(SUCCESS, undefined, undefined),
      (error) => this.#count(this.#classify(error, signal), error, undefined),
    );

    return result;
  }

  #runProbe<T>(
    operation: BreakerOperation<T>,
    context: BreakerContext,
    signal: AbortSignal | undefined,
    nowMs: number,
  ): Promise<T> {
    const probe: Probe = { startMs: nowMs };
    this.#probes.add(probe);
    const result = start(operation, context);
    result.then(
      () => this.#settleProbe(probe, SUCCESS, undefined),
      (error) => this.#settleProbe(probe, this.#classify(error, signal), error),
    );

    return result;
  }

  #bindFastPath(): void {
    const epoch = this.#epoch;
    this.#onSuccess = () =>
      this.#settleRecorded(epoch, Number.NaN, SUCCESS, undefined);
    this.#onFailure = (error) =>
      this.#settleRecorded(
        epoch,
        Number.NaN,
        this.#classify(error, undefined),
        error,
      );
  }

  /** Records a success with no clock read of its own, but on its stride. */
  #recordUntimedSuccess(): void {
    if (++this.#sinceRead >= this.#stride) this.#readOnStride();
    this.#window.record(0);
    if (this.#window.failures !== 0 && this.#opening() !== undefined) {
      this.#evaluate(this.#read());
    }
  }

  #settleRecorded(
    epoch: number,
    startMs: number,
    kind: Kind,
    error: unknown,
  ): void {
    let durationMs: number | undefined;
    if (kind !== IGNORED && epoch === this.#epoch) {
      if (this.#slowMs !== undefined) {
        const nowMs = this.#read();
        durationMs = nowMs - startMs;
        const slow = durationMs >= this.#slowMs;
        if (kind === FAILURE) this.#lastFailure = error;
        this.#record(
          ((kind === FAILURE ? FAILED : 0) | (slow ? SLOW : 0)) as Outcome,
        );
        this.#evaluate(nowMs);
      } else if (kind === FAILURE) {
        const nowMs = this.#read();
        this.#lastFailure = error;
        this.#record(FAILED);
        this.#evaluate(nowMs);
      } else {
        this.#recordUntimedSuccess();
      }
    }
    this.#count(kind, error, durationMs);
  }

  #settleProbe(probe: Probe, kind: Kind, error: unknown): void {
    let durationMs: number | undefined;
    if (this.#probes.has(probe)) {
      const nowMs = this.#read();
      durationMs = nowMs - probe.startMs;
      if (kind === FAILURE) this.#lastFailure = error;
      if (this.#probes.delete(probe)) this.#judgeProbe(kind, durationMs, nowMs);
    }
    this.#count(kind, error, durationMs);
  }

  #judgeProbe(kind: Kind, durationMs: number, nowMs: number): void {
    if (kind === IGNORED) return;

    if (kind === FAILURE) {
      this.#open(nowMs, "probe-failure");
    } else if (this.#slowMs !== undefined && durationMs >= this.#slowMs) {
      this.#slowCalls++;
      this.#open(nowMs, "probe-slow");
    } else if (++this.#probeSuccesses >= this.#successesToClose) {
      this.#close("probe-success");
    }
  }

  #classify(error: unknown, signal: AbortSignal | undefined): Kind {
    if (signal !== undefined && signal.aborted && error === signal.reason) {
      return IGNORED;
    }

    try {
      return this.#isFailure(error) ? FAILURE : IGNORED;
    } catch (predicateError) {
      reportCallbackError(predicateError);
      return FAILURE;
    }
  }

  #record(outcome: Outcome): void {
    if (outcome & SLOW) this.#slowCalls++;
    this.#window.record(outcome);
  }

  #evaluate(nowMs: number): void {
    const reason = this.#opening();
    if (reason !== undefined) this.#open(nowMs, reason);
  }

  /** Why the window calls for opening now, if it does; closed only. */
  #opening(): "failure-rate" | "slow-call-rate" | undefined {
    const { calls, failures, slowCalls } = this.#window;
    if (this.#state !== "closed" || calls < this.#minimumCalls) {
      return undefined;
    }

    if (failures / calls >= this.#failureRateThreshold) return "failure-rate";
    if (
      this.#slowMs !== undefined &&
      slowCalls / calls >= this.#slowCallRateThreshold
    ) {
      return "slow-call-rate";
    }

    return undefined;
  }

  #count(kind: Kind, error: unknown, durationMs: number | undefined): void {
    const events = this.#events;
    const breakerName = this.#name;
    if (kind === SUCCESS) {
      this.#successes++;
      if (events.active) events.emit("success", { breakerName, durationMs });
    } else if (kind === FAILURE) {
      this.#failures++;
      if (events.active) {
        events.emit("failure", { breakerName, error, durationMs });
      }
    } else {
      this.#ignored++;
      if (events.active) events.emit("ignored", { breakerName, error });
    }
  }

  #reject(retryAfterMs: number): Promise<never> {
    this.#rejected++;
    const error = new BreakerOpenError({
      breakerName: this.#name,
      state: this.#state as BreakerOpenDetails["state"],
      retryAfterMs,
    });
    if (this.#events.active) {
      this.#events.emit("rejected", { breakerName: this.#name, error });
    }

    return Promise.reject(error);
  }

  /** Reads the clock, moves the window and applies lazy transitions. */
  #read(): number {
    const nowMs = this.#clock.now();
    this.#lastReadMs = nowMs;
    this.#sinceRead = 0;
    this.#window.advance(nowMs);

    if (this.#state === "half-open") {
      const oldest = this.#oldestProbe();
      if (
        oldest !== undefined && nowMs - oldest.startMs >= this.#probeTimeoutMs
      ) {
        this.#open(oldest.startMs + this.#probeTimeoutMs, "probe-timeout");
      }
    }
    if (this.#state === "open" && nowMs >= this.#openUntilMs) {
      this.#probeSuccesses = 0;
      this.#transition("half-open", "open-elapsed");
    }

    return nowMs;
  }

  /** A read forced by the stride; adapts the stride to the traffic. */
  #readOnStride(): void {
    const previousMs = this.#lastReadMs;
    const gapMs = this.#read() - previousMs;
    if (gapMs * 4 <= this.#bucketMs) {
      if (this.#stride < MAX_STRIDE) this.#stride *= 2;
    } else if (gapMs * 2 > this.#bucketMs) {
      this.#stride = 1;
    }
  }

  #oldestProbe(): Probe | undefined {
    for (const probe of this.#probes) return probe;
    return undefined;
  }

  #open(atMs: number, reason: BreakerTransitionReason): void {
    this.#reopens = this.#state === "half-open" ? this.#reopens + 1 : 0;
    const durationMs = Math.max(
      this.#openMs * this.#openBackoff ** this.#reopens,
      this.#hintMs(reason),
    );
    this.#openUntilMs = atMs + Math.min(durationMs, this.#maxOpenMs);
    this.#lastFailure = undefined;
    this.#window.clear();
    this.#probes.clear();
    this.#probeSuccesses = 0;
    this.#opens++;
    this.#transition("open", reason);
  }

  /** The failure's own hint for the open period, or 0. */
  #hintMs(reason: BreakerTransitionReason): number {
    if (
      this.#retryAfterMs === undefined ||
      (reason !== "failure-rate" && reason !== "probe-failure")
    ) {
      return 0;
    }

    try {
      const hintMs = this.#retryAfterMs(this.#lastFailure);
      return typeof hintMs === "number" && hintMs >= 0 && hintMs < Infinity
        ? hintMs
        : 0;
    } catch (hintError) {
      reportCallbackError(hintError);
      return 0;
    }
  }

  #close(reason: BreakerTransitionReason): void {
    this.#window.clear();
    this.#probes.clear();
    this.#probeSuccesses = 0;
    this.#reopens = 0;
    this.#transition("closed", reason);
  }

  #transition(to: BreakerState, reason: BreakerTransitionReason): void {
    const from = this.#state;
    this.#enter(to);
    if (from !== to && this.#events.active) {
      this.#events.emit("statechange", {
        breakerName: this.#name,
        from,
        to,
        reason,
      });
    }
  }

  /** Sets the state, retires in-flight outcomes and picks the call path. */
  #enter(state: BreakerState): void {
    this.#state = state;
    this.#epoch++;
    this.#fast = (state === "closed" || state === "disabled") &&
      this.#slowMs === undefined;
    if (this.#fast) this.#bindFastPath();
  }
}
