/**
 * A reviewer's adversarial tests for the breaker, the fuse, the fallback and
 * the bulkhead: exact boundaries, re-entrant listeners, interleaved settles,
 * odd snapshots, exotic promises and races, all on a manual clock.
 */

import assert from "node:assert/strict";
import {
  Breaker,
  BreakerOpenError,
  type BreakerOptions,
  type BreakerSnapshot,
} from "../lib/breaker.ts";
import { Fuse, FuseBlownError, FuseBox } from "../lib/fuse.ts";
import { Fallback, fallback, FallbackError } from "../lib/fallback.ts";
import { Bulkhead, BulkheadRejectedError } from "../lib/bulkhead.ts";
import { ManualClock, settle } from "../lib/testing.ts";

const boom = () => Promise.reject(new Error("boom"));
const ok = () => Promise.resolve("ok");

async function fail(breaker: Breaker, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    await breaker.execute(boom).catch(() => {});
  }
}

async function succeed(breaker: Breaker, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) await breaker.execute(ok);
}

function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => assert.fail("expected a rejection"), (e) => e);
}

function transitions(breaker: Breaker): string[] {
  const seen: string[] = [];
  breaker.on("statechange", (event) => {
    seen.push(`${event.from}->${event.to} (${event.reason})`);
  });
  return seen;
}

/** Collects what reaches the global `reportError` while `body` runs. */
async function collectingReports(
  body: (reported: unknown[]) => Promise<void> | void,
): Promise<void> {
  const reported: unknown[] = [];
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    reported.push(event.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    await body(reported);
  } finally {
    globalThis.removeEventListener("error", onError);
  }
}

/** A breaker opened by `minimumCalls` failures at the clock's time. */
async function openBreaker(
  clock: ManualClock,
  options: BreakerOptions = {},
): Promise<Breaker> {
  const breaker = new Breaker({ clock, minimumCalls: 1, ...options });
  await fail(breaker, options.minimumCalls ?? 1);
  assert.equal(breaker.state, "open");
  return breaker;
}

// ---------------------------------------------------------------- breaker

Deno.test("review: breaker opens at exactly minimumCalls and exactly the threshold", async () => {
  const clock = new ManualClock();
  const options = { clock, minimumCalls: 10, failureRateThreshold: 0.3 };

  const atBoth = new Breaker(options);
  await succeed(atBoth, 7);
  await fail(atBoth, 2);
  assert.equal(atBoth.state, "closed", "9 calls are below minimumCalls");
  await fail(atBoth);
  assert.equal(atBoth.state, "open", "3 of 10 is exactly 0.3");

  const below = new Breaker(options);
  await succeed(below, 8);
  await fail(below, 2);
  assert.equal(below.state, "closed", "2 of 10 is below 0.3");
  assert.equal(below.stats.failureRate, 0.2);
});

Deno.test("review: a thirds threshold opens at exactly one failure in three", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 3,
    failureRateThreshold: 1 / 3,
  });
  await succeed(breaker, 2);
  await fail(breaker);
  assert.equal(breaker.state, "open");
});

Deno.test("review: a failure leaves the time window at the bucket edge, not before", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 2,
    window: { kind: "time", windowMs: 1_000, buckets: 10 },
  });
  await fail(breaker);
  await clock.advance(999);
  assert.equal(breaker.stats.failures, 1, "still inside at 999 ms");
  await clock.advance(1);
  assert.equal(breaker.stats.failures, 0, "gone at exactly windowMs");

  await fail(breaker);
  await clock.advance(99);
  await fail(breaker);
  assert.equal(breaker.state, "open", "both failures share the window");
});

Deno.test("review: the time window works on a clock with a negative origin", async () => {
  const clock = new ManualClock(-2_050);
  const breaker = new Breaker({
    clock,
    minimumCalls: 3,
    window: { kind: "time", windowMs: 1_000, buckets: 10 },
  });
  await fail(breaker, 2);
  await clock.advance(1_000);
  assert.equal(breaker.stats.calls, 0);
  await fail(breaker, 2);
  await clock.advance(500);
  await fail(breaker);
  assert.equal(breaker.state, "open");
});

Deno.test("review: the open period ends at exactly openUntil, not a tick before", async () => {
  const clock = new ManualClock(1_000);
  const breaker = await openBreaker(clock, { openMs: 2_000 });

  await clock.advance(1_999);
  const error = await caught(breaker.execute(ok));
  assert.ok(error instanceof BreakerOpenError);
  assert.equal(error.retryAfterMs, 1);
  assert.equal(error.state, "open");
  assert.equal(error.breakerName, "breaker");

  await clock.advance(1);
  assert.equal(await breaker.execute(ok), "ok");
  assert.equal(breaker.state, "closed");
});

