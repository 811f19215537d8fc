import assert from "node:assert/strict";
import { Service, service } from "../lib/service.ts";
import { BreakerOpenError } from "../lib/breaker.ts";
import { BulkheadRejectedError } from "../lib/bulkhead.ts";
import { MetricsRegistry } from "../lib/metrics.ts";
import { LoadingCache } from "../lib/cache.ts";
import { RetryError } from "../lib/retry.ts";
import { TimeoutError } from "../lib/timeout.ts";
import { ManualClock } from "../lib/testing.ts";

function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

function cumulative(registry: MetricsRegistry) {
  return registry.snapshot()[0].cumulative;
}

Deno.test("each attempt has its own deadline inside the retry", async () => {
  const clock = new ManualClock();
  const prices = new Service<string>({
    name: "prices",
    clock,
    timeoutMs: 100,
    retry: { attempts: 3, backoff: "constant", initialDelayMs: 10 },
  });
  const signals: AbortSignal[] = [];

  const outcome = prices.execute(({ attempt, signal }) => {
    signals.push(signal!);
    return attempt < 3 ? never() : Promise.resolve(`attempt ${attempt}`);
  });
  await clock.advance(100);
  await clock.advance(10);
  await clock.advance(100);
  await clock.advance(10);

  assert.equal(await outcome, "attempt 3");
  assert.deepEqual(signals.map((s) => s.aborted), [true, true, false]);
  assert.ok(signals[0].reason instanceof TimeoutError);
});

