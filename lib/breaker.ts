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
import { ADMIT_UNTIMED } from "./_hooks.ts";
import { type BreakerConfig, checkBreakerOptions } from "./_breaker_config.ts";
import { guarded, Listeners } from "./_breaker_listeners.ts";
import { fail } from "./_breaker_options.ts";

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
  declare readonly breakerName: string;
  /** The state that turned the call away. */
  declare readonly state: "open" | "half-open" | "forced-open";
  /** Milliseconds until the breaker lets a call through, at the earliest. */
  declare readonly retryAfterMs: number;

  /** Builds the message from `details`; `options.cause` is kept as usual. */
  constructor(details: BreakerOpenDetails, options?: ErrorOptions) {
    const { breakerName, state, retryAfterMs } = details;
    const retry = `retry in ${Math.ceil(retryAfterMs)} ms`;
    super(
      `Breaker ${JSON.stringify(breakerName)} is ${
        state === "forced-open"
          ? "forced open"
          : state === "half-open"
          ? `half-open and its probes are running: ${retry}`
          : `open: ${retry}`
      }`,
      options,
    );
    Object.assign(this, {
      name: "BreakerOpenError",
      breakerName,
      state,
      retryAfterMs,
    });
  }
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
  /**
   * In `"open"`: milliseconds left until the breaker goes half-open. A
   * breaker built from the snapshot waits at most its own `maxOpenMs`.
   */
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

const EVENTS = ["success", "failure", "ignored"] as const;
const TOTALS = ["successes", "failures", "ignored"] as const;

/** The most successes recorded between two clock reads. */
const MAX_STRIDE = 16;

/** The outcome bit of a slow call; bit 0 is a failure's. */
const SLOW = 2;

const NO_SIGNAL: BreakerContext = Object.freeze({});

/**
 * A call the breaker let through. Its outcome counts while `epoch` is the
 * breaker's (NaN for calls that never count), or, for a probe, while the
 * probe is still in the breaker's probe set.
 */
interface Call {
  readonly epoch: number;
  readonly startMs: number;
}

