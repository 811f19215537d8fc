import assert from "node:assert/strict";
import {
  Bulkhead,
  bulkhead,
  type BulkheadEvent,
  BulkheadRejectedError,
  type BulkheadRejectedEvent,
} from "../lib/bulkhead.ts";
import { ManualClock, settle } from "../lib/testing.ts";
import { Timeout } from "../lib/timeout.ts";
import { trackedSignal } from "./_signals.ts";

/** An operation the test finishes by hand, recording when it started. */
function gated<T = string>() {
  const gate = Promise.withResolvers<T>();
  let started = 0;
  const operation = () => {
    started++;
    return gate.promise;
  };
  return {
    operation,
    resolve: gate.resolve,
    reject: gate.reject,
    get started() {
      return started;
    },
  };
}

/** An error shaped like dyno's TimeoutError, with work the test settles. */
function abandonedTimeout() {
  const work = Promise.withResolvers<void>();
  const error = Object.assign(new Error("Timed out after 100 ms"), {
    name: "TimeoutError",
    abandoned: work.promise,
  });
  return { error, settleWork: work.resolve, failWork: work.reject };
}

function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => assert.fail("expected a rejection"), (e) => e);
}

Deno.test("runs at most maxConcurrent operations at once", async () => {
  const pool = new Bulkhead({ maxConcurrent: 2, maxQueued: 10 });
  const slow = gated();

  const calls = Array.from({ length: 5 }, () => pool.execute(slow.operation));
  assert.equal(slow.started, 2);
  assert.equal(pool.running, 2);
  assert.equal(pool.queued, 3);

  slow.resolve("ok");
  assert.deepEqual(await Promise.all(calls), ["ok", "ok", "ok", "ok", "ok"]);
  assert.equal(slow.started, 5);
  assert.equal(pool.running, 0);
  assert.equal(pool.queued, 0);
});

Deno.test("queued calls start in FIFO order as permits free up", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 10 });
  const order: number[] = [];
  const gates = Array.from({ length: 4 }, () => Promise.withResolvers<void>());

  const calls = gates.map((gate, index) =>
    pool.execute(() => {
      order.push(index);
      return gate.promise;
    })
  );
  assert.deepEqual(order, [0]);

  for (const [index, gate] of gates.entries()) {
    gate.resolve();
    await calls[index];
    await settle();
  }
  assert.deepEqual(order, [0, 1, 2, 3]);
});

Deno.test("a full bulkhead rejects at once with BulkheadRejectedError reason full", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 1, name: "db" });
  const slow = gated();
  const first = pool.execute(slow.operation);
  const second = pool.execute(slow.operation);

  let ran = false;
  const error = await caught(pool.execute(() => (ran = true)));

  assert.ok(error instanceof BulkheadRejectedError);
  assert.equal(error.name, "BulkheadRejectedError");
  assert.equal(error.reason, "full");
  assert.equal(error.bulkheadName, "db");
  assert.equal(error.maxConcurrent, 1);
  assert.equal(error.maxQueued, 1);
  assert.equal(error.queueTimeoutMs, undefined);
  assert.equal(
    error.message,
    'Bulkhead "db" is full: maxConcurrent 1 running, maxQueued 1 waiting',
  );
  assert.equal(ran, false);
  assert.equal(pool.queued, 1);

  slow.resolve("done");
  await Promise.all([first, second]);
});

Deno.test("maxQueued defaults to 0: no waiting at all", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1 });
  const slow = gated();
  const first = pool.execute(slow.operation);

  const error = await caught(pool.execute(() => 1));
  assert.ok(error instanceof BulkheadRejectedError);
  assert.equal(
    error.message,
    "Bulkhead is full: maxConcurrent 1 running, maxQueued 0 waiting",
  );
  assert.equal(pool.maxQueued, 0);

  slow.resolve("done");
  await first;
});

