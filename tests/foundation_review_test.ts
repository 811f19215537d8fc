/**
 * Adversarial tests of the foundation modules (clock, manual clock, retry,
 * timeout): leaks, races, ordering and odd inputs a newcomer would hit.
 */

import assert from "node:assert/strict";
import { type Clock, MAX_DELAY_MS, sleep } from "../lib/clock.ts";
import { ManualClock, seededRandom } from "../lib/testing.ts";
import { type AttemptRecord, Retry, RetryError } from "../lib/retry.ts";
import { Timeout, TimeoutError } from "../lib/timeout.ts";
import { trackedSignal } from "./_signals.ts";

/** A clock over a manual clock that counts reads and its own live timers. */
function countingClock(inner = new ManualClock()) {
  const live = new Set<unknown>();
  let reads = 0;
  let started = 0;
  let maxLive = 0;
  const delays: number[] = [];
  const clock: Clock = {
    now: () => {
      reads++;
      return inner.now();
    },
    setTimer(callback, delayMs) {
      started++;
      delays.push(delayMs);
      const handle = inner.setTimer(() => {
        live.delete(handle);
        callback();
      }, delayMs);
      live.add(handle);
      maxLive = Math.max(maxLive, live.size);
      return handle;
    },
    clearTimer(handle) {
      live.delete(handle);
      inner.clearTimer(handle);
    },
  };

  return {
    clock,
    inner,
    delays,
    get reads() {
      return reads;
    },
    get started() {
      return started;
    },
    get live() {
      return live.size;
    },
    get maxLive() {
      return maxLive;
    },
  };
}

