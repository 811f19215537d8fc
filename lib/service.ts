/**
 * One wrapper that turns a function making a single attempt at a dependency
 * into a resilient call: the worker pool, a deadline, retries, a circuit
 * breaker, a fallback and metrics, each optional, configured in one object.
 *
 * The layers, from the caller inwards, and why in that order:
 *
 * 1. **fallback**: sees the final outcome only, whatever layer produced the
 *    failure (an open breaker, a full pool, a timeout, the last retry). It
 *    sits outside the cache, so that a stale value the cache may serve when a
 *    refresh fails comes before it, and its answers are never cached.
 * 2. **cache** (optional, `service()` only): a fresh value answers without
 *    touching anything below, so a hit costs the upstream nothing.
 * 3. **total deadline** (`totalTimeoutMs`): bounds the whole call, retries
 *    and waits included.
 * 4. **retry**: each attempt passes through the breaker anew, so a breaker
 *    that opens mid-way stops the retries: its rejections, and the pool's,
 *    are never retried.
 * 5. **breaker**: judges each attempt's outcome; a full pool is not the
 *    upstream's fault and does not count against it.
 * 6. **bulkhead**: bounds concurrent attempts on the upstream; time spent
 *    queued is bounded by its own `queueTimeoutMs`, not by the deadline.
 * 7. **attempt deadline** (`timeoutMs`): innermost, so that it times the
 *    upstream alone, and so that the pool sees a timed-out attempt that is
 *    still running and keeps its permit until it really ends.
 *
 * Metrics count each attempt once (success, failure, timeout, short-circuit,
 * rejection), each retry, each answer the fallback gave or failed to give,
 * and the calls in flight: calls inside the layers below the fallback (a
 * cache hit, and the time a fallback takes to answer, are not in flight). An
 * attempt that ends with the caller's own abort reason is not counted, as
 * {@linkcode Metrics.execute} does not count it.
 *
 * @module
 */

import { type Clock, MAX_DELAY_MS, systemClock } from "./clock.ts";
import { Bulkhead, BulkheadRejectedError } from "./bulkhead.ts";
import type { BulkheadOptions } from "./bulkhead.ts";
import { Breaker, BreakerOpenError } from "./breaker.ts";
import type { BreakerOptions } from "./breaker.ts";
import { Retry, type RetryOptions } from "./retry.ts";
import { Timeout, type TimeoutContext } from "./timeout.ts";
import {
  ADMIT_UNTIMED,
  FALL_BACK,
  RELEASE,
  TRY_ACQUIRE,
  WITHOUT_FALLBACK,
} from "./_hooks.ts";
import { Fallback, type FallbackOptions } from "./fallback.ts";
import { Metrics, type MetricsOptions, MetricsRegistry } from "./metrics.ts";
import type { LoadingCache } from "./cache.ts";

export type { Clock };

/** What each attempt of a service's operation receives. */
export interface ServiceContext {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * Aborts at the attempt's deadline, at the total deadline, or when the
   * caller's signal aborts.
   */
  readonly signal: AbortSignal | undefined;
}

/** A cache in front of a service. */
export interface ServiceCache<A extends unknown[], T> {
  /** The cache; a miss loads through the service. */
  cache: LoadingCache<T>;
  /** The cache key of a call's arguments. */
  key: (...args: A) => string;
}

