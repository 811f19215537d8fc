import assert from "node:assert/strict";
import {
  type EventCounts,
  Metrics,
  type MetricsOptions,
  MetricsRegistry,
} from "../lib/metrics.ts";
import { ManualClock } from "../lib/testing.ts";
import type { Clock } from "../lib/clock.ts";

const NONE: EventCounts = {
  successes: 0,
  failures: 0,
  timeouts: 0,
  shortCircuited: 0,
  rejected: 0,
  fallbackSuccesses: 0,
  fallbackFailures: 0,
  retries: 0,
};

/** Metrics on a manual clock that stamp every record exactly. */
function exact(options: Partial<MetricsOptions> = {}) {
  const clock = new ManualClock();
  const metrics = new Metrics({
    name: "test",
    clock,
    maxRecordsPerClockRead: 1,
    ...options,
  });
  return { clock, metrics };
}

/** A clock that fails the test if anything reads it. */
const unreadableClock: Clock = {
  now: () => {
    throw new Error("the clock was read");
  },
  setTimer: () => {
    throw new Error("a timer was set");
  },
  clearTimer: () => {},
};

Deno.test("a snapshot reports every field of the contract", async () => {
  const clock = new ManualClock(5_000);
  const metrics = new Metrics({
    name: "users",
    group: "backend",
    clock,
    maxRecordsPerClockRead: 1,
    circuitState: () => "half-open",
    queued: () => 3,
  });
  metrics.callStarted();
  metrics.callStarted();
  metrics.recordSuccess(10);
  metrics.recordSuccess(20);
  metrics.recordFailure(30);
  metrics.recordTimeout(40);
  metrics.recordShortCircuited();
  metrics.recordRejected();
  metrics.recordFallbackSuccess();
  metrics.recordFallbackFailure();
  metrics.recordRetry();
  metrics.callEnded();
  await clock.advance(250);

  const counts: EventCounts = {
    successes: 2,
    failures: 1,
    timeouts: 1,
    shortCircuited: 1,
    rejected: 1,
    fallbackSuccesses: 1,
    fallbackFailures: 1,
    retries: 1,
  };
  assert.deepEqual(metrics.snapshot(), {
    name: "users",
    group: "backend",
    atMs: 5_250,
    windowMs: 10_000,
    rolling: counts,
    cumulative: counts,
    requests: 6,
    errorPercentage: (4 / 6) * 100,
    inFlight: 1,
    inFlightMax: 2,
    queued: 3,
    latency: {
      count: 4,
      meanMs: 25,
      // The 2nd of 4 values, 20, reported as the midpoint of [20, 20.25).
      p50Ms: 20.125,
      p90Ms: 40,
      p99Ms: 40,
      p999Ms: 40,
      maxMs: 40,
    },
    cumulativeLatency: { count: 4, sumMs: 100 },
    circuit: "half-open",
  });
});

Deno.test("empty metrics report zeros, group defaults to name, no circuit", () => {
  const { metrics } = exact();

  assert.deepEqual(metrics.snapshot(), {
    name: "test",
    group: "test",
    atMs: 0,
    windowMs: 10_000,
    rolling: NONE,
    cumulative: NONE,
    requests: 0,
    errorPercentage: 0,
    inFlight: 0,
    inFlightMax: 0,
    queued: 0,
    latency: {
      count: 0,
      meanMs: 0,
      p50Ms: 0,
      p90Ms: 0,
      p99Ms: 0,
      p999Ms: 0,
      maxMs: 0,
    },
    cumulativeLatency: { count: 0, sumMs: 0 },
    circuit: undefined,
  });
});

Deno.test("errorPercentage counts failures, timeouts, short circuits and rejections, not fallbacks or retries", () => {
  const { metrics } = exact();
  for (let call = 0; call < 7; call++) metrics.recordSuccess(1);
  metrics.recordFailure(1);
  metrics.recordTimeout(1);
  metrics.recordShortCircuited();
  metrics.recordFallbackFailure();
  metrics.recordFallbackSuccess();
  metrics.recordRetry();
  const snapshot = metrics.snapshot();

  assert.equal(snapshot.requests, 10);
  assert.equal(snapshot.errorPercentage, 30);
});

Deno.test("rolling counts expire a full window after their bucket started", async () => {
  const { clock, metrics } = exact();
  metrics.recordSuccess(1);
  await clock.advance(9_999);
  assert.equal(metrics.snapshot().rolling.successes, 1);

  await clock.advance(1);
  assert.equal(metrics.snapshot().rolling.successes, 0);
  assert.equal(metrics.snapshot().cumulative.successes, 1);
});