/** A clock whose timers fire on the next microtask, recording each delay. */
function instantClock() {
  const delays: number[] = [];
  let nowMs = 0;
  const clock: Clock = {
    now: () => nowMs,
    setTimer(callback, delayMs) {
      delays.push(delayMs);
      queueMicrotask(() => {
        nowMs += delayMs;
        callback();
      });
      return delays.length;
    },
    clearTimer() {},
  };
  return { clock, delays };
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

/** A non-native thenable that resolves synchronously inside `then`. */
function syncThenable<T>(value: T): PromiseLike<T> {
  return {
    then(onFulfilled: (value: T) => unknown) {
      onFulfilled(value);
    },
  } as unknown as PromiseLike<T>;
}

/** A non-native thenable that rejects synchronously inside `then`. */
function syncRejectingThenable<T>(reason: unknown): PromiseLike<T> {
  return {
    then(_: unknown, onRejected: (reason: unknown) => unknown) {
      onRejected(reason);
    },
  } as unknown as PromiseLike<T>;
}

// clock and ManualClock

Deno.test("sleep() leaves no abort listener on a long-lived signal", async () => {
  const clock = new ManualClock();
  const tracked = trackedSignal();

  for (let i = 0; i < 20; i++) {
    const waiting = sleep(5, { clock, signal: tracked.signal });
    assert.equal(tracked.listeners, 1);
    await clock.advance(5);
    await waiting;
  }

  assert.equal(tracked.listeners, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("sleep() clamps NaN, negative and infinite delays", async () => {
  const clock = new ManualClock();
  const fired: string[] = [];

  sleep(Number.NaN, { clock }).then(() => fired.push("nan"));
  sleep(-10, { clock }).then(() => fired.push("negative"));
  const forever = sleep(Infinity, { clock }).then(() => fired.push("inf"));
  await clock.advance(0);
  assert.deepEqual(fired, ["nan", "negative"]);
  await clock.advance(MAX_DELAY_MS - 1);
  assert.deepEqual(fired, ["nan", "negative"]);
  await clock.advance(1);
  await forever;

  assert.deepEqual(fired, ["nan", "negative", "inf"]);
});

Deno.test("constructing policies reads no clock and starts no timer", () => {
  const counted = countingClock();

  new ManualClock();
  new Retry({ clock: counted.clock });
  new Timeout({ timeoutMs: 10, clock: counted.clock });

  assert.equal(counted.reads, 0);
  assert.equal(counted.started, 0);
});

Deno.test("ManualClock fires timers set by a firing timer for the same time, after those already due", async () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  clock.setTimer(() => {
    fired.push(`a@${clock.now()}`);
    clock.setTimer(() => fired.push(`a1@${clock.now()}`), 0);
    clock.setTimer(() => fired.push(`a2@${clock.now()}`), 0);
    clock.setTimer(() => fired.push(`late@${clock.now()}`), 11);
  }, 10);
  clock.setTimer(() => fired.push(`b@${clock.now()}`), 10);

  await clock.advance(20);

  assert.deepEqual(fired, ["a@10", "b@10", "a1@10", "a2@10"]);
  assert.equal(clock.now(), 20);
  assert.equal(clock.pendingTimers, 1);
  await clock.advance(1);
  assert.deepEqual(fired.at(-1), "late@21");
});

Deno.test("ManualClock: a firing timer can cancel another that is due at the same time", async () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  const handles: unknown[] = [];
  clock.setTimer(() => {
    fired.push("first");
    clock.clearTimer(handles[0]);
  }, 5);
  handles[0] = clock.setTimer(() => fired.push("second"), 5);

  await clock.advance(5);

  assert.deepEqual(fired, ["first"]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("ManualClock never goes backwards when advances overlap", async () => {
  const clock = new ManualClock();
  const seen: number[] = [];
  for (const delayMs of [1, 3, 8]) {
    clock.setTimer(() => seen.push(clock.now()), delayMs);
  }

  await Promise.all([clock.advance(10), clock.advance(5)]);

  assert.equal(clock.now(), 10);
  assert.deepEqual(seen, [1, 3, 8]);
  await Promise.all([clock.advance(10), clock.advance(5)]);
  assert.equal(clock.now(), 20);
});

// retry

Deno.test("retry with attempts 1 throws the error as it is, without waiting", async () => {
  const counted = countingClock();
  const original = new Error("once");
  let hooks = 0;
  const policy = new Retry({
    attempts: 1,
    clock: counted.clock,
    shouldRetry: () => (hooks++, true),
    onRetry: () => hooks++,
  });

  await assert.rejects(
    policy.execute(() => Promise.reject(original)),
    (error) => error === original,
  );
  assert.equal(counted.started, 0);
  assert.equal(hooks, 0);
});

Deno.test("retry records an attempt that rejected with undefined", async () => {
  const counted = countingClock();
  const policy = new Retry({
    attempts: 3,
    backoff: "constant",
    initialDelayMs: 1,
    clock: counted.clock,
  });
  let calls = 0;

  const outcome = policy.execute(() => {
    calls++;
    return calls === 2 ? Promise.reject(new Error("two")) : Promise.reject();
  }).catch((error) => error);
  await counted.inner.runAll();
  const error = await outcome;

  assert.ok(error instanceof RetryError);
  assert.deepEqual(error.errors.map((e: Error | undefined) => e?.message), [
    undefined,
    "two",
    undefined,
  ]);
  assert.deepEqual(error.attempts.map((r: AttemptRecord) => r.attempt), [
    1,
    2,
    3,
  ]);
});

Deno.test("retry mixing retried results and errors", async (t) => {
  const setup = (outcomes: (number | Error)[], attempts = outcomes.length) => {
    const clock = new ManualClock();
    const policy = new Retry<number>({
      attempts,
      backoff: "constant",
      initialDelayMs: 10,
      clock,
      shouldRetryResult: (status) => status >= 500,
    });
    let calls = 0;
    const outcome = policy.execute(() => {
      const next = outcomes[calls++];
      return next instanceof Error
        ? Promise.reject(next)
        : Promise.resolve(next);
    }).then((value) => value, (error) => error);
    return { clock, outcome, calls: () => calls };
  };

  await t.step("a good result after errors and bad results wins", async () => {
    const run = setup([503, new Error("e2"), 502, 200]);
    await run.clock.advance(30);
    assert.equal(await run.outcome, 200);
    assert.equal(run.calls(), 4);
  });

  await t.step(
    "the last result is returned when attempts run out, even after an error",
    async () => {
      const run = setup([503, new Error("e2"), 502]);
      await run.clock.advance(20);
      assert.equal(await run.outcome, 502);
    },
  );

  await t.step(
    "an error after retried results is a RetryError, as more than one attempt ran",
    async () => {
      const run = setup([503, 502, new Error("e3")]);
      await run.clock.advance(20);
      const error = await run.outcome;
      assert.ok(error instanceof RetryError);
      assert.equal(error.message, "All 3 attempts failed; the last with: e3");
      assert.deepEqual(error.errors.map((e: Error) => e.message), ["e3"]);
      assert.equal(error.attempts[0].attempt, 3);
      assert.equal(error.attempts[0].delayMs, 0);
    },
  );

  await t.step(
    "a non-retryable error after a retried result is a RetryError too",
    async () => {
      const clock = new ManualClock();
      const policy = new Retry<number>({
        attempts: 5,
        initialDelayMs: 1,
        clock,
        shouldRetry: () => false,
        shouldRetryResult: () => true,
      });
      let calls = 0;
      const outcome = policy.execute(() =>
        calls++ === 0 ? 503 : Promise.reject(new TypeError("bad"))
      ).catch((error) => error);
      await clock.advance(1);
      const error = await outcome;
      assert.ok(error instanceof RetryError);
      assert.ok(error.has(TypeError));
      assert.equal(calls, 2);
    },
  );
});

Deno.test("a throwing predicate or hint rejects the call and never throws synchronously", async (t) => {
  const broken = new Error("predicate broke");
  const cases: [string, ConstructorParameters<typeof Retry>[0]][] = [
    ["shouldRetry", {
      shouldRetry: () => {
        throw broken;
      },
    }],
    ["retryAfterMs", {
      retryAfterMs: () => {
        throw broken;
      },
    }],
    ["backoff", {
      backoff: () => {
        throw broken;
      },
    }],
    ["random", {
      random: () => {
        throw broken;
      },
    }],
  ];
  for (const [name, options] of cases) {
    await t.step(name, async () => {
      const tracked = trackedSignal();
      const policy = new Retry({ ...options, attempts: 3 });

      let outcome!: Promise<unknown>;
      assert.doesNotThrow(() => {
        outcome = policy.execute(({ signal }) => {
          void signal;
          throw new Error("sync failure");
        }, tracked.signal);
      });
      await assert.rejects(outcome, (error) => error === broken);
      const later = policy.execute(async ({ signal }) => {
        void signal;
        await null;
        throw new Error("async failure");
      }, tracked.signal);
      await assert.rejects(later, (error) => error === broken);
      await Promise.resolve();

      assert.equal(tracked.listeners, 0);
    });
  }

  await t.step("shouldRetryResult", async () => {
    const tracked = trackedSignal();
    const policy = new Retry({
      shouldRetryResult: () => {
        throw broken;
      },
    });
    let outcome!: Promise<unknown>;
    assert.doesNotThrow(() => {
      outcome = policy.execute(({ signal }) => signal.aborted, tracked.signal);
    });
    await assert.rejects(outcome, (error) => error === broken);
    assert.equal(tracked.listeners, 0);
  });
});

Deno.test("RetryError records time synchronous and asynchronous attempts from their real start", async () => {
  const manual = new ManualClock();
  let workMs = 0;
  const clock: Clock = {
    now: () => manual.now() + workMs,
    setTimer: (callback, delayMs) => manual.setTimer(callback, delayMs),
    clearTimer: (handle) => manual.clearTimer(handle),
  };
  const policy = new Retry({
    attempts: 3,
    backoff: "constant",
    initialDelayMs: 10,
    clock,
  });

  const outcome = policy.execute(({ attempt }) => {
    workMs += 5;
    if (attempt === 2) {
      return new Promise((_, reject) =>
        manual.setTimer(() => reject(new Error("async")), 7)
      );
    }
    throw new Error(`sync ${attempt}`);
  }).catch((error: RetryError) => error);
  await manual.runAll();
  const error = await outcome as RetryError;

  assert.deepEqual(
    error.attempts.map((r) => [r.startedAtMs, r.endedAtMs, r.durationMs]),
    [
      [undefined, 5, undefined],
      [15, 27, 12],
      [37, 42, 5],
    ],
  );
  assert.deepEqual(error.attempts.map((r) => r.delayMs), [10, 10, 0]);
});

Deno.test("retry: an abort in the same tick as a failure rejects with the reason and starts no wait", async () => {
  for (const abortFirst of [false, true]) {
    const counted = countingClock();
    const tracked = trackedSignal();
    const policy = new Retry({
      attempts: 3,
      backoff: "constant",
      initialDelayMs: 100,
      clock: counted.clock,
    });
    let fail!: (error: Error) => void;
    let calls = 0;
    let attemptSignal: AbortSignal | undefined;
    const reason = new Error("caller left");

    const outcome = policy.execute(({ signal }) => {
      calls++;
      attemptSignal = signal;
      return new Promise((_, reject) => (fail = reject));
    }, tracked.signal).catch((error) => error);
    if (abortFirst) tracked.controller.abort(reason);
    fail(new Error("down"));
    if (!abortFirst) tracked.controller.abort(reason);

    assert.equal(await outcome, reason);
    await counted.inner.runAll();
    assert.equal(calls, 1);
    assert.equal(counted.started, 0);
    assert.equal(attemptSignal?.reason, reason);
    assert.equal(tracked.listeners, 0);
  }
});

Deno.test("retry: an abort from onRetry stops before any wait starts", async () => {
  const counted = countingClock();
  const controller = new AbortController();
  const reason = new Error("enough");
  const policy = new Retry({
    attempts: 3,
    initialDelayMs: 1_000,
    clock: counted.clock,
    onRetry: () => controller.abort(reason),
  });

  await assert.rejects(
    policy.execute(() => Promise.reject(new Error("down")), controller.signal),
    (error) => error === reason,
  );
  assert.equal(counted.started, 0);
});

Deno.test("retry: an operation that aborts its caller's signal itself rejects at once", async () => {
  const controller = new AbortController();
  const reason = new Error("self-abort");
  const policy = new Retry({ attempts: 3 });

  const outcome = policy.execute(() => {
    controller.abort(reason);
    return never();
  }, controller.signal);

  await assert.rejects(outcome, (error) => error === reason);
});

Deno.test("retry leaves no listener on a long-lived caller signal, whatever the outcome", async () => {
  const clock = new ManualClock();
  const tracked = trackedSignal();
  const policy = new Retry<number>({
    attempts: 3,
    backoff: "constant",
    initialDelayMs: 5,
    clock,
    shouldRetryResult: (value) => value < 0,
  });
  const operations: ((attempt: number) => number | Promise<number>)[] = [
    () => 1,
    () => Promise.resolve(2),
    (attempt) => attempt < 3 ? Promise.reject(new Error("x")) : 3,
    () => Promise.reject(new Error("always")),
    (attempt) => {
      if (attempt < 2) throw new Error("sync");
      return 4;
    },
    (attempt) => (attempt < 3 ? -1 : 5),
  ];

  for (let round = 0; round < 10; round++) {
    for (const operation of operations) {
      const call = policy.execute(
        ({ attempt, signal }) => (void signal, operation(attempt)),
        tracked.signal,
      ).catch(() => "failed");
      await clock.advance(20);
      await call;
    }
  }

  assert.equal(tracked.listeners, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("retry: reading a finished call's signal adds no listener to the caller's", async () => {
  const tracked = trackedSignal();
  const policy = new Retry({ attempts: 2 });
  const contexts: { signal: AbortSignal }[] = [];

  for (let i = 0; i < 5; i++) {
    await policy.execute(async (context) => {
      contexts.push(context);
      await null;
      return i;
    }, tracked.signal);
  }
  await Promise.resolve();
  for (const context of contexts) assert.equal(context.signal.aborted, false);

  assert.equal(tracked.listeners, 0);
});

Deno.test("retry accepts non-native thenables", async () => {
  const clock = new ManualClock();
  const policy = new Retry({
    attempts: 3,
    backoff: "constant",
    initialDelayMs: 1,
    clock,
  });
  let calls = 0;

  const outcome = policy.execute(() =>
    ++calls < 3
      ? syncRejectingThenable<string>(new Error(`thenable ${calls}`))
      : syncThenable("thenable ok")
  );
  await clock.advance(2);

  assert.equal(await outcome, "thenable ok");
  assert.equal(calls, 3);
});

Deno.test("retry keeps every wait within the timer's range over 1100 attempts", async () => {
  for (
    const backoff of [
      "exponential",
      "full-jitter",
      "decorrelated-jitter",
      "linear",
    ] as const
  ) {
    const { clock, delays } = instantClock();
    const policy = new Retry({
      attempts: 1_100,
      backoff,
      initialDelayMs: 1,
      maxDelayMs: Infinity,
      factor: 10,
      clock,
      random: seededRandom(3),
    });

    const error = await policy.execute(() => Promise.reject(new Error("no")))
      .catch((error) => error);

    assert.ok(error instanceof RetryError);
    assert.equal(error.errors.length, 1_100);
    assert.equal(delays.length, 1_099, `${backoff}: no wait after the last`);
    for (const delayMs of delays) {
      assert.ok(
        Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= MAX_DELAY_MS,
        `${backoff}: ${delayMs}`,
      );
    }
    assert.equal(error.attempts.at(-1)?.delayMs, 0);
  }
});

Deno.test("retry: odd Retry-After hints are capped or ignored", async () => {
  const hints = [Infinity, -5, Number.NaN, 1e300];
  const { clock, delays } = instantClock();
  const policy = new Retry({
    attempts: hints.length + 1,
    backoff: "constant",
    initialDelayMs: 7,
    maxDelayMs: Infinity,
    clock,
    retryAfterMs: () => hints.shift(),
  });

  await policy.execute(() => Promise.reject(new Error("429"))).catch(() => {});

  assert.deepEqual(delays, [MAX_DELAY_MS, 7, 7, MAX_DELAY_MS]);
});

Deno.test("retry rejects a clock that is not one, naming the option", () => {
  for (const clock of [performance, {}, null, 5]) {
    assert.throws(
      () => new Retry({ clock: clock as unknown as Clock }),
      (error: Error) =>
        error instanceof TypeError &&
        /^Retry: clock(\.(now|setTimer|clearTimer) must be a function, got undefined| must be a Clock object, got (null|5))$/
          .test(error.message),
    );
  }
});

// timeout

Deno.test("timeout: a synchronously settling thenable keeps no listener and no timer", async () => {
  const counted = countingClock();
  const tracked = trackedSignal();
  const policy = new Timeout({ timeoutMs: 100, clock: counted.clock });

  for (let i = 0; i < 10; i++) {
    assert.equal(
      await policy.execute(() => syncThenable(i), tracked.signal),
      i,
    );
    const reason = new Error(`no ${i}`);
    await assert.rejects(
      policy.execute(() => syncRejectingThenable(reason), tracked.signal),
      (error) => error === reason,
    );
  }

  assert.equal(tracked.listeners, 0);
  assert.equal(counted.started, 0);
});

Deno.test("timeout: a thenable whose then throws rejects with that error and leaks nothing", async () => {
  const clock = new ManualClock();
  const tracked = trackedSignal();
  const policy = new Timeout({ timeoutMs: 100, clock });
  const broken = new Error("then broke");

  const outcome = policy.execute(
    () =>
      ({
        then() {
          throw broken;
        },
      }) as unknown as PromiseLike<number>,
    tracked.signal,
  );

  await assert.rejects(outcome, (error) => error === broken);
  assert.equal(tracked.listeners, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("timeout: an operation that aborts its caller's signal itself rejects at once", async () => {
  const counted = countingClock();
  const controller = new AbortController();
  const reason = new Error("self-abort");
  const policy = new Timeout({ timeoutMs: 100, clock: counted.clock });
  let workSignal: AbortSignal | undefined;

  const outcome = policy.execute(({ signal }) => {
    workSignal = signal;
    controller.abort(reason);
    return never();
  }, controller.signal);

  await assert.rejects(outcome, (error) => error === reason);
  assert.equal(workSignal?.reason, reason);
  assert.equal(counted.started, 0);
});

Deno.test("timeout leaves no listener on a long-lived caller signal", async () => {
  const clock = new ManualClock();
  const tracked = trackedSignal();
  const policy = new Timeout({ timeoutMs: 10, clock });

  for (let i = 0; i < 10; i++) {
    const calls = [
      policy.execute(() => i, tracked.signal),
      policy.execute(() => Promise.resolve(i), tracked.signal),
      policy.execute(() => Promise.reject(new Error("x")), tracked.signal),
      policy.execute(
        () => new Promise((r) => clock.setTimer(() => r(i), 5)),
        tracked.signal,
      ),
      policy.execute(never, tracked.signal),
      policy.execute(() => {
        throw new Error("sync");
      }, tracked.signal),
    ].map((call) => call.catch((error) => error));
    await clock.advance(10);
    await Promise.all(calls);
  }

  assert.equal(tracked.listeners, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("timeout: the work's signal read late still tells what happened", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 10, clock });
  let lateContext: { signal: AbortSignal } | undefined;
  let fastContext: { signal: AbortSignal } | undefined;

  const late = policy.execute((context) => {
    lateContext = context;
    return never();
  }).catch((error) => error);
  await policy.execute((context) => {
    fastContext = context;
    return Promise.resolve();
  });
  await clock.advance(10);
  const error = await late;

  assert.ok(error instanceof TimeoutError);
  assert.equal(lateContext?.signal.aborted, true);
  assert.equal(lateContext?.signal.reason, error);
  assert.equal(fastContext?.signal.aborted, false);
});

Deno.test("timeout: a call settling exactly at its deadline", async (t) => {
  await t.step("its own timer, set before the deadline's, wins", async () => {
    const clock = new ManualClock();
    const policy = new Timeout({ timeoutMs: 50, clock });
    const outcome = policy.execute(() =>
      new Promise((r) => clock.setTimer(() => r("in time"), 50))
    );
    await clock.advance(50);
    assert.equal(await outcome, "in time");
    assert.equal(clock.pendingTimers, 0);
  });

  await t.step(
    "a timer set after the deadline's loses, and its value is abandoned",
    async () => {
      const clock = new ManualClock();
      const policy = new Timeout({ timeoutMs: 50, clock });
      const outcome = policy.execute(async () => {
        await null;
        await null;
        return await new Promise((r) => clock.setTimer(() => r("late"), 50));
      }).catch((error) => error);
      await clock.advance(50);
      const error = await outcome;
      assert.ok(error instanceof TimeoutError);
      await error.abandoned;
      assert.equal(clock.pendingTimers, 0);
    },
  );
});

Deno.test("timeout: abandoned resolves when timed-out work rejects, with no unhandled rejection", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 5, clock });
  let fail!: (error: Error) => void;

  const outcome = policy.execute(() => new Promise((_, r) => (fail = r)))
    .catch((error) => error);
  await clock.advance(5);
  const error = await outcome as TimeoutError;
  fail(new Error("too late"));

  assert.equal(await error.abandoned, undefined);
});

Deno.test("timeout: the deadline queue compacts past 1024 entries and keeps order", async () => {
  const counted = countingClock();
  const clock = counted.inner;
  const policy = new Timeout({ timeoutMs: 100, clock: counted.clock });
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  clock.setTimer(open, 60);
  const outcomes: Promise<string>[] = [];
  const track = (call: Promise<unknown>) =>
    outcomes.push(
      call.then(
        () => `value@${clock.now()}`,
        (error) => `${error.name}@${clock.now()}`,
      ),
    );

  for (let i = 0; i < 1_500; i++) {
    track(policy.execute(() => (i % 3 === 0 ? gate : never())));
  }
  await clock.advance(50);
  for (let i = 0; i < 100; i++) track(policy.execute(never));
  await clock.advance(100);
  for (let i = 0; i < 3; i++) track(policy.execute(never));
  await clock.advance(100);
  const results = await Promise.all(outcomes);

  const count = (from: number, to: number) => {
    const tally: Record<string, number> = {};
    for (const result of results.slice(from, to)) {
      tally[result] = (tally[result] ?? 0) + 1;
    }
    return tally;
  };
  assert.deepEqual(count(0, 1_500), {
    "value@60": 500,
    "TimeoutError@100": 1_000,
  });
  assert.deepEqual(count(1_500, 1_600), { "TimeoutError@150": 100 });
  assert.deepEqual(count(1_600, 1_603), { "TimeoutError@250": 3 });
  assert.equal(counted.maxLive, 1);
  assert.equal(counted.live, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("timeout: a hook that aborts another pending call mid-expiry keeps the queue sound", async (t) => {
  for (const withLaterCall of [true, false]) {
    await t.step(
      withLaterCall ? "with a later call" : "emptying the queue",
      async () => {
        const clock = new ManualClock();
        const controller = new AbortController();
        const policy = new Timeout({
          timeoutMs: 10,
          clock,
          onTimeout: () => controller.abort(new Error("cascade")),
        });
        const outcome = (call: Promise<unknown>) =>
          call.then(
            () => "value",
            (error) => `${error.name}: ${error.message}@${clock.now()}`,
          );

        const first = outcome(policy.execute(never));
        const second = outcome(policy.execute(never, controller.signal));
        await clock.advance(5);
        const third = withLaterCall
          ? outcome(policy.execute(never))
          : undefined;
        await clock.advance(5);

        assert.equal(await first, "TimeoutError: Timed out after 10 ms@10");
        assert.equal(await second, "Error: cascade@10");
        assert.equal(clock.pendingTimers, withLaterCall ? 1 : 0);
        const fourth = outcome(policy.execute(never));
        await clock.advance(10);
        if (third) {
          assert.equal(await third, "TimeoutError: Timed out after 10 ms@15");
        }
        assert.equal(await fourth, "TimeoutError: Timed out after 10 ms@20");
        assert.equal(clock.pendingTimers, 0);
      },
    );
  }
});

Deno.test("timeout: random interleavings of settles, aborts and deadlines match a model", async () => {
  const random = seededRandom(2024);
  const timeoutMs = 100;
  const counted = countingClock();
  const clock = counted.inner;
  const policy = new Timeout({ timeoutMs, clock: counted.clock });
  const expected: string[] = [];
  const actual: Promise<string>[] = [];

  for (let i = 0; i < 150; i++) {
    const startMs = Math.floor(random() * 600);
    const settleMs = random() < 0.2
      ? Infinity
      : Math.floor(random() * 200) + 0.5;
    const abortMs = random() < 0.7 ? Infinity : Math.floor(random() * 200) +
      0.25;
    const first = Math.min(settleMs, abortMs, timeoutMs);
    const kind = first === settleMs
      ? "value"
      : first === abortMs
      ? "abort"
      : "TimeoutError";
    expected.push(`${i}:${kind}@${startMs + first}`);

    let recorded!: (outcome: string) => void;
    actual.push(new Promise((r) => (recorded = r)));
    clock.setTimer(() => {
      const controller = new AbortController();
      if (abortMs < Infinity) {
        clock.setTimer(() => controller.abort(new Error("abort")), abortMs);
      }
      policy.execute(({ signal }) => {
        if (settleMs === Infinity) return never();
        return new Promise((resolve) => {
          clock.setTimer(() => resolve(signal.aborted), settleMs);
        });
      }, abortMs < Infinity ? controller.signal : undefined).then(
        (aborted) => recorded(`${i}:value${aborted ? "!" : ""}@${clock.now()}`),
        (error) =>
          recorded(
            `${i}:${
              error instanceof TimeoutError ? error.name : error.message
            }@${clock.now()}`,
          ),
      );
    }, startMs);
  }
  await clock.advance(1_000);

  assert.deepEqual(await Promise.all(actual), expected);
  assert.equal(counted.maxLive, 1);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("timeout rejects a clock that is not one, naming the option", () => {
  for (const clock of [performance, {}, null]) {
    assert.throws(
      () => new Timeout({ timeoutMs: 5, clock: clock as unknown as Clock }),
      (error: Error) =>
        error instanceof TypeError &&
        /^Timeout: clock(\.(now|setTimer|clearTimer) must be a function, got undefined| must be a Clock object, got (null|5))$/
          .test(error.message),
    );
  }
});

Deno.test("no listener stays on a caller's signal after it aborts mid-attempt, mid-wait or mid-deadline", async () => {
  const clock = new ManualClock();
  const retryPolicy = new Retry({
    attempts: 3,
    backoff: "constant",
    initialDelayMs: 50,
    clock,
  });
  const timeoutPolicy = new Timeout({ timeoutMs: 100, clock });
  const cases: [string, (signal: AbortSignal) => Promise<unknown>][] = [
    [
      "retry, mid-attempt",
      (signal) =>
        retryPolicy.execute(({ signal: attemptSignal }) => {
          void attemptSignal;
          return never();
        }, signal),
    ],
    [
      "retry, mid-wait",
      (signal) =>
        retryPolicy.execute(({ signal: attemptSignal }) => {
          void attemptSignal;
          return Promise.reject(new Error("down"));
        }, signal),
    ],
    [
      "timeout, pending",
      (signal) =>
        timeoutPolicy.execute(({ signal: workSignal }) => {
          void workSignal;
          return never();
        }, signal),
    ],
  ];

  for (const [name, start] of cases) {
    const tracked = trackedSignal();
    const reason = new Error(name);
    const outcome = start(tracked.signal).catch((error) => error);
    await clock.advance(10);
    tracked.controller.abort(reason);

    assert.equal(await outcome, reason, name);
    assert.equal(tracked.listeners, 0, name);
    assert.equal(clock.pendingTimers, 0, name);
  }
});

Deno.test("retry around timeout: attempts that time out are retried, nothing is left behind", async () => {
  const clock = new ManualClock();
  const tracked = trackedSignal();
  const deadline = new Timeout({ timeoutMs: 20, clock });
  const policy = new Retry({
    attempts: 3,
    backoff: "constant",
    initialDelayMs: 5,
    clock,
    shouldRetry: (error) => (error as Error).name === "TimeoutError",
  });
  const seen: [number, boolean][] = [];

  const outcome = policy.execute(
    ({ attempt, signal }) =>
      deadline.execute(({ signal: workSignal }) => {
        if (attempt === 3) return "third";
        workSignal.addEventListener("abort", () => {
          seen.push([attempt, signal.aborted]);
        });
        return never();
      }, signal),
    tracked.signal,
  );
  await clock.advance(20);
  await clock.advance(5 + 20 + 5);

  assert.equal(await outcome, "third");
  assert.deepEqual(seen, [[1, false], [2, false]]);
  assert.equal(clock.now(), 50);
  assert.equal(clock.pendingTimers, 0);
  await Promise.resolve();
  assert.equal(tracked.listeners, 0);
});
