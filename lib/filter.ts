/**
 * Filters: pass a call's arguments through a chain of filters before it, its
 * result through a chain after it, or wrap the whole call in middleware.
 *
 * The order is fixed and reads top to bottom:
 *
 * ```text
 * around[0] → around[1] → … → before[0] → before[1] → … → fn
 *                                                          ↓
 * around[0] ← around[1] ← … ←  after[n] ← … ←  after[0] ←─┘
 * ```
 *
 * Middleware is the outermost layer: it sees the caller's arguments and the
 * final result, and it may answer on its own without calling `next`, which
 * skips everything inside it (the inner middleware, the filters and `fn`).
 *
 * @module
 */

import { show } from "./_show.ts";

/**
 * `T` for a synchronous function; for an async one (whose result `R` is a
 * promise) `T` or a promise of `T`, so that its filters may be async too.
 *
 * @example What a filter may return
 * ```ts
 * import type { MaybeAsync } from "@dyno/dyno/filter";
 *
 * const forSync: MaybeAsync<[number], string> = [1];
 * const forAsync: MaybeAsync<[number], Promise<string>> = Promise.resolve([1]);
 * ```
 */
export type MaybeAsync<T, R> = [R] extends [PromiseLike<unknown>]
  ? T | PromiseLike<T>
  : T;

/**
 * Runs before the call: takes the arguments, as a tuple, and returns the
 * arguments to go on with (the same tuple or a new one). Its throw propagates
 * unchanged and the call does not happen.
 *
 * @example Trimming a string argument
 * ```ts
 * import { type ArgsFilter, filter } from "@dyno/dyno/filter";
 * import assert from "node:assert/strict";
 *
 * const trim: ArgsFilter<[string], string> = ([text]) => [text.trim()];
 * const shout = filter((text: string) => text.toUpperCase(), {
 *   before: [trim],
 * });
 * assert.equal(shout("  hi "), "HI");
 * ```
 */
export type ArgsFilter<A extends unknown[], R = unknown> = (
  args: A,
) => MaybeAsync<A, R>;

/**
 * Runs after the call: takes the result (awaited, for an async function) and
 * the arguments the function was called with, and returns the result to go on
 * with. Its throw propagates unchanged.
 *
 * @example Rounding a result
 * ```ts
 * import { filter, type ResultFilter } from "@dyno/dyno/filter";
 * import assert from "node:assert/strict";
 *
 * const round: ResultFilter<[number], number> = (result) => Math.round(result);
 * const half = filter((value: number) => value / 2, { after: [round] });
 * assert.equal(half(5), 3);
 * ```
 */
export type ResultFilter<A extends unknown[], R> = (
  result: Awaited<R>,
  args: A,
) => R | Awaited<R>;

/**
 * Wraps the call: gets the arguments and `next`, which runs the rest of the
 * chain. It may change the arguments, change the result, call `next` more
 * than once, or answer without calling it at all (a short circuit).
 *
 * @example Answering from a cache without calling the function
 * ```ts
 * import { filter, type Middleware } from "@dyno/dyno/filter";
 * import assert from "node:assert/strict";
 *
 * const cache = new Map<number, number>();
 * const remember: Middleware<[number], number> = (args, next) => {
 *   const [key] = args;
 *   if (!cache.has(key)) cache.set(key, next(args));
 *   return cache.get(key)!;
 * };
 *
 * let calls = 0;
 * const square = filter((n: number) => (calls++, n * n), {
 *   around: [remember],
 * });
 * assert.equal(square(4), 16);
 * assert.equal(square(4), 16);
 * assert.equal(calls, 1);
 * ```
 */
export type Middleware<A extends unknown[], R> = (
  args: A,
  next: (args: A) => R,
) => R;

/**
 * The filters of one call. Each list runs in its own order; see the module
 * documentation for how the three lists nest.
 *
 * @example A reusable chain, typed for one signature
 * ```ts
 * import { filter, type FilterOptions } from "@dyno/dyno/filter";
 * import assert from "node:assert/strict";
 *
 * const clamp: FilterOptions<[number], number> = {
 *   before: [([value]) => [Math.max(0, value)]],
 *   after: [(result) => Math.min(100, result)],
 * };
 * assert.equal(filter((value: number) => value * 2, clamp)(-1), 0);
 * assert.equal(filter((value: number) => value * 2, clamp)(70), 100);
 * ```
 */
