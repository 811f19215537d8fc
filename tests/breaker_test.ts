import assert from "node:assert/strict";
import {
  Breaker,
  BreakerOpenError,
  type BreakerOptions,
  type BreakerSnapshot,
  type BreakerStateChangeEvent,
} from "../lib/breaker.ts";
import type { Clock } from "../lib/clock.ts";
import { ManualClock } from "../lib/testing.ts";

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

/** A clock that counts how often it is read. */
function countingClock(clock: ManualClock): Clock & { reads: number } {
  return {
    reads: 0,
    now() {
      this.reads++;
      return clock.now();
    },
    setTimer: (callback, delayMs) => clock.setTimer(callback, delayMs),
    clearTimer: (handle) => clock.clearTimer(handle),
  };
}

function transitions(breaker: Breaker): string[] {
  const seen: string[] = [];
  breaker.on("statechange", (event: BreakerStateChangeEvent) => {
    seen.push(`${event.from}->${event.to} (${event.reason})`);
  });
  return seen;
}

Deno.test("Breaker stays closed until minimumCalls calls were seen", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({ clock, minimumCalls: 5 });

  await fail(breaker, 4);
  assert.equal(breaker.state, "closed");
  await fail(breaker);
  assert.equal(breaker.state, "open");
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("Breaker opens when the failure rate reaches the threshold, not below", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 10,
    failureRateThreshold: 0.3,
  });

  await succeed(breaker, 8);
  await fail(breaker, 2);
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.stats.failureRate, 0.2);

  await fail(breaker);
  assert.equal(breaker.stats.state, "closed");
  assert.ok(breaker.stats.failureRate < 0.3);
  await fail(breaker);
  assert.equal(breaker.state, "open");
});

Deno.test("Breaker opens on the success that brings the window to minimumCalls", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({ clock, minimumCalls: 4 });
  const seen = transitions(breaker);

  await fail(breaker, 3);
  assert.equal(breaker.state, "closed");
  await succeed(breaker);
  assert.equal(breaker.state, "open");
  assert.deepEqual(seen, ["closed->open (failure-rate)"]);
});

Deno.test("Breaker forgets failures that left the time window, bucket by bucket", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 4,
    window: { kind: "time", windowMs: 1_000, buckets: 4 },
  });

  await fail(breaker, 3);
  await clock.advance(999);
  assert.equal(breaker.stats.calls, 3);
  await clock.advance(1);
  assert.equal(breaker.stats.calls, 0);
  await fail(breaker);
  assert.equal(breaker.state, "closed");
  await fail(breaker, 3);
  assert.equal(breaker.state, "open");
});

Deno.test("Breaker with a count window judges the last size calls only", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    window: { kind: "count", size: 4 },
    failureRateThreshold: 0.75,
  });

  await fail(breaker, 2);
  await succeed(breaker, 2);
  await clock.advance(3_600_000);
  assert.deepEqual(
    [breaker.stats.calls, breaker.stats.failures],
    [4, 2],
    "a count window does not expire with time",
  );
  await fail(breaker, 2);
  assert.deepEqual([breaker.stats.calls, breaker.stats.failures], [4, 2]);
  assert.equal(breaker.state, "closed");
  await fail(breaker);
  assert.equal(breaker.state, "open");
});

Deno.test("Breaker defaults minimumCalls to a smaller count window's size", async () => {
  const breaker = new Breaker({
    clock: new ManualClock(),
    window: { kind: "count", size: 3 },
  });

  await fail(breaker, 3);
  assert.equal(breaker.state, "open");
});

Deno.test("Breaker counts slow calls and opens on the slow-call rate", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 4,
    slowCallDurationMs: 100,
    slowCallRateThreshold: 0.5,
  });
  const durations: (number | undefined)[] = [];
  breaker.on("success", (event) => durations.push(event.durationMs));
  const seen = transitions(breaker);
  const slow = async () => {
    const call = breaker.execute(() => clockWait(clock, 100));
    await clock.advance(100);
    await call;
  };

  await succeed(breaker, 2);
  await slow();
  assert.equal(breaker.stats.slowCalls, 1);
  assert.equal(breaker.state, "closed");
  await slow();
  assert.equal(breaker.state, "open");
  assert.deepEqual(durations, [0, 0, 100, 100]);
  assert.deepEqual(seen, ["closed->open (slow-call-rate)"]);
  assert.equal(breaker.stats.totals.slowCalls, 2);
});