/** Options for {@linkcode Service} and {@linkcode service}. */
export interface ServiceOptions<A extends unknown[] = unknown[], T = unknown> {
  /** The service's name, in metrics, errors and events. */
  name: string;
  /**
   * The clock every layer reads.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /** The worker pool's options, or a pool to share. Unset: no pool. */
  bulkhead?: Omit<BulkheadOptions, "clock"> | Bulkhead;
  /** Each attempt's deadline in milliseconds. Unset: none. */
  timeoutMs?: number;
  /** The deadline for the whole call, retries included. Unset: none. */
  totalTimeoutMs?: number;
  /**
   * Retry options. Breaker and pool rejections are never retried, whatever
   * `shouldRetry` says. Unset: one attempt.
   */
  retry?: Omit<RetryOptions<T>, "clock">;
  /**
   * Breaker options, or a breaker to share. With options, a full pool and
   * the caller's own abort never count as failures, and a failure's
   * `retryAfterMs` (a `Retry-After` header) lengthens the open period. A
   * breaker to share keeps its own `isFailure` and `retryAfterMs`: give it an
   * `isFailure` that excludes `BulkheadRejectedError` when a pool sits
   * behind it. Unset: no breaker.
   */
  breaker?: Omit<BreakerOptions, "clock"> | Breaker;
  /** Answers the final failure with a value or a handler. Unset: none. */
  fallback?: FallbackOptions<T>;
  /**
   * Where the service's metrics are registered, for exporters and the
   * dashboard, or their options (`registry`, `windowMs`, `latencyWindowMs`,
   * …); `false` keeps no metrics.
   *
   * @default {metrics kept with their defaults, registered nowhere}
   */
  metrics?:
    | MetricsRegistry
    | Omit<MetricsOptions, "name" | "clock" | "circuitState" | "queued">
    | false;
  /**
   * A cache in front of the service, for the wrapper form (`service(fn)`);
   * `new Service` rejects it. A miss loads through every layer under the
   * load's own signal, so one caller giving up does not fail the others
   * waiting for the same key. The fallback sits outside the cache: it answers
   * only when the cache has nothing to serve, and its answers are not cached.
   */
  cache?: ServiceCache<A, T>;
  /**
   * Picks the caller's `AbortSignal` out of a call's arguments, for the
   * wrapper form (`service(fn)`), such as `([, init]) => init?.signal`.
   */
  signalFrom?: (args: A) => AbortSignal | undefined;
  /**
   * Puts an attempt's signal into a call's arguments, for the wrapper form,
   * such as `([url, init], signal) => [url, { ...init, signal }]`.
   */
  signalInto?: (args: A, signal: AbortSignal) => [...A];
}

/**
 * A resilient call path to one dependency. See the module's documentation
 * for the order of the layers.
 *
 * @example A flaky dependency behind a pool, deadline, retry and breaker
 * ```ts
 * import { Service } from "@dyno/dyno/service";
 * import { MetricsRegistry } from "@dyno/dyno/metrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * const prices = new Service<number>({
 *   name: "prices",
 *   bulkhead: { maxConcurrent: 4, maxQueued: 8 },
 *   timeoutMs: 500,
 *   retry: { attempts: 3, initialDelayMs: 1 },
 *   breaker: { minimumCalls: 10 },
 *   fallback: { value: -1 },
 *   metrics: registry,
 * });
 *
 * let calls = 0;
 * const price = await prices.execute(async () => {
 *   if (++calls < 3) throw new Error("503");
 *   return 42;
 * });
 *
 * assert.equal(price, 42);
 * const [snapshot] = registry.snapshot();
 * assert.equal(snapshot.cumulative.failures, 2);
 * assert.equal(snapshot.cumulative.retries, 2);
 * assert.equal(snapshot.cumulative.successes, 1);
 * ```
 */
export class Service<T = unknown> {
  /** The service's name. */
  readonly name: string;
  /** The breaker, when one was configured. */
  readonly breaker: Breaker | undefined;
  /** The worker pool, when one was configured. */
  readonly bulkhead: Bulkhead | undefined;
  /** The metrics, unless `metrics: false`. */
  readonly metrics: Metrics | undefined;

  readonly #clock: Clock;
  readonly #timeout: Timeout | undefined;
  readonly #totalTimeout: Timeout | undefined;
  readonly #retry: Retry<T> | undefined;
  readonly #fallback: Fallback<T> | undefined;
  readonly #callEnded = (): void => this.metrics?.callEnded();