Deno.test("review: a hung probe times out at exactly probeTimeoutMs", async () => {
  const clock = new ManualClock();
  const breaker = await openBreaker(clock, {
    openMs: 1_000,
    probeTimeoutMs: 300,
  });
  const seen = transitions(breaker);
  await clock.advance(1_000);
  const hung = breaker.execute(() => new Promise<never>(() => {}));
  void hung;

  await clock.advance(299);
  const overflow = await caught(breaker.execute(ok));
  assert.ok(overflow instanceof BreakerOpenError);
  assert.equal(overflow.state, "half-open");
  assert.equal(overflow.retryAfterMs, 1);

  await clock.advance(1);
  assert.equal(breaker.state, "open");
  const reopened = await caught(breaker.execute(ok));
  assert.ok(reopened instanceof BreakerOpenError);
  assert.equal(reopened.retryAfterMs, 1_000, "opened as of the deadline");
  assert.deepEqual(seen, [
    "open->half-open (open-elapsed)",
    "half-open->open (probe-timeout)",
  ]);
});

Deno.test("review: a probe settling at exactly its deadline decides nothing", async () => {
  const clock = new ManualClock();
  const breaker = await openBreaker(clock, {
    openMs: 1_000,
    probeTimeoutMs: 300,
  });
  await clock.advance(1_000);
  const gate = Promise.withResolvers<string>();
  const probe = breaker.execute(() => gate.promise);

  await clock.advance(300);
  gate.resolve("late");
  assert.equal(await probe, "late", "the caller still gets its value");
  assert.equal(breaker.state, "open", "the timeout won the tie");
});

Deno.test("review: a probe of an earlier half-open period cannot decide a later one", async () => {
  const clock = new ManualClock();
  const breaker = await openBreaker(clock, {
    openMs: 1_000,
    probeTimeoutMs: 100,
  });
  await clock.advance(1_000);
  const first = Promise.withResolvers<string>();
  const firstProbe = breaker.execute(() => first.promise);
  await clock.advance(100);
  assert.equal(breaker.state, "open");
  await clock.advance(1_000);
  assert.equal(breaker.state, "half-open");

  const second = Promise.withResolvers<string>();
  const secondProbe = breaker.execute(() => second.promise);
  first.resolve("stale");
  await firstProbe;
  assert.equal(breaker.state, "half-open", "the stale success closed nothing");

  second.reject(new Error("still down"));
  await secondProbe.catch(() => {});
  assert.equal(breaker.state, "open");
});

Deno.test("review: 1000 same-tick calls after a lazy open period let one probe through", async () => {
  const clock = new ManualClock();
  const breaker = await openBreaker(clock);
  await clock.advance(5_000);
  let ran = 0;
  const gate = Promise.withResolvers<void>();
  const calls = Array.from(
    { length: 1_000 },
    () => breaker.execute(() => (ran++, gate.promise)),
  );
  assert.equal(ran, 1);
  gate.resolve();
  const results = await Promise.allSettled(calls);
  const rejected = results.filter((r) => r.status === "rejected");
  assert.equal(rejected.length, 999);
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.stats.totals.rejected, 999);
});

Deno.test("review: a listener that forces the breaker open on half-open keeps it open", async () => {
  const clock = new ManualClock();
  const breaker = await openBreaker(clock);
  breaker.on("statechange", (event) => {
    if (event.to === "half-open") breaker.forceOpen();
  });
  await clock.advance(5_000);

  let ran = false;
  const error = await caught(breaker.execute(() => (ran = true)));
  assert.ok(error instanceof BreakerOpenError);
  assert.equal(error.state, "forced-open");
  assert.equal(error.retryAfterMs, Infinity);
  assert.equal(ran, false);
  await settle();
  assert.equal(breaker.state, "forced-open");
});

Deno.test("review: a listener that resets the breaker on half-open gets a closed breaker, not a probe", async () => {
  const clock = new ManualClock();
  const breaker = await openBreaker(clock, { minimumCalls: 5 });
  breaker.on("statechange", (event) => {
    if (event.to === "half-open") breaker.reset();
  });
  await clock.advance(5_000);

  await fail(breaker);
  assert.equal(breaker.state, "closed", "one failure is below minimumCalls");
  assert.equal(breaker.stats.failures, 1);
});

Deno.test("review: a listener that disables the breaker on half-open leaves it disabled", async () => {
  const clock = new ManualClock();
  const breaker = await openBreaker(clock);
  breaker.on("statechange", (event) => {
    if (event.to === "half-open") breaker.disable();
  });
  await clock.advance(5_000);

  assert.equal(await breaker.execute(ok), "ok");
  assert.equal(breaker.state, "disabled");
  assert.equal(breaker.stats.calls, 1, "disabled still records");
});