Deno.test("BulkheadRejectedError keeps a cause", () => {
  const cause = new Error("root");
  const error = new BulkheadRejectedError(
    { reason: "full", maxConcurrent: 2, maxQueued: 0 },
    { cause },
  );
  assert.equal(error.cause, cause);
  assert.equal(error.bulkheadName, undefined);
});

Deno.test("an already-aborted signal rejects with its reason and runs nothing", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1 });
  const reason = new Error("gone");
  let ran = false;

  const error = await caught(
    pool.execute(() => (ran = true), AbortSignal.abort(reason)),
  );
  assert.equal(error, reason);
  assert.equal(ran, false);
  assert.equal(pool.running, 0);
});

Deno.test("abort while queued leaves the queue at once and keeps the others' order", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 3 });
  const order: string[] = [];
  const slow = gated();
  const first = pool.execute(slow.operation);
  const controller = new AbortController();

  const a = pool.execute(() => order.push("a"));
  const b = pool.execute(() => order.push("b"), controller.signal);
  const c = pool.execute(() => order.push("c"));
  assert.equal(pool.queued, 3);

  controller.abort(new Error("user left"));
  assert.equal(pool.queued, 2);
  await assert.rejects(b, { message: "user left" });

  const d = pool.execute(() => order.push("d"));
  assert.equal(pool.queued, 3);

  slow.resolve("done");
  await Promise.all([first, a, c, d]);
  assert.deepEqual(order, ["a", "c", "d"]);
  assert.equal(pool.queued, 0);
});

Deno.test("a queued caller's abort listener is removed however it leaves the queue", async (t) => {
  type Exit = (
    slow: ReturnType<typeof gated<string>>,
    clock: ManualClock,
    counted: ReturnType<typeof trackedSignal>,
  ) => unknown;
  const exits: Record<string, Exit> = {
    "by getting a permit": async (slow) => {
      slow.resolve("done");
      await settle();
    },
    "by its queue timeout": (_, clock) => clock.advance(50),
    "by aborting": (_, __, counted) => counted.controller.abort(),
  };
  for (const [label, leave] of Object.entries(exits)) {
    await t.step(label, async () => {
      const clock = new ManualClock();
      const pool = new Bulkhead({
        maxConcurrent: 1,
        maxQueued: 1,
        queueTimeoutMs: 50,
        clock,
      });
      const counted = trackedSignal();
      const slow = gated();
      const first = pool.execute(slow.operation);
      const queued = pool.execute(() => "ran", counted.signal).catch(() => 0);
      assert.equal(counted.listeners, 1);

      await leave(slow, clock, counted);
      assert.equal(counted.listeners, 0);
      assert.equal(pool.queued, 0);
      assert.equal(clock.pendingTimers, 0);

      slow.resolve("done");
      await Promise.all([first, queued]);
    });
  }
});

Deno.test("the operation receives the caller's signal, or no signal", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1 });
  const controller = new AbortController();

  const seen = await pool.execute(({ signal }) => signal, controller.signal);
  assert.equal(seen, controller.signal);
  assert.equal(await pool.execute(({ signal }) => signal), undefined);
});

Deno.test("a queue timeout rejects with reason queue-timeout and frees the slot", async () => {
  const clock = new ManualClock();
  const pool = new Bulkhead({
    maxConcurrent: 1,
    maxQueued: 1,
    queueTimeoutMs: 500,
    clock,
    name: "api",
  });
  const slow = gated();
  const first = pool.execute(slow.operation);
  let ran = false;
  const waiting = caught(pool.execute(() => (ran = true)));
  assert.equal(clock.pendingTimers, 1);

  await clock.advance(499);
  assert.equal(pool.queued, 1);
  await clock.advance(1);
  assert.equal(pool.queued, 0);

  const error = await waiting;
  assert.ok(error instanceof BulkheadRejectedError);
  assert.equal(error.reason, "queue-timeout");
  assert.equal(error.queueTimeoutMs, 500);
  assert.equal(
    error.message,
    'Bulkhead "api": no permit within queueTimeoutMs 500',
  );
  assert.notEqual(error.name, "TimeoutError");
  assert.equal(ran, false);
  assert.equal(clock.pendingTimers, 0);

  slow.resolve("done");
  await first;
});