Deno.test("Breaker counts a slow failure as both failed and slow", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 3,
    slowCallDurationMs: 10,
  });

  const call = breaker.execute(async () => {
    await clockWait(clock, 10);
    throw new Error("late and wrong");
  });
  await clock.advance(10);
  await assert.rejects(call, { message: "late and wrong" });
  await succeed(breaker);
  const stats = breaker.stats;
  assert.deepEqual([stats.calls, stats.failures, stats.slowCalls], [2, 1, 1]);
  assert.equal(stats.state, "closed");
});

Deno.test("Breaker reads no clock for successes of a count window", async () => {
  const manual = new ManualClock();
  const clock = countingClock(manual);
  const breaker = new Breaker({ clock, window: { kind: "count", size: 50 } });

  await succeed(breaker, 1_000);
  assert.equal(clock.reads, 0);
});

Deno.test("Breaker reads the clock once per 16 successes in busy traffic", async () => {
  const manual = new ManualClock();
  const clock = countingClock(manual);
  const breaker = new Breaker({ clock });
  assert.equal(clock.reads, 0, "construction reads no clock");

  await succeed(breaker, 1_600);
  assert.ok(clock.reads <= 100 + 4, `read ${clock.reads} times`);
  assert.equal(breaker.stats.calls, 1_600);
});

Deno.test("Breaker reads the clock on every success when traffic is sparse", async () => {
  const manual = new ManualClock();
  const clock = countingClock(manual);
  const breaker = new Breaker({
    clock,
    window: { kind: "time", windowMs: 1_000, buckets: 10 },
  });

  for (let i = 0; i < 20; i++) {
    await succeed(breaker);
    await manual.advance(60);
  }
  assert.equal(clock.reads, 20);

  await succeed(breaker, 64);
  const before = clock.reads;
  await succeed(breaker, 64);
  assert.ok(clock.reads - before <= 5, `${clock.reads - before} reads`);
});

Deno.test("Breaker stamps unread successes with the last clock read", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    window: { kind: "time", windowMs: 1_000, buckets: 10 },
  });

  await succeed(breaker, 40);
  await clock.advance(950);
  await succeed(breaker, 3);
  assert.equal(breaker.stats.calls, 43, "stale stamps are inside the window");
  await clock.advance(100);
  assert.ok(breaker.stats.calls <= 3 + 16);
});

Deno.test("Breaker passes errors that isFailure rejects through untouched, as ignored", async () => {
  const clock = new ManualClock();
  class NotFound extends Error {}
  const breaker = new Breaker({
    clock,
    minimumCalls: 1,
    isFailure: (error) => !(error instanceof NotFound),
  });
  const ignored: unknown[] = [];
  breaker.on("ignored", (event) => ignored.push(event.error));
  const missing = new NotFound("no such user");

  const error = await breaker.execute(() => Promise.reject(missing)).catch(
    (error) => error,
  );
  assert.equal(error, missing);
  assert.deepEqual(ignored, [missing]);
  const stats = breaker.stats;
  assert.equal(stats.state, "closed");
  assert.equal(stats.calls, 0);
  assert.equal(stats.totals.ignored, 1);
});