Deno.test("review: a listener that calls execute on half-open takes the only probe slot", async () => {
  const clock = new ManualClock();
  const breaker = await openBreaker(clock);
  const gate = Promise.withResolvers<string>();
  let inner: Promise<string> | undefined;
  breaker.on("statechange", (event) => {
    if (event.to === "half-open") inner = breaker.execute(() => gate.promise);
  });
  await clock.advance(5_000);

  const outer = await caught(breaker.execute(ok));
  assert.ok(outer instanceof BreakerOpenError);
  assert.equal(outer.state, "half-open");
  gate.resolve("inner");
  assert.equal(await inner, "inner");
  assert.equal(breaker.state, "closed");
});

Deno.test("review: a throwing statechange listener neither blocks the others nor the transition", async () => {
  await collectingReports(async (reported) => {
    const clock = new ManualClock();
    const breaker = new Breaker({ clock, minimumCalls: 1 });
    breaker.on("failure", () => {
      throw new Error("failure listener bug");
    });
    breaker.on("statechange", () => {
      throw new Error("statechange listener bug");
    });
    const seen = transitions(breaker);

    const error = await caught(breaker.execute(boom));
    assert.equal((error as Error).message, "boom");
    assert.deepEqual(seen, ["closed->open (failure-rate)"]);
    assert.deepEqual(
      reported.map((e) => (e as Error).message),
      ["statechange listener bug", "failure listener bug"],
    );
    assert.equal(breaker.stats.totals.failures, 1);
  });
});

Deno.test("review: the rejected event carries the very error the caller gets", async () => {
  const clock = new ManualClock();
  const breaker = await openBreaker(clock, { name: "orders" });
  const events: BreakerOpenError[] = [];
  breaker.on("rejected", (event) => {
    assert.equal(event.breakerName, "orders");
    events.push(event.error);
  });
  const error = await caught(breaker.execute(ok));
  assert.equal(events[0], error);
  assert.match((error as Error).message, /^Breaker "orders" is open/);
});

Deno.test("review: calls of the closed period settling in half-open decide nothing", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({ clock, minimumCalls: 2 });
  const slow = Promise.withResolvers<string>();
  const inFlight = [
    breaker.execute(() => slow.promise),
    breaker.execute(() => slow.promise, new AbortController().signal),
  ];
  await fail(breaker, 2);
  assert.equal(breaker.state, "open");
  await clock.advance(5_000);
  const probeGate = Promise.withResolvers<string>();
  const probe = breaker.execute(() => probeGate.promise);

  slow.reject(new Error("late failure"));
  await Promise.allSettled(inFlight);
  assert.equal(breaker.state, "half-open");
  probeGate.resolve("ok");
  await probe;
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.stats.calls, 0, "closing starts a fresh window");
});

Deno.test("review: isFailure false passes the error through, same object, counted nowhere", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 1,
    isFailure: (error) => (error as Error).message !== "404",
  });
  const notFound = new Error("404");
  assert.equal(
    await caught(breaker.execute(() => Promise.reject(notFound))),
    notFound,
  );
  assert.equal(
    await caught(breaker.execute(() => {
      throw notFound;
    })),
    notFound,
  );
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.stats.calls, 0);
  assert.equal(breaker.stats.totals.ignored, 2);
});

Deno.test("review: synchronous throws and thenables are outcomes, and execute never throws", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    window: { kind: "count", size: 4 },
    minimumCalls: 4,
  });
  const thenable = {
    then: (resolve: (value: string) => void) => resolve("t"),
  } as PromiseLike<string>;
  const badThenable = {
    then() {
      throw new Error("then threw");
    },
  };

  assert.equal(await breaker.execute(() => thenable), "t");
  const sync = breaker.execute(() => {
    throw new Error("sync");
  });
  assert.equal(((await caught(sync)) as Error).message, "sync");
  const bad = await caught(breaker.execute(() => badThenable));
  assert.equal((bad as Error).message, "then threw");
  assert.equal(breaker.stats.failures, 2);
  assert.deepEqual(breaker.toJSON().window, {
    kind: "count",
    outcomes: [0, 1, 1],
  });
});