export interface FilterOptions<A extends unknown[], R> {
  /**
   * Middleware, outermost first.
   *
   * @default {[]}
   */
  around?: readonly Middleware<A, R>[];
  /**
   * Argument filters, in order, after the middleware and before the call.
   *
   * @default {[]}
   */
  before?: readonly ArgsFilter<A, R>[];
  /**
   * Result filters, in order, on the result of the call.
   *
   * @default {[]}
   */
  after?: readonly ResultFilter<A, R>[];
}

/**
 * Returns a function with the signature of `fn` that runs the given filters
 * around each call: `around` middleware outermost first, then the `before`
 * filters in order, then `fn`, then the `after` filters in order.
 *
 * A synchronous function stays synchronous: its filters must be synchronous
 * too (the types say so). For an async function any filter may be async.
 * Errors pass through unchanged, where they were raised: a filter that throws
 * synchronously makes the call throw synchronously, so filters of an async
 * function that callers handle with `.catch` should be `async` themselves.
 *
 * The lists are copied, so changing them later has no effect. With no filters
 * at all, `fn` itself is returned. The wrapper keeps `fn.length`, which some
 * callers read (`Deno.serve` passes no request to a handler of length 0).
 * `this` is not passed on: bind methods before filtering them. Filtering a
 * filtered function again nests the new filters outside the old ones.
 *
 * @throws {TypeError} If `fn` or a filter is not a function, or a list is
 * not an array.
 *
 * @example Filters before and after a call
 * ```ts
 * import { filter } from "@dyno/dyno/filter";
 * import assert from "node:assert/strict";
 *
 * const add = (a: number, b: number) => a + b;
 * const filtered = filter(add, {
 *   before: [([a, b]) => [Math.abs(a), Math.abs(b)]],
 *   after: [(sum, [a, b]) => (a > 100 || b > 100 ? Infinity : sum)],
 * });
 * assert.equal(filtered(-2, 3), 5);
 * assert.equal(filtered(1, -500), Infinity);
 * ```
 *
 * @example ETags and `If-None-Match` around a fetch handler
 * ```ts
 * import { filter, type Middleware } from "@dyno/dyno/filter";
 * import assert from "node:assert/strict";
 *
 * const etag: Middleware<[Request], Promise<Response>> = async (
 *   args,
 *   next,
 * ) => {
 *   const response = await next(args);
 *   if (args[0].method !== "GET" || response.status !== 200) return response;
 *
 *   const body = await response.arrayBuffer();
 *   const digest = await crypto.subtle.digest("SHA-256", body);
 *   const hex = Array.from(new Uint8Array(digest).subarray(0, 16))
 *     .map((byte) => byte.toString(16).padStart(2, "0")).join("");
 *   const headers = new Headers(response.headers);
 *   headers.set("ETag", `"${hex}"`);
 *
 *   const wanted = args[0].headers.get("If-None-Match") ?? "";
 *   if (wanted.split(",").some((tag) => tag.trim() === `"${hex}"`)) {
 *     headers.delete("Content-Length");
 *     return new Response(null, { status: 304, headers });
 *   }
 *   return new Response(body, { status: 200, headers });
 * };
 *
 * let runs = 0;
 * const handler = filter(async (_request: Request) => {
 *   runs++;
 *   return new Response("hello");
 * }, { around: [etag] });
 *
 * const first = await handler(new Request("https://example.com/"));
 * assert.equal(await first.text(), "hello");
 * const tag = first.headers.get("ETag")!;
 *
 * const again = await handler(
 *   new Request("https://example.com/", { headers: { "If-None-Match": tag } }),
 * );
 * assert.equal(again.status, 304);
 * assert.equal(again.body, null);
 * assert.equal(runs, 2);
 * ```
 */
export function filter<A extends unknown[] | [], R>(
  fn: (...args: A) => R,
  options: FilterOptions<NoInfer<A>, NoInfer<R>>,
): (...args: A) => R {
  if (typeof fn !== "function") {
    throw new TypeError(`filter: fn must be a function, got ${show(fn)}`);
  }
  const around = functions<Middleware<A, R>>("filter", "around", options);
  const stage = toStage<A, R>("filter", options);
  if (around.length === 0 && stage === undefined) return fn;

  const call = (args: A): R => fn(...args);
  const inner = stage === undefined
    ? call
    : (args: A): R => runBefore(stage, call, args, 0);
  const chain = wrapAll(around, inner);

  const filtered = function filtered(...args: A): R {
    return chain(args);
  };
  return Object.defineProperty(filtered, "length", { value: fn.length });
}