Deno.test("the window slides bucket by bucket", async () => {
  const { clock, metrics } = exact({ windowMs: 1_000, buckets: 4 });
  for (let step = 0; step < 8; step++) {
    metrics.recordFailure(1);
    await clock.advance(250);
  }
  // Buckets started at 1000, 1250, 1500 and 1750 hold one failure each; the
  // bucket now current (2000) is empty.
  assert.equal(metrics.snapshot().rolling.failures, 3);

  await clock.advance(500);
  assert.equal(metrics.snapshot().rolling.failures, 1);
  assert.equal(metrics.snapshot().cumulative.failures, 8);
});

Deno.test("a long idle period clears the whole window", async () => {
  const { clock, metrics } = exact();
  for (let call = 0; call < 50; call++) {
    metrics.recordSuccess(5);
    await clock.advance(100);
  }
  assert.equal(metrics.snapshot().rolling.successes, 50);

  await clock.advance(3_600_000);
  const snapshot = metrics.snapshot();
  assert.deepEqual(snapshot.rolling, NONE);
  assert.equal(snapshot.latency.count, 0);
  assert.equal(snapshot.cumulative.successes, 50);

  metrics.recordSuccess(5);
  assert.equal(metrics.snapshot().rolling.successes, 1);
});

Deno.test("latencies roll in their own, longer window", async () => {
  const { clock, metrics } = exact();
  metrics.recordSuccess(100);
  await clock.advance(20_000);
  metrics.recordSuccess(300);

  let snapshot = metrics.snapshot();
  assert.equal(snapshot.rolling.successes, 1);
  assert.equal(snapshot.latency.count, 2);
  assert.equal(snapshot.latency.meanMs, 200);

  await clock.advance(40_000);
  snapshot = metrics.snapshot();
  assert.equal(snapshot.latency.count, 1);
  assert.equal(snapshot.latency.maxMs, 300);

  await clock.advance(20_000);
  assert.equal(metrics.snapshot().latency.count, 0);
});

Deno.test("latency percentiles over the window stay within 1/128", () => {
  const { metrics } = exact();
  for (let ms = 1; ms <= 1_000; ms++) metrics.recordSuccess(ms);
  const { latency } = metrics.snapshot();

  assert.equal(latency.count, 1_000);
  assert.equal(latency.meanMs, 500.5);
  assert.equal(latency.maxMs, 1_000);
  for (
    const [actual, exactValue] of [
      [latency.p50Ms, 500],
      [latency.p90Ms, 900],
      [latency.p99Ms, 990],
      [latency.p999Ms, 999],
      [metrics.latencyPercentile(25), 250],
    ]
  ) {
    assert.ok(
      Math.abs(actual - exactValue) <= exactValue / 128,
      `${actual} vs ${exactValue}`,
    );
  }
  assert.equal(metrics.latencyPercentile(0), 1);
  assert.equal(metrics.latencyPercentile(100), 1_000);
});

Deno.test("short circuits, rejections, fallbacks and retries carry no latency", () => {
  const { metrics } = exact();
  metrics.recordShortCircuited();
  metrics.recordRejected();
  metrics.recordFallbackSuccess();
  metrics.recordFallbackFailure();
  metrics.recordRetry();

  assert.equal(metrics.snapshot().latency.count, 0);
});

Deno.test("in-flight max is the most calls at once in the window", async () => {
  const { clock, metrics } = exact();
  metrics.callStarted();
  metrics.callStarted();
  metrics.callStarted();
  metrics.callEnded();
  metrics.callEnded();
  let snapshot = metrics.snapshot();
  assert.equal(snapshot.inFlight, 1);
  assert.equal(snapshot.inFlightMax, 3);

  await clock.advance(10_000);
  snapshot = metrics.snapshot();
  assert.equal(snapshot.inFlight, 1);
  assert.equal(snapshot.inFlightMax, 1);

  metrics.callEnded();
  metrics.callEnded();
  assert.equal(metrics.inFlight, 0);
  assert.equal(metrics.snapshot().inFlightMax, 1);
});

Deno.test("atMs stamps a record exactly without reading the clock", async () => {
  const clock = new ManualClock();
  const metrics = new Metrics({ name: "stamped", clock });
  metrics.recordSuccess(5, 0);
  metrics.recordSuccess(5, 9_500);
  assert.equal(metrics.clockReads, 0);

  await clock.advance(10_000);
  const snapshot = metrics.snapshot();
  assert.equal(snapshot.rolling.successes, 1);
  assert.equal(snapshot.cumulative.successes, 2);
  assert.equal(metrics.clockReads, 1);
});