Deno.test("Breaker counts an error as a failure when isFailure throws", async () => {
  const reported: unknown[] = [];
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    reported.push(event.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    const breaker = new Breaker({
      clock: new ManualClock(),
      minimumCalls: 1,
      isFailure: () => {
        throw new Error("predicate bug");
      },
    });
    await fail(breaker);
    assert.equal(breaker.state, "open");
    assert.equal((reported[0] as Error).message, "predicate bug");
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});

Deno.test("Breaker ignores the caller's own abort and rejects an aborted signal at once", async () => {
  const breaker = new Breaker({ clock: new ManualClock(), minimumCalls: 1 });
  const controller = new AbortController();
  const reason = new Error("user left");

  const call = breaker.execute(
    ({ signal }) =>
      new Promise((_, reject) =>
        signal!.addEventListener("abort", () => reject(signal!.reason))
      ),
    controller.signal,
  );
  controller.abort(reason);
  assert.equal(await call.catch((error) => error), reason);
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.stats.totals.ignored, 1);

  let ran = false;
  const late = breaker.execute(() => (ran = true), controller.signal);
  assert.equal(await late.catch((error) => error), reason);
  assert.equal(ran, false);
});

Deno.test("Breaker rejects at once while open, with the time left", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    name: "payments",
    minimumCalls: 1,
    openMs: 1_000,
  });
  await fail(breaker);
  await clock.advance(300);

  let ran = false;
  const error = await breaker.execute(() => (ran = true)).catch((e) => e);
  assert.equal(ran, false);
  assert.ok(error instanceof BreakerOpenError);
  assert.equal(error.name, "BreakerOpenError");
  assert.equal(error.breakerName, "payments");
  assert.equal(error.state, "open");
  assert.equal(error.retryAfterMs, 700);
  assert.equal(error.message, 'Breaker "payments" is open: retry in 700 ms');
  assert.equal(breaker.stats.totals.rejected, 1);
});

Deno.test("Breaker lets exactly halfOpenProbes of 1000 same-tick calls through", async (t) => {
  for (const halfOpenProbes of [1, 3]) {
    await t.step(`halfOpenProbes ${halfOpenProbes}`, async () => {
      const clock = new ManualClock();
      const breaker = new Breaker({
        clock,
        minimumCalls: 1,
        halfOpenProbes,
        successesToClose: halfOpenProbes,
      });
      await fail(breaker);
      await clock.advance(5_000);

      const gate = Promise.withResolvers<void>();
      let running = 0;
      const calls = Array.from(
        { length: 1_000 },
        () =>
          breaker.execute(() => {
            running++;
            return gate.promise.then(() => "probed");
          }),
      );
      assert.equal(running, halfOpenProbes);
      assert.equal(breaker.state, "half-open");

      gate.resolve();
      const results = await Promise.allSettled(calls);
      const fulfilled = results.filter((r) => r.status === "fulfilled");
      assert.equal(fulfilled.length, halfOpenProbes);
      const rejected = results.filter((r) => r.status === "rejected");
      assert.ok(
        rejected.every((r) => r.reason instanceof BreakerOpenError),
      );
      assert.equal(breaker.state, "closed");
    });
  }
});

Deno.test("Breaker rejects half-open overflow with the time until the probe times out", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    name: "db",
    minimumCalls: 1,
    probeTimeoutMs: 2_000,
  });
  await fail(breaker);
  await clock.advance(5_000);
  const gate = Promise.withResolvers<void>();
  const probe = breaker.execute(() => gate.promise);
  await clock.advance(500);

  const error = await breaker.execute(ok).catch((e) => e);
  assert.ok(error instanceof BreakerOpenError);
  assert.equal(error.state, "half-open");
  assert.equal(error.retryAfterMs, 1_500);
  assert.match(error.message, /half-open and its probes are running/);
  gate.resolve();
  await probe;
});

Deno.test("Breaker closes after successesToClose probe successes, reopens on a failed probe", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({ clock, minimumCalls: 1, successesToClose: 2 });
  const seen = transitions(breaker);

  await fail(breaker);
  await clock.advance(5_000);
  await succeed(breaker);
  assert.equal(breaker.state, "half-open");
  await fail(breaker);
  assert.equal(breaker.state, "open");

  await clock.advance(5_000);
  await succeed(breaker, 2);
  assert.equal(breaker.state, "closed");
  assert.deepEqual(seen, [
    "closed->open (failure-rate)",
    "open->half-open (open-elapsed)",
    "half-open->open (probe-failure)",
    "open->half-open (open-elapsed)",
    "half-open->closed (probe-success)",
  ]);
});