Deno.test("the queue timer runs only while a call waits", async () => {
  const clock = new ManualClock();
  const pool = new Bulkhead({
    maxConcurrent: 1,
    maxQueued: 2,
    queueTimeoutMs: 100,
    clock,
  });

  assert.equal(await pool.execute(() => "free"), "free");
  assert.equal(clock.pendingTimers, 0);

  const slow = gated();
  const first = pool.execute(slow.operation);
  const second = pool.execute(() => "second");
  const controller = new AbortController();
  const third = pool.execute(() => "third", controller.signal);
  assert.equal(clock.pendingTimers, 2);

  controller.abort();
  await assert.rejects(third, { name: "AbortError" });
  assert.equal(clock.pendingTimers, 1);

  slow.resolve("done");
  assert.equal(await second, "second");
  assert.equal(clock.pendingTimers, 0);
  await first;
});

Deno.test("queueTimeoutMs Infinity starts no timer", async () => {
  const clock = new ManualClock();
  const pool = new Bulkhead({
    maxConcurrent: 1,
    maxQueued: 1,
    queueTimeoutMs: Infinity,
    clock,
  });
  const slow = gated();
  const first = pool.execute(slow.operation);
  const second = pool.execute(() => 2);
  assert.equal(clock.pendingTimers, 0);

  slow.resolve("done");
  assert.equal(await second, 2);
  await first;
});

Deno.test("a synchronous throw rejects the call and releases the permit", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1 });
  const boom = new Error("boom");

  const call = pool.execute(() => {
    throw boom;
  });
  assert.ok(call instanceof Promise);
  assert.equal(pool.running, 0);
  assert.equal(await caught(call), boom);
  assert.equal(await pool.execute(() => "next"), "next");
});

Deno.test("a rejection reaches the caller unchanged and releases the permit", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1 });
  const boom = new Error("boom");

  assert.equal(await caught(pool.execute(() => Promise.reject(boom))), boom);
  assert.equal(pool.running, 0);
  assert.equal(await pool.execute(() => "next"), "next");
});

Deno.test("a queued call starts when a rejection frees the permit", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 });
  const slow = gated();
  const first = caught(pool.execute(slow.operation));
  const next = pool.execute(() => "next");

  slow.reject(new Error("boom"));
  await first;
  assert.equal(await next, "next");
});

Deno.test("plain values and foreign thenables are accepted", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1 });
  const thenable: PromiseLike<number> = {
    then(onFulfilled) {
      return Promise.resolve(onFulfilled?.(7)) as never;
    },
  };

  assert.equal(await pool.execute(() => 3), 3);
  assert.equal(await pool.execute(() => thenable), 7);
  assert.equal(pool.running, 0);
});

Deno.test("a queued operation that throws synchronously hands the permit on", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: Infinity });
  const slow = gated();
  const first = pool.execute(slow.operation);
  const throwers = Array.from(
    { length: 20_000 },
    (_, index) =>
      pool.execute(() => {
        throw new Error(`thrower ${index}`);
      }).catch(() => "rejected"),
  );
  const last = pool.execute(() => "last");

  slow.resolve("done");
  await first;
  assert.equal(await last, "last");
  assert.equal((await Promise.all(throwers)).length, 20_000);
  assert.equal(pool.running, 0);
  assert.equal(pool.queued, 0);
});

Deno.test("an operation may call the same bulkhead again", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 });

  let inner: Promise<string> | undefined;

  const outer = pool.execute(() => {
    inner = pool.execute(() => "inner");
    assert.equal(pool.queued, 1);
    return "outer";
  });
  assert.equal(await outer, "outer");
  assert.equal(await inner, "inner");
  assert.equal(pool.running, 0);
});

