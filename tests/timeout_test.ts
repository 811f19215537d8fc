import assert from "node:assert/strict";
import {
  Timeout,
  timeout,
  type TimeoutContext,
  TimeoutError,
} from "../lib/timeout.ts";
import { ManualClock } from "../lib/testing.ts";

function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

Deno.test("a call that settles in time keeps its value and leaves no timer", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 100, clock });
  let finish!: (value: string) => void;

  const call = policy.execute(() => new Promise<string>((r) => (finish = r)));
  await clock.advance(99);
  assert.equal(clock.pendingTimers, 1);
  finish("in time");

  assert.equal(await call, "in time");
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("a call that settles in its own microtask turn never starts a timer", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 100, clock });

  // deno-lint-ignore require-await
  assert.equal(await policy.execute(async () => "fast"), "fast");
  assert.equal(await policy.execute(() => "sync"), "sync");
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("the deadline rejects with TimeoutError even if the work ignores its signal", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 250, clock });

  const outcome = policy.execute(never).catch((error) => error);
  await clock.advance(249);
  assert.equal(clock.pendingTimers, 1);
  await clock.advance(1);
  const error = await outcome;

  assert.ok(error instanceof TimeoutError);
  assert.equal(error.name, "TimeoutError");
  assert.equal(error.message, "Timed out after 250 ms");
  assert.equal(error.timeoutMs, 250);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("the work's signal aborts at the deadline with the TimeoutError", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 10, clock });
  let signal: AbortSignal | undefined;

  const outcome = policy.execute((context) => {
    signal = context.signal;
    return never();
  }).catch((error) => error);
  await clock.advance(10);
  const error = await outcome;

  assert.equal(signal?.aborted, true);
  assert.equal(signal?.reason, error);
});

Deno.test("abandoned resolves when the timed-out work finally settles", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 10, clock });
  let finish!: () => void;

  const outcome = policy.execute(() => new Promise<void>((r) => (finish = r)))
    .catch((error) => error);
  await clock.advance(10);
  const error: TimeoutError = await outcome;
  let settled = false;
  error.abandoned!.then(() => (settled = true));
  await clock.advance(0);
  assert.equal(settled, false);
  finish();
  await error.abandoned;

  assert.equal(settled, true);
});

Deno.test("many pending calls share one timer and each times out at its own deadline", async () => {
  const clock = new ManualClock();
  const timedOut: number[] = [];
  const policy = new Timeout({ timeoutMs: 100, clock });

  const outcomes: Promise<unknown>[] = [];
  for (const startMs of [0, 30, 60]) {
    if (startMs > 0) await clock.advance(30);
    outcomes.push(
      policy.execute(never).catch(() => timedOut.push(clock.now())),
    );
    await Promise.resolve();
    assert.equal(clock.pendingTimers, 1);
  }
  await clock.advance(100);
  await Promise.all(outcomes);

  assert.deepEqual(timedOut, [100, 130, 160]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("settled calls leave the queue and the last one stops the timer", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 100, clock });
  const finishers: (() => void)[] = [];

  const calls = Array.from(
    { length: 3 },
    () => policy.execute(() => new Promise<void>((r) => finishers.push(r))),
  );
  await clock.advance(50);
  for (const finish of finishers) finish();
  await Promise.all(calls);

  assert.equal(clock.pendingTimers, 0);
});

Deno.test("the caller's signal rejects at once with its reason", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 1_000, clock });
  const controller = new AbortController();
  let workSignal: AbortSignal | undefined;

  const outcome = policy.execute(({ signal }) => {
    workSignal = signal;
    return never();
  }, controller.signal).catch((error) => error);
  await clock.advance(10);
  const reason = new Error("client left");
  controller.abort(reason);

  assert.equal(await outcome, reason);
  assert.equal(workSignal?.reason, reason);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("an aborted caller's signal rejects before the work runs", async () => {
  let ran = false;
  const reason = new Error("gone");

  await assert.rejects(
    new Timeout({ timeoutMs: 5 }).execute(
      () => (ran = true),
      AbortSignal.abort(reason),
    ),
    (error) => error === reason,
  );
  assert.equal(ran, false);
});