Deno.test("a stamp older than the current bucket counts in the current bucket", async () => {
  const { clock, metrics } = exact();
  await clock.advance(5_000);
  metrics.recordSuccess(1);
  metrics.recordSuccess(1, 100);
  await clock.advance(9_999);

  assert.equal(metrics.snapshot().rolling.successes, 2);
});

Deno.test("a fast stream reads the clock about once per 64 records", () => {
  const clock = new ManualClock();
  const metrics = new Metrics({ name: "fast", clock });
  for (let call = 0; call < 6_400; call++) metrics.recordSuccess(1);

  // Batches double from 1 to 64: 7 readings cover the first 127 records.
  assert.equal(metrics.clockReads, 7 + Math.ceil((6_400 - 127) / 64));
  assert.equal(metrics.snapshot().rolling.successes, 6_400);
});

Deno.test("a slow stream reads the clock on every record and stamps exactly", async () => {
  const clock = new ManualClock();
  const metrics = new Metrics({ name: "slow", clock });
  for (let call = 0; call < 30; call++) {
    metrics.recordSuccess(1);
    await clock.advance(500);
  }

  assert.equal(metrics.clockReads, 30);
  // Records at 5000..14500 are in the window [6000, 15000) reached at 15000.
  assert.equal(metrics.snapshot().rolling.successes, 18);
});

Deno.test("after a sudden stop, at most one batch is stamped early", async () => {
  const clock = new ManualClock();
  const metrics = new Metrics({ name: "burst", clock });
  for (let call = 0; call < 200; call++) metrics.recordSuccess(1);
  const readsAfterBurst = metrics.clockReads;

  await clock.advance(20_000);
  let early = 0;
  while (metrics.clockReads === readsAfterBurst) {
    metrics.recordSuccess(1);
    early++;
  }

  assert.ok(early <= 64, `${early} records before the clock was read`);
  assert.equal(metrics.snapshot().rolling.successes, 1);
  assert.equal(metrics.snapshot().cumulative.successes, 200 + early);
});