Deno.test("Breaker frees the probe slot of an ignored probe without deciding", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 1,
    isFailure: (error) => (error as Error).message !== "ignored",
  });
  await fail(breaker);
  await clock.advance(5_000);

  await breaker.execute(() => Promise.reject(new Error("ignored"))).catch(
    () => {},
  );
  assert.equal(breaker.state, "half-open");
  await succeed(breaker);
  assert.equal(breaker.state, "closed");
});

Deno.test("Breaker treats a probe that never settles as failed after probeTimeoutMs", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 1,
    openMs: 1_000,
    probeTimeoutMs: 3_000,
  });
  const seen = transitions(breaker);
  await fail(breaker);
  await clock.advance(1_000);
  const hung = Promise.withResolvers<string>();
  const probe = breaker.execute(() => hung.promise);

  await clock.advance(2_999);
  assert.equal(breaker.state, "half-open");
  await clock.advance(1);
  assert.equal(breaker.state, "open");
  assert.equal(clock.pendingTimers, 0);

  await clock.advance(1_000);
  assert.equal(breaker.state, "half-open");
  hung.resolve("too late");
  assert.equal(await probe, "too late");
  assert.equal(breaker.state, "half-open", "a timed-out probe decides nothing");
  assert.deepEqual(seen, [
    "closed->open (failure-rate)",
    "open->half-open (open-elapsed)",
    "half-open->open (probe-timeout)",
    "open->half-open (open-elapsed)",
  ]);
});

Deno.test("Breaker times a hung probe from its deadline even when read much later", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 1,
    openMs: 1_000,
    probeTimeoutMs: 3_000,
  });
  await fail(breaker);
  await clock.advance(1_000);
  const hung = Promise.withResolvers<void>();
  const probe = breaker.execute(() => hung.promise);

  await clock.advance(60_000);
  assert.equal(breaker.state, "half-open", "reopened at 4s, half-open at 5s");
  hung.resolve();
  await probe;
});

Deno.test("Breaker grows the open period with openBackoff up to maxOpenMs", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 1,
    openMs: 1_000,
    openBackoff: 2,
    maxOpenMs: 5_000,
  });
  const periods: number[] = [];
  const reopenAndMeasure = async () => {
    const error = await breaker.execute(ok).catch((e) => e);
    periods.push(error.retryAfterMs);
    await clock.advance(error.retryAfterMs);
    await fail(breaker);
  };

  await fail(breaker);
  for (let i = 0; i < 5; i++) await reopenAndMeasure();
  assert.deepEqual(periods, [1_000, 2_000, 4_000, 5_000, 5_000]);

  await clock.advance(5_000);
  await succeed(breaker);
  await fail(breaker);
  const error = await breaker.execute(ok).catch((e) => e);
  assert.equal(error.retryAfterMs, 1_000, "closing resets the backoff");
});

Deno.test("Breaker ignores the late outcomes of calls admitted in an earlier state", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({ clock, minimumCalls: 2 });
  const early = Promise.withResolvers<string>();
  const slowSuccess = breaker.execute(() => early.promise);

  await fail(breaker, 2);
  assert.equal(breaker.state, "open");
  await clock.advance(5_000);
  assert.equal(breaker.state, "half-open");
  early.resolve("late");
  assert.equal(await slowSuccess, "late");
  assert.equal(breaker.state, "half-open", "a closed-era success is no probe");
  assert.equal(breaker.stats.totals.successes, 1);
});