const UNRECORDED: Call = { epoch: NaN, startMs: NaN };

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
 * `slowCallDurationMs`). A success that reads no clock is counted in the
 * bucket of the next clock read: it happened between two reads, and dating
 * it late means a quiet spell can never expire fresh successes early, which
 * would make a healthy service look failing. A success reads the clock
 * itself when it is the `stride`-th success since the last read, or when it
 * would bring the window to its opening point. The stride adapts so that it
 * spans at most about half a bucket in steady traffic: it starts at 1,
 * doubles (up to 16) when a stride's successes took at most a quarter of a
 * bucket, and falls back to 1 when they took more than half of one. After a
 * quiet spell, up to 15 successes made before it may count as made after
 * it. A count window needs no stamps and reads no clock on successes.
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
  readonly #config: BreakerConfig;
  readonly #events = new Listeners<BreakerEventMap>("Breaker");
  readonly #totals: BreakerTotals = {
    successes: 0,
    failures: 0,
    ignored: 0,
    rejected: 0,
    slowCalls: 0,
    opens: 0,
  };
  readonly #probes = new Set<Call>();

  #state: BreakerState = "closed";
  #epoch = 0;
  /** The untimed call of this epoch, shared by its calls. */
  #call!: Call;
  /** Whether `execute` may take the fast path (closed, untimed). */
  #fast!: boolean;
  #onSuccess!: () => void;
  #onFailure!: (error: unknown) => void;
  #recorder!: (failed: boolean, error?: unknown) => void;

  #lastReadMs = NaN;
  #sinceRead = 0;
  #stride: number;

  #openUntilMs = 0;
  #reopens = 0;
  #probeSuccesses = 0;
  #lastFailure: unknown;

  // The window: a ring of `size` slots of three counts (calls, failures,
  // slow calls) with running totals. A time window moves one slot per
  // `bucketMs` of clock time, its slots aligned to multiples of `bucketMs`; a
  // count window (`bucketMs` Infinity) moves one slot per call.
  readonly #size: number;
  readonly #bucketMs: number;
  readonly #slots: Float64Array;
  /** The newest slot's number, counted from the clock's origin. */
  #index: number;
  /** Where the newest slot starts in `#slots`. */
  #at = 0;
  #calls = 0;
  #failures = 0;
  #slowCalls = 0;

  /**
   * Checks `options`, throwing a `TypeError` for a wrong type and a
   * `RangeError` for a value out of range, naming the option and the value.
   * Reads the clock only when `initialState` is given.
   */
  constructor(options?: BreakerOptions) {
    const config = this.#config = checkBreakerOptions(options);
    const { size, bucketMs } = config;
    this.#size = size;
    this.#bucketMs = bucketMs;
    this.#slots = new Float64Array(size * 3);
    this.#index = bucketMs < Infinity ? NaN : 0;
    this.#stride = bucketMs < Infinity ? 1 : Infinity;
    this.#enter("closed", "reset");

    const saved = config.initialState;
    if (saved === undefined) return;

    const nowMs = this.#read();
    if (saved.bucketMs === bucketMs) {
      saved.buckets.slice(0, size).forEach((counts, age) =>
        this.#add(this.#start(this.#index - age), ...counts)
      );
    }
    this.#enter(saved.state, "reset");
    this.#reopens = saved.reopens;
    this.#openUntilMs = nowMs +
      Math.min(saved.openRemainingMs, config.maxOpenMs);
    if (saved.state === "half-open") {
      this.#probeSuccesses = saved.probeSuccesses;
    }
  }

  /** The breaker's name. */
  get name(): string {
    return this.#config.name;
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
    const calls = this.#calls;

    return {
      state: this.#state,
      calls,
      failures: this.#failures,
      slowCalls: this.#slowCalls,
      failureRate: calls && this.#failures / calls,
      slowCallRate: calls && this.#slowCalls / calls,
      totals: { ...this.#totals },
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
      return new Promise(() =>
        fail("Breaker", "operation", "a function", operation)
      );
    }
    if (this.#fast && signal === undefined) {
      const result = start(operation, NO_SIGNAL);
      result.then(this.#onSuccess, this.#onFailure);
      return result;
    }

    return this.#admit(operation, signal);
  }

  /**
   * @internal Lets a call through for a caller that runs it itself, when
   * `execute` would on its fast path: closed or disabled, calls untimed, no
   * `signal`. Returns what records the call's outcome, to call once it
   * settled, `failed` with `error`; undefined otherwise: the call goes
   * through `execute`.
   */
  [ADMIT_UNTIMED](
    signal?: AbortSignal,
  ): ((failed: boolean, error?: unknown) => void) | undefined {
    return this.#fast && signal === undefined ? this.#recorder : undefined;
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
    this.#enter("forced-open", "force-open");
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
    this.#enter("forced-closed", "force-closed");
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
    this.#enter("disabled", "disable");
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
    this.#enter("closed", "reset", true);
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
    const state = this.#state;
    const buckets: BreakerBucketCounts[] = [];
    const outcomes: (0 | 1 | 2 | 3)[] = [];
    for (let age = 0; age < this.#size; age++) {
      const at = this.#start(this.#index - age);
      const [calls, failures, slowCalls] = this.#slots.subarray(at, at + 3);
      buckets.push({ calls, failures, slowCalls });
      if (calls) outcomes.unshift((failures | (slowCalls * SLOW)) as 0);
    }

    return {
      version: 1,
      state,
      openRemainingMs: state === "open" ? this.#openUntilMs - nowMs : 0,
      reopens: this.#reopens,
      probeSuccesses: state === "half-open" ? this.#probeSuccesses : 0,
      window: this.#bucketMs < Infinity
        ? { kind: "time", bucketMs: this.#bucketMs, buckets }
        : { kind: "count", outcomes },
    };
  }

  /** The slow path: signals, timed calls, and every state but closed. */
  #admit<T>(
    operation: BreakerOperation<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);

    const state = this.#state;
    let call: Call | undefined;
    let retryAfterMs = Infinity;
    if (state === "closed" || state === "disabled") {
      call = this.#config.slowCallDurationMs === undefined
        ? this.#call
        : { epoch: this.#epoch, startMs: this.#read() };
    } else if (state === "forced-closed") {
      call = UNRECORDED;
    } else if (state !== "forced-open") {
      const nowMs = this.#read();
      if (this.#state === "open") {
        retryAfterMs = this.#openUntilMs - nowMs;
      } else if (this.#state !== "half-open") {
        // A listener of the transition just applied set a state by hand.
        return this.#admit(operation, signal);
      } else if (this.#probes.size < this.#config.halfOpenProbes) {
        this.#probes.add(call = { epoch: NaN, startMs: nowMs });
      } else {
        retryAfterMs = this.#probeDeadlineMs() - nowMs;
      }
    }
    if (call === undefined) {
      this.#totals.rejected++;
      const breakerName = this.#config.name;
      const error = new BreakerOpenError({
        breakerName,
        state: this.#state as BreakerOpenDetails["state"],
        retryAfterMs,
      });
      this.#events.emit("rejected", { breakerName, error });
      return Promise.reject(error);
    }

    const admitted = call;
    const result = start(operation, signal ? { signal } : NO_SIGNAL);
    result.then(
      () => this.#settle(admitted, SUCCESS),
      (error) => this.#settle(admitted, this.#classify(error, signal), error),
    );
    return result;
  }

  /**
   * Takes a call's outcome. A recorded call's counts in the window if it is
   * of this epoch; a success that is not timed reads no clock of its own but
   * on its stride, which doubles while a stride spans at most a quarter
   * bucket and drops to 1 when one spans more than half a bucket. A probe's
   * outcome decides the half-open state.
   */
  #settle(call: Call, kind: Kind, error?: unknown): void {
    const config = this.#config;
    const slowMs = config.slowCallDurationMs;
    let durationMs: number | undefined;
    if (kind === SUCCESS && call === this.#call) {
      this.#record(0);
      if (++this.#sinceRead >= this.#stride) {
        const previousMs = this.#lastReadMs;
        const gapMs = this.#read() - previousMs;
        if (gapMs * 4 <= this.#bucketMs) {
          this.#stride = Math.min(MAX_STRIDE, this.#stride * 2);
        } else if (gapMs * 2 > this.#bucketMs) {
          this.#stride = 1;
        }
      }
      if (this.#failures && this.#opening()) this.#evaluate(this.#read());
    } else if (kind !== IGNORED && call.epoch === this.#epoch) {
      const nowMs = this.#read();
      if (slowMs !== undefined) durationMs = nowMs - call.startMs;
      if (kind === FAILURE) this.#lastFailure = error;
      const slow = durationMs! >= slowMs! ? SLOW : 0;
      if (slow) this.#totals.slowCalls++;
      this.#record(kind | slow);
      this.#evaluate(nowMs);
    } else if (this.#probes.has(call)) {
      const nowMs = this.#read();
      durationMs = nowMs - call.startMs;
      if (kind === FAILURE) this.#lastFailure = error;
      if (!this.#probes.delete(call) || kind === IGNORED) {
        // A probe that timed out, or an ignored one, decides nothing.
      } else if (kind === FAILURE) {
        this.#open(nowMs, "probe-failure");
      } else if (durationMs >= slowMs!) {
        this.#totals.slowCalls++;
        this.#open(nowMs, "probe-slow");
      } else if (++this.#probeSuccesses >= config.successesToClose) {
        this.#enter("closed", "probe-success", true);
      }
    }

    this.#totals[TOTALS[kind]]++;
    if (this.#events.active) {
      const breakerName = config.name;
      this.#events.emit(
        EVENTS[kind],
        (kind === SUCCESS
          ? { breakerName, durationMs }
          : kind === FAILURE
          ? { breakerName, error, durationMs }
          : { breakerName, error }) as BreakerFailureEvent,
      );
    }
  }

  #classify(error: unknown, signal?: AbortSignal): Kind {
    if (signal?.aborted && error === signal.reason) return IGNORED;

    return guarded(this.#config.isFailure, error, true) ? FAILURE : IGNORED;
  }

  #evaluate(nowMs: number): void {
    const reason = this.#opening();
    if (reason) this.#open(nowMs, reason);
  }

  /** Why the window calls for opening now, if it does; closed only. */
  #opening(): "failure-rate" | "slow-call-rate" | undefined {
    const calls = this.#calls;
    const config = this.#config;
    if (this.#state !== "closed" || calls < config.minimumCalls) {
      return undefined;
    }

    return this.#failures / calls >= config.failureRateThreshold
      ? "failure-rate"
      : config.slowCallDurationMs !== undefined &&
          this.#slowCalls / calls >= config.slowCallRateThreshold
      ? "slow-call-rate"
      : undefined;
  }

  /**
   * Reads the clock, moves the window (carrying the successes counted since
   * the last read into the newest bucket) and applies lazy transitions.
   */
  #read(): number {
    const nowMs = this.#config.clock.now();
    const unread = this.#sinceRead;
    this.#lastReadMs = nowMs;
    this.#sinceRead = 0;
    this.#add(this.#at, -unread, 0, 0);
    this.#move(Math.floor(nowMs / this.#bucketMs));
    this.#add(this.#at, unread, 0, 0);

    if (this.#probes.size) {
      const deadlineMs = this.#probeDeadlineMs();
      if (nowMs >= deadlineMs) this.#open(deadlineMs, "probe-timeout");
    }
    if (this.#state === "open" && nowMs >= this.#openUntilMs) {
      this.#enter("half-open", "open-elapsed");
    }

    return nowMs;
  }

  /** When the oldest running probe times out; `Infinity` with none. */
  #probeDeadlineMs(): number {
    for (const probe of this.#probes) {
      return probe.startMs + this.#config.probeTimeoutMs;
    }
    return Infinity;
  }

  #open(atMs: number, reason: BreakerTransitionReason): void {
    const config = this.#config;
    const hintMs = config.retryAfterMs !== undefined &&
        (reason === "failure-rate" || reason === "probe-failure")
      ? guarded(config.retryAfterMs, this.#lastFailure, 0)
      : 0;
    this.#reopens = this.#state === "half-open" ? this.#reopens + 1 : 0;
    const durationMs = Math.max(
      config.openMs * config.openBackoff ** this.#reopens,
      Number.isFinite(hintMs) ? hintMs! : 0,
    );
    this.#openUntilMs = atMs + Math.min(durationMs, config.maxOpenMs);
    this.#totals.opens++;
    this.#enter("open", reason, true);
  }

  /**
   * Enters `state`: frees the probe slots, retires in-flight outcomes, picks
   * the call path and tells the listeners. `fresh` also empties the window.
   */
  #enter(
    state: BreakerState,
    reason: BreakerTransitionReason,
    fresh?: boolean,
  ): void {
    const from = this.#state;
    this.#state = state;
    this.#probes.clear();
    if (fresh) {
      this.#clear();
      this.#probeSuccesses = 0;
      this.#lastFailure = undefined;
    }
    if (state === "closed") this.#reopens = 0;

    const call = { epoch: ++this.#epoch, startMs: NaN };
    this.#call = call;
    this.#fast = (state === "closed" || state === "disabled") &&
      this.#config.slowCallDurationMs === undefined;
    const onSuccess = this.#onSuccess = () => this.#settle(call, SUCCESS);
    const onFailure = this.#onFailure = (error) =>
      this.#settle(call, this.#classify(error), error);
    this.#recorder = (failed, error) => failed ? onFailure(error) : onSuccess();

    if (from !== state) {
      this.#events.emit("statechange", {
        breakerName: this.#config.name,
        from,
        to: state,
        reason,
      });
    }
  }

  /** Adds an outcome (bit 0 failed, bit 1 slow) to the window. */
  #record(outcome: number): void {
    if (this.#bucketMs === Infinity) this.#move(this.#index + 1);
    if (outcome === 0) {
      this.#slots[this.#at]++;
      this.#calls++;
    } else {
      this.#add(this.#at, 1, outcome & 1, outcome >> 1);
    }
  }

  /** Moves the window's newest slot to `index`, emptying the slots passed. */
  #move(index: number): void {
    if (index <= this.#index) return;

    const steps = index - this.#index;
    if (steps < this.#size) {
      for (let step = 1; step <= steps; step++) {
        const at = this.#start(this.#index + step);
        const slots = this.#slots;
        this.#add(at, -slots[at], -slots[at + 1], -slots[at + 2]);
      }
    } else {
      this.#clear();
    }
    this.#index = index;
    this.#at = this.#start(index);
  }

  #clear(): void {
    this.#slots.fill(0);
    this.#calls =
      this.#failures =
      this.#slowCalls =
      this.#sinceRead =
        0;
  }

  /** Where the slot numbered `index` starts in `#slots`. */
  #start(index: number): number {
    return (index % this.#size + this.#size) % this.#size * 3;
  }

  #add(at: number, calls: number, failures: number, slowCalls: number): void {
    const slots = this.#slots;
    slots[at] += calls;
    slots[at + 1] += failures;
    slots[at + 2] += slowCalls;
    this.#calls += calls;
    this.#failures += failures;
    this.#slowCalls += slowCalls;
  }
}