  /** Checks the options and builds the layers; starts no timer. */
  constructor(options: ServiceOptions<unknown[], T>) {
    const { name, clock = systemClock } = options ?? {};
    if (typeof name !== "string" || name === "") {
      throw new TypeError(
        `Service: name must be a non-empty string, got ${JSON.stringify(name)}`,
      );
    }

    for (const wrapperOnly of ["cache", "signalFrom", "signalInto"] as const) {
      if (options[wrapperOnly] !== undefined) {
        throw new TypeError(
          `Service: ${wrapperOnly} needs a call's arguments, so it works only ` +
            `in the wrapper form, service(fn, options); remove it here`,
        );
      }
    }

    this.name = name;
    this.#clock = clock;
    this.bulkhead = buildBulkhead(options.bulkhead, name, clock);
    this.breaker = buildBreaker(options.breaker, name, clock);
    this.#timeout = buildTimeout("timeoutMs", options.timeoutMs, clock);
    this.#totalTimeout = buildTimeout(
      "totalTimeoutMs",
      options.totalTimeoutMs,
      clock,
    );
    this.#fallback = options.fallback === undefined
      ? undefined
      : new Fallback<T>(options.fallback);
    this.metrics = buildMetrics(options.metrics, name, clock, this);
    this.#retry = buildRetry(options.retry, clock, this.metrics);
  }

  /**
   * Runs `operation` through every configured layer. The operation gets the
   * attempt's number and signal.
   */
  execute(
    operation: (context: ServiceContext) => T | PromiseLike<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.#fallback === undefined
      ? this[WITHOUT_FALLBACK](operation, signal)
      : this[FALL_BACK](
        () => this[WITHOUT_FALLBACK](operation, signal),
        signal,
      );
  }

  /** Every layer but the fallback, counted in the calls in flight. */
  [WITHOUT_FALLBACK](
    operation: (context: ServiceContext) => T | PromiseLike<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const metrics = this.metrics;
    metrics?.callStarted();

    const outcome = this.#withTotalDeadline(operation, signal);
    if (metrics === undefined) return outcome;

    outcome.then(this.#callEnded, this.#callEnded);
    return outcome;
  }

  /**
   * The fallback, when one is configured, around `run`'s outcome: the
   * service's layers, or a cache in front of them.
   */
  [FALL_BACK](
    run: () => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const fallback = this.#fallback;
    if (fallback === undefined) return run();

    const metrics = this.metrics;
    if (metrics === undefined) return fallback.execute(run, signal);

    let failure: unknown = NOT_FAILED;
    const answer = fallback.execute(
      () =>
        run().catch((error) => {
          failure = error;
          throw error;
        }),
      signal,
    );
    return answer.then(
      (value) => {
        if (failure !== NOT_FAILED) metrics.recordFallbackSuccess();
        return value;
      },
      (error) => {
        // The failure itself comes back when the fallback let it pass.
        if (failure !== NOT_FAILED && error !== failure) {
          metrics.recordFallbackFailure();
        }
        throw error;
      },
    );
  }

  #withTotalDeadline(
    operation: (context: ServiceContext) => T | PromiseLike<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const total = this.#totalTimeout;
    if (total === undefined) return this.#withRetry(operation, signal, signal);

    return total.execute(
      (context) => this.#withRetry(operation, context.signal, signal),
      signal,
    );
  }

  /** `caller` is the caller's own signal; `signal` may add the deadline. */
  #withRetry(
    operation: (context: ServiceContext) => T | PromiseLike<T>,
    signal: AbortSignal | undefined,
    caller: AbortSignal | undefined,
  ): Promise<T> {
    const retry = this.#retry;
    if (retry === undefined) return this.#attempt(operation, 1, signal, caller);

    return retry.execute(
      (context) =>
        this.#attempt(
          operation,
          context.attempt,
          signal === undefined ? undefined : context.signal,
          caller,
        ),
      signal,
    );
  }

  /**
   * One attempt through breaker, pool and deadline, timed for metrics. When
   * the breaker or the pool would let it through at once, the attempt takes
   * that admission itself and reports its outcome back to them, with its
   * metrics, in one promise reaction instead of one per layer.
   */
  #attempt(
    operation: (context: ServiceContext) => T | PromiseLike<T>,
    attempt: number,
    signal: AbortSignal | undefined,
    caller: AbortSignal | undefined,
  ): Promise<T> {
    const metrics = this.metrics;
    const context = new Attempt(
      attempt,
      signal,
      metrics !== undefined && this.#timeout === undefined
        ? new Stopwatch(this.#clock)
        : undefined,
    );
    const breaker = this.breaker;
    const recorder = breaker?.[ADMIT_UNTIMED](signal);
    const result = breaker === undefined || recorder !== undefined
      ? this.#guarded(operation, context)
      : breaker.execute(() => this.#guarded(operation, context), signal);

    const bulkhead = this.bulkhead;
    if (metrics === undefined && recorder === undefined && !bulkhead) {
      return result;
    }

    result.then(
      () => {
        if (context.hasPermit) bulkhead![RELEASE](false);
        recorder?.(false);
        metrics?.recordSuccess(context.elapsedMs(this.#clock));
      },
      (error) => {
        if (context.hasPermit) bulkhead![RELEASE](true, error);
        recorder?.(true, error);
        if (metrics && !(caller?.aborted && error === caller.reason)) {
          recordFailure(metrics, error, context.elapsedMs(this.#clock));
        }
      },
    );
    return result;
  }

  /**
   * The attempt through the pool and its deadline. The breaker and the pool
   * pass the signal they were given on unchanged, so `context` keeps it.
   */
  #guarded(
    operation: (context: ServiceContext) => T | PromiseLike<T>,
    context: Attempt,
  ): Promise<T> {
    const bulkhead = this.bulkhead;
    if (bulkhead === undefined) return this.#timed(operation, context);
    if (!bulkhead[TRY_ACQUIRE](context.outer)) {
      return bulkhead.execute(
        () => this.#timed(operation, context),
        context.outer,
      );
    }

    context.hasPermit = true;
    return this.#timed(operation, context);
  }

  #timed(
    operation: (context: ServiceContext) => T | PromiseLike<T>,
    context: Attempt,
  ): Promise<T> {
    const timeout = this.#timeout;
    if (timeout === undefined) return context.run(operation);

    return timeout.execute(
      (deadline) => context.runWithin(deadline, operation),
      context.outer,
    );
  }
}

/**
 * An attempt's context, whose signal is made only when read. It times the
 * attempt for metrics: under a deadline, from the deadline's start, which
 * reads the clock only for a call still pending at the end of the microtask
 * turn it started in; otherwise with a {@linkcode Stopwatch}.
 */
class Attempt implements ServiceContext {
  readonly attempt: number;
  /** The signal of the layers around the deadline. */
  readonly outer: AbortSignal | undefined;
  /** Whether the attempt took a pool permit itself, to give back. */
  hasPermit = false;
  readonly #watch: Stopwatch | undefined;
  #deadline: TimeoutContext | undefined;

  constructor(
    attempt: number,
    outer: AbortSignal | undefined,
    watch: Stopwatch | undefined,
  ) {
    this.attempt = attempt;
    this.outer = outer;
    this.#watch = watch;
  }

  get signal(): AbortSignal | undefined {
    return this.#deadline === undefined ? this.outer : this.#deadline.signal;
  }

  /** Runs the operation with no deadline, timed by the stopwatch if any. */
  run<T>(
    operation: (context: ServiceContext) => T | PromiseLike<T>,
  ): Promise<T> {
    let work: Promise<T>;
    try {
      work = Promise.resolve(operation(this));
    } catch (error) {
      return Promise.reject(error);
    }
    const watch = this.#watch;
    if (watch !== undefined) {
      work.then(watch.stop, watch.stop);
      queueMicrotask(watch.start);
    }

    return work;
  }

  /** Runs the operation under `deadline`, which times it. */
  runWithin<T>(
    deadline: TimeoutContext,
    operation: (context: ServiceContext) => T | PromiseLike<T>,
  ): T | PromiseLike<T> {
    this.#deadline = deadline;
    return operation(this);
  }

  /** Milliseconds the operation ran, or has run so far; 0 if it never ran. */
  elapsedMs(clock: Clock): number {
    if (this.#watch !== undefined) return this.#watch.elapsedMs();

    const startedAtMs = this.#deadline?.startedAtMs;
    return startedAtMs === undefined ? 0 : clock.now() - startedAtMs;
  }
}

/**
 * Times an operation without a clock read when it settles within the
 * microtask turn it started in (its latency is then taken as 0): the start
 * is read only at the end of that turn, if the work is still pending.
 */
class Stopwatch {
  readonly #clock: Clock;
  #startedAtMs = Number.NaN;
  #endedAtMs = Number.NaN;
  #settled = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  readonly start = (): void => {
    if (!this.#settled) this.#startedAtMs = this.#clock.now();
  };

  readonly stop = (): void => {
    this.#settled = true;
    if (this.#startedAtMs === this.#startedAtMs) {
      this.#endedAtMs = this.#clock.now();
    }
  };

  /** Milliseconds from start to stop, or to now while still running. */
  elapsedMs(): number {
    if (Number.isNaN(this.#startedAtMs)) return 0;

    const endMs = this.#settled ? this.#endedAtMs : this.#clock.now();
    return endMs - this.#startedAtMs;
  }
}

/**
 * Wraps `fn` in a {@linkcode Service}: the result keeps `fn`'s signature and
 * exposes the service's `breaker`, `bulkhead` and `metrics`. Give
 * `signalFrom` and `signalInto` so that deadlines and the caller's abort
 * reach `fn`.
 *
 * @example Wrapping a function
 * ```ts
 * import { service } from "@dyno/dyno/service";
 * import assert from "node:assert/strict";
 *
 * const lookUp = service(async (id: number) => ({ id, name: "Ada" }), {
 *   name: "users",
 *   timeoutMs: 1_000,
 *   breaker: { minimumCalls: 5 },
 *   fallback: { value: { id: 0, name: "unknown" } },
 * });
 *
 * assert.deepEqual(await lookUp(7), { id: 7, name: "Ada" });
 * assert.equal(lookUp.breaker?.state, "closed");
 * ```
 */
export function service<A extends unknown[], T>(
  fn: (...args: A) => T | PromiseLike<T>,
  options: ServiceOptions<[...A], T>,
): ServiceFunction<A, T> {
  const { cache, signalFrom, signalInto, ...layers } = options;
  const policy = new Service<T>(layers as ServiceOptions<unknown[], T>);

  const call = (args: A, caller: AbortSignal | undefined): Promise<T> =>
    policy[WITHOUT_FALLBACK](
      ({ signal }) =>
        signal === undefined || signalInto === undefined
          ? fn(...args)
          : fn(...signalInto(args, signal)),
      caller,
    );
  const resilient = (...args: A): Promise<T> => {
    let caller: AbortSignal | undefined;
    let cached: Promise<T> | undefined;
    try {
      caller = signalFrom?.(args) ?? undefined;
      if (caller?.aborted) return Promise.reject(caller.reason);

      if (cache !== undefined) {
        cached = Promise.resolve(cache.cache.read(
          cache.key(...args),
          (context) => call(args, context.signal),
          caller && { signal: caller },
        ));
      }
    } catch (error) {
      return Promise.reject(error);
    }

    return policy[FALL_BACK](() => cached ?? call(args, caller), caller);
  };

  Object.defineProperty(resilient, "length", { value: fn.length });
  return Object.assign(resilient, {
    service: policy,
    breaker: policy.breaker,
    bulkhead: policy.bulkhead,
    metrics: policy.metrics,
  });
}

/** What {@linkcode service} returns: `fn`'s signature plus its layers. */
export type ServiceFunction<A extends unknown[], T> =
  & ((...args: A) => Promise<T>)
  & {
    /** The service behind the function. */
    readonly service: Service<T>;
    /** The breaker, when one was configured. */
    readonly breaker: Breaker | undefined;
    /** The worker pool, when one was configured. */
    readonly bulkhead: Bulkhead | undefined;
    /** The metrics, unless `metrics: false`. */
    readonly metrics: Metrics | undefined;
  };

function recordFailure(metrics: Metrics, error: unknown, latencyMs: number) {
  if (error instanceof BreakerOpenError) metrics.recordShortCircuited();
  else if (error instanceof BulkheadRejectedError) metrics.recordRejected();
  else if ((error as Error | null)?.name === "TimeoutError") {
    metrics.recordTimeout(latencyMs);
  } else metrics.recordFailure(latencyMs);
}

const NOT_FAILED: unique symbol = Symbol("not failed");

function isRejection(error: unknown): boolean {
  return error instanceof BreakerOpenError ||
    error instanceof BulkheadRejectedError;
}

function buildTimeout(
  option: "timeoutMs" | "totalTimeoutMs",
  timeoutMs: number | undefined,
  clock: Clock,
): Timeout | undefined {
  if (timeoutMs === undefined) return undefined;
  if (
    typeof timeoutMs !== "number" || !(timeoutMs >= 1) ||
    timeoutMs > MAX_DELAY_MS
  ) {
    throw new RangeError(
      `Service: ${option} must be a number from 1 to ${MAX_DELAY_MS}, got ${
        String(timeoutMs)
      }`,
    );
  }

  return new Timeout({ timeoutMs, clock });
}

function buildBulkhead(
  options: ServiceOptions["bulkhead"],
  name: string,
  clock: Clock,
): Bulkhead | undefined {
  if (options === undefined || options instanceof Bulkhead) return options;

  return new Bulkhead({ name, ...options, clock });
}

function buildBreaker(
  options: ServiceOptions["breaker"],
  name: string,
  clock: Clock,
): Breaker | undefined {
  if (options === undefined || options instanceof Breaker) return options;

  const isFailure = options.isFailure;
  return new Breaker({
    name,
    retryAfterMs: retryAfterField,
    ...options,
    clock,
    isFailure: (error) =>
      !(error instanceof BulkheadRejectedError) &&
      (isFailure === undefined || isFailure(error)),
  });
}

function buildRetry<T>(
  options: ServiceOptions<unknown[], T>["retry"],
  clock: Clock,
  metrics: Metrics | undefined,
): Retry<T> | undefined {
  if (options === undefined) return undefined;

  const { shouldRetry, onRetry } = options;
  return new Retry<T>({
    ...options,
    clock,
    shouldRetry: (error, attempt) =>
      !isRejection(error) &&
      (shouldRetry === undefined || shouldRetry(error, attempt)),
    onRetry: (event) => {
      metrics?.recordRetry();
      onRetry?.(event);
    },
  });
}

function buildMetrics<T>(
  options: ServiceOptions["metrics"],
  name: string,
  clock: Clock,
  owner: Service<T>,
): Metrics | undefined {
  if (options === false) return undefined;

  const settings = options instanceof MetricsRegistry
    ? { registry: options }
    : options;
  return new Metrics({
    ...settings,
    name,
    clock,
    circuitState: () => owner.breaker?.state,
    queued: () => owner.bulkhead?.queued ?? 0,
  });
}

function retryAfterField(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;

  return typeof value === "number" ? value : undefined;
}

export {
  type FetchArgs,
  HttpStatusError,
  parseRetryAfter,
  serviceFetch,
  type ServiceFetchOptions,
} from "./service_fetch.ts";