Deno.test("Breaker forced states: forceOpen, forceClosed, disable, reset", async (t) => {
  const clock = new ManualClock();
  const breaker = new Breaker({ clock, minimumCalls: 1, name: "x" });

  await t.step("forceOpen rejects every call and never times out", async () => {
    breaker.forceOpen();
    await clock.advance(1_000_000);
    const error = await breaker.execute(ok).catch((e) => e);
    assert.ok(error instanceof BreakerOpenError);
    assert.equal(error.state, "forced-open");
    assert.equal(error.retryAfterMs, Infinity);
    assert.equal(error.message, 'Breaker "x" is forced open');
    assert.equal(breaker.state, "forced-open");
  });

  await t.step(
    "forceClosed lets failures through and records none",
    async () => {
      breaker.forceClosed();
      await fail(breaker, 5);
      assert.equal(breaker.state, "forced-closed");
      assert.equal(breaker.stats.calls, 0);
      assert.equal(breaker.stats.totals.failures, 5);
    },
  );

  await t.step("disable records but never opens", async () => {
    breaker.disable();
    await fail(breaker, 5);
    assert.equal(breaker.state, "disabled");
    assert.equal(breaker.stats.calls, 5);
    assert.equal(breaker.stats.failureRate, 1);
  });

  await t.step("reset closes with an empty window", async () => {
    breaker.reset();
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.stats.calls, 0);
    await fail(breaker);
    assert.equal(breaker.state, "open");
  });
});

Deno.test("Breaker emits an event for every outcome, after the state change it causes", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    name: "events",
    minimumCalls: 2,
    isFailure: (error) => (error as Error).message !== "ignored",
  });
  const log: string[] = [];
  breaker.on("success", (event) => log.push(`success ${event.breakerName}`));
  breaker.on("failure", (event) => log.push(`failure ${event.error}`));
  breaker.on("ignored", (event) => log.push(`ignored ${event.error}`));
  breaker.on("rejected", (event) => log.push(`rejected ${event.error.state}`));
  breaker.on("statechange", (event) => log.push(`${event.from}->${event.to}`));

  await succeed(breaker);
  await breaker.execute(() => Promise.reject(new Error("ignored"))).catch(
    () => {},
  );
  await fail(breaker);
  await breaker.execute(ok).catch(() => {});

  assert.deepEqual(log, [
    "success events",
    "ignored Error: ignored",
    "closed->open",
    "failure Error: boom",
    "rejected open",
  ]);
});

Deno.test("Breaker listeners: unsubscribe, and a throwing listener breaks nothing", async () => {
  const reported: unknown[] = [];
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    reported.push(event.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    const clock = new ManualClock();
    const breaker = new Breaker({ clock, minimumCalls: 1 });
    const seen: string[] = [];
    breaker.on("statechange", () => {
      throw new Error("listener bug");
    });
    const stop = breaker.on("statechange", (event) => seen.push(event.to));

    await fail(breaker);
    assert.equal(breaker.state, "open");
    await clock.advance(5_000);
    stop();
    assert.equal(breaker.state, "half-open");
    assert.deepEqual(seen, ["open"]);
    assert.equal(reported.length, 2);
    assert.throws(
      () => breaker.on("success", "nope" as never),
      TypeError,
    );
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});

Deno.test("Breaker snapshot carries an open breaker across clocks with other origins", async () => {
  const first = new ManualClock(50_000);
  const breaker = new Breaker({
    clock: first,
    minimumCalls: 1,
    openMs: 1_000,
    openBackoff: 3,
  });
  await fail(breaker);
  await first.advance(1_000);
  await fail(breaker);
  await first.advance(400);

  const snapshot: BreakerSnapshot = JSON.parse(JSON.stringify(breaker));
  assert.equal(snapshot.state, "open");
  assert.equal(snapshot.openRemainingMs, 2_600);
  assert.equal(snapshot.reopens, 1);

  const second = new ManualClock(-7);
  const copy = new Breaker({
    clock: second,
    minimumCalls: 1,
    openMs: 1_000,
    openBackoff: 3,
    initialState: snapshot,
  });
  const error = await copy.execute(ok).catch((e) => e);
  assert.equal(error.retryAfterMs, 2_600);
  await second.advance(2_600);
  assert.equal(copy.state, "half-open");
  await fail(copy);
  const again = await copy.execute(ok).catch((e) => e);
  assert.equal(again.retryAfterMs, 9_000, "backoff continues: 1000 * 3^2");
});

Deno.test("Breaker snapshot round-trips a time window by bucket age", async () => {
  const clock = new ManualClock(12_345);
  const options: BreakerOptions = {
    clock,
    minimumCalls: 10,
    window: { kind: "time", windowMs: 1_000, buckets: 4 },
  };
  const breaker = new Breaker(options);
  await fail(breaker, 2);
  await clock.advance(250);
  await succeed(breaker, 3);

  const snapshot = breaker.toJSON();
  assert.deepEqual(snapshot.window, {
    kind: "time",
    bucketMs: 250,
    buckets: [
      { calls: 3, failures: 0, slowCalls: 0 },
      { calls: 2, failures: 2, slowCalls: 0 },
      { calls: 0, failures: 0, slowCalls: 0 },
      { calls: 0, failures: 0, slowCalls: 0 },
    ],
  });

  const other = new ManualClock(3);
  const copy = new Breaker({
    ...options,
    clock: other,
    initialState: snapshot,
  });
  assert.deepEqual(copy.toJSON(), snapshot);
  await other.advance(750);
  assert.equal(copy.stats.calls, 3, "the older bucket expired first");
});

Deno.test("Breaker snapshot keeps half-open progress, and drops a window of another shape", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({ clock, minimumCalls: 1, successesToClose: 3 });
  await fail(breaker);
  await clock.advance(5_000);
  await succeed(breaker);
  const snapshot = breaker.toJSON();
  assert.equal(snapshot.state, "half-open");
  assert.equal(snapshot.probeSuccesses, 1);

  const copy = new Breaker({
    clock,
    minimumCalls: 1,
    successesToClose: 3,
    window: { kind: "count", size: 10 },
    initialState: snapshot,
  });
  await succeed(copy, 2);
  assert.equal(copy.state, "closed");

  const counted = new Breaker({
    clock,
    window: { kind: "count", size: 10 },
  });
  await fail(counted, 2);
  const timed = new Breaker({ clock, initialState: counted.toJSON() });
  assert.equal(timed.stats.calls, 0);
});