Deno.test("an operation that is not a function rejects with TypeError", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1 });
  await assert.rejects(
    pool.execute("nope" as never),
    new TypeError("Bulkhead: operation must be a function"),
  );
  assert.equal(pool.running, 0);
});

Deno.test("abort while running: the permit stays until the operation settles", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 });
  const controller = new AbortController();
  const slow = gated();
  const call = pool.execute(slow.operation, controller.signal);

  controller.abort();
  await settle();
  assert.equal(pool.running, 1);
  const next = pool.execute(() => "next");
  assert.equal(pool.queued, 1);

  slow.resolve("finished anyway");
  assert.equal(await call, "finished anyway");
  assert.equal(await next, "next");
});

Deno.test("abandoned work holds its permit until it really settles (default)", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 });
  const timedOut = abandonedTimeout();

  const error = await caught(
    pool.execute(() => Promise.reject(timedOut.error)),
  );
  assert.equal(error, timedOut.error);
  assert.equal(pool.running, 0);
  assert.equal(pool.abandoned, 1);

  let started = false;
  const next = pool.execute(() => (started = true));
  assert.equal(pool.queued, 1);
  await assert.rejects(pool.execute(() => 1), BulkheadRejectedError);
  await settle();
  assert.equal(started, false);

  timedOut.settleWork();
  assert.equal(await next, true);
  assert.equal(pool.abandoned, 0);
  assert.equal(pool.running, 0);
});

Deno.test("abandoned work frees its permit at once with holdAbandonedPermits false", async () => {
  const pool = new Bulkhead({
    maxConcurrent: 1,
    holdAbandonedPermits: false,
  });
  const timedOut = abandonedTimeout();

  await caught(pool.execute(() => Promise.reject(timedOut.error)));
  assert.equal(pool.abandoned, 1);
  assert.equal(
    await pool.execute(() => "runs beside the abandoned work"),
    "runs beside the abandoned work",
  );

  timedOut.settleWork();
  await settle();
  assert.equal(pool.abandoned, 0);
});

Deno.test("abandoned work that fails still returns its permit once", async () => {
  const pool = new Bulkhead({ maxConcurrent: 2, maxQueued: 4 });
  const timedOut = abandonedTimeout();

  await caught(pool.execute(() => Promise.reject(timedOut.error)));
  timedOut.failWork(new Error("failed later"));
  await settle();
  assert.equal(pool.abandoned, 0);

  const slow = gated();
  const calls = [pool.execute(slow.operation), pool.execute(slow.operation)];
  assert.equal(slow.started, 2);
  const third = pool.execute(slow.operation);
  assert.equal(pool.queued, 1);

  slow.resolve("ok");
  await Promise.all([...calls, third]);
});

Deno.test("only a TimeoutError with a thenable abandoned counts as abandoned", async (t) => {
  const cases: Array<[string, unknown]> = [
    [
      "a TimeoutError without abandoned",
      Object.assign(new Error("t"), { name: "TimeoutError" }),
    ],
    [
      "another error with abandoned",
      Object.assign(new Error("x"), { abandoned: Promise.resolve() }),
    ],
    [
      "a TimeoutError whose abandoned is not a thenable",
      Object.assign(new Error("t"), { name: "TimeoutError", abandoned: 5 }),
    ],
    ["a non-object rejection", "TimeoutError"],
    ["null", null],
    [
      "an AbortSignal.timeout DOMException",
      new DOMException("late", "TimeoutError"),
    ],
  ];
  for (const [label, rejection] of cases) {
    await t.step(label, async () => {
      const pool = new Bulkhead({ maxConcurrent: 1 });
      const error = await caught(pool.execute(() => Promise.reject(rejection)));
      assert.equal(error, rejection);
      assert.equal(pool.abandoned, 0);
      assert.equal(await pool.execute(() => "free"), "free");
    });
  }
});