Deno.test("the total deadline bounds the retries and their waits", async () => {
  const clock = new ManualClock();
  const prices = new Service<string>({
    name: "prices",
    clock,
    totalTimeoutMs: 250,
    retry: { attempts: 10, backoff: "constant", initialDelayMs: 100 },
  });
  let attempts = 0;

  const outcome = prices.execute(() => {
    attempts++;
    return Promise.reject(new Error("503"));
  }).catch((error) => error);
  await clock.advance(300);

  const error = await outcome;
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.timeoutMs, 250);
  assert.equal(attempts, 3);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("an open breaker stops the retries and is not retried", async () => {
  const clock = new ManualClock();
  const registry = new MetricsRegistry();
  const prices = new Service<string>({
    name: "prices",
    clock,
    retry: { attempts: 5, backoff: "constant", initialDelayMs: 1 },
    breaker: { minimumCalls: 2, openMs: 60_000 },
    metrics: registry,
  });
  let attempts = 0;

  const outcome = prices.execute(() => {
    attempts++;
    return Promise.reject(new Error("down"));
  }).catch((error) => error);
  await clock.advance(10);
  const error = await outcome;

  assert.ok(error instanceof RetryError);
  assert.equal(attempts, 2);
  assert.ok(error.errors[2] instanceof BreakerOpenError);
  assert.equal(error.errors.length, 3);
  const counts = cumulative(registry);
  assert.equal(counts.failures, 2);
  assert.equal(counts.shortCircuited, 1);
  assert.equal(counts.retries, 2);
});

Deno.test("a fallback answers an open circuit, and metrics count it once", async () => {
  const clock = new ManualClock();
  const registry = new MetricsRegistry();
  const prices = new Service<string>({
    name: "prices",
    clock,
    breaker: { minimumCalls: 1 },
    fallback: { handler: (error) => `fallback for ${(error as Error).name}` },
    metrics: registry,
  });

  assert.equal(
    await prices.execute(() => Promise.reject(new Error("down"))),
    "fallback for Error",
  );
  assert.equal(prices.breaker?.state, "open");
  assert.equal(
    await prices.execute(() => "never runs"),
    "fallback for BreakerOpenError",
  );

  const counts = cumulative(registry);
  assert.equal(counts.failures, 1);
  assert.equal(counts.shortCircuited, 1);
  assert.equal(counts.fallbackSuccesses, 2);
  assert.equal(counts.successes, 0);
  assert.equal(registry.snapshot()[0].inFlight, 0);
});

Deno.test("a fallback that fails is counted as a fallback failure", async () => {
  const registry = new MetricsRegistry();
  const prices = new Service<string>({
    name: "prices",
    fallback: {
      handler: () => {
        throw new Error("no fallback either");
      },
    },
    metrics: registry,
  });

  await assert.rejects(prices.execute(() => Promise.reject(new Error("x"))));
  assert.equal(cumulative(registry).fallbackFailures, 1);
  assert.equal(cumulative(registry).fallbackSuccesses, 0);
});

Deno.test("a full pool is rejected, not retried, not held against the upstream", async () => {
  const registry = new MetricsRegistry();
  const prices = new Service<string>({
    name: "prices",
    bulkhead: { maxConcurrent: 1, maxQueued: 0 },
    breaker: { minimumCalls: 1 },
    retry: { attempts: 3, initialDelayMs: 0 },
    metrics: registry,
  });
  let release!: (value: string) => void;

  const first = prices.execute(() => new Promise<string>((r) => (release = r)));
  const second = await prices.execute(() => "runs?").catch((error) => error);
  release("first");

  assert.equal(await first, "first");
  assert.ok(second instanceof BulkheadRejectedError);
  assert.equal(prices.breaker?.state, "closed");
  assert.equal(cumulative(registry).rejected, 1);
  assert.equal(cumulative(registry).retries, 0);
  assert.equal(prices.bulkhead?.running, 0);
});

Deno.test("permits are released on success, failure, timeout and rejection", async () => {
  const clock = new ManualClock();
  const prices = new Service<string>({
    name: "prices",
    clock,
    timeoutMs: 50,
    bulkhead: { maxConcurrent: 2, maxQueued: 2 },
    breaker: { minimumCalls: 100 },
  });
  let finishAbandoned!: () => void;

  await prices.execute(() => Promise.resolve("ok"));
  await prices.execute(() => Promise.reject(new Error("x"))).catch(() => {});
  await prices.execute(() => {
    throw new Error("sync");
  }).catch(() => {});
  const timedOut = prices.execute(() =>
    new Promise<string>((resolve) => (finishAbandoned = () => resolve("late")))
  ).catch((error) => error);
  await clock.advance(50);

  assert.ok((await timedOut) instanceof TimeoutError);
  assert.equal(prices.bulkhead?.running, 0);
  assert.equal(prices.bulkhead?.abandoned, 1, "it still holds a permit");
  finishAbandoned();
  await clock.advance(0);
  assert.equal(prices.bulkhead?.running, 0);
  assert.equal(prices.bulkhead?.abandoned, 0);
  assert.equal(prices.bulkhead?.queued, 0);
});

Deno.test("metrics count each outcome once", async () => {
  const clock = new ManualClock();
  const registry = new MetricsRegistry();
  const prices = new Service<string>({
    name: "prices",
    clock,
    timeoutMs: 20,
    metrics: registry,
  });

  await prices.execute(() => "ok");
  await prices.execute(() => Promise.reject(new Error("x"))).catch(() => {});
  const timedOut = prices.execute(never).catch(() => {});
  await clock.advance(20);
  await timedOut;

  const snapshot = registry.snapshot()[0];
  assert.equal(snapshot.name, "prices");
  assert.deepEqual(
    [
      snapshot.cumulative.successes,
      snapshot.cumulative.failures,
      snapshot.cumulative.timeouts,
    ],
    [1, 1, 1],
  );
  assert.equal(snapshot.inFlight, 0);
  assert.equal(snapshot.latency.count, 3);
});

Deno.test("the caller's signal reaches the work and aborts the call at once", async () => {
  const prices = new Service<string>({
    name: "prices",
    timeoutMs: 10_000,
    retry: { attempts: 3 },
    bulkhead: { maxConcurrent: 1 },
  });
  const controller = new AbortController();
  let workSignal: AbortSignal | undefined;

  const outcome = prices.execute(({ signal }) => {
    workSignal = signal;
    return never();
  }, controller.signal).catch((error) => error);
  await Promise.resolve();
  controller.abort(new Error("client left"));

  assert.equal((await outcome).message, "client left");
  assert.equal(workSignal?.aborted, true);
});

Deno.test("service() keeps the signature, exposes its layers and passes signals", async () => {
  const clock = new ManualClock();
  const registry = new MetricsRegistry();
  const seen: (AbortSignal | undefined)[] = [];
  const lookUp = service(
    (id: number, options?: { signal?: AbortSignal }) => {
      seen.push(options?.signal);
      return Promise.resolve(`user ${id}`);
    },
    {
      name: "users",
      clock,
      timeoutMs: 1_000,
      breaker: {},
      bulkhead: { maxConcurrent: 3 },
      metrics: registry,
      signalFrom: ([, options]) => options?.signal,
      signalInto: ([id, options], signal) => [id, { ...options, signal }],
    },
  );

  assert.equal(await lookUp(7), "user 7");
  assert.equal(lookUp.length, 2);
  assert.ok(seen[0] instanceof AbortSignal);
  assert.equal(lookUp.breaker?.state, "closed");
  assert.equal(lookUp.bulkhead?.maxConcurrent, 3);
  assert.equal(registry.get("users"), lookUp.metrics);
  assert.equal(registry.snapshot()[0].circuit, "closed");
});

Deno.test("a cache in front answers repeats without calling the service", async () => {
  let calls = 0;
  const lookUp = service(
    (id: number) => {
      calls++;
      return Promise.resolve(`user ${id}`);
    },
    {
      name: "users",
      cache: { cache: new LoadingCache<string>(), key: (id) => `user:${id}` },
    },
  );

  assert.equal(await lookUp(1), "user 1");
  assert.equal(await lookUp(1), "user 1");
  assert.equal(await lookUp(2), "user 2");
  assert.equal(calls, 2);
});

Deno.test("the fallback sits outside the cache", async (t) => {
  const clock = new ManualClock();
  let upstreamUp = true;
  let loads = 0;
  const registry = new MetricsRegistry();
  const lookUp = service(
    (id: number) => {
      loads++;
      return upstreamUp
        ? Promise.resolve(`user ${id}`)
        : Promise.reject(new Error("upstream down"));
    },
    {
      name: "users",
      fallback: { value: "guest" },
      metrics: registry,
      cache: {
        cache: new LoadingCache<string>({
          ttlMs: 1_000,
          beta: 0,
          staleIfErrorMs: 5_000,
          clock,
        }),
        key: (id) => `user:${id}`,
      },
    },
  );

  await t.step("a fallback's answer is not cached", async () => {
    upstreamUp = false;
    assert.equal(await lookUp(1), "guest");

    upstreamUp = true;
    assert.equal(await lookUp(1), "user 1");
    assert.equal(loads, 2);
    assert.equal(cumulative(registry).fallbackSuccesses, 1);
  });

  await t.step("a stale value comes before the fallback", async () => {
    await clock.advance(1_500);
    upstreamUp = false;

    assert.equal(await lookUp(1), "user 1");
    assert.equal(await lookUp(1), "user 1");
    assert.equal(cumulative(registry).fallbackSuccesses, 1);
  });

  await t.step(
    "the fallback answers once the stale value is too old",
    async () => {
      await clock.advance(5_000);

      assert.equal(await lookUp(1), "guest");
      assert.equal(cumulative(registry).fallbackSuccesses, 2);
    },
  );
});

Deno.test("bad options throw at construction", () => {
  assert.throws(
    () =>
      new Service({
        name: "x",
        cache: { cache: new LoadingCache(), key: String },
      }),
    {
      name: "TypeError",
      message:
        /^Service: cache needs a call's arguments, .* service\(fn, options\)/,
    },
  );
  assert.throws(
    () => new Service({ name: "x", signalFrom: () => undefined }),
    { name: "TypeError", message: /^Service: signalFrom needs/ },
  );
  assert.throws(
    () => new Service({ name: "" }),
    {
      name: "TypeError",
      message: 'Service: name must be a non-empty string, got ""',
    },
  );
  assert.throws(
    () => new Service({ name: "x", timeoutMs: -1 }),
    {
      name: "RangeError",
      message: /timeoutMs must be a number from 1 .* got -1/,
    },
  );
  assert.throws(
    () => new Service({ name: "x", bulkhead: { maxConcurrent: 0 } }),
    RangeError,
  );
  assert.throws(
    () => new Service({ name: "x", retry: { attempts: 0 } }),
    RangeError,
  );
  assert.throws(
    () => new Service({ name: "x", breaker: { failureRateThreshold: 2 } }),
    RangeError,
  );
});

Deno.test("metrics options pass through: registry and rolling windows", () => {
  const registry = new MetricsRegistry();
  const prices = new Service({
    name: "prices",
    metrics: { registry, windowMs: 2_000, buckets: 4, latencyWindowMs: 6_000 },
  });

  const snapshot = registry.snapshot()[0];
  assert.equal(registry.get("prices"), prices.metrics);
  assert.equal(snapshot.windowMs, 2_000);
  assert.throws(
    () =>
      new Service({ name: "bad", metrics: { windowMs: 1_000, buckets: 3 } }),
    RangeError,
  );
});

Deno.test("attempt latency under a deadline is timed from the deadline's start", async () => {
  const clock = new ManualClock();
  const registry = new MetricsRegistry();
  const prices = new Service<string>({
    name: "prices",
    clock,
    timeoutMs: 1_000,
    bulkhead: { maxConcurrent: 2 },
    breaker: {},
    metrics: registry,
  });

  const slow = prices.execute(() =>
    new Promise<string>((resolve) => clock.setTimer(() => resolve("ok"), 40))
  );
  await clock.advance(40);
  await slow;
  await prices.execute(() => "instant");

  const { latency } = registry.snapshot()[0];
  assert.equal(latency.count, 2);
  assert.ok(Math.abs(latency.maxMs - 40) <= 40 / 128, `max ${latency.maxMs}`);
  assert.equal(prices.bulkhead?.running, 0);
});
