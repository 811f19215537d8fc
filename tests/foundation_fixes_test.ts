import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { type Clock, sleep } from "../lib/clock.ts";
import { Retry } from "../lib/retry.ts";
import { Timeout, timeout, TimeoutError } from "../lib/timeout.ts";
import { ManualClock, seededRandom, settle } from "../lib/testing.ts";
import { trackedSignal } from "./_signals.ts";

function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

/** A clock that fires every timer at once, inside `setTimer`. */
function immediateClock(): Clock & { readonly started: number } {
  let started = 0;
  return {
    now: () => 0,
    setTimer(callback) {
      started++;
      callback();
      return started;
    },
    clearTimer() {},
    get started() {
      return started;
    },
  };
}

/**
 * A full garbage collection, run in this process: `--expose-gc` set at run
 * time gives a new context the `gc` function, so no flag is needed on the
 * command line.
 */
function collectGarbage(): void {
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}

/** Whether `ref`'s target is gone after the current job and a full GC. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  await settle();
  collectGarbage();

  return ref.deref() === undefined;
}

// 1. signals that are not signals

Deno.test("Timeout.execute() rejects a signal that is not an AbortSignal with a TypeError before the work or a timer starts", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 100, clock });
  const controller = new AbortController();
  const notSignals = [
    { signal: controller.signal },
    "abort",
    5,
    Object.create(null),
  ];

  for (const notSignal of notSignals) {
    let ran = false;
    const outcome = policy.execute(() => {
      ran = true;
      return never();
    }, notSignal as AbortSignal);

    await assert.rejects(outcome, (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(
        error.message,
        /^Timeout\.execute: signal must be an AbortSignal, got (an object|"abort"|5)$/,
      );
      return true;
    });
    assert.equal(ran, false);
    assert.equal(clock.pendingTimers, 0);
  }
});

Deno.test("Timeout.execute() takes a null signal as none", async () => {
  const policy = new Timeout({ timeoutMs: 100, clock: new ManualClock() });

  assert.equal(await policy.execute(() => "ok", null as never), "ok");
});

Deno.test("sleep() rejects a signal that is not an AbortSignal with a TypeError and starts no timer", async () => {
  const clock = new ManualClock();
  const controller = new AbortController();

  for (
    const notSignal of [{ signal: controller.signal }, Object.create(null)]
  ) {
    await assert.rejects(
      sleep(1_000, { clock, signal: notSignal as AbortSignal }),
      (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.equal(
          error.message,
          "sleep: signal must be an AbortSignal, got an object",
        );
        return true;
      },
    );
    assert.equal(clock.pendingTimers, 0);
  }
});

Deno.test("sleep() on a clock that fires at once leaves no abort listener behind", async () => {
  const clock = immediateClock();
  const counted = trackedSignal();

  await sleep(1_000, { clock, signal: counted.signal });

  assert.equal(clock.started, 1);
  assert.equal(counted.listeners, 0);
});

Deno.test("sleep() removes its abort listener when its timer fires", async () => {
  const clock = new ManualClock();
  const counted = trackedSignal();

  const waiting = sleep(10, { clock, signal: counted.signal });
  assert.equal(counted.listeners, 1);
  await clock.advance(10);
  await waiting;

  assert.equal(counted.listeners, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("sleep() with an already aborted signal rejects at once, adding no listener and no timer", async () => {
  const clock = immediateClock();
  const counted = trackedSignal();
  const reason = new Error("gone");
  counted.controller.abort(reason);

  await assert.rejects(
    sleep(10, { clock, signal: counted.signal }),
    (error) => error === reason,
  );
  assert.equal(clock.started, 0);
  assert.equal(counted.listeners, 0);
});

// 2. a thenable's then is called once

Deno.test("Timeout calls a thenable's then once, even when the call times out", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 10, clock });
  const fulfilled: ((value: string) => void)[] = [];
  const thenable = {
    then(onFulfilled: (value: string) => void) {
      fulfilled.push(onFulfilled);
    },
  } as unknown as PromiseLike<string>;

  const outcome = policy.execute(() => thenable).catch((error) => error);
  await clock.advance(10);
  const error: TimeoutError = await outcome;
  await settle();
  assert.equal(fulfilled.length, 1);
  fulfilled[0]("late");

  assert.ok(error instanceof TimeoutError);
  assert.equal(await error.abandoned, undefined);
  assert.equal(fulfilled.length, 1);
});

// 3. a settled call keeps nothing reachable from the deadline queue

/**
 * Runs a call that settles with a large value through `policy` and hands
 * back only a weak reference to that value.
 */