Deno.test("construction reads no clock and no record sets a timer", async () => {
  const metrics = new Metrics({ name: "quiet", clock: unreadableClock });
  assert.equal(metrics.clockReads, 0);
  metrics.recordSuccess(1, 10);
  metrics.callStarted(20);
  metrics.callEnded();

  const clock = new ManualClock();
  const timed = new Metrics({ name: "timed", clock });
  for (let call = 0; call < 100; call++) timed.recordFailure(3);
  timed.snapshot();
  await timed.execute(() => 1);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("resetRolling forgets rolling counts and latencies but keeps cumulative ones", () => {
  const { metrics } = exact();
  metrics.callStarted();
  metrics.recordSuccess(10);
  metrics.recordFailure(10);
  metrics.resetRolling();
  const snapshot = metrics.snapshot();

  assert.deepEqual(snapshot.rolling, NONE);
  assert.equal(snapshot.latency.count, 0);
  assert.equal(snapshot.cumulative.successes, 1);
  assert.equal(snapshot.inFlight, 1);
  assert.equal(snapshot.inFlightMax, 1);
});

Deno.test("recording rejects bad latencies with a RangeError and records nothing", () => {
  const { metrics } = exact();
  const bad = [-1, -0.001, NaN, Infinity, -Infinity, "5" as unknown as number];
  for (const latencyMs of bad) {
    for (
      const record of [
        () => metrics.recordSuccess(latencyMs),
        () => metrics.recordFailure(latencyMs),
        () => metrics.recordTimeout(latencyMs),
      ]
    ) {
      assert.throws(record, {
        name: "RangeError",
        message: `Metrics: latencyMs must be a finite number >= 0, got ${
          String(latencyMs)
        }`,
      });
    }
  }

  assert.equal(metrics.clockReads, 0);
  assert.deepEqual(metrics.snapshot().cumulative, NONE);
});

Deno.test("recording rejects a non-finite atMs", () => {
  const { metrics } = exact();
  for (const atMs of [NaN, Infinity, -Infinity]) {
    assert.throws(() => metrics.recordSuccess(1, atMs), {
      name: "RangeError",
      message: `Metrics: atMs must be a finite number, got ${atMs}`,
    });
    assert.throws(() => metrics.recordRetry(atMs), RangeError);
  }
});

Deno.test("latencyPercentile rejects NaN and values outside [0, 100]", () => {
  const { metrics } = exact();
  for (const percentile of [NaN, -1, 100.5, "50" as unknown as number]) {
    assert.throws(() => metrics.latencyPercentile(percentile), {
      name: "RangeError",
      message:
        `Metrics.latencyPercentile: percentile must be a number in [0, 100], got ${
          String(percentile)
        }`,
    });
  }
});

Deno.test("bad options are rejected naming the option and the value", () => {
  const cases: [Partial<MetricsOptions>, string, string][] = [
    [
      { name: "" },
      "TypeError",
      'Metrics: name must be a non-empty string, got ""',
    ],
    [
      { name: undefined },
      "TypeError",
      "Metrics: name must be a non-empty string, got undefined",
    ],
    [
      { name: 5 as unknown as string },
      "TypeError",
      "Metrics: name must be a non-empty string, got 5",
    ],
    [
      { group: "" },
      "TypeError",
      'Metrics: group must be a non-empty string, got ""',
    ],
    [
      { windowMs: 0 },
      "RangeError",
      "Metrics: windowMs must be a positive integer, got 0",
    ],
    [
      { windowMs: 1.5 },
      "RangeError",
      "Metrics: windowMs must be a positive integer, got 1.5",
    ],
    [
      { windowMs: NaN },
      "RangeError",
      "Metrics: windowMs must be a positive integer, got NaN",
    ],
    [
      { buckets: -2 },
      "RangeError",
      "Metrics: buckets must be a positive integer, got -2",
    ],
    [
      { buckets: 3 },
      "RangeError",
      "Metrics: buckets must divide windowMs, got 3 for 10000",
    ],
    [
      { latencyWindowMs: Infinity },
      "RangeError",
      "Metrics: latencyWindowMs must be a positive integer, got Infinity",
    ],
    [
      { latencyBuckets: 7 },
      "RangeError",
      "Metrics: latencyBuckets must divide latencyWindowMs, got 7 for 60000",
    ],
    [
      { maxRecordsPerClockRead: 0 },
      "RangeError",
      "Metrics: maxRecordsPerClockRead must be an integer in [1, 1024], got 0",
    ],
    [
      { maxRecordsPerClockRead: 2_000 },
      "RangeError",
      "Metrics: maxRecordsPerClockRead must be an integer in [1, 1024], got 2000",
    ],
    [
      { circuitState: "open" as unknown as () => undefined },
      "TypeError",
      "Metrics: circuitState must be a function, got string",
    ],
    [
      { queued: 3 as unknown as () => number },
      "TypeError",
      "Metrics: queued must be a function, got number",
    ],
  ];
  for (const [options, name, message] of cases) {
    assert.throws(
      () => new Metrics({ name: "x", ...options } as MetricsOptions),
      { name, message },
    );
  }
});

Deno.test("providers that throw or return nonsense report 0 and undefined", () => {
  const cases: [() => number, (() => undefined)][] = [
    [() => {
      throw new Error("queue gone");
    }, () => {
      throw new Error("breaker gone");
    }],
    [() => NaN, () => undefined],
    [() => -1, () => undefined],
  ];
  for (const [queued, circuitState] of cases) {
    const snapshot = new Metrics({ name: "x", queued, circuitState })
      .snapshot();
    assert.equal(snapshot.queued, 0);
    assert.equal(snapshot.circuit, undefined);
  }
});

Deno.test("execute counts successes and failures, with the latency it measured", async () => {
  const clock = new ManualClock();
  const metrics = new Metrics({ name: "calls", clock });
  const slow = metrics.execute(async () => {
    assert.equal(metrics.inFlight, 1);
    await clock.advance(40);
    return "done";
  });
  assert.equal(await slow, "done");
  await assert.rejects(
    metrics.execute(() => {
      throw new Error("boom");
    }),
    { message: "boom" },
  );
  const snapshot = metrics.snapshot();

  assert.equal(snapshot.rolling.successes, 1);
  assert.equal(snapshot.rolling.failures, 1);
  assert.equal(snapshot.latency.maxMs, 40);
  assert.equal(snapshot.inFlight, 0);
  assert.equal(snapshot.inFlightMax, 1);
});

Deno.test("execute counts a TimeoutError as a timeout", async () => {
  const { metrics } = exact();
  const timeout = Object.assign(new Error("late"), { name: "TimeoutError" });
  await assert.rejects(metrics.execute(() => Promise.reject(timeout)), timeout);

  assert.equal(metrics.snapshot().rolling.timeouts, 1);
});

Deno.test("execute uses classifyError, and a failure when it throws", async () => {
  const kinds = ["shortCircuited", "rejected", "bogus", "throw"];
  const { metrics } = exact({
    classifyError: (error) => {
      const kind = (error as Error).message;
      if (kind === "throw") throw new Error("classifier broke");
      return kind as "rejected";
    },
  });
  for (const kind of kinds) {
    await assert.rejects(
      metrics.execute(() => Promise.reject(new Error(kind))),
    );
  }
  const { rolling } = metrics.snapshot();

  assert.equal(rolling.shortCircuited, 1);
  assert.equal(rolling.rejected, 1);
  assert.equal(rolling.failures, 2);
});

Deno.test("execute passes the signal through and does not count the caller's abort", async () => {
  const { metrics } = exact();
  const controller = new AbortController();
  const running = metrics.execute(({ signal }) =>
    new Promise((_, reject) => {
      signal!.addEventListener("abort", () => reject(signal!.reason));
    }), controller.signal);
  controller.abort(new Error("client left"));
  await assert.rejects(running, { message: "client left" });

  await assert.rejects(
    metrics.execute(() => 1, controller.signal),
    { message: "client left" },
  );
  const snapshot = metrics.snapshot();
  assert.deepEqual(snapshot.cumulative, NONE);
  assert.equal(snapshot.inFlight, 0);
});

Deno.test("wrap keeps the arguments and counts each call", async () => {
  const { metrics } = exact();
  const add = metrics.wrap((a: number, b: number) => a + b);

  assert.equal(await add(2, 3), 5);
  assert.equal(await add(4, 5), 9);
  assert.equal(metrics.snapshot().cumulative.successes, 2);
});

Deno.test("a registry registers, finds, lists and snapshots metrics", () => {
  const registry = new MetricsRegistry();
  const users = new Metrics({
    name: "users",
    registry,
    clock: new ManualClock(),
  });
  const orders = registry.register(
    new Metrics({ name: "orders", clock: new ManualClock() }),
  );

  assert.equal(registry.get("users"), users);
  assert.equal(registry.get("orders"), orders);
  assert.equal(registry.get("missing"), undefined);
  assert.deepEqual(registry.list(), [users, orders]);
  assert.deepEqual(
    registry.snapshot().map((snapshot) => snapshot.name),
    ["users", "orders"],
  );
});

Deno.test("a registry refuses a second metrics with the same name", () => {
  const registry = new MetricsRegistry();
  const first = new Metrics({ name: "users", registry });

  assert.equal(registry.register(first), first);
  assert.throws(() => new Metrics({ name: "users", registry }), {
    name: "RangeError",
    message: 'MetricsRegistry.register: metrics named "users" are already ' +
      'registered; give each service its own name, or unregister("users") ' +
      "first to replace them",
  });
  assert.throws(() => registry.register({ name: "fake" } as Metrics), {
    name: "TypeError",
    message: "MetricsRegistry.register: expected a Metrics, got object",
  });
  assert.equal(registry.list().length, 1);
});

Deno.test("a registry announces registrations and removals", () => {
  const registry = new MetricsRegistry();
  const seen: string[] = [];
  for (const type of ["register", "unregister"]) {
    registry.addEventListener(type, (event) => {
      seen.push(`${type} ${(event as CustomEvent<Metrics>).detail.name}`);
    });
  }
  new Metrics({ name: "users", registry });

  assert.equal(registry.unregister("users"), true);
  assert.equal(registry.unregister("users"), false);
  assert.deepEqual(seen, ["register users", "unregister users"]);
  assert.deepEqual(registry.snapshot(), []);
});

Deno.test("registries are independent instances", () => {
  const one = new MetricsRegistry();
  const two = new MetricsRegistry();
  new Metrics({ name: "users", registry: one });

  assert.equal(two.get("users"), undefined);
  new Metrics({ name: "users", registry: two });
  assert.equal(one.list().length, 1);
});

Deno.test("cumulative latency count and sum keep growing after the rolling window forgets", async () => {
  const clock = new ManualClock();
  const metrics = new Metrics({
    name: "api",
    clock,
    latencyWindowMs: 6_000,
    latencyBuckets: 6,
    maxRecordsPerClockRead: 1,
  });
  metrics.recordSuccess(10);
  metrics.recordFailure(30);
  await clock.advance(60_000);
  metrics.recordTimeout(5);

  const snapshot = metrics.snapshot();
  assert.equal(snapshot.latency.count, 1);
  assert.deepEqual(snapshot.cumulativeLatency, { count: 3, sumMs: 45 });
});