Deno.test("Breaker restores forced and disabled states", () => {
  for (const state of ["forced-open", "forced-closed", "disabled"] as const) {
    const breaker = new Breaker({ clock: new ManualClock() });
    if (state === "forced-open") breaker.forceOpen();
    if (state === "forced-closed") breaker.forceClosed();
    if (state === "disabled") breaker.disable();
    const copy = new Breaker({
      clock: new ManualClock(),
      initialState: breaker.toJSON(),
    });
    assert.equal(copy.state, state);
  }
});

Deno.test("Breaker.wrap keeps arguments and this, and counts synchronous throws", async () => {
  const breaker = new Breaker({ clock: new ManualClock(), minimumCalls: 1 });
  const counter = {
    base: 10,
    add: breaker.wrap(function (this: { base: number }, n: number) {
      return this.base + n;
    }),
  };
  assert.equal(await counter.add(5), 15);

  const explode = breaker.wrap((): number => {
    throw new Error("sync");
  });
  await assert.rejects(explode(), { message: "sync" });
  assert.equal(breaker.state, "open");
});

Deno.test("Breaker.execute rejects a non-function operation without counting it", async () => {
  const breaker = new Breaker({ clock: new ManualClock(), minimumCalls: 1 });
  await assert.rejects(
    breaker.execute(42 as never),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message === "Breaker: operation must be a function, got 42",
  );
  assert.equal(breaker.state, "closed");
});