async function settledValue(
  policy: Timeout,
  clock: ManualClock,
): Promise<WeakRef<object>> {
  const value = { payload: new Uint8Array(1_000_000) };
  const ref = new WeakRef(value);

  const call = policy.execute(({ signal }) =>
    new Promise((resolve, reject) => {
      signal.addEventListener("abort", () => reject(signal.reason));
      clock.setTimer(() => resolve(value), 10);
    })
  );
  await clock.advance(10);
  assert.equal(await call, value);
  return ref;
}

/**
 * The name of the error `call` rejects with. Its handler is made here, not
 * in the caller, so that it keeps none of the caller's variables alive.
 */
function errorName(call: Promise<unknown>): Promise<string> {
  return call.then(() => "no error", (error) => error.name);
}

/**
 * Runs a call whose work outlives its deadline, then settles with a large
 * value, while a later call is pending. Hands back a weak reference to that
 * value and the later call's outcome.
 */
async function abandonedValue(policy: Timeout, clock: ManualClock) {
  const value = { payload: new Uint8Array(1_000_000) };
  const ref = new WeakRef(value);
  let finish!: (value: object) => void;

  const outcome = policy.execute(() => new Promise<object>((r) => (finish = r)))
    .then(() => undefined, (error: TimeoutError) => error);
  await clock.advance(1);
  const later = errorName(policy.execute(never));
  await clock.advance(policy.timeoutMs - 1);
  const error = await outcome;
  assert.ok(error instanceof TimeoutError);
  finish(value);
  await error.abandoned;
  return { ref, later };
}

Deno.test("a settled call's value can be collected while other calls of its policy are pending", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 1_000, clock });
  const pending = errorName(policy.execute(never));

  const ref = await settledValue(policy, clock);

  assert.equal(await collected(ref), true);
  await clock.advance(1_000);
  assert.equal(await pending, "TimeoutError");
});

Deno.test("a timed-out call's late value can be collected while other calls of its policy are pending", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 100, clock });

  const { ref, later } = await abandonedValue(policy, clock);

  assert.equal(await collected(ref), true);
  await clock.advance(1);
  assert.equal(await later, "TimeoutError");
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("calls settling out of order leave the deadline queue sound", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 100, clock });
  const finishers: ((value: number) => void)[] = [];
  const outcomes: Promise<string>[] = [];

  for (let i = 0; i < 6; i++) {
    const call = policy.execute(() =>
      new Promise<number>((r) => finishers.push(r))
    );
    outcomes.push(call.then(
      (value) => `${value}@${clock.now()}`,
      (error) => `${error.name}@${clock.now()}`,
    ));
    await clock.advance(10);
  }
  for (const i of [4, 1, 2]) finishers[i](i);
  await clock.advance(100);

  assert.deepEqual(await Promise.all(outcomes), [
    "TimeoutError@100",
    "1@60",
    "2@60",
    "TimeoutError@130",
    "4@60",
    "TimeoutError@150",
  ]);
  assert.equal(clock.pendingTimers, 0);
});

// 4. a then getter that throws

Deno.test("Timeout.execute() rejects, never throws, when the result's then getter throws", async () => {
  const clock = new ManualClock();
  const counted = trackedSignal();
  const policy = new Timeout({ timeoutMs: 100, clock });
  const broken = new Error("then getter broke");
  const result = {
    get then() {
      throw broken;
    },
  };

  for (const signal of [undefined, counted.signal]) {
    let outcome: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      outcome = policy.execute(() => result, signal);
    });

    await assert.rejects(outcome!, (error) => error === broken);
  }
  assert.equal(counted.listeners, 0);
  assert.equal(clock.pendingTimers, 0);
});

// 5. options

Deno.test("Timeout accepts options without a prototype", async () => {
  const options = Object.assign(Object.create(null), { timeoutMs: 5 });

  const policy = new Timeout(options);

  assert.equal(policy.timeoutMs, 5);
  assert.equal(await policy.execute(() => 1), 1);
});

// 6. the timeout() wrapper

Deno.test("timeout() passes this on to fn and keeps its name and length", async () => {
  class Account {
    balance = 70;
    async withdraw(amount: number, _note?: string): Promise<number> {
      await Promise.resolve();
      this.balance -= amount;
      return this.balance;
    }
  }
  Account.prototype.withdraw = timeout(Account.prototype.withdraw, {
    timeoutMs: 100,
    clock: new ManualClock(),
  });
  const account = new Account();

  assert.equal(await account.withdraw(30), 40);
  assert.equal(account.balance, 40);
  assert.equal(Account.prototype.withdraw.name, "withdraw");
  assert.equal(Account.prototype.withdraw.length, 2);
});

