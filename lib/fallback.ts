/**
 * Fallbacks: when a call fails with an error you choose, answer with a value
 * or with what a handler makes of the error, instead of failing.
 *
 * The original error is never lost: the handler receives it, and if the
 * handler fails too, the {@linkcode FallbackError} thrown carries the
 * original as its `cause` and the handler's error as `fallbackError`.
 *
 * @example Serving a default when a breaker is open
 * ```ts
 * import { fallback } from "@dyno/dyno/fallback";
 * import { Breaker, BreakerOpenError } from "@dyno/dyno/breaker";
 * import assert from "node:assert/strict";
 *
 * const breaker = new Breaker({ name: "prices" });
 * breaker.forceOpen();
 * const price = fallback(breaker.wrap(async (sku: string) => 100), {
 *   value: undefined,
 *   when: (error) => error instanceof BreakerOpenError,
 * });
 * assert.equal(await price("A1"), undefined);
 * ```
 *
 * @module
 */

import { object, typed } from "./_breaker_options.ts";

const OWNER = "Fallback";

/** What a fallback hands to the operation and to the handler. */
export interface FallbackContext {
  /** The caller's signal, passed through unchanged. */
  readonly signal?: AbortSignal;
}

/** Settings shared by both kinds of {@linkcode FallbackOptions}. */
export interface FallbackWhen {
  /**
   * Which errors the fallback answers; others pass through untouched. If it
   * throws, the call fails with a {@linkcode FallbackError}. The caller's own
   * abort (its signal's reason, once aborted) always passes through.
   *
   * @default {() => true}
   */
  when?: (error: unknown) => boolean;
}

/** A fallback that answers with a fixed value. */
export interface FallbackValueOptions<F> extends FallbackWhen {
  /** The value to answer with; `undefined` is a value too. */
  value: F;
  /** Not allowed together with `value`. */
  handler?: never;
}

/** A fallback that answers with what a handler makes of the error. */
export interface FallbackHandlerOptions<F> extends FallbackWhen {
  /**
   * Called with the original error and the call's context; its result (or
   * the value its promise resolves to) is the answer.
   */
  handler: (error: unknown, context: FallbackContext) => F | PromiseLike<F>;
  /** Not allowed together with `handler`. */
  value?: never;
}

/**
 * Options for {@linkcode Fallback} and {@linkcode fallback}: give exactly one
 * of `value` and `handler`.
 */
export type FallbackOptions<F> =
  | FallbackValueOptions<F>
  | FallbackHandlerOptions<F>;

/**
 * The fallback itself failed: its handler threw or rejected, or `when` threw.
 * `cause` is the original error of the call; `fallbackError` is the error of
 * the fallback.
 *
 * @example Both errors stay reachable
 * ```ts
 * import { Fallback, FallbackError } from "@dyno/dyno/fallback";
 * import assert from "node:assert/strict";
 *
 * const cached = new Fallback({
 *   handler: () => Promise.reject(new Error("cache down too")),
 * });
 * const error = await cached
 *   .execute(() => Promise.reject(new Error("service down")))
 *   .catch((error) => error);
 * assert.ok(error instanceof FallbackError);
 * assert.equal((error.cause as Error).message, "service down");
 * assert.equal((error.fallbackError as Error).message, "cache down too");
 * ```
 */
export class FallbackError extends Error {
  /** What the fallback's handler (or `when`) threw. */
  readonly fallbackError: unknown;

