/**
 * dyno: a zero-dependency toolkit for fault-tolerant services, running
 * unchanged in Deno, Bun, Node, browsers and edge workers. Each module stands
 * alone on its own subpath (`@dyno/dyno/retry`, `@dyno/dyno/breaker`, …);
 * this entry point re-exports them all.
 *
 * @example A resilient call path in one wrapper
 * ```ts
 * import { MetricsRegistry, Service } from "@dyno/dyno";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * const quotes = new Service<number>({
 *   name: "quotes",
 *   bulkhead: { maxConcurrent: 8, maxQueued: 16 },
 *   timeoutMs: 1_000,
 *   retry: { attempts: 3, initialDelayMs: 0 },
 *   breaker: { minimumCalls: 20 },
 *   fallback: { value: 0 },
 *   metrics: registry,
 * });
 *
 * let calls = 0;
 * const quote = await quotes.execute(async () => {
 *   if (++calls < 2) throw new Error("flaky upstream");
 *   return 42;
 * });
 * assert.equal(quote, 42);
 * assert.equal(registry.snapshot()[0].cumulative.retries, 1);
 * ```
 *
 * @module
 */

export * from "./lib/clock.ts";
export * from "./lib/retry.ts";
export * from "./lib/timeout.ts";
export * from "./lib/breaker.ts";
export * from "./lib/fuse.ts";
export * from "./lib/fallback.ts";
export * from "./lib/bulkhead.ts";
export * from "./lib/cache.ts";
export * from "./lib/cache_stores.ts";
export * from "./lib/metrics.ts";
export * from "./lib/stats.ts";
export * from "./lib/timing.ts";
export * from "./lib/dashboard.ts";
export * from "./lib/filter.ts";
export * from "./lib/harness.ts";
export * from "./lib/inject.ts";
export * from "./lib/registry.ts";
export * from "./lib/service.ts";
export * from "./lib/testing.ts";