Deno.test("timeout() keeps the name of a named function and an empty one of an anonymous one", () => {
  function fetchUser(id: string) {
    return id;
  }

  assert.equal(timeout(fetchUser, { timeoutMs: 5 }).name, "fetchUser");
  assert.equal(timeout(...[() => 1], { timeoutMs: 5 }).name, "");
});

Deno.test("timeout() rejects an fn that is not a function at once", () => {
  assert.throws(() => timeout(5 as never, { timeoutMs: 5 }), {
    name: "TypeError",
    message: "timeout: fn must be a function, got 5",
  });
});

// 7a. runAll counts timers

Deno.test("ManualClock runAll(limit) counts timers fired: five due at once with limit 2 fire two", async () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  for (let i = 0; i < 5; i++) clock.setTimer(() => fired.push(i), 10);

  assert.equal(await clock.runAll(2), 2);

  assert.deepEqual(fired, [0, 1]);
  assert.equal(clock.pendingTimers, 3);
  assert.equal(clock.now(), 10);
});

Deno.test("ManualClock runAll(10) fires a zero-delay timer that reschedules itself forever ten times", async () => {
  const clock = new ManualClock();
  let fired = 0;
  const tick = () => {
    fired++;
    clock.setTimer(tick, 0);
  };
  clock.setTimer(tick, 0);

  assert.equal(await clock.runAll(10), 10);

  assert.equal(fired, 10);
  assert.equal(clock.pendingTimers, 1);
  assert.equal(clock.now(), 0);
});

Deno.test("ManualClock next() fires one timer of several due at once", async () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  clock.setTimer(() => fired.push("a"), 5);
  clock.setTimer(() => fired.push("b"), 5);

  assert.equal(await clock.next(), true);

  assert.deepEqual(fired, ["a"]);
  assert.equal(clock.pendingTimers, 1);
});

Deno.test("ManualClock runAll() rejects a limit that is not a number >= 0", async () => {
  const clock = new ManualClock();
  const cases: [unknown, ErrorConstructor, string][] = [
    [-1, RangeError, "got -1"],
    [Number.NaN, RangeError, "got NaN"],
    ["5", TypeError, 'got "5"'],
  ];

  for (const [limit, errorClass, got] of cases) {
    await assert.rejects(clock.runAll(limit as number), (error: Error) => {
      assert.ok(error instanceof errorClass);
      assert.equal(
        error.message,
        `ManualClock.runAll: limit must be a number >= 0, ${got}`,
      );
      return true;
    });
  }
  assert.equal(await clock.runAll(Infinity), 0);
});

// 7b. advance is bounded

Deno.test("ManualClock advance() rejects with a RangeError when a timer keeps rescheduling itself at 0 ms", async () => {
  const clock = new ManualClock(0, { maxTimersPerAdvance: 50 });
  let fired = 0;
  const tick = () => {
    fired++;
    clock.setTimer(tick, 0);
  };
  clock.setTimer(tick, 5);

  await assert.rejects(clock.advance(10), {
    name: "RangeError",
    message:
      "ManualClock.advance: advance(10) fired maxTimersPerAdvance (50) timers; a timer may keep rescheduling itself: step through it with runAll(limit) or next(), or raise maxTimersPerAdvance",
  });

  assert.equal(fired, 50);
  assert.equal(clock.now(), 5);
  assert.equal(await clock.runAll(3), 3);
  assert.equal(fired, 53);
});

Deno.test("ManualClock advance() fires as many timers as maxTimersPerAdvance allows", async () => {
  const clock = new ManualClock(0, { maxTimersPerAdvance: 3 });
  let fired = 0;
  for (let i = 1; i <= 3; i++) clock.setTimer(() => fired++, i);

  await clock.advance(10);

  assert.equal(fired, 3);
  assert.equal(clock.now(), 10);
});

Deno.test("ManualClock rejects bad options, naming the option and the value", () => {
  const cases: [unknown, ErrorConstructor, string][] = [
    [5, TypeError, "ManualClock: options must be an object, got 5"],
    [
      { maxTimersPerAdvance: 0 },
      RangeError,
      "ManualClock: maxTimersPerAdvance must be a finite whole number >= 1, got 0",
    ],
    [
      { maxTimersPerAdvance: 1.5 },
      RangeError,
      "ManualClock: maxTimersPerAdvance must be a finite whole number >= 1, got 1.5",
    ],
    [
      { maxTimersPerAdvance: "100" },
      TypeError,
      'ManualClock: maxTimersPerAdvance must be a finite whole number >= 1, got "100"',
    ],
  ];

  for (const [options, errorClass, message] of cases) {
    assert.throws(
      () => new ManualClock(0, options as never),
      (error: Error) => {
        assert.ok(error instanceof errorClass);
        assert.equal(error.message, message);
        return true;
      },
    );
  }
});

