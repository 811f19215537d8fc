/**
 * Attempts with backoff and jitter. When every attempt fails, one
 * {@linkcode RetryError} carries every attempt's error, so that callers can
 * catch on any of them, not only on the last.
 *
 * @module
 */

import { type Clock, MAX_DELAY_MS, systemClock } from "./clock.ts";
import { wait } from "./_wait.ts";
import {
  backoffDelay,
  type BackoffFunction,
  type BackoffKind,
  type BackoffSettings,
} from "./_backoff.ts";
import {
  checkClock,
  checkFunction,
  checkNumber,
  checkOptions,
  checkSignal,
  fail,
  keepShape,
} from "./_check.ts";
import { show } from "./_show.ts";

const OWNER = "Retry";

export type { BackoffFunction, BackoffKind, Clock };

/** One failed attempt, as {@linkcode RetryError.attempts} records it. */
export interface AttemptRecord {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** What the attempt threw or rejected with. */
  readonly error: unknown;
  /**
   * When the attempt started, in the clock's milliseconds. Undefined for the
   * first attempt: the retry reads no clock before it, since a read costs
   * about as much as a fast call.
   */
  readonly startedAtMs: number | undefined;
  /** When the attempt's failure was seen, in the clock's milliseconds. */
  readonly endedAtMs: number;
  /** How long the attempt ran; undefined when `startedAtMs` is. */
  readonly durationMs: number | undefined;
  /** The wait that followed it; 0 after the last attempt. */
  readonly delayMs: number;
}

/**
 * Thrown when more than one attempt ran and none succeeded. `errors` holds
 * each failed attempt's error in order (an attempt whose result was retried
 * by `shouldRetryResult` has none), `cause` the last one.
 *
 * @example Catching on any attempt's error
 * ```ts
 * import { Retry, RetryError } from "@dyno/dyno/retry";
 * import assert from "node:assert/strict";
 *
 * class RateLimited extends Error {}
 * const policy = new Retry({ attempts: 2, initialDelayMs: 0 });
 * let calls = 0;
 *
 * const error = await policy.execute(() => {
 *   calls++;
 *   throw calls === 1 ? new RateLimited("429") : new Error("503");
 * }).catch((error) => error);
 *
 * assert.ok(error instanceof RetryError);
 * assert.ok(error instanceof AggregateError);
 * assert.ok(error.has(RateLimited));
 * assert.equal((error.cause as Error).message, "503");
 * ```
 */
export class RetryError extends AggregateError {
  /** The failed attempts, in order. */
  readonly attempts: readonly AttemptRecord[];

  /** Makes the error from the records of the failed attempts. */
  constructor(attempts: readonly AttemptRecord[]) {
    const last = attempts[attempts.length - 1];
    const lastError = last?.error;
    const lastMessage = (lastError as { message?: unknown } | null)?.message;
    super(
      attempts.map((record) => record.error),
      `All ${last?.attempt ?? 0} attempts failed; the last with: ${
        typeof lastMessage === "string" ? lastMessage : show(lastError)
      }`,
      { cause: lastError },
    );
    this.name = "RetryError";
    this.attempts = attempts;
  }

  /** Whether any attempt failed with an instance of `errorClass`. */
  has(errorClass: abstract new (...args: never[]) => unknown): boolean {
    return this.errors.some((error) => error instanceof errorClass);
  }
}

/**
 * What each attempt receives. `signal` is a getter that makes the attempt's
 * signal on first read: destructure it (`({ attempt, signal }) => …`) or read
 * it from the context, but do not spread the context into a new object.
 */
export interface AttemptContext {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * Aborts when the caller's signal aborts while the attempt runs. Each
   * attempt has its own, made on first read. Without a caller's signal it
   * never aborts.
   */
  readonly signal: AbortSignal;
}

/** What {@linkcode RetryOptions.onRetry} hears before each wait. */
export interface RetryEvent {
  /** The attempt that just failed; 1 for the first. */
  readonly attempt: number;
  /** The wait before the next attempt, in milliseconds. */
  readonly delayMs: number;
  /** The failed attempt's error, or undefined when a result was retried. */
  readonly error: unknown;
}