Deno.test("errors of the work pass through unchanged", async () => {
  const original = new Error("upstream 500");
  const policy = new Timeout({ timeoutMs: 5 });

  await assert.rejects(
    policy.execute(() => Promise.reject(original)),
    (e) => e === original,
  );
  await assert.rejects(
    policy.execute(() => {
      throw original;
    }),
    (e) => e === original,
  );
});

Deno.test("onTimeout hears each timeout and cannot break the call", async () => {
  const clock = new ManualClock();
  const heard: number[] = [];
  const policy = new Timeout({
    timeoutMs: 20,
    clock,
    onTimeout: (error) => {
      heard.push(error.timeoutMs);
      throw new Error("hook broke");
    },
  });

  const outcome = policy.execute(never).catch((error) => error);
  await clock.advance(20);

  assert.ok((await outcome) instanceof TimeoutError);
  assert.deepEqual(heard, [20]);
});

Deno.test("timeout() wraps a function with a deadline and keeps its arguments", async () => {
  const clock = new ManualClock();
  const slowEcho = timeout(
    (text: string, delayMs: number) =>
      new Promise<string>((r) => clock.setTimer(() => r(text), delayMs)),
    { timeoutMs: 50, clock },
  );

  const quick = slowEcho("quick", 10);
  const slow = slowEcho("slow", 80).catch((error) => error.name);
  await clock.advance(80);

  assert.equal(await quick, "quick");
  assert.equal(await slow, "TimeoutError");
});

Deno.test("bad options throw at construction, naming the option and value", () => {
  const cases: [unknown, ErrorConstructor, RegExp][] = [
    [
      { timeoutMs: 0 },
      RangeError,
      /timeoutMs must be a number from 1 to 2147483647, got 0/,
    ],
    [{ timeoutMs: -5 }, RangeError, /got -5/],
    [{ timeoutMs: Number.NaN }, RangeError, /got NaN/],
    [{ timeoutMs: Infinity }, RangeError, /got Infinity/],
    [{ timeoutMs: 2 ** 31 }, RangeError, /got 2147483648/],
    [
      { timeoutMs: "100" },
      TypeError,
      /^Timeout: timeoutMs must be a number from 1 to 2147483647, got "100"$/,
    ],
    [{}, TypeError, /timeoutMs must be a number .*, got undefined$/],
    [{ timeoutMs: Object.create(null) }, TypeError, /got an object$/],
    [{ timeoutMs: 10n }, TypeError, /got 10n$/],
    [5, TypeError, /^Timeout: options must be an object, got 5$/],
    [null, TypeError, /^Timeout: options must be an object, got null$/],
    ["100", TypeError, /^Timeout: options must be an object, got "100"$/],
    [
      { timeoutMs: 5, onTimeout: 1 },
      TypeError,
      /onTimeout must be a function, got 1$/,
    ],
    [
      { timeoutMs: 5, onTimeout: Object.create(null) },
      TypeError,
      /onTimeout must be a function, got an object$/,
    ],
  ];
  for (const [options, errorClass, message] of cases) {
    assert.throws(() => new Timeout(options as never), (error: Error) => {
      assert.ok(error instanceof errorClass);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("the context's startedAtMs is set only for a call still pending after its first turn", async () => {
  const clock = new ManualClock(500);
  const policy = new Timeout({ timeoutMs: 100, clock });
  const contexts: TimeoutContext[] = [];

  await policy.execute((context) => {
    contexts.push(context);
    return "fast";
  });
  const slow = policy.execute((context) => {
    contexts.push(context);
    return new Promise((resolve) => clock.setTimer(() => resolve("slow"), 30));
  });
  assert.equal(contexts[1].startedAtMs, undefined);
  await clock.advance(30);

  assert.equal(await slow, "slow");
  assert.equal(contexts[0].startedAtMs, undefined);
  assert.equal(contexts[1].startedAtMs, 500);
});