/**
 * Combines filter lists into one, so that
 * `filter(fn, combineFilters(outer, inner))` behaves exactly as
 * `filter(filter(fn, inner), outer)`: each argument's middleware and filters
 * run around everything from the arguments after it.
 *
 * @throws {TypeError} If a filter is not a function or a list is not an
 * array.
 *
 * @example Reusing two chains on one function
 * ```ts
 * import { combineFilters, filter, type FilterOptions } from "@dyno/dyno/filter";
 * import assert from "node:assert/strict";
 *
 * const log: string[] = [];
 * const outer: FilterOptions<[string], string> = {
 *   before: [(args) => (log.push("outer before"), args)],
 *   after: [(result) => (log.push("outer after"), result)],
 * };
 * const inner: FilterOptions<[string], string> = {
 *   before: [(args) => (log.push("inner before"), args)],
 *   after: [(result) => (log.push("inner after"), result)],
 * };
 * const echo = filter((text: string) => text, combineFilters(outer, inner));
 * assert.equal(echo("hi"), "hi");
 * assert.deepEqual(log, [
 *   "outer before",
 *   "inner before",
 *   "inner after",
 *   "outer after",
 * ]);
 * ```
 */
export function combineFilters<A extends unknown[] | [], R>(
  ...layers: readonly FilterOptions<A, R>[]
): FilterOptions<A, R> {
  const around: Middleware<A, R>[] = [];
  for (const layer of layers) {
    around.push(
      ...functions<Middleware<A, R>>("combineFilters", "around", layer),
    );
    const stage = toStage<A, R>("combineFilters", layer);
    if (stage !== undefined) {
      around.push(function stageMiddleware(args, next) {
        return runBefore(stage, next, args, 0);
      });
    }
  }

  return { around };
}

interface Stage<A extends unknown[], R> {
  readonly before: readonly ArgsFilter<A, R>[];
  readonly after: readonly ResultFilter<A, R>[];
}

function toStage<A extends unknown[], R>(
  owner: string,
  options: FilterOptions<A, R> | undefined,
): Stage<A, R> | undefined {
  const before = functions<ArgsFilter<A, R>>(owner, "before", options);
  const after = functions<ResultFilter<A, R>>(owner, "after", options);

  return before.length === 0 && after.length === 0
    ? undefined
    : { before, after };
}

function wrapAll<A extends unknown[], R>(
  around: readonly Middleware<A, R>[],
  inner: (args: A) => R,
): (args: A) => R {
  let chain = inner;
  for (let index = around.length - 1; index >= 0; index--) {
    const middleware = around[index];
    const next = chain;
    chain = (args) => middleware(args, next);
  }

  return chain;
}

function runBefore<A extends unknown[], R>(
  stage: Stage<A, R>,
  target: (args: A) => R,
  args: A,
  from: number,
): R {
  const { before } = stage;
  for (let index = from; index < before.length; index++) {
    const filtered = before[index](args);
    if (isPromiseLike(filtered)) {
      return filtered.then((next) =>
        runBefore(stage, target, next, index + 1)
      ) as R;
    }
    args = filtered as A;
  }

  const result = target(args);
  return stage.after.length === 0 ? result : runAfter(stage, args, result, 0);
}

function runAfter<A extends unknown[], R>(
  stage: Stage<A, R>,
  args: A,
  result: unknown,
  from: number,
): R {
  if (isPromiseLike(result)) {
    return result.then((value) => runAfter(stage, args, value, from)) as R;
  }

  const { after } = stage;
  for (let index = from; index < after.length; index++) {
    const next = after[index](result as Awaited<R>, args);
    if (isPromiseLike(next)) {
      return next.then((value) => runAfter(stage, args, value, index + 1)) as R;
    }
    result = next;
  }

  return result as R;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function";
}

function functions<F>(
  owner: string,
  key: "around" | "before" | "after",
  options: object | undefined,
): F[] {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${owner}: options must be an object, got ${show(options)}`,
    );
  }
  const list: unknown = (options as Record<string, unknown>)[key];
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    throw new TypeError(
      `${owner}: ${key} must be an array, got ${show(list)}`,
    );
  }

  list.forEach((item, index) => {
    if (typeof item !== "function") {
      throw new TypeError(
        `${owner}: ${key}[${index}] must be a function, got ${show(item)}`,
      );
    }
  });
  return [...list];
}
