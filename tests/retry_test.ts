import assert from "node:assert/strict";
import { type AttemptRecord, Retry, retry, RetryError } from "../lib/retry.ts";
import { backoffDelay } from "../lib/_backoff.ts";
import { ManualClock, seededRandom } from "../lib/testing.ts";
import { MAX_DELAY_MS } from "../lib/clock.ts";

function failing(times: number, make = (n: number) => new Error(`fail ${n}`)) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    run: () => {
      calls++;
      if (calls <= times) return Promise.reject(make(calls));
      return Promise.resolve(`ok after ${calls}`);
    },
  };
}

Deno.test("retry() returns the first success and waits by the backoff", async () => {
  const clock = new ManualClock();
  const delays: number[] = [];
  const policy = new Retry({
    attempts: 4,
    backoff: "exponential",
    initialDelayMs: 100,
    clock,
    onRetry: ({ delayMs }) => delays.push(delayMs),
  });
  const work = failing(3);

  const result = policy.execute(work.run);
  await clock.advance(99);
  assert.equal(work.calls, 1);
  await clock.advance(1);
  assert.equal(work.calls, 2);
  await clock.advance(200);
  assert.equal(work.calls, 3);
  await clock.advance(400);

  assert.equal(await result, "ok after 4");
  assert.deepEqual(delays, [100, 200, 400]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("each backoff kind computes its delays", async (t) => {
  const settings = { initialDelayMs: 100, maxDelayMs: 1_000, factor: 2 };
  const fixed = () => 0.5;
  const delays = (kind: Parameters<typeof backoffDelay>[0]["kind"]) => {
    const out: number[] = [];
    let previous = 0;
    for (let retry = 1; retry <= 6; retry++) {
      previous = backoffDelay({ ...settings, kind }, retry, previous, fixed);
      out.push(previous);
    }
    return out;
  };

  await t.step("constant", () => {
    assert.deepEqual(delays("constant"), [100, 100, 100, 100, 100, 100]);
  });
  await t.step("linear, capped", () => {
    assert.deepEqual(delays("linear"), [100, 200, 300, 400, 500, 600]);
  });
  await t.step("exponential, capped at maxDelayMs", () => {
    assert.deepEqual(delays("exponential"), [100, 200, 400, 800, 1000, 1000]);
  });
  await t.step("full jitter draws below the exponential delay", () => {
    assert.deepEqual(delays("full-jitter"), [50, 100, 200, 400, 500, 500]);
  });
  await t.step("decorrelated jitter grows from the previous delay", () => {
    assert.deepEqual(delays("decorrelated-jitter"), [
      200,
      350,
      550,
      550,
      550,
      550,
    ]);
  });
  await t.step("a custom function", () => {
    assert.deepEqual(delays((retry) => retry * 7), [7, 14, 21, 28, 35, 42]);
  });
});

Deno.test("jittered delays stay within their bounds over many draws", () => {
  const random = seededRandom(42);
  for (const kind of ["full-jitter", "decorrelated-jitter"] as const) {
    let previous = 0;
    for (let retry = 1; retry <= 5_000; retry++) {
      const settings = {
        kind,
        initialDelayMs: 10,
        maxDelayMs: 60_000,
        factor: 2,
      };
      const delay = backoffDelay(settings, retry, previous, random);
      assert.ok(Number.isFinite(delay), `${kind} retry ${retry} is ${delay}`);
      assert.ok(delay >= 0 && delay <= 60_000, `${kind}: ${delay}`);
      if (kind === "decorrelated-jitter") {
        assert.ok(delay >= 10 && delay <= Math.max(previous, 10) * 3);
      } else {
        assert.ok(delay <= Math.min(60_000, 10 * 2 ** (retry - 1)));
      }
      previous = delay;
    }
  }
});

Deno.test("delays never overflow the timer nor go NaN, even past 1025 retries", () => {
  const random = seededRandom(7);
  for (const kind of ["exponential", "full-jitter", "linear"] as const) {
    const settings = {
      kind,
      initialDelayMs: 1,
      maxDelayMs: Infinity,
      factor: 10,
    };
    for (const retry of [1, 100, 1025, 1026, 5_000]) {
      const delay = backoffDelay(settings, retry, 0, random);
      assert.ok(delay >= 0 && delay <= MAX_DELAY_MS, `${kind} ${retry}`);
    }
  }
  const broken = {
    kind: "full-jitter" as const,
    initialDelayMs: 5,
    maxDelayMs: 100,
    factor: 2,
  };
  assert.equal(backoffDelay(broken, 1, 0, () => Number.NaN), 0);
  assert.equal(backoffDelay(broken, 1, 0, () => 7), 0);
});

Deno.test("a custom backoff that returns NaN is reported, not used", async () => {
  const policy = new Retry({ attempts: 2, backoff: () => Number.NaN });

  await assert.rejects(
    policy.execute(() => Promise.reject(new Error("x"))),
    (error: Error) =>
      error instanceof RangeError &&
      /Retry: backoff's delay must be a number of ms, got NaN/.test(
        error.message,
      ),
  );
});

Deno.test("RetryError keeps every attempt's error in order with records", async () => {
  const clock = new ManualClock(1_000);
  class Busy extends Error {}
  const policy = new Retry({
    attempts: 3,
    backoff: "constant",
    initialDelayMs: 50,
    clock,
  });
  let calls = 0;

  const outcome = policy.execute(async () => {
    calls++;
    await new Promise<void>((resolve) => clock.setTimer(resolve, 10));
    throw calls === 2 ? new Busy(`busy ${calls}`) : new Error(`fail ${calls}`);
  }).catch((error) => error);
  await clock.advance(1_000);
  const error = await outcome;

  assert.ok(error instanceof RetryError);
  assert.ok(error instanceof AggregateError);
  assert.deepEqual(error.errors.map((e: Error) => e.message), [
    "fail 1",
    "busy 2",
    "fail 3",
  ]);
  assert.equal((error.cause as Error).message, "fail 3");
  assert.equal(error.message, "All 3 attempts failed; the last with: fail 3");
  assert.ok(error.has(Busy));
  assert.equal(
    error.errors.find((e: unknown) => e instanceof Busy)?.message,
    "busy 2",
  );
  assert.equal(error.has(TypeError), false);
  assert.deepEqual(
    error.attempts.map((r: AttemptRecord) => [
      r.startedAtMs,
      r.endedAtMs,
      r.durationMs,
      r.delayMs,
    ]),
    [
      [undefined, 1_010, undefined, 50],
      [1_060, 1_070, 10, 50],
      [1_120, 1_130, 10, 0],
    ],
  );
});

Deno.test("no wait follows the last attempt", async () => {
  const clock = new ManualClock();
  const policy = new Retry({
    attempts: 2,
    initialDelayMs: 10,
    backoff: "constant",
    clock,
  });

  const outcome = policy.execute(() => Promise.reject(new Error("down")))
    .catch((error) => error);
  await clock.advance(10);

  assert.ok((await outcome) instanceof RetryError);
  assert.equal(clock.pendingTimers, 0);
  assert.equal(clock.now(), 10);
});

Deno.test("a non-retryable first error is thrown as it is", async () => {
  const original = new TypeError("bad request");
  const policy = new Retry({
    shouldRetry: (error) => !(error instanceof TypeError),
  });

  await assert.rejects(
    policy.execute(() => Promise.reject(original)),
    (error) => error === original,
  );
});

Deno.test("a synchronous throw is retried like a rejection", async () => {
  const policy = new Retry({ attempts: 2, initialDelayMs: 0 });
  let calls = 0;

  const result = await policy.execute(() => {
    if (++calls === 1) throw new Error("sync");
    return "second";
  });

  assert.equal(result, "second");
});

Deno.test("results can be retried, and the last result is returned", async () => {
  const clock = new ManualClock();
  const policy = new Retry<number>({
    attempts: 3,
    backoff: "constant",
    initialDelayMs: 5,
    clock,
    shouldRetryResult: (status) => status >= 500,
  });
  const statuses = [503, 502, 500];

  const result = policy.execute(() => Promise.resolve(statuses.shift()!));
  await clock.advance(10);

  assert.equal(await result, 500);
  assert.equal(statuses.length, 0);
});

Deno.test("a Retry-After hint from the error sets the delay, capped", async () => {
  const clock = new ManualClock();
  const delays: number[] = [];
  const policy = new Retry({
    attempts: 3,
    initialDelayMs: 1,
    maxDelayMs: 5_000,
    clock,
    onRetry: ({ delayMs }) => delays.push(delayMs),
  });
  const hints = [2_000, 60_000];

  const outcome = policy.execute(() =>
    Promise.reject(
      Object.assign(new Error("429"), { retryAfterMs: hints.shift() }),
    )
  ).catch((error) => error);
  await clock.advance(7_000);

  assert.ok((await outcome) instanceof RetryError);
  assert.deepEqual(delays, [2_000, 5_000]);
});

Deno.test("aborting during a delay rejects at once and leaves no timer", async () => {
  const clock = new ManualClock();
  const controller = new AbortController();
  const policy = new Retry({
    attempts: 5,
    initialDelayMs: 1_000,
    backoff: "constant",
    clock,
  });
  let calls = 0;

  const outcome = policy.execute(() => {
    calls++;
    return Promise.reject(new Error("down"));
  }, controller.signal).catch((error) => error);
  await clock.advance(10);
  assert.equal(clock.pendingTimers, 1);
  controller.abort(new Error("caller gave up"));

  assert.equal((await outcome).message, "caller gave up");
  assert.equal(clock.pendingTimers, 0);
  assert.equal(calls, 1);
});

Deno.test("aborting during an attempt aborts its signal and rejects at once", async () => {
  const controller = new AbortController();
  const policy = new Retry({ attempts: 3 });
  let attemptSignal: AbortSignal | undefined;

  const outcome = policy.execute(({ signal }) => {
    attemptSignal = signal;
    return new Promise<never>(() => {});
  }, controller.signal).catch((error) => error);
  controller.abort(new Error("stop"));

  assert.equal((await outcome).message, "stop");
  assert.equal(attemptSignal?.aborted, true);
  assert.equal((attemptSignal?.reason as Error).message, "stop");
});

Deno.test("an already aborted signal rejects before any attempt", async () => {
  let calls = 0;
  const reason = new Error("already");

  await assert.rejects(
    new Retry().execute(() => calls++, AbortSignal.abort(reason)),
    (error) => error === reason,
  );
  assert.equal(calls, 0);
});

Deno.test("each attempt gets its own signal and number", async () => {
  const seen: [number, AbortSignal][] = [];
  const policy = new Retry({ attempts: 3, initialDelayMs: 0 });

  await policy.execute(({ attempt, signal }) => {
    seen.push([attempt, signal]);
    if (attempt < 3) throw new Error("again");
    return "done";
  });

  assert.deepEqual(seen.map(([attempt]) => attempt), [1, 2, 3]);
  assert.equal(new Set(seen.map(([, signal]) => signal)).size, 3);
});

Deno.test("first attempts without a caller's signal stay apart", async (t) => {
  const policy = new Retry({ attempts: 2, initialDelayMs: 0 });

  await t.step("attempt 1 gets a signal that is not aborted", async () => {
    const seen: [number, boolean][] = [];

    await policy.execute(({ attempt, signal }) => {
      seen.push([attempt, signal.aborted]);
      return "done";
    });

    assert.deepEqual(seen, [[1, false]]);
  });

  await t.step(
    "a thenable that rejects is retried like a promise",
    async () => {
      const thenable = (attempt: number): PromiseLike<string> => ({
        then: (resolve, reject) =>
          (attempt === 1
            ? Promise.reject(new Error("thenable failed"))
            : Promise.resolve(`thenable, attempt ${attempt}`)).then(
              resolve,
              reject,
            ),
      });

      const answer = await policy.execute(({ attempt }) => thenable(attempt));

      assert.equal(answer, "thenable, attempt 2");
    },
  );

  await t.step(
    "concurrent calls keep their own attempts and errors",
    async () => {
      const calls = ["a", "b", "c"].map((name) => {
        let attempts = 0;
        return policy.execute(() => {
          attempts++;
          return Promise.reject(new Error(`${name} ${attempts}`));
        }).catch((error: RetryError) => error.errors.map((e) => String(e)));
      });

      assert.deepEqual(await Promise.all(calls), [
        ["Error: a 1", "Error: a 2"],
        ["Error: b 1", "Error: b 2"],
        ["Error: c 1", "Error: c 2"],
      ]);
    },
  );
});

Deno.test("a throwing onRetry hook does not change the outcome", async () => {
  const policy = new Retry({
    attempts: 2,
    initialDelayMs: 0,
    onRetry: () => {
      throw new Error("hook broke");
    },
  });
  let calls = 0;

  assert.equal(
    await policy.execute(
      () => (++calls === 1 ? Promise.reject(new Error("x")) : "ok"),
    ),
    "ok",
  );
});

Deno.test("retry() wraps a function and keeps its arguments", async () => {
  let calls = 0;
  // deno-lint-ignore require-await
  const add = retry(async (a: number, b: number) => {
    if (++calls < 2) throw new Error("flaky");
    return a + b;
  }, { initialDelayMs: 0 });

  assert.equal(await add(2, 3), 5);
  assert.equal(calls, 2);
});

Deno.test("bad options throw at construction, naming the option and value", () => {
  const cases: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [
      { attempts: 0 },
      RangeError,
      /attempts must be a finite whole number >= 1, got 0/,
    ],
    [{ attempts: 1.5 }, RangeError, /attempts .* got 1.5/],
    [{ attempts: Number.NaN }, RangeError, /attempts .* got NaN/],
    [{ attempts: Infinity }, RangeError, /attempts .* got Infinity/],
    [{ attempts: "3" }, TypeError, /attempts .* got "3"/],
    [{ attempts: Object.create(null) }, TypeError, /attempts .* got an object/],
    [{ initialDelayMs: 10n }, TypeError, /initialDelayMs .* got 10n/],
    [{ initialDelayMs: -1 }, RangeError, /initialDelayMs .* got -1/],
    [
      { initialDelayMs: Infinity },
      RangeError,
      /initialDelayMs .* got Infinity/,
    ],
    [{ maxDelayMs: Number.NaN }, RangeError, /maxDelayMs .* got NaN/],
    [
      { factor: 0.5 },
      RangeError,
      /factor must be a finite number >= 1, got 0.5/,
    ],
    [
      { backoff: "fibonacci" },
      TypeError,
      /backoff must be one of .* got "fibonacci"/,
    ],
    [
      { shouldRetry: true },
      TypeError,
      /shouldRetry must be a function, got true/,
    ],
    [{ onRetry: "log" }, TypeError, /onRetry must be a function, got "log"/],
    [{ backoff: 10n }, TypeError, /backoff must be one of .* got 10n/],
  ];
  for (const [options, errorClass, message] of cases) {
    assert.throws(() => new Retry(options as never), (error: Error) => {
      assert.ok(
        error instanceof errorClass,
        `${Object.keys(options)}: ${error}`,
      );
      assert.match(error.message, message);
      return true;
    });
  }
});