Deno.test("ManualClock names a bad value clearly, even one without a prototype", async () => {
  assert.throws(() => new ManualClock(Object.create(null)), {
    name: "TypeError",
    message: "ManualClock: startMs must be a finite number, got an object",
  });
  assert.throws(() => new ManualClock(Number.NaN), {
    name: "RangeError",
    message: "ManualClock: startMs must be a finite number, got NaN",
  });
  assert.throws(() => new ManualClock("5" as never), {
    name: "TypeError",
    message: 'ManualClock: startMs must be a finite number, got "5"',
  });
  await assert.rejects(new ManualClock().advance(Object.create(null)), {
    name: "TypeError",
    message:
      "ManualClock.advance: ms must be a finite number >= 0, got an object",
  });
  await assert.rejects(new ManualClock().advance("5" as never), {
    name: "TypeError",
    message: 'ManualClock.advance: ms must be a finite number >= 0, got "5"',
  });
});

// 7c. a throwing timer callback

Deno.test("ManualClock advance() fires the other due timers after a callback throws, reaches its target, then rejects with the first error", async () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  const first = new Error("first");
  clock.setTimer(() => {
    fired.push(`a@${clock.now()}`);
    throw first;
  }, 10);
  clock.setTimer(() => {
    fired.push(`b@${clock.now()}`);
    throw new Error("second");
  }, 20);
  clock.setTimer(() => fired.push(`c@${clock.now()}`), 30);
  clock.setTimer(() => fired.push(`late@${clock.now()}`), 60);

  await assert.rejects(clock.advance(50), (error) => error === first);

  assert.deepEqual(fired, ["a@10", "b@20", "c@30"]);
  assert.equal(clock.now(), 50);
  assert.equal(clock.pendingTimers, 1);
});

Deno.test("ManualClock runAll() and next() fire on after a callback throws, then reject with the first error", async () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  const broken = new Error("broken");
  clock.setTimer(() => {
    throw broken;
  }, 1);
  for (const delayMs of [2, 3]) {
    clock.setTimer(() => fired.push(delayMs), delayMs);
  }

  await assert.rejects(clock.runAll(), (error) => error === broken);
  assert.deepEqual(fired, [2, 3]);
  assert.equal(clock.pendingTimers, 0);

  clock.setTimer(() => {
    throw broken;
  }, 1);
  await assert.rejects(clock.next(), (error) => error === broken);
  assert.equal(clock.now(), 4);
  assert.equal(await clock.next(), false);
});

// 7d. handles belong to their clock

Deno.test("ManualClock clearTimer() with another clock's handle or an unknown value cancels nothing", async () => {
  const clock = new ManualClock();
  const other = new ManualClock();
  let fired = 0;
  clock.setTimer(() => fired++, 5);
  const foreign = other.setTimer(() => {}, 5);

  for (const handle of [foreign, 1, 0, undefined, null, {}, "1"]) {
    clock.clearTimer(handle);
  }
  assert.equal(clock.pendingTimers, 1);
  await clock.advance(5);

  assert.equal(fired, 1);
  assert.equal(other.pendingTimers, 1);
  other.clearTimer(foreign);
  assert.equal(other.pendingTimers, 0);
});

Deno.test("ManualClock clearTimer() after its timer fired changes nothing", async () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  const handle = clock.setTimer(() => fired.push("first"), 5);
  await clock.advance(5);
  clock.setTimer(() => fired.push("second"), 5);

  clock.clearTimer(handle);
  await clock.advance(5);

  assert.deepEqual(fired, ["first", "second"]);
});

// 7e. seeds

Deno.test("seededRandom() rejects a seed that is not a whole number from 0 to 2^32-1", () => {
  const cases: [unknown, string][] = [
    [Number.NaN, "NaN"],
    ["42", '"42"'],
    [1.5, "1.5"],
    [-1, "-1"],
    [2 ** 32, "4294967296"],
    [Infinity, "Infinity"],
    [undefined, "undefined"],
    [Object.create(null), "an object"],
  ];

  for (const [seed, got] of cases) {
    assert.throws(() => seededRandom(seed as number), {
      name: typeof seed === "number" ? "RangeError" : "TypeError",
      message:
        `seededRandom: seed must be a whole number from 0 to 4294967295, got ${got}`,
    });
  }
});