Deno.test("Breaker rejects bad options, naming the option and the value", () => {
  const cases: [BreakerOptions | unknown, ErrorConstructor, string][] = [
    [
      { failureRateThreshold: 1.5 },
      RangeError,
      "Breaker: failureRateThreshold must be in (0, 1], got 1.5",
    ],
    [
      { failureRateThreshold: 0 },
      RangeError,
      "Breaker: failureRateThreshold must be in (0, 1], got 0",
    ],
    [
      { failureRateThreshold: "0.5" },
      TypeError,
      'Breaker: failureRateThreshold must be a number, got "0.5"',
    ],
    [
      { slowCallRateThreshold: -0.1 },
      RangeError,
      "Breaker: slowCallRateThreshold must be in (0, 1], got -0.1",
    ],
    [
      { slowCallDurationMs: 0 },
      RangeError,
      "Breaker: slowCallDurationMs must be a finite number > 0, got 0",
    ],
    [
      { minimumCalls: 2.5 },
      RangeError,
      "Breaker: minimumCalls must be an integer >= 1, got 2.5",
    ],
    [
      { minimumCalls: 0 },
      RangeError,
      "Breaker: minimumCalls must be an integer >= 1, got 0",
    ],
    [
      { window: { kind: "count", size: 5 }, minimumCalls: 6 },
      RangeError,
      "Breaker: minimumCalls must be an integer in [1, 5], got 6",
    ],
    [
      { window: { kind: "time", windowMs: 0 } },
      RangeError,
      "Breaker: window.windowMs must be an integer >= 1, got 0",
    ],
    [
      { window: { kind: "time", windowMs: -1_000 } },
      RangeError,
      "Breaker: window.windowMs must be an integer >= 1, got -1000",
    ],
    [
      { window: { kind: "time", windowMs: 1_000, buckets: 3 } },
      RangeError,
      "Breaker: window.buckets must be a divisor of window.windowMs (1000), got 3",
    ],
    [
      { window: { kind: "time", buckets: 0 } },
      RangeError,
      "Breaker: window.buckets must be an integer >= 1, got 0",
    ],
    [
      { window: { kind: "count", size: 0 } },
      RangeError,
      "Breaker: window.size must be an integer >= 1, got 0",
    ],
    [
      { window: { kind: "count", size: 1.5 } },
      RangeError,
      "Breaker: window.size must be an integer >= 1, got 1.5",
    ],
    [
      { window: { kind: "count" } },
      TypeError,
      "Breaker: window.size must be a number, got undefined",
    ],
    [
      { window: { kind: "sliding" } },
      TypeError,
      'Breaker: window.kind must be "time" or "count", got "sliding"',
    ],
    [
      { window: 10 },
      TypeError,
      "Breaker: window must be an object, got 10",
    ],
    [
      { openMs: 0 },
      RangeError,
      "Breaker: openMs must be a finite number > 0, got 0",
    ],
    [
      { openMs: Infinity },
      RangeError,
      "Breaker: openMs must be a finite number > 0, got Infinity",
    ],
    [
      { openBackoff: 0.5 },
      RangeError,
      "Breaker: openBackoff must be a finite number >= 1, got 0.5",
    ],
    [
      { openMs: 10_000, maxOpenMs: 5_000 },
      RangeError,
      "Breaker: maxOpenMs must be a finite number >= 10000, got 5000",
    ],
    [
      { halfOpenProbes: 0 },
      RangeError,
      "Breaker: halfOpenProbes must be an integer >= 1, got 0",
    ],
    [
      { successesToClose: 1.5 },
      RangeError,
      "Breaker: successesToClose must be an integer >= 1, got 1.5",
    ],
    [
      { probeTimeoutMs: Number.NaN },
      RangeError,
      "Breaker: probeTimeoutMs must be a finite number > 0, got NaN",
    ],
    [
      { isFailure: true },
      TypeError,
      "Breaker: isFailure must be a function, got true",
    ],
    [
      { name: 7 },
      TypeError,
      "Breaker: name must be a string, got 7",
    ],
    [
      { clock: {} },
      TypeError,
      "Breaker: clock must be a Clock with a now() method, got an object",
    ],
    [
      "fast",
      TypeError,
      'Breaker: options must be an object, got "fast"',
    ],
  ];

  for (const [options, errorClass, message] of cases) {
    assert.throws(
      () => new Breaker(options as BreakerOptions),
      (error: unknown) => {
        assert.ok(error instanceof errorClass, message);
        assert.equal((error as Error).message, message);
        return true;
      },
    );
  }
});