  /**
   * Wraps `fallbackError`; pass the call's original error as
   * `options.cause`.
   */
  constructor(fallbackError: unknown, options?: ErrorOptions) {
    super(`Fallback failed: ${describe(fallbackError)}`, options);
    this.name = "FallbackError";
    this.fallbackError = fallbackError;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const NO_SIGNAL: FallbackContext = Object.freeze({});
const answersAll = (): boolean => true;

/**
 * Runs operations and answers their selected failures with a value or a
 * handler's result.
 *
 * @example A handler that reads a cache
 * ```ts
 * import { Fallback } from "@dyno/dyno/fallback";
 * import assert from "node:assert/strict";
 *
 * const lastKnown = new Map([["eur", 1.08]]);
 * const rates = new Fallback({
 *   handler: () => lastKnown.get("eur"),
 *   when: (error) => (error as Error).message === "timeout",
 * });
 * const rate = await rates.execute(() =>
 *   Promise.reject(new Error("timeout"))
 * );
 * assert.equal(rate, 1.08);
 * ```
 */
export class Fallback<F> {
  readonly #when: (error: unknown) => boolean;
  readonly #handler:
    | ((error: unknown, context: FallbackContext) => F | PromiseLike<F>)
    | undefined;
  readonly #value: F | undefined;

  /**
   * Checks `options`: exactly one of `value` and `handler`, and functions
   * where functions belong, else a `TypeError` naming the option.
   */
  constructor(options: FallbackOptions<F>) {
    const raw = object(OWNER, "options", options);
    const hasValue = "value" in raw;
    const hasHandler = raw.handler !== undefined;
    if (hasValue === hasHandler) {
      throw new TypeError(
        `Fallback: options must have value or handler, got ${
          hasValue ? "both" : "neither"
        }`,
      );
    }
    typed(OWNER, "handler", raw.handler, "function");
    typed(OWNER, "when", raw.when, "function");

    this.#when = (raw.when as FallbackWhen["when"]) ?? answersAll;
    this.#handler = hasValue
      ? undefined
      : (raw.handler as FallbackHandlerOptions<F>["handler"]);
    this.#value = raw.value as F | undefined;
  }

  /**
   * Runs `operation`; when it fails with an error that `when` selects,
   * answers with the fallback instead. An already-aborted `signal` rejects at
   * once with its reason; the signal is passed to the operation and the
   * handler.
   *
   * @example Only some errors fall back
   * ```ts
   * import { Fallback } from "@dyno/dyno/fallback";
   * import assert from "node:assert/strict";
   *
   * class NotFound extends Error {}
   * const profile = new Fallback({
   *   value: { name: "guest" },
   *   when: (error) => error instanceof NotFound,
   * });
   * assert.deepEqual(
   *   await profile.execute(() => Promise.reject(new NotFound())),
   *   { name: "guest" },
   * );
   * await assert.rejects(
   *   profile.execute(() => Promise.reject(new Error("db down"))),
   *   { message: "db down" },
   * );
   * ```
   */
  execute<T>(
    operation: (context: FallbackContext) => T | PromiseLike<T>,
    signal?: AbortSignal,
  ): Promise<T | F> {
    if (signal?.aborted) {
      return Promise.reject(signal.reason);
    }
    const context = signal == null ? NO_SIGNAL : { signal };

    let result: Promise<T>;
    try {
      result = Promise.resolve(operation(context));
    } catch (error) {
      result = Promise.reject(error);
    }

    return result.then(
      undefined,
      (error) => this.#recover(error, context, signal),
    );
  }

  #recover(
    error: unknown,
    context: FallbackContext,
    signal: AbortSignal | undefined,
  ): F | Promise<F> {
    if (signal?.aborted && error === signal.reason) {
      throw error;
    }

    let selected: boolean;
    try {
      selected = this.#when(error);
    } catch (whenError) {
      throw new FallbackError(whenError, { cause: error });
    }
    if (!selected) throw error;
    if (this.#handler === undefined) return this.#value as F;

    let answer: F | PromiseLike<F>;
    try {
      answer = this.#handler(error, context);
    } catch (handlerError) {
      throw new FallbackError(handlerError, { cause: error });
    }

    return Promise.resolve(answer).then(undefined, (handlerError) => {
      throw new FallbackError(handlerError, { cause: error });
    });
  }
}

/**
 * Returns a function with `fn`'s parameters that answers `fn`'s selected
 * failures with the fallback.
 *
 * @example A default for a flaky lookup
 * ```ts
 * import { fallback } from "@dyno/dyno/fallback";
 * import assert from "node:assert/strict";
 *
 * const lookup = (id: number): Promise<string> =>
 *   Promise.reject(new Error(`no ${id}`));
 * const safeLookup = fallback(lookup, {
 *   handler: (error) => `unknown (${(error as Error).message})`,
 * });
 * assert.equal(await safeLookup(3), "unknown (no 3)");
 * ```
 */
export function fallback<A extends unknown[], R, F>(
  fn: (...args: A) => R,
  options: FallbackOptions<F>,
): (...args: A) => Promise<Awaited<R> | F> {
  const policy = new Fallback(options);

  return function withFallback(this: unknown, ...args: A) {
    return policy.execute(() => fn.apply(this, args) as Awaited<R>);
  };
}