Deno.test("review: a snapshot survives JSON and a clock with another, negative, fractional origin", async () => {
  const clock = new ManualClock(50_000.25);
  const options: BreakerOptions = {
    clock,
    minimumCalls: 3,
    openMs: 1_000,
    openBackoff: 2,
    maxOpenMs: 3_000,
    probeTimeoutMs: 500,
  };
  const breaker = await openBreaker(clock, options);
  await fail(breaker, 2);
  await clock.advance(1_000);
  await fail(breaker);
  await clock.advance(700.5);
  const snapshot: BreakerSnapshot = JSON.parse(JSON.stringify(breaker));
  assert.equal(snapshot.state, "open");
  assert.equal(snapshot.reopens, 1);
  assert.equal(snapshot.openRemainingMs, 1_299.5);

  const other = new ManualClock(-987_654.75);
  const copy = new Breaker({
    ...options,
    clock: other,
    initialState: snapshot,
  });
  assert.deepEqual(copy.toJSON(), snapshot, "the copy's snapshot is the same");
  await other.advance(1_299);
  assert.equal(copy.state, "open");
  await other.advance(0.5);
  assert.equal(copy.state, "half-open");
  await fail(copy);
  const error = await caught(copy.execute(ok));
  assert.equal((error as BreakerOpenError).retryAfterMs, 3_000, "capped");
});

Deno.test("review: a snapshot cannot keep a breaker open beyond its own maxOpenMs", async () => {
  const clock = new ManualClock();
  const snapshot: BreakerSnapshot = {
    version: 1,
    state: "open",
    openRemainingMs: 1e15,
    reopens: 0,
    probeSuccesses: 0,
    window: { kind: "count", outcomes: [] },
  };
  const breaker = new Breaker({
    clock,
    openMs: 1_000,
    maxOpenMs: 60_000,
    initialState: snapshot,
  });
  const error = await caught(breaker.execute(ok));
  assert.equal((error as BreakerOpenError).retryAfterMs, 60_000);
  await clock.advance(60_000);
  assert.equal(breaker.state, "half-open");
});

Deno.test("review: a call of exactly slowCallDurationMs is slow, one a tick shorter is not", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    window: { kind: "count", size: 2 },
    minimumCalls: 2,
    slowCallDurationMs: 100,
    slowCallRateThreshold: 0.5,
  });
  const taking = (ms: number) => async () => {
    await clock.advance(ms);
    return ms;
  };
  await breaker.execute(taking(99.5));
  await breaker.execute(taking(99.5));
  assert.equal(breaker.stats.slowCalls, 0);
  await breaker.execute(taking(100));
  assert.equal(breaker.state, "open", "1 of 2 is exactly 0.5");
  assert.equal(breaker.stats.totals.slowCalls, 1);
});

Deno.test("review: count and time window snapshots round-trip unchanged", async () => {
  const clock = new ManualClock(123);
  const count = new Breaker({
    clock,
    window: { kind: "count", size: 5 },
    slowCallDurationMs: 10,
    minimumCalls: 5,
  });
  await count.execute(ok);
  await count.execute(async () => {
    await clock.advance(10);
    return "slow";
  });
  await fail(count);
  await count.execute(async () => {
    await clock.advance(20);
    throw new Error("slow failure");
  }).catch(() => {});
  const countSnapshot = JSON.parse(JSON.stringify(count));
  assert.deepEqual(countSnapshot.window.outcomes, [0, 2, 1, 3]);
  const countCopy = new Breaker({
    clock: new ManualClock(),
    window: { kind: "count", size: 5 },
    slowCallDurationMs: 10,
    minimumCalls: 5,
    initialState: countSnapshot,
  });
  assert.deepEqual(countCopy.toJSON(), countSnapshot);
  await fail(countCopy);
  assert.equal(countCopy.state, "open", "3 of 5 failed");

  const time = new Breaker({ clock, minimumCalls: 100 });
  await fail(time, 2);
  await clock.advance(3_000);
  await succeed(time, 3);
  const timeSnapshot = JSON.parse(JSON.stringify(time));
  const timeCopy = new Breaker({
    clock: new ManualClock(7_777),
    minimumCalls: 100,
    initialState: timeSnapshot,
  });
  assert.deepEqual(timeCopy.toJSON(), timeSnapshot);
});

Deno.test("review: forced states survive toJSON and ignore the clock", async () => {
  const clock = new ManualClock();
  for (
    const [command, state] of [
      ["forceOpen", "forced-open"],
      ["forceClosed", "forced-closed"],
      ["disable", "disabled"],
    ] as const
  ) {
    const breaker = await openBreaker(clock);
    breaker[command]();
    await clock.advance(1_000_000);
    assert.equal(breaker.state, state);
    const copy = new Breaker({
      clock: new ManualClock(),
      initialState: JSON.parse(JSON.stringify(breaker)),
    });
    assert.equal(copy.state, state);
    copy.reset();
    assert.equal(copy.state, "closed");
  }
});