Deno.test("Breaker rejects a malformed initialState", () => {
  const good: BreakerSnapshot = new Breaker({ clock: new ManualClock() })
    .toJSON();
  const cases: [unknown, ErrorConstructor, string][] = [
    [
      { ...good, version: 2 },
      RangeError,
      "Breaker: initialState.version must be 1, got 2",
    ],
    [
      { ...good, state: "ajar" },
      RangeError,
      'Breaker: initialState.state must be "closed" or "open" or "half-open" or "forced-open" or "forced-closed" or "disabled", got "ajar"',
    ],
    [
      { ...good, openRemainingMs: -5 },
      RangeError,
      "Breaker: initialState.openRemainingMs must be a finite number >= 0, got -5",
    ],
    [
      { ...good, reopens: 1.5 },
      RangeError,
      "Breaker: initialState.reopens must be an integer >= 0, got 1.5",
    ],
    [
      { ...good, window: { kind: "count", outcomes: [0, 4] } },
      RangeError,
      "Breaker: initialState.window.outcomes[1] must be an integer in [0, 3], got 4",
    ],
    [
      {
        ...good,
        window: {
          kind: "time",
          bucketMs: 1_000,
          buckets: [{ calls: 1, failures: 2, slowCalls: 0 }],
        },
      },
      RangeError,
      "Breaker: initialState.window.buckets[0].failures must be an integer in [0, 1], got 2",
    ],
    [
      "closed",
      TypeError,
      'Breaker: initialState must be an object, got "closed"',
    ],
  ];

  for (const [initialState, errorClass, message] of cases) {
    assert.throws(
      () =>
        new Breaker({
          clock: new ManualClock(),
          initialState: initialState as BreakerSnapshot,
        }),
      (error: unknown) => {
        assert.ok(error instanceof errorClass, message);
        assert.equal((error as Error).message, message);
        return true;
      },
    );
  }
});

Deno.test("Breaker starts no timer and reads no clock while idle", () => {
  const manual = new ManualClock();
  const clock = countingClock(manual);
  new Breaker({ clock, slowCallDurationMs: 5 });
  assert.equal(clock.reads, 0);
  assert.equal(manual.pendingTimers, 0);
});

/** Resolves after `ms` of manual time. */
function clockWait(clock: ManualClock, ms: number): Promise<string> {
  return new Promise((resolve) => clock.setTimer(() => resolve("done"), ms));
}

Deno.test("a failure's retryAfterMs hint lengthens the open period, capped by maxOpenMs", async () => {
  const clock = new ManualClock();
  const breaker = new Breaker({
    clock,
    minimumCalls: 1,
    openMs: 1_000,
    maxOpenMs: 10_000,
    retryAfterMs: (error) => (error as { retryAfterMs?: number }).retryAfterMs,
  });
  const failWith = (retryAfterMs: number) =>
    breaker.execute(() =>
      Promise.reject(Object.assign(new Error("busy"), { retryAfterMs }))
    ).catch(() => {});

  await failWith(4_000);
  assert.equal(breaker.state, "open");
  const rejection = await breaker.execute(() => 1).catch((error) => error);
  assert.equal(rejection.retryAfterMs, 4_000);
  await clock.advance(3_999);
  assert.equal(breaker.state, "open");
  await clock.advance(1);
  assert.equal(breaker.state, "half-open");

  await failWith(60_000);
  const capped = await breaker.execute(() => 1).catch((error) => error);
  assert.equal(capped.retryAfterMs, 10_000);
});

Deno.test("a hint shorter than openMs or not a number leaves openMs", async () => {
  const clock = new ManualClock();
  const hints: unknown[] = [100, Number.NaN, "soon"];
  for (const hint of hints) {
    const breaker = new Breaker({
      clock,
      minimumCalls: 1,
      openMs: 1_000,
      retryAfterMs: () => hint as number,
    });
    await breaker.execute(() => Promise.reject(new Error("x"))).catch(() => {});
    const rejection = await breaker.execute(() => 1).catch((error) => error);
    assert.equal(rejection.retryAfterMs, 1_000, `hint ${String(hint)}`);
  }
});
