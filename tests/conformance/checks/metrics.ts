/**
 * Checks of `metrics`: counts, percentiles, rolling windows and the registry.
 *
 * @module
 */

import { Metrics, MetricsRegistry } from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  checkJson,
  checkNear,
  gate,
  HandClock,
  never,
  rejection,
  thrown,
} from "./_check.ts";

/** The metrics' promise: percentiles within 1/128 of the true value. */
const RELATIVE_ERROR = 1 / 128;

export const metricsChecks: Check[] = [
  [
    "metrics: records outcomes and reports counts and latency percentiles",
    () => {
      const metrics = new Metrics({
        name: "users",
        group: "api",
        clock: new HandClock(),
      });

      for (let ms = 1; ms <= 100; ms++) metrics.recordSuccess(ms);
      metrics.recordFailure(40);
      metrics.recordTimeout(200);
      metrics.recordShortCircuited();
      metrics.recordRejected();
      metrics.recordRetry();
      metrics.recordFallbackSuccess();
      const snapshot = metrics.snapshot();
      const { rolling, latency } = snapshot;

      checkEqual(snapshot.name, "users", "name");
      checkEqual(snapshot.group, "api", "group");
      checkJson(
        [rolling.successes, rolling.failures, rolling.timeouts],
        [100, 1, 1],
        "successes, failures, timeouts",
      );
      checkJson(
        [rolling.shortCircuited, rolling.rejected, rolling.retries],
        [1, 1, 1],
        "short-circuited, rejected, retries",
      );
      checkEqual(rolling.fallbackSuccesses, 1, "fallback successes");
      checkEqual(snapshot.requests, 104, "requests");
      checkNear(snapshot.errorPercentage, 400 / 104, 1e-9, "errorPercentage");
      checkEqual(latency.count, 102, "latency count");
      checkNear(latency.meanMs, 5_290 / 102, 1e-9, "mean");
      checkNear(latency.p50Ms, 50, RELATIVE_ERROR, "p50");
      checkNear(latency.p90Ms, 91, RELATIVE_ERROR, "p90");
      checkNear(latency.p99Ms, 100, RELATIVE_ERROR, "p99");
      checkEqual(latency.maxMs, 200, "max");
      checkEqual(metrics.latencyPercentile(50), latency.p50Ms, "p50 by query");
    },
  ],
  ["metrics: the rolling window forgets, cumulative counts stay", async () => {
    const clock = new HandClock();
    const metrics = new Metrics({
      name: "orders",
      clock,
      windowMs: 1_000,
      buckets: 10,
      latencyWindowMs: 1_000,
      latencyBuckets: 2,
    });

    metrics.recordSuccess(5);
    metrics.recordFailure(7);
    const before = metrics.snapshot();
    await clock.advance(1_000);
    const after = metrics.snapshot();

    checkEqual(before.rolling.successes, 1, "rolling successes before");
    checkEqual(before.latency.count, 2, "latencies before");
    checkEqual(after.rolling.successes, 0, "rolling successes after");
    checkEqual(after.requests, 0, "requests after");
    checkEqual(after.latency.count, 0, "latencies after");
    checkEqual(after.cumulative.successes, 1, "cumulative successes");
    checkEqual(after.cumulative.failures, 1, "cumulative failures");
  }],
  [
    "metrics: execute() gauges calls in flight, times them and classifies errors",
    async () => {
      const clock = new HandClock();
      const metrics = new Metrics({
        name: "lookup",
        clock,
        queued: () => 3,
        circuitState: () => "half-open",
      });
      const answer = gate<string>();
      const controller = new AbortController();
      const reason = new Error("caller gave up");
      const timedOut = Object.assign(new Error("slow"), {
        name: "TimeoutError",
      });

      const running = metrics.execute(() => answer.promise);
      const inFlight = metrics.inFlight;
      await clock.advance(30);
      answer.resolve("ok");
      const result = await running;
      const timeout = await rejection(
        metrics.execute(() => Promise.reject(timedOut)),
      );
      const aborted = rejection(
        metrics.execute(({ signal }) => never(signal), controller.signal),
      );
      controller.abort(reason);
      const abortError = await aborted;
      const snapshot = metrics.snapshot();

      checkEqual(inFlight, 1, "in flight while running");
      checkEqual(result, "ok", "result");
      checkEqual(timeout, timedOut, "the timeout passed through");
      checkEqual(abortError, reason, "the abort passed through");
      checkEqual(snapshot.rolling.successes, 1, "successes");
      checkEqual(snapshot.rolling.timeouts, 1, "timeouts");
      checkEqual(snapshot.rolling.failures, 0, "failures (the abort)");
      checkEqual(snapshot.latency.maxMs, 30, "latency of the slow call");
      checkJson(
        [snapshot.inFlight, snapshot.inFlightMax, snapshot.queued],
        [0, 1, 3],
        "in flight, its maximum, queued",
      );
      checkEqual(snapshot.circuit, "half-open", "circuit");
    },
  ],
  [
    "metrics: MetricsRegistry lists, finds and refuses duplicate names",
    () => {
      const registry = new MetricsRegistry();
      const heard: string[] = [];
      registry.addEventListener("register", (event) => {
        heard.push((event as CustomEvent<Metrics>).detail.name);
      });

      const users = new Metrics({ name: "users", registry });
      registry.register(new Metrics({ name: "orders" }));
      registry.register(users);
      const duplicate = thrown(() =>
        registry.register(new Metrics({ name: "users" }))
      );
      const names = registry.list().map((metrics) => metrics.name);
      const snapshots = registry.snapshot().length;
      const removed = registry.unregister("orders");

      checkJson(names, ["users", "orders"], "names");
      checkEqual(registry.get("users"), users, "get()");
      checkEqual(snapshots, 2, "snapshots");
      check(duplicate instanceof RangeError, "a duplicate name was accepted");
      checkEqual(removed, true, "unregister()");
      checkJson(heard, ["users", "orders"], "register events");
      checkEqual(registry.list().length, 1, "metrics left");
    },
  ],
];