Deno.test("an error whose fields throw when read is passed on and releases the permit", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1 });
  const hostile = {
    get name(): string {
      throw new Error("no name for you");
    },
  };

  assert.equal(
    await caught(pool.execute(() => Promise.reject(hostile))),
    hostile,
  );
  assert.equal(pool.abandoned, 0);
  assert.equal(await pool.execute(() => "free"), "free");
});

Deno.test("a thenable abandoned that settles twice releases the permit once", async () => {
  const pool = new Bulkhead({ maxConcurrent: 2, maxQueued: 2 });
  const callbacks: Array<() => void> = [];
  const abandoned = {
    then(onFulfilled: () => void, onRejected: () => void) {
      callbacks.push(onFulfilled, onRejected);
    },
  };
  const error = Object.assign(new Error("t"), {
    name: "TimeoutError",
    abandoned,
  });

  await caught(pool.execute(() => Promise.reject(error)));
  await settle();
  for (const callback of callbacks) callback();
  await settle();
  assert.equal(pool.abandoned, 0);

  const slow = gated();
  const calls = [pool.execute(slow.operation), pool.execute(slow.operation)];
  assert.equal(slow.started, 2);
  const third = pool.execute(slow.operation);
  assert.equal(slow.started, 2);

  slow.resolve("ok");
  await Promise.all([...calls, third]);
});