Deno.test("seededRandom() takes every whole seed from 0 to 2^32-1", () => {
  for (const seed of [0, 1, 42, 2 ** 31, 2 ** 32 - 1]) {
    const draw = seededRandom(seed)();
    assert.ok(draw >= 0 && draw < 1, `seed ${seed} drew ${draw}`);
  }
  assert.notEqual(seededRandom(0)(), seededRandom(2 ** 32 - 1)());
});

Deno.test("Timeout.execute() rejects an operation that is not a function before any timer starts", async () => {
  const clock = new ManualClock();
  const policy = new Timeout({ timeoutMs: 100, clock });

  for (const signal of [undefined, new AbortController().signal]) {
    await assert.rejects(
      policy.execute(null as never, signal),
      new TypeError(
        "Timeout.execute: operation must be a function, got null",
      ),
    );
  }
  assert.equal(clock.pendingTimers, 0);
});

/** A clock whose setTimer always throws, as a Worker's global scope does. */
function timerlessClock(): Clock {
  return {
    now: () => 0,
    setTimer() {
      throw new Error("no timers here");
    },
    clearTimer() {},
  };
}

Deno.test("sleep() on a clock whose setTimer throws rejects with that error and leaves no listener", async () => {
  const counted = trackedSignal();

  await assert.rejects(
    sleep(10, { signal: counted.signal, clock: timerlessClock() }),
    { message: "no timers here" },
  );

  assert.equal(counted.listeners, 0);
});

Deno.test("sleep() rejects options and delays of the wrong type with a TypeError", async () => {
  const cases: [() => Promise<void>, string][] = [
    [
      () => sleep(10, null as never),
      "sleep: options must be an object, got null",
    ],
    [
      () => sleep(Object.create(null)),
      "sleep: delayMs must be a number, got an object",
    ],
    [() => sleep(3n as never), "sleep: delayMs must be a number, got 3n"],
  ];

  for (const [call, message] of cases) {
    await assert.rejects(call(), new TypeError(message));
  }
});

Deno.test("Timeout on a clock that fires inside setTimer still times out every later call", async () => {
  let nowMs = 0;
  const clock: Clock = {
    now: () => nowMs,
    setTimer(callback, delayMs) {
      nowMs += delayMs;
      callback();
      return "spent";
    },
    clearTimer() {},
  };
  const policy = new Timeout({ timeoutMs: 10, clock });

  for (let call = 0; call < 3; call++) {
    const outcome = policy.execute(() => never());
    assert.equal(await errorName(outcome), "TimeoutError");
  }
});

Deno.test("Timeout on a clock whose setTimer throws rejects the call with that error and aborts its signal", async () => {
  const policy = new Timeout({ timeoutMs: 10, clock: timerlessClock() });
  let workSignal: AbortSignal | undefined;

  await assert.rejects(
    policy.execute(({ signal }) => {
      workSignal = signal;
      return settle().then(never);
    }),
    { message: "no timers here" },
  );

  assert.equal(workSignal?.aborted, true);
  assert.equal((workSignal?.reason as Error).message, "no timers here");
  await assert.rejects(
    policy.execute(() => settle().then(never)),
    { message: "no timers here" },
  );
});

Deno.test("a signal-like object without removeEventListener is refused up front", async () => {
  const fake = { aborted: false, addEventListener() {} } as never;
  let ran = false;

  await assert.rejects(
    new Timeout({ timeoutMs: 5 }).execute(() => (ran = true), fake),
    new TypeError(
      "Timeout.execute: signal must be an AbortSignal, got an object",
    ),
  );
  await assert.rejects(
    new Retry().execute(() => (ran = true), fake),
    new TypeError(
      "Retry.execute: signal must be an AbortSignal, got an object",
    ),
  );

  assert.equal(ran, false);
});

Deno.test("option errors tell a wrong type from a value out of range", async () => {
  assert.throws(
    () => new Retry({ clock: 5 as never }),
    new TypeError("Retry: clock must be a Clock object, got 5"),
  );
  assert.throws(
    () => new Timeout({ timeoutMs: 5, clock: null as never }),
    new TypeError("Timeout: clock must be a Clock object, got null"),
  );
  await assert.rejects(
    new Retry({ attempts: 2, backoff: () => "5" as never }).execute(() => {
      throw new Error("fails");
    }),
    new TypeError(`Retry: backoff's delay must be a number of ms, got "5"`),
  );
});
