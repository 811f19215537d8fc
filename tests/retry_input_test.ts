import assert from "node:assert/strict";
import { Retry, retry, RetryError } from "../lib/retry.ts";
import { ManualClock } from "../lib/testing.ts";
import { trackedSignal } from "./_signals.ts";

Deno.test("Retry rejects options that are not an object, naming what it got", () => {
  const cases: [unknown, string][] = [
    [5, "Retry: options must be an object, got 5"],
    ["exponential", 'Retry: options must be an object, got "exponential"'],
    [null, "Retry: options must be an object, got null"],
    [[], "Retry: options must be an object, got an array"],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => new Retry(options as never), new TypeError(message));
  }

  assert.throws(
    () => retry(() => 1, 3 as never),
    new TypeError("Retry: options must be an object, got 3"),
  );
});

Deno.test("retry() refuses a fn that is not a function at wrap time", () => {
  assert.throws(
    () => retry(5 as never),
    new TypeError("retry: fn must be a function, got 5"),
  );
});

Deno.test("execute() rejects an operation that is not a function without retrying it", async () => {
  const clock = new ManualClock();
  let retries = 0;
  const policy = new Retry({ clock, onRetry: () => retries++ });

  for (const signal of [undefined, new AbortController().signal]) {
    await assert.rejects(
      policy.execute(null as never, signal),
      new TypeError(
        "Retry.execute: operation must be a function, got null",
      ),
    );
  }
  assert.equal(retries, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("execute() rejects a signal that is not an AbortSignal before the first attempt", async () => {
  const clock = new ManualClock();
  const controller = new AbortController();
  let calls = 0;
  const policy = new Retry({ clock, initialDelayMs: 0 });

  for (const signal of [{ signal: controller.signal }, 5, "abort"]) {
    await assert.rejects(
      policy.execute(() => ++calls, signal as never),
      (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.match(
          error.message,
          /^Retry\.execute: signal must be an AbortSignal, got (an object|5|"abort")$/,
        );
        return true;
      },
    );
  }
  assert.equal(calls, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("a null signal counts as none", async () => {
  const policy = new Retry({ attempts: 2, initialDelayMs: 0 });
  let calls = 0;

  const result = await policy.execute(() => {
    if (++calls === 1) throw new Error("once");
    return "ok";
  }, null);

  assert.equal(result, "ok");
  assert.equal(calls, 2);
});

Deno.test("RetryError names any last error without throwing", async (t) => {
  const cases: [string, unknown, string][] = [
    ["a null-prototype object", Object.create(null), "an object"],
    ["an error-like object from another realm", { message: "503" }, "503"],
    ["a string", "timeout", '"timeout"'],
    ["a bigint", 7n, "7n"],
  ];
  for (const [what, thrown, shown] of cases) {
    await t.step(what, async () => {
      const policy = new Retry({ attempts: 2, initialDelayMs: 0 });

      const error = await policy.execute(() => {
        throw thrown;
      }).catch((error) => error);

      assert.ok(error instanceof RetryError);
      assert.equal(
        error.message,
        `All 2 attempts failed; the last with: ${shown}`,
      );
      assert.equal(error.cause, thrown);
    });
  }
});

Deno.test("a retryAfterMs hint of -0 waits +0 ms", async () => {
  const delays: number[] = [];
  const policy = new Retry({
    attempts: 2,
    retryAfterMs: () => -0,
    onRetry: ({ delayMs }) => delays.push(delayMs),
  });

  await policy.execute(({ attempt }) => {
    if (attempt === 1) throw new Error("429");
    return 1;
  });

  assert.equal(delays.length, 1);
  assert.ok(Object.is(delays[0], 0), `delay was ${delays[0]}`);
});

Deno.test("the retry() wrapper keeps this, the name and the length of fn", async () => {
  const account = {
    balance: 7,
    read: retry(function read(this: { balance: number }, plus: number) {
      return this.balance + plus;
    }, { attempts: 2 }),
  };

  assert.equal(await account.read(1), 8);
  assert.equal(account.read.name, "read");
  assert.equal(account.read.length, 1);
});

Deno.test("a caller's signal holds one listener for the whole call, not one per attempt", async () => {
  const clock = new ManualClock();
  const tracked = trackedSignal();
  const policy = new Retry({
    attempts: 50,
    backoff: "constant",
    initialDelayMs: 1,
    clock,
  });

  const call = policy.execute(({ attempt, signal: attemptSignal }) => {
    if (attempt < 50) throw new Error(`fail ${attempt}`);
    return attemptSignal.aborted ? "aborted" : "done";
  }, tracked.signal);
  await clock.runAll();

  assert.equal(await call, "done");
  assert.ok(
    tracked.mostListeners <= 3,
    `${tracked.mostListeners} listeners at once`,
  );
  assert.equal(tracked.listeners, 0);
});