Deno.test("review: events tell the opening failure after the state change, with the error", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({ clock, minimumCalls: 2, name: "n" });
  const log: string[] = [];
  breaker.on("statechange", (e) => log.push(`${e.breakerName} ${e.to}`));
  breaker.on("success", (e) => log.push(`success ${e.durationMs}`));
  breaker.on(
    "failure",
    (e) => log.push(`failure ${(e.error as Error).message}`),
  );
  breaker.on("rejected", (e) => log.push(`rejected ${e.error.state}`));
  await succeed(breaker);
  await fail(breaker);
  await breaker.execute(ok).catch(() => {});
  assert.deepEqual(log, [
    "success undefined",
    "n open",
    "failure boom",
    "rejected open",
  ]);
});

Deno.test("review: breaker bad options name the option and the value", () => {
  const cases: [BreakerOptions, ErrorConstructor, string][] = [
    [
      { failureRateThreshold: 0 },
      RangeError,
      "failureRateThreshold must be in (0, 1], got 0",
    ],
    [{ failureRateThreshold: 1.5 }, RangeError, "got 1.5"],
    [{ minimumCalls: 0.5 }, RangeError, "minimumCalls"],
    [{ openMs: -1 }, RangeError, "openMs"],
    [{ openMs: Infinity }, RangeError, "openMs"],
    [{ openMs: 10, maxOpenMs: 5 }, RangeError, "maxOpenMs"],
    [{ openBackoff: 0.5 }, RangeError, "openBackoff"],
    [{ halfOpenProbes: 0 }, RangeError, "halfOpenProbes"],
    [{ probeTimeoutMs: 0 }, RangeError, "probeTimeoutMs"],
    [{ slowCallDurationMs: Number.NaN }, RangeError, "slowCallDurationMs"],
    [
      { window: { kind: "count", size: 3 }, minimumCalls: 4 },
      RangeError,
      "minimumCalls must be an integer in [1, 3], got 4",
    ],
    [
      { window: { kind: "time", windowMs: 1_000, buckets: 3 } },
      RangeError,
      "window.buckets",
    ],
    [{ name: 5 as never }, TypeError, "name must be a string, got 5"],
    [{ isFailure: "yes" as never }, TypeError, "isFailure"],
    [{ clock: {} as never }, TypeError, "clock"],
    [
      { initialState: { version: 2, window: { kind: "count" } } as never },
      RangeError,
      "initialState.version must be 1, got 2",
    ],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(
      () => new Breaker(options),
      (error: unknown) => {
        assert.ok(error instanceof type, `${message}: ${error}`);
        assert.ok(
          (error as Error).message.startsWith("Breaker: "),
          (error as Error).message,
        );
        assert.ok(
          (error as Error).message.includes(message),
          (error as Error).message,
        );
        return true;
      },
    );
  }
});

// ------------------------------------------------------------------- fuse

Deno.test("review: keyless rotation lets exactly one in 1 / passRatio through for decimal ratios", () => {
  for (
    const [ratio, calls, passes] of [
      [0.1, 10, 1],
      [0.1, 1_000, 100],
      [0.3, 10, 3],
      [0.7, 10, 7],
      [0.57, 100, 57],
      [1 / 3, 3, 1],
    ]
  ) {
    const fuse = new Fuse({ clock: new ManualClock() });
    fuse.trip({ passRatio: ratio });
    const results = Array.from({ length: calls }, () => fuse.allows());
    assert.equal(
      results.filter(Boolean).length,
      passes,
      `passRatio ${ratio} over ${calls} calls`,
    );
  }

  const fuse = new Fuse({ clock: new ManualClock() });
  fuse.trip({ passRatio: 0.1 });
  const pattern = Array.from({ length: 20 }, () => fuse.allows());
  assert.deepEqual(
    pattern.flatMap((passed, index) => passed ? [index + 1] : []),
    [10, 20],
  );
});

Deno.test("review: Fuse.wrap turns a throwing keyOf into a rejection", async () => {
  const fuse = new Fuse({ clock: new ManualClock() });
  let ran = false;
  const wrapped = fuse.wrap(() => (ran = true), {
    keyOf: () => {
      throw new Error("keyOf bug");
    },
  });
  let result: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    result = wrapped();
  });
  assert.equal(((await caught(result!)) as Error).message, "keyOf bug");
  assert.equal(ran, false);
});

