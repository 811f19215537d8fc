/**
 * dyno: a zero-dependency toolkit for fault-tolerant services, running
 * unchanged in Deno, Bun, Node, browsers and edge workers. Each module stands
 * alone on its own subpath (`@dyno/dyno/retry`, `@dyno/dyno/timeout`, …);
 * this entry point re-exports them all.
 *
 * @example A retried call with a deadline per attempt
 * ```ts
 * import { Retry, Timeout } from "@dyno/dyno";
 * import assert from "node:assert/strict";
 *
 * const retry = new Retry({ attempts: 3, initialDelayMs: 0 });
 * const deadline = new Timeout({ timeoutMs: 1_000 });
 * let calls = 0;
 *
 * const answer = await retry.execute(({ signal }) =>
 *   deadline.execute(async () => {
 *     if (++calls < 2) throw new Error("flaky upstream");
 *     return 42;
 *   }, signal)
 * );
 * assert.equal(answer, 42);
 * ```
 *
 * @module
 */

export * from "./lib/clock.ts";
export * from "./lib/retry.ts";
export * from "./lib/timeout.ts";