/** Options for {@linkcode Retry} and {@linkcode retry}. */
export interface RetryOptions<T = unknown> {
  /**
   * How many attempts in all, the first included: a whole number >= 1.
   *
   * @default {3}
   */
  attempts?: number;
  /**
   * How the wait grows: a built-in kind or a function of the retry number.
   * `full-jitter` draws from 0 to the exponential delay; `decorrelated-jitter`
   * from `initialDelayMs` to three times the previous delay.
   *
   * @default {"full-jitter"}
   */
  backoff?: BackoffKind | BackoffFunction;
  /**
   * The base of every wait, in milliseconds: the first wait of `constant`,
   * `linear` and `exponential`; `full-jitter` draws its first wait from 0 to
   * it, `decorrelated-jitter` from it to three times it.
   *
   * @default {100}
   */
  initialDelayMs?: number;
  /**
   * The cap on every wait, in milliseconds; Infinity means the timer limit,
   * 2^31-1 ms.
   *
   * @default {30000}
   */
  maxDelayMs?: number;
  /**
   * The growth factor of `exponential` and `full-jitter`, >= 1.
   *
   * @default {2}
   */
  factor?: number;
  /**
   * Whether an error is worth another attempt. If it throws, the call rejects
   * with what it threw, as do `retryAfterMs` and a `backoff` function.
   *
   * @default {() => true}
   */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /**
   * Whether a result is worth another attempt (a 503 response, say). When
   * attempts run out, the last result is returned. The wait before the next
   * attempt is the backoff's: `retryAfterMs` reads errors only, so to honour
   * a response's `Retry-After`, throw an error carrying `retryAfterMs`
   * instead (as `serviceFetch` of `@dyno/dyno/service` does).
   */
  shouldRetryResult?: (result: T, attempt: number) => boolean;
  /**
   * A server's hint for the next wait, in milliseconds, or undefined. It
   * replaces the backoff's delay, still capped by `maxDelayMs`.
   *
   * @default {reads a finite, non-negative `error.retryAfterMs`}
   */
  retryAfterMs?: (error: unknown) => number | undefined;
  /** Called before each wait; a hook that throws is ignored. */
  onRetry?: (event: RetryEvent) => void;
  /**
   * Where time and timers come from.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * The random source for jitter, giving numbers in [0, 1).
   *
   * @default {Math.random}
   */
  random?: () => number;
}

/**
 * A retry policy: runs an operation up to `attempts` times, waiting between
 * attempts by its backoff.
 *
 * Only one attempt ran (the first error was not retryable, or `attempts` is
 * 1): its error is thrown as it is. More than one ran: a
 * {@linkcode RetryError}. The caller's signal stops the current attempt and
 * the pending wait at once, rejecting with `signal.reason`.
 *
 * @example Inline around a block of code
 * ```ts
 * import { Retry } from "@dyno/dyno/retry";
 * import assert from "node:assert/strict";
 *
 * const policy = new Retry({ attempts: 3, backoff: "constant", initialDelayMs: 0 });
 * const answer = await policy.execute(({ attempt }) => {
 *   if (attempt < 3) throw new Error(`flaky ${attempt}`);
 *   return "third time lucky";
 * });
 * assert.equal(answer, "third time lucky");
 * ```
 */
export class Retry<T = unknown> {
  readonly #settings: RetrySettings<T>;