Deno.test("review: a fuse expires at exactly expiresInMs, once, as expired", async () => {
  const clock = new ManualClock(10);
  const fuse = new Fuse({ name: "e", clock });
  const resets: string[] = [];
  fuse.on("reset", (event) => resets.push(`${event.cause} ${event.reason}`));
  fuse.trip({ reason: "r", expiresInMs: 100 });

  await clock.advance(99);
  assert.throws(() => fuse.check(), (error: unknown) => {
    assert.ok(error instanceof FuseBlownError);
    assert.equal(error.retryAfterMs, 1);
    assert.equal(error.reason, "r");
    return true;
  });
  await clock.advance(1);
  assert.equal(fuse.allows(), true);
  assert.equal(fuse.state, "intact");
  assert.equal(fuse.reset(), false, "an expired trip is not reset again");
  assert.deepEqual(resets, ["expired r"]);
});

Deno.test("review: re-tripping replaces the reason, the expiry and the ratio", async () => {
  const clock = new ManualClock();
  const fuse = new Fuse({ clock });
  fuse.trip({ reason: "first", expiresInMs: 100, passRatio: 0.5 });
  fuse.trip({ reason: "second" });
  await clock.advance(1_000);
  assert.equal(fuse.state, "blown");
  assert.equal(fuse.reason, "second");
  assert.equal(fuse.allows("anyone"), false);
  assert.deepEqual(fuse.toJSON(), {
    version: 1,
    name: "fuse",
    state: "blown",
    reason: "second",
    passRatio: 0,
  });
});

Deno.test("review: a fuse snapshot carries the time left across clock origins", async () => {
  const clock = new ManualClock(1_000_000);
  const box = new FuseBox({ clock });
  box.fuse("a").trip({ reason: "why", expiresInMs: 1_000, passRatio: 0.25 });
  box.fuse("b");
  await clock.advance(400);
  const saved = JSON.parse(JSON.stringify(box));

  const other = new ManualClock(-5);
  const restored = new FuseBox({ clock: other, initialState: saved });
  assert.deepEqual(restored.toJSON(), saved);
  const a = restored.fuse("a");
  const original = box.fuse("a");
  for (const key of ["k1", "k2", "k3", "k4", "k5", "k6"]) {
    assert.equal(a.allows(key), original.allows(key), `sticky key ${key}`);
  }
  await other.advance(600);
  assert.equal(a.state, "intact");
});

Deno.test("review: FuseBlownError is its own error, not a breaker's", async () => {
  const fuse = new Fuse({ name: "f" });
  fuse.trip();
  const error = await caught(fuse.execute(() => 1));
  assert.ok(error instanceof FuseBlownError);
  assert.ok(!(error instanceof BreakerOpenError));
  assert.equal((error as Error).name, "FuseBlownError");
  assert.equal((error as FuseBlownError).fuseName, "f");
  assert.equal((error as Error).message, 'Fuse "f" is blown');
});

Deno.test("review: a fuse survives a listener that resets it while it rejects", async () => {
  await collectingReports(async (reported) => {
    const fuse = new Fuse({ clock: new ManualClock() });
    fuse.on("rejected", () => {
      fuse.reset();
      throw new Error("listener bug");
    });
    fuse.trip({ reason: "x" });
    const error = await caught(fuse.execute(() => 1));
    assert.ok(error instanceof FuseBlownError);
    assert.equal(error.reason, "x");
    assert.equal(fuse.state, "intact");
    assert.equal(await fuse.execute(() => 2), 2);
    assert.equal(reported.length, 1);
  });
});

// --------------------------------------------------------------- fallback

Deno.test("review: fallback keeps the original error reachable however the handler fails", async () => {
  const original = new Error("original");
  for (
    const handler of [
      () => {
        throw new Error("sync handler");
      },
      () => Promise.reject(new Error("async handler")),
      () => ({
        then() {
          throw new Error("thenable handler");
        },
      }),
    ]
  ) {
    const policy = new Fallback<unknown>({ handler });
    const error = await caught(policy.execute(() => Promise.reject(original)));
    assert.ok(error instanceof FallbackError);
    assert.equal(error.cause, original);
    assert.match(error.message, /^Fallback failed: \w+ handler$/);
  }
});

Deno.test("review: fallback answers sync throws and thenable rejections, passes others untouched", async () => {
  const seen: unknown[] = [];
  const policy = new Fallback({
    handler: (error) => (seen.push(error), "fallback"),
    when: (error) => error instanceof TypeError,
  });
  const typeError = new TypeError("t");
  assert.equal(
    await policy.execute(() => {
      throw typeError;
    }),
    "fallback",
  );
  assert.equal(
    await policy.execute(() =>
      ({
        then: (_: unknown, reject: (e: unknown) => void) => reject(typeError),
      }) as PromiseLike<never>
    ),
    "fallback",
  );
  assert.deepEqual(seen, [typeError, typeError]);
  const other = new RangeError("r");
  assert.equal(
    await caught(policy.execute(() => Promise.reject(other))),
    other,
  );
});