Deno.test("with dyno's Timeout inside, the bulkhead holds permits of timed-out work", async () => {
  const clock = new ManualClock();
  const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 1, clock });
  const deadline = new Timeout({ timeoutMs: 100, clock });
  const slowWork = Promise.withResolvers<string>();

  const first = caught(
    pool.execute(({ signal }) =>
      deadline.execute(() => slowWork.promise, signal)
    ),
  );
  await clock.advance(100);
  const error = await first as Error;
  assert.equal(error.name, "TimeoutError");
  assert.equal(pool.running, 0);
  assert.equal(pool.abandoned, 1);

  let started = false;
  const next = pool.execute(() => (started = true));
  await settle();
  assert.equal(started, false);

  slowWork.resolve("late");
  assert.equal(await next, true);
  assert.equal(pool.abandoned, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("hooks see queued, rejected and abandoned events", async () => {
  const clock = new ManualClock();
  const queued: BulkheadEvent[] = [];
  const rejected: BulkheadRejectedEvent[] = [];
  const abandoned: Array<[number, unknown]> = [];
  const pool = new Bulkhead({
    maxConcurrent: 1,
    maxQueued: 1,
    queueTimeoutMs: 10,
    clock,
    name: "svc",
    onQueued: (event) => queued.push(event),
    onRejected: (event) => rejected.push(event),
    onAbandoned: (event) => abandoned.push([event.abandoned, event.error]),
  });
  const timedOut = abandonedTimeout();
  const slow = Promise.withResolvers<never>();
  const first = caught(pool.execute(() => slow.promise));

  const waiting = caught(pool.execute(() => 1));
  const full = caught(pool.execute(() => 2));
  await clock.advance(10);
  slow.reject(timedOut.error);
  await first;

  assert.deepEqual(queued, [
    { bulkheadName: "svc", running: 1, queued: 1, abandoned: 0 },
  ]);
  assert.deepEqual(rejected.map((event) => event.error.reason), [
    "full",
    "queue-timeout",
  ]);
  assert.equal(rejected[0].error, await full);
  assert.equal(rejected[1].error, await waiting);
  assert.equal(rejected[1].queued, 0);
  assert.deepEqual(abandoned, [[1, timedOut.error]]);

  timedOut.settleWork();
  await settle();
});

Deno.test("a throwing hook cannot break the bulkhead", async () => {
  const clock = new ManualClock();
  const fail = () => {
    throw new Error("hook failed");
  };
  const pool = new Bulkhead({
    maxConcurrent: 1,
    maxQueued: 1,
    queueTimeoutMs: 5,
    clock,
    onQueued: fail,
    onRejected: fail,
    onAbandoned: fail,
  });
  const timedOut = abandonedTimeout();
  const slow = Promise.withResolvers<never>();
  const first = caught(pool.execute(() => slow.promise));

  const waiting = caught(pool.execute(() => 1));
  await assert.rejects(pool.execute(() => 2), BulkheadRejectedError);
  await clock.advance(5);
  assert.equal(
    (await waiting as BulkheadRejectedError).reason,
    "queue-timeout",
  );

  slow.reject(timedOut.error);
  assert.equal(await first, timedOut.error);
  assert.equal(pool.abandoned, 1);
  timedOut.settleWork();
  await settle();
  assert.equal(await pool.execute(() => "still works"), "still works");
});

Deno.test("bulkhead() wraps a function with its parameters and this", async () => {
  const calls: string[] = [];
  const greet = bulkhead(function (this: { greeting: string }, name: string) {
    calls.push(name);
    return `${this.greeting}, ${name}`;
  }, { maxConcurrent: 1 });

  const host = { greeting: "hello", greet };
  assert.equal(await host.greet("ada"), "hello, ada");
  assert.deepEqual(calls, ["ada"]);
  assert.equal(greet.name, "bulkheaded");
});

Deno.test("functions wrapped by one bulkhead share its permits", async () => {
  const pool = new Bulkhead({ maxConcurrent: 1 });
  const slow = gated();
  const first = pool.wrap(slow.operation);
  const second = pool.wrap((n: number) => n * 2);

  const running = first();
  await assert.rejects(second(2), BulkheadRejectedError);
  slow.resolve("done");
  await running;
  assert.equal(await second(2), 4);
});

Deno.test("bulkhead() rejects a non-function with TypeError", () => {
  assert.throws(
    () => bulkhead(42 as never, { maxConcurrent: 1 }),
    new TypeError("bulkhead: fn must be a function, got number"),
  );
});

Deno.test("the options are readable back", () => {
  const pool = new Bulkhead({ maxConcurrent: 3, maxQueued: 7, name: "x" });
  assert.equal(pool.maxConcurrent, 3);
  assert.equal(pool.maxQueued, 7);
  assert.equal(pool.name, "x");
  assert.equal(pool.running, 0);
  assert.equal(pool.queued, 0);
  assert.equal(pool.abandoned, 0);
});

Deno.test("construction starts no timer and reads no clock", () => {
  let touched = 0;
  const clock = {
    now: () => ++touched,
    setTimer: () => ++touched,
    clearTimer: () => void ++touched,
  };
  new Bulkhead({ maxConcurrent: 1, maxQueued: 1, queueTimeoutMs: 10, clock });
  assert.equal(touched, 0);
});

Deno.test("bad options throw TypeError or RangeError naming the option and value", async (t) => {
  const table: Array<[unknown, ErrorConstructor, string]> = [
    [
      undefined,
      TypeError,
      "Bulkhead: options must be an object with maxConcurrent, got undefined",
    ],
    [
      5,
      TypeError,
      "Bulkhead: options must be an object with maxConcurrent, got 5",
    ],
    [{}, TypeError, "Bulkhead: maxConcurrent must be a number, got undefined"],
    [
      { maxConcurrent: "5" },
      TypeError,
      'Bulkhead: maxConcurrent must be a number, got "5"',
    ],
    [
      { maxConcurrent: 0 },
      RangeError,
      "Bulkhead: maxConcurrent must be an integer >= 1, got 0",
    ],
    [
      { maxConcurrent: -1 },
      RangeError,
      "Bulkhead: maxConcurrent must be an integer >= 1, got -1",
    ],
    [
      { maxConcurrent: 1.5 },
      RangeError,
      "Bulkhead: maxConcurrent must be an integer >= 1, got 1.5",
    ],
    [
      { maxConcurrent: NaN },
      RangeError,
      "Bulkhead: maxConcurrent must be an integer >= 1, got NaN",
    ],
    [
      { maxConcurrent: Infinity },
      RangeError,
      "Bulkhead: maxConcurrent must be an integer >= 1, got Infinity",
    ],
    [
      { maxConcurrent: 1, maxQueued: -1 },
      RangeError,
      "Bulkhead: maxQueued must be an integer >= 0 or Infinity, got -1",
    ],
    [
      { maxConcurrent: 1, maxQueued: 0.5 },
      RangeError,
      "Bulkhead: maxQueued must be an integer >= 0 or Infinity, got 0.5",
    ],
    [
      { maxConcurrent: 1, maxQueued: NaN },
      RangeError,
      "Bulkhead: maxQueued must be an integer >= 0 or Infinity, got NaN",
    ],
    [
      { maxConcurrent: 1, maxQueued: "2" },
      TypeError,
      'Bulkhead: maxQueued must be a number, got "2"',
    ],
    [
      { maxConcurrent: 1, queueTimeoutMs: -1 },
      RangeError,
      "Bulkhead: queueTimeoutMs must be a number >= 0, got -1",
    ],
    [
      { maxConcurrent: 1, queueTimeoutMs: NaN },
      RangeError,
      "Bulkhead: queueTimeoutMs must be a number >= 0, got NaN",
    ],
    [
      { maxConcurrent: 1, queueTimeoutMs: -Infinity },
      RangeError,
      "Bulkhead: queueTimeoutMs must be a number >= 0, got -Infinity",
    ],
    [
      { maxConcurrent: 1, queueTimeoutMs: "10" },
      TypeError,
      'Bulkhead: queueTimeoutMs must be a number, got "10"',
    ],
    [
      { maxConcurrent: 1, holdAbandonedPermits: "yes" },
      TypeError,
      'Bulkhead: holdAbandonedPermits must be a boolean, got "yes"',
    ],
    [
      { maxConcurrent: 1, name: 7 },
      TypeError,
      "Bulkhead: name must be a string, got 7",
    ],
    [
      { maxConcurrent: 1, clock: {} },
      TypeError,
      "Bulkhead: clock must be a Clock with setTimer and clearTimer, got an object",
    ],
    [
      { maxConcurrent: 1, clock: null },
      TypeError,
      "Bulkhead: clock must be a Clock with setTimer and clearTimer, got null",
    ],
    [
      { maxConcurrent: 1, onQueued: "x" },
      TypeError,
      'Bulkhead: onQueued must be a function, got "x"',
    ],
    [
      { maxConcurrent: 1, onRejected: 1 },
      TypeError,
      "Bulkhead: onRejected must be a function, got 1",
    ],
    [
      { maxConcurrent: 1, onAbandoned: [] },
      TypeError,
      "Bulkhead: onAbandoned must be a function, got an array",
    ],
  ];
  for (const [options, ErrorClass, message] of table) {
    await t.step(message, () => {
      assert.throws(
        () => new Bulkhead(options as never),
        (error: unknown) => {
          assert.ok(error instanceof ErrorClass);
          assert.equal(error.constructor, ErrorClass);
          assert.equal((error as Error).message, message);
          return true;
        },
      );
    });
  }
});

Deno.test("good edge options are accepted", () => {
  new Bulkhead({ maxConcurrent: 1, maxQueued: 0, queueTimeoutMs: 0 });
  new Bulkhead({
    maxConcurrent: 1,
    maxQueued: Infinity,
    queueTimeoutMs: Infinity,
  });
  new Bulkhead({ maxConcurrent: Number.MAX_SAFE_INTEGER });
});