  /**
   * Checks the options; starts no timer.
   *
   * @throws {TypeError} When `options` is not an object, an option has the
   * wrong type (`attempts: "3"`), `backoff` is not a known kind or a function,
   * or `clock` lacks a clock's methods.
   * @throws {RangeError} When a number is out of range: `attempts` not a
   * whole number >= 1, `initialDelayMs` or `maxDelayMs` negative or NaN,
   * `factor` below 1, `initialDelayMs` or `factor` not finite.
   */
  constructor(options: RetryOptions<T> = {}) {
    checkOptions(OWNER, options);
    const {
      attempts = 3,
      backoff = "full-jitter",
      initialDelayMs = 100,
      maxDelayMs = 30_000,
      factor = 2,
    } = options;
    checkNumber(OWNER, "attempts", attempts, 1, true);
    checkBackoff(backoff);
    checkNumber(OWNER, "initialDelayMs", initialDelayMs, 0);
    checkNumber(OWNER, "maxDelayMs", maxDelayMs, 0, false, false);
    checkNumber(OWNER, "factor", factor, 1);
    for (
      const hook of [
        "shouldRetry",
        "shouldRetryResult",
        "retryAfterMs",
        "onRetry",
        "random",
      ] as const
    ) {
      checkFunction(OWNER, hook, options[hook]);
    }
    checkClock(OWNER, options.clock);

    this.#settings = {
      attempts,
      kind: backoff,
      initialDelayMs,
      maxDelayMs,
      factor,
      shouldRetry: options.shouldRetry ?? (() => true),
      shouldRetryResult: options.shouldRetryResult,
      retryAfterMs: options.retryAfterMs ?? retryAfterField,
      onRetry: options.onRetry,
      clock: options.clock ?? systemClock,
      random: options.random ?? Math.random,
    };
  }

  /**
   * Runs `operation` until it succeeds, its error is not retryable, or the
   * attempts run out. Rejects with a `TypeError` when `operation` is not a
   * function or `signal` is not an `AbortSignal`.
   */
  execute<R extends T>(
    operation: (context: AttemptContext) => R | PromiseLike<R>,
    signal?: AbortSignal | null,
  ): Promise<R> {
    try {
      checkFunction("Retry.execute", "operation", operation, true);
      const settings = this.#settings as RetrySettings<R>;
      if (signal == null && settings.shouldRetryResult === undefined) {
        return firstAttempt(settings, operation);
      }

      checkSignal("Retry.execute", signal);
      if (signal?.aborted) throw signal.reason;

      const run = new RetryRun<R>(settings, operation, signal ?? undefined, 0)
        .run();
      return signal == null ? run : raceAbort(run, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * Wraps `fn` so that each call is retried by `options`. The wrapper keeps
 * `fn`'s signature, `name` and `length`, and passes on the `this` it is
 * called with, so a wrapped method still works as one; use
 * {@linkcode Retry.execute} for the attempt's number and `AbortSignal`.
 * Throws a `TypeError` when `fn` is not a function, and what the
 * {@linkcode Retry} constructor throws for bad options.
 *
 * @example Retrying a flaky function
 * ```ts
 * import { retry } from "@dyno/dyno/retry";
 * import assert from "node:assert/strict";
 *
 * let failuresLeft = 2;
 * const fetchScore = retry(async (player: string) => {
 *   if (failuresLeft-- > 0) throw new Error("upstream hiccup");
 *   return `${player}: 42`;
 * }, { attempts: 3, initialDelayMs: 1 });
 *
 * assert.equal(await fetchScore("ada"), "ada: 42");
 * ```
 */
export function retry<A extends unknown[], T>(
  fn: (...args: A) => T | PromiseLike<T>,
  options?: RetryOptions<T>,
): (...args: A) => Promise<T> {
  checkFunction("retry", "fn", fn, true);
  const policy = new Retry<T>(options);

  return keepShape(fn, function (this: unknown, ...args: A): Promise<T> {
    return policy.execute(() => fn.apply(this, args));
  });
}

interface RetrySettings<T> extends BackoffSettings {
  attempts: number;
  shouldRetry: (error: unknown, attempt: number) => boolean;
  shouldRetryResult: ((result: T, attempt: number) => boolean) | undefined;
  retryAfterMs: (error: unknown) => number | undefined;
  onRetry: ((event: RetryEvent) => void) | undefined;
  clock: Clock;
  random: () => number;
}

/** One attempt's context: its number and, made on first read, its signal. */
class Attempt implements AttemptContext {
  readonly attempt: number;
  #outer: AbortSignal | undefined;
  #controller: AbortController | undefined;

  constructor(attempt: number, outer: AbortSignal | undefined) {
    this.attempt = attempt;
    this.#outer = outer;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      const outer = this.#outer;
      if (outer?.aborted) this.#controller.abort(outer.reason);
      else outer?.addEventListener("abort", this, { once: true });
    }

    return this.#controller.signal;
  }

  /** Aborts the attempt's signal when the caller's signal aborts. */
  handleEvent(): void {
    this.#controller?.abort(this.#outer!.reason);
  }

  /**
   * Unlinks the attempt's signal from the caller's: the attempt is over, and
   * a signal first read after this never aborts.
   */
  end(): void {
    this.#outer?.removeEventListener("abort", this);
    this.#outer = undefined;
  }
}

/** One call of a retry policy, from its first attempt to its outcome. */
class RetryRun<T> {
  readonly #settings: RetrySettings<T>;
  readonly #operation: (context: AttemptContext) => T | PromiseLike<T>;
  readonly #outer: AbortSignal | undefined;
  #records: AttemptRecord[] | undefined;
  #count: number;
  #current: Attempt | undefined;
  #startedAtMs: number | undefined;
  #previousDelayMs = 0;

  /** Starts after `count` attempts have already run. */
  constructor(
    settings: RetrySettings<T>,
    operation: (context: AttemptContext) => T | PromiseLike<T>,
    outer: AbortSignal | undefined,
    count: number,
  ) {
    this.#settings = settings;
    this.#operation = operation;
    this.#outer = outer;
    this.#count = count;
  }

  run(): Promise<T> {
    const attempt = new Attempt(++this.#count, this.#outer);
    this.#current = attempt;

    let result: T | PromiseLike<T>;
    try {
      result = this.#operation(attempt);
    } catch (error) {
      return this.failed(error);
    }

    return Promise.resolve(result).then(
      (value) => this.#succeeded(value),
      (error) => this.failed(error),
    );
  }

  /** The value, or the next attempt's promise when the value is retried. */
  #succeeded(value: T): T | Promise<T> {
    this.#current?.end();
    const { shouldRetryResult, attempts } = this.#settings;
    if (
      shouldRetryResult === undefined || this.#count >= attempts ||
      this.#outer?.aborted || !shouldRetryResult(value, this.#count)
    ) {
      return value;
    }

    return this.#waitAndRetry(undefined, this.#nextDelay(undefined));
  }

  /** The next attempt's promise, or throws when the retry gives up. */
  failed(error: unknown): Promise<T> {
    const endedAtMs = this.#settings.clock.now();
    this.#current?.end();
    const outer = this.#outer;
    if (outer?.aborted) throw outer.reason;

    const { attempts, shouldRetry, retryAfterMs } = this.#settings;
    if (this.#count < attempts && shouldRetry(error, this.#count)) {
      const delayMs = this.#nextDelay(retryAfterMs(error));
      this.#record(error, endedAtMs, delayMs);
      return this.#waitAndRetry(error, delayMs);
    }
    if (this.#count === 1) throw error;

    this.#record(error, endedAtMs, 0);
    throw new RetryError(this.#records!);
  }

  #waitAndRetry(error: unknown, delayMs: number): Promise<T> {
    this.#notify(error, delayMs);

    const next = () => {
      this.#startedAtMs = this.#settings.clock.now();
      return this.run();
    };
    return wait(delayMs, this.#outer, this.#settings.clock)
      .then(next);
  }

  #nextDelay(hintMs: number | undefined): number {
    const settings = this.#settings;
    const delayMs = typeof hintMs === "number" && hintMs >= 0
      ? Math.min(hintMs, settings.maxDelayMs, MAX_DELAY_MS) || 0
      : backoffDelay(
        settings,
        this.#count,
        this.#previousDelayMs,
        settings.random,
      );
    this.#previousDelayMs = delayMs;

    return delayMs;
  }

  #record(error: unknown, endedAtMs: number, delayMs: number): void {
    const startedAtMs = this.#startedAtMs;
    (this.#records ??= []).push({
      attempt: this.#count,
      error,
      startedAtMs,
      endedAtMs,
      durationMs: startedAtMs === undefined
        ? undefined
        : endedAtMs - startedAtMs,
      delayMs,
    });
  }

  #notify(error: unknown, delayMs: number): void {
    try {
      this.#settings.onRetry?.({ attempt: this.#count, delayMs, error });
    } catch {
      // A hook cannot change the outcome of the call.
    }
  }
}

/**
 * A call without a caller's signal or a result check, the common case: until
 * the first attempt fails, it costs one small context, one closure and one
 * promise reaction.
 */
function firstAttempt<T>(
  settings: RetrySettings<T>,
  operation: (context: AttemptContext) => T | PromiseLike<T>,
): Promise<T> {
  const retryAfterFailure = (error: unknown) =>
    new RetryRun(settings, operation, undefined, 1).failed(error);

  try {
    return Promise.resolve(operation(new Attempt(1, undefined))).then(
      undefined,
      retryAfterFailure,
    );
  } catch (error) {
    return Promise.reject(error).then(undefined, retryAfterFailure);
  }
}

/** Settles with `work`, or rejects with `signal.reason` once it aborts. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}

function retryAfterField(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;

  return typeof value === "number" && value >= 0 && value < Infinity
    ? value
    : undefined;
}

function checkBackoff(backoff: unknown): void {
  if (typeof backoff !== "function" && !KINDS.includes(backoff as string)) {
    fail(OWNER, "backoff", `one of ${KINDS.join(", ")} or a function`, backoff);
  }
}

const KINDS = [
  "constant",
  "linear",
  "exponential",
  "full-jitter",
  "decorrelated-jitter",
];