Deno.test("review: fallback never answers the caller's abort, even when when selects it", async () => {
  const controller = new AbortController();
  const wrapped = fallback(
    (signal: AbortSignal) =>
      new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason))
      ),
    { value: "fallback" },
  );
  const policy = new Fallback({ value: "fallback" });
  const running = policy.execute(
    ({ signal }) =>
      new Promise((_, reject) =>
        signal!.addEventListener("abort", () => reject(signal!.reason))
      ),
    controller.signal,
  );
  const reason = new Error("caller left");
  controller.abort(reason);
  assert.equal(await caught(running), reason);
  const other = new AbortController();
  const viaWrapper = wrapped(other.signal);
  other.abort();
  assert.equal(await viaWrapper, "fallback", "fallback() has no caller signal");
});

// --------------------------------------------------------------- bulkhead

Deno.test("review: a promise whose constructor getter throws cannot leak a permit", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1 });
  const evil = Promise.resolve(1);
  Object.defineProperty(evil, "constructor", {
    get() {
      throw new Error("constructor getter");
    },
  });
  let call: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    call = pool.execute(() => evil);
  });
  assert.equal(((await caught(call!)) as Error).message, "constructor getter");
  assert.equal(pool.running, 0);
  assert.equal(await pool.execute(() => "next"), "next");
});

Deno.test("review: abort after start neither frees the permit nor rejects early", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 });
  const controller = new AbortController();
  const gate = Promise.withResolvers<string>();
  const running = pool.execute(() => gate.promise, controller.signal);
  controller.abort(new Error("left"));
  await settle();
  assert.equal(pool.running, 1);
  const next = pool.execute(() => "next");
  assert.equal(pool.queued, 1);
  gate.resolve("done anyway");
  assert.equal(await running, "done anyway");
  assert.equal(await next, "next");
  assert.equal(pool.running, 0);
});

Deno.test("review: queue timeout and abort in the same tick settle the caller once", async () => {
  for (const first of ["timeout", "abort"] as const) {
    const clock = new ManualClock();
    const pool = new Bulkhead({
      maxConcurrent: 1,
      maxQueued: 1,
      queueTimeoutMs: 100,
      clock,
    });
    const gate = Promise.withResolvers<void>();
    const holder = pool.execute(() => gate.promise);
    const controller = new AbortController();
    const rejected: unknown[] = [];
    const waiting = pool.execute(() => "never", controller.signal)
      .catch((error) => (rejected.push(error), error));
    const reason = new Error("abort");
    if (first === "abort") controller.abort(reason);
    clock.setTimer(() => controller.abort(reason), 100);
    await clock.advance(100);
    await waiting;

    assert.equal(rejected.length, 1, first);
    if (first === "abort") assert.equal(rejected[0], reason);
    else {
      assert.ok(rejected[0] instanceof BulkheadRejectedError);
      assert.equal(rejected[0].reason, "queue-timeout");
    }
    assert.equal(pool.queued, 0);
    assert.equal(clock.pendingTimers, 0);
    gate.resolve();
    await holder;
  }
});

Deno.test("review: a waiter whose permit frees at its timeout's tick runs or times out, never both", async () => {
  const clock = new ManualClock();
  const pool = new Bulkhead({
    maxConcurrent: 1,
    maxQueued: 1,
    queueTimeoutMs: 100,
    clock,
  });
  let started = 0;
  const holder = pool.execute(() =>
    new Promise<void>((resolve) => clock.setTimer(resolve, 100))
  );
  const waiting = pool.execute(() => (started++, "ran")).then(
    (value) => value,
    (error: BulkheadRejectedError) => error.reason,
  );
  await clock.advance(100);
  await holder;
  const outcome = await waiting;
  assert.ok(
    (outcome === "ran" && started === 1) ||
      (outcome === "queue-timeout" && started === 0),
    `${outcome} ${started}`,
  );
  assert.equal(pool.running, 0);
  assert.equal(pool.queued, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("review: an operation that aborts the next waiter during a drain keeps the books right", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 3 });
  const gate = Promise.withResolvers<void>();
  const holder = pool.execute(() => gate.promise);
  const second = new AbortController();
  const reason = new Error("aborted by the first waiter");
  const first = pool.execute(() => {
    second.abort(reason);
    return "first";
  });
  const secondCall = pool.execute(() => "second", second.signal);
  const third = pool.execute(() => "third");
  assert.equal(pool.queued, 3);

  gate.resolve();
  await holder;
  assert.equal(await first, "first");
  assert.equal(await caught(secondCall), reason);
  assert.equal(await third, "third");
  assert.equal(pool.running, 0);
  assert.equal(pool.queued, 0);
});

Deno.test("review: abandoned work that rejects, or whose abandoned is already settled, returns its permit once", async () => {
  for (const hold of [true, false]) {
    const pool = new Bulkhead({
      maxConcurrent: 1,
      maxQueued: 2,
      holdAbandonedPermits: hold,
    });
    const work = Promise.withResolvers<void>();
    const timedOut = Object.assign(new Error("t"), {
      name: "TimeoutError",
      abandoned: work.promise,
    });
    await caught(pool.execute(() => Promise.reject(timedOut)));
    assert.equal(pool.abandoned, 1);
    assert.equal(pool.running, 0);

    let ran = 0;
    const next = pool.execute(() => (ran++, "next"));
    assert.equal(ran, hold ? 0 : 1);
    work.reject(new Error("work failed"));
    assert.equal(await next, "next");
    await settle();
    assert.equal(pool.abandoned, 0);

    const done = Object.assign(new Error("t"), {
      name: "TimeoutError",
      abandoned: Promise.resolve(),
    });
    await caught(pool.execute(() => Promise.reject(done)));
    await settle();
    assert.equal(pool.abandoned, 0);
    const a = pool.execute(() => "a");
    const b = pool.execute(() => "b");
    assert.deepEqual(await Promise.all([a, b]), ["a", "b"]);
    assert.equal(pool.running, 0);
  }
});

Deno.test("review: throwing hooks and a hook that re-enters keep the counts right", async () => {
  const clock = new ManualClock();
  const nested: Promise<unknown>[] = [];
  let reentered = false;
  const pool: Bulkhead = new Bulkhead({
    maxConcurrent: 1,
    maxQueued: 1,
    queueTimeoutMs: 50,
    clock,
    onQueued: () => {
      throw new Error("onQueued bug");
    },
    onRejected: (event) => {
      if (event.error.reason === "full" && !reentered) {
        reentered = true;
        nested.push(pool.execute(() => "nested").catch((e) => e));
      }
      throw new Error("onRejected bug");
    },
  });
  const gate = Promise.withResolvers<void>();
  const holder = pool.execute(() => gate.promise);
  const queued = caught(pool.execute(() => "queued"));
  const full = await caught(pool.execute(() => "full"));
  assert.ok(full instanceof BulkheadRejectedError);
  assert.equal(full.reason, "full");
  assert.equal(nested.length, 1, "the hook ran and re-entered once");
  assert.ok((await nested[0]) instanceof BulkheadRejectedError);
  await clock.advance(50);
  const timedOut = await queued;
  assert.ok(timedOut instanceof BulkheadRejectedError);
  assert.equal(timedOut.reason, "queue-timeout");
  gate.resolve();
  await holder;
  await Promise.all(nested);
  assert.equal(pool.running, 0);
  assert.equal(pool.queued, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("review: bulkhead bad options name the option and the value", () => {
  const cases: [unknown, ErrorConstructor, string][] = [
    [
      undefined,
      TypeError,
      "Bulkhead: options must be an object with maxConcurrent, got undefined",
    ],
    [
      { maxConcurrent: 0 },
      RangeError,
      "Bulkhead: maxConcurrent must be an integer >= 1, got 0",
    ],
    [{ maxConcurrent: 1.5 }, RangeError, "got 1.5"],
    [
      { maxConcurrent: "2" },
      TypeError,
      'maxConcurrent must be a number, got "2"',
    ],
    [{ maxConcurrent: 1, maxQueued: -1 }, RangeError, "maxQueued"],
    [
      { maxConcurrent: 1, queueTimeoutMs: Number.NaN },
      RangeError,
      "queueTimeoutMs must be a number >= 0, got NaN",
    ],
    [
      { maxConcurrent: 1, holdAbandonedPermits: 1 },
      TypeError,
      "holdAbandonedPermits",
    ],
    [{ maxConcurrent: 1, clock: { now: () => 0 } }, TypeError, "clock"],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(
      () => new Bulkhead(options as never),
      (error: unknown) => {
        assert.ok(error instanceof type, `${message}: ${error}`);
        assert.ok(
          (error as Error).message.includes(message),
          (error as Error).message,
        );
        return true;
      },
    );
  }
});

Deno.test("review: a quiet spell cannot expire fresh successes and open a healthy breaker", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({ clock });
  await succeed(breaker, 16);
  await clock.advance(20_000);

  await succeed(breaker, 15);
  await fail(breaker, 10);
  await succeed(breaker, 10);
  assert.equal(breaker.state, "closed", "10 failures in 35 calls is 29 %");
  assert.equal(breaker.stats.calls, 35);
});
