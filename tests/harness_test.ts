import assert from "node:assert/strict";
import {
  type ErrorRecord,
  Harness,
  harness,
  type HarnessOptions,
} from "../lib/harness.ts";
import { ManualClock, seededRandom, settle } from "../lib/testing.ts";

function catchSync(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

class NotFoundError extends Error {}

Deno.test("harness() rethrows the very same error, stack unchanged, synchronously", () => {
  const original = new TypeError("bad input");
  const stack = original.stack;
  const parse = harness((_text: string): number => {
    throw original;
  });

  const caught = catchSync(() => parse("x"));

  assert.equal(caught, original);
  assert.equal((caught as Error).stack, stack);
  assert.equal(parse.harness.snapshot().errors, 1);
});

Deno.test("harness() rejects with the very same error, stack unchanged, asynchronously", async () => {
  const original = new RangeError("too far");
  const stack = original.stack;
  const load = harness(async (_id: number): Promise<string> => {
    await Promise.resolve();
    throw original;
  });

  let threwSynchronously = false;
  let pending: Promise<string> | undefined;
  try {
    pending = load(1);
  } catch {
    threwSynchronously = true;
  }
  const caught = await pending!.catch((error) => error);

  assert.equal(threwSynchronously, false);
  assert.equal(caught, original);
  assert.equal(caught.stack, stack);
  assert.equal(load.harness.snapshot().recent[0].via, "rejection");
});

Deno.test("harness() passes results through unchanged", async () => {
  const value = { id: 1 };
  const sync = harness(() => value);
  const async = harness(() => Promise.resolve(value));

  assert.equal(sync(), value);
  assert.equal(await async(), value);
  assert.equal(sync.harness.snapshot().calls, 1);
  assert.equal(sync.harness.snapshot().errors, 0);
});

Deno.test("harness() keeps this and length", () => {
  const errors = new Harness();
  const counter = {
    step: 2,
    add(value: number, times: number) {
      return value + this.step * times;
    },
  };
  counter.add = errors.wrap(counter.add);

  assert.equal(counter.add(1, 3), 7);
  assert.equal(counter.add.length, 2);
});

Deno.test("harness() leaves an unhandled rejection unhandled", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    unhandled.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  const original = new Error("nobody listens");

  try {
    const fail = harness((): Promise<void> => Promise.reject(original));
    fail();
    await settle();
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }

  assert.deepEqual(unhandled, [original]);
});

Deno.test("harness() records kind, message, where, when, via and args", async () => {
  const clock = new ManualClock(5_000);
  const records: ErrorRecord[] = [];
  const errors = new Harness({
    name: "users",
    clock,
    recordArgs: true,
    onError: (record) => records.push(record),
  });
  const find = errors.wrap((_id: number, _name: string): string => {
    throw new NotFoundError("no such user");
  }, "find");

  await clock.advance(250);
  const original = catchSync(() => find(7, "ada"));

  assert.equal(records.length, 1);
  assert.deepEqual({ ...records[0] }, {
    error: original,
    kind: "NotFoundError",
    message: "no such user",
    where: "find",
    atMs: 5_250,
    via: "throw",
    args: ["7", '"ada"'],
  });
  assert.ok(Object.isFrozen(records[0]));
});

Deno.test("harness() dates records in epoch milliseconds by default", () => {
  const errors = new Harness();
  const before = Date.now();

  errors.record(new Error("x"));

  const { atMs } = errors.snapshot().recent[0];
  assert.ok(atMs >= before && atMs <= Date.now());
});

Deno.test("harness() summarises arguments without their contents", () => {
  const errors = new Harness({ recordArgs: true });
  const fail = errors.wrap((..._args: unknown[]) => {
    throw new Error("x");
  });

  catchSync(() =>
    fail(
      "a".repeat(40),
      12n,
      null,
      undefined,
      Symbol("s"),
      [1, 2, 3],
      new Map(),
      { secret: "hunter2" },
      Object.create(null),
      function handler() {},
    )
  );

  assert.deepEqual(errors.snapshot().recent[0].args, [
    `"${"a".repeat(32)}…"`,
    "12n",
    "null",
    "undefined",
    "Symbol(s)",
    "Array(3)",
    "Map",
    "Object",
    "Object",
    "[Function handler]",
  ]);
});

Deno.test("harness() records args through a custom summariser", () => {
  const errors = new Harness({
    recordArgs: (args) => ({ count: args.length }),
  });
  const fail = errors.wrap((_a: number, _b: number) => {
    throw new Error("x");
  });

  catchSync(() => fail(1, 2));

  assert.deepEqual(errors.snapshot().recent[0].args, { count: 2 });
});

Deno.test("harness() keeps no args unless asked", () => {
  const errors = new Harness();
  const fail = errors.wrap((_password: string) => {
    throw new Error("x");
  });

  catchSync(() => fail("hunter2"));

  assert.equal(errors.snapshot().recent[0].args, undefined);
});

Deno.test("harness() counts errors per kind, non-Error throwables included", () => {
  const errors = new Harness();
  const thrown: unknown[] = [
    new Error("plain"),
    new TypeError("type"),
    new TypeError("type again"),
    new NotFoundError("custom class, no name set"),
    new DOMException("aborted", "AbortError"),
    Object.assign(new Error("renamed"), { name: "QuotaError" }),
    "a string",
    42,
    undefined,
    null,
    { code: "E_WEIRD" },
    Object.create(null),
  ];

  for (const value of thrown) errors.record(value);

  assert.deepEqual(errors.snapshot().counts, {
    Error: 1,
    TypeError: 2,
    NotFoundError: 1,
    AbortError: 1,
    QuotaError: 1,
    string: 1,
    number: 1,
    undefined: 1,
    null: 1,
    Object: 2,
  });
  assert.deepEqual(
    errors.snapshot().recent.slice(6, 9).map((record) => record.message),
    ["a string", "42", "undefined"],
  );
});

Deno.test("harness() handles a throwable whose properties throw", () => {
  const hostile = new Proxy({}, {
    get() {
      throw new Error("trap");
    },
  });
  const errors = new Harness();
  const fail = errors.wrap(() => {
    throw hostile;
  });

  assert.equal(catchSync(fail), hostile);
  assert.deepEqual(errors.snapshot().counts, { Object: 1 });
  assert.equal(errors.snapshot().recent[0].message, "");
  assert.doesNotThrow(() => JSON.stringify(errors));
});

Deno.test("harness() caps the number of kinds it counts", () => {
  const errors = new Harness();

  for (let index = 0; index < 150; index++) {
    errors.record(Object.assign(new Error("x"), { name: `Kind${index}` }));
  }

  const { counts } = errors.snapshot();
  assert.equal(Object.keys(counts).length, 101);
  assert.equal(counts["(other)"], 50);
});

Deno.test("harness() keeps the last ringSize records, oldest first", () => {
  const errors = new Harness({ ringSize: 3 });

  for (let index = 1; index <= 7; index++) {
    errors.record(new Error(`error ${index}`));
    const recent = errors.snapshot().recent;
    assert.equal(recent.length, Math.min(index, 3));
    assert.equal(recent.at(-1)!.message, `error ${index}`);
  }

  assert.deepEqual(
    errors.snapshot().recent.map((record) => record.message),
    ["error 5", "error 6", "error 7"],
  );
  assert.equal(errors.snapshot().errors, 7);
});

Deno.test("harness() samples with the injected random, counting every error", () => {
  const sampleRatio = 0.3;
  const draws = seededRandom(42);
  const expected = seededRandom(42);
  const kept: number[] = [];
  const reported: number[] = [];
  const errors = new Harness({
    sampleRatio,
    random: draws,
    ringSize: 1_000,
    onError: (record) => reported.push(Number(record.message)),
  });

  for (let index = 0; index < 1_000; index++) {
    errors.record(new Error(String(index)));
    if (expected() < sampleRatio) kept.push(index);
  }

  const snapshot = errors.snapshot();
  assert.equal(snapshot.errors, 1_000);
  assert.deepEqual(snapshot.counts, { Error: 1_000 });
  assert.equal(snapshot.sampled, kept.length);
  assert.deepEqual(snapshot.recent.map((r) => Number(r.message)), kept);
  assert.deepEqual(reported, kept);
  assert.ok(kept.length > 250 && kept.length < 350);
});

Deno.test("harness() does not draw random numbers at ratio 0 or 1", () => {
  for (const sampleRatio of [0, 1]) {
    let draws = 0;
    const errors = new Harness({
      sampleRatio,
      random: () => (draws++, 0.5),
    });

    errors.record(new Error("x"));

    assert.equal(draws, 0);
    assert.equal(errors.snapshot().sampled, sampleRatio);
    assert.equal(errors.snapshot().errors, 1);
  }
});

Deno.test("harness() throwing hooks change nothing the caller sees", async () => {
  const original = new Error("real failure");
  const hooks: HarnessOptions = {
    onError: () => {
      throw new Error("reporter broke");
    },
    logger: {
      error: () => {
        throw new Error("logger broke");
      },
    },
    recordArgs: () => {
      throw new Error("summariser broke");
    },
  };
  const errors = new Harness(hooks);
  const syncFail = errors.wrap((_value: number) => {
    throw original;
  });
  const asyncFail = errors.wrap((_value: number) => Promise.reject(original));

  assert.equal(catchSync(() => syncFail(1)), original);
  assert.equal(await asyncFail(1).catch((error) => error), original);

  const snapshot = errors.snapshot();
  assert.equal(snapshot.errors, 2);
  assert.equal(snapshot.sampled, 2);
  assert.equal(snapshot.hookFailures, 6);
  assert.equal(snapshot.recent[0].args, undefined);
});

Deno.test("harness() throwing clock or random changes nothing the caller sees", () => {
  const original = new Error("real failure");
  const broken = new Harness({
    sampleRatio: 0.5,
    random: () => {
      throw new Error("random broke");
    },
  });
  const badClock = new Harness({
    clock: {
      now: () => {
        throw new Error("clock broke");
      },
    },
  });

  for (const errors of [broken, badClock]) {
    const fail = errors.wrap(() => {
      throw original;
    });
    assert.equal(catchSync(fail), original);
    assert.equal(errors.snapshot().hookFailures, 1);
    assert.equal(errors.snapshot().errors, 1);
    assert.deepEqual(errors.snapshot().recent, []);
  }
});

Deno.test("harness() logs one line per recorded error", async () => {
  const lines: [string, ErrorRecord][] = [];
  const errors = new Harness({
    name: "payments",
    logger: { error: (line, record) => lines.push([line, record]) },
  });
  const charge = errors.wrap(function charge(_cents: number): Promise<void> {
    return Promise.reject(new TypeError("card declined"));
  });
  const refund = errors.wrap(() => {
    throw "no refunds";
  }, "refund");

  await charge(100).catch(() => {});
  catchSync(refund);

  assert.deepEqual(lines.map(([line]) => line), [
    "payments: charge rejected with TypeError: card declined",
    "payments: refund threw string: no refunds",
  ]);
  assert.equal(lines[0][1], errors.snapshot().recent[0]);
});

Deno.test("Harness.wrap() shares one ring and one set of counts", async () => {
  const errors = new Harness({ ringSize: 10 });
  const read = errors.wrap((): Promise<never> =>
    Promise.reject(new Error("read"))
  );
  const write = errors.wrap((): never => {
    throw new TypeError("write");
  });
  const fine = errors.wrap(() => "ok");

  await read().catch(() => {});
  catchSync(write);
  fine();
  await read().catch(() => {});

  const snapshot = errors.snapshot();
  assert.equal(snapshot.calls, 4);
  assert.deepEqual(snapshot.counts, { Error: 2, TypeError: 1 });
  assert.deepEqual(snapshot.recent.map((record) => record.message), [
    "read",
    "write",
    "read",
  ]);
});

Deno.test("Harness.wrap() names records after fn, or the name it is given", () => {
  const errors = new Harness();
  const named = errors.wrap(function saveUser() {
    throw new Error("x");
  });
  const renamed = errors.wrap(() => {
    throw new Error("x");
  }, "custom");
  const anonymous = errors.wrap((() => () => {
    throw new Error("x");
  })());

  for (const call of [named, renamed, anonymous]) catchSync(call);

  assert.deepEqual(errors.snapshot().recent.map((record) => record.where), [
    "saveUser",
    "custom",
    "anonymous",
  ]);
});

Deno.test("Harness.execute() passes the signal and records the error", async () => {
  const errors = new Harness();
  const controller = new AbortController();
  const original = new Error("failed");
  let seen: AbortSignal | undefined;

  const caught = await errors.execute(({ signal }) => {
    seen = signal;
    return Promise.reject(original);
  }, controller.signal).catch((error) => error);

  assert.equal(seen, controller.signal);
  assert.equal(caught, original);
  assert.equal(errors.snapshot().recent[0].where, "execute");
  assert.equal(errors.snapshot().recent[0].via, "rejection");
});

Deno.test("Harness.execute() turns a synchronous throw into a rejection", async () => {
  const errors = new Harness();
  const original = new Error("sync");

  const pending = errors.execute(function job() {
    throw original;
  });

  assert.equal(await pending.catch((error) => error), original);
  assert.equal(errors.snapshot().recent[0].where, "job");
  assert.equal(errors.snapshot().recent[0].via, "throw");
});

Deno.test("Harness.execute() rejects at once for an aborted signal, recording nothing", async () => {
  const errors = new Harness();
  const controller = new AbortController();
  const reason = new Error("gone");
  controller.abort(reason);
  let ran = false;

  const caught = await errors.execute(() => (ran = true), controller.signal)
    .catch((error) => error);

  assert.equal(caught, reason);
  assert.equal(ran, false);
  assert.equal(errors.snapshot().calls, 0);
  assert.equal(errors.snapshot().errors, 0);
});

Deno.test("Harness.execute() resolves with the operation's value", async () => {
  const errors = new Harness();

  assert.equal(await errors.execute(() => 1), 1);
  assert.equal(await errors.execute(() => Promise.resolve(2)), 2);
});

Deno.test("Harness.toJSON() gives stacks instead of error objects", () => {
  const errors = new Harness({ name: "jobs", recordArgs: true });
  const original = new Error("boom");
  const fail = errors.wrap((_id: number) => {
    throw original;
  }, "run");
  catchSync(() => fail(3));
  errors.record("text");

  const json = JSON.parse(JSON.stringify(errors));

  assert.equal(json.name, "jobs");
  assert.deepEqual(json.counts, { Error: 1, string: 1 });
  assert.equal(json.recent[0].stack, original.stack);
  assert.equal(json.recent[0].error, undefined);
  assert.deepEqual(json.recent[0].args, ["3"]);
  assert.equal(json.recent[1].stack, undefined);
  assert.equal(json.recent[1].message, "text");
});

Deno.test("Harness.snapshot() is a copy", () => {
  const errors = new Harness();
  errors.record(new Error("one"));
  const snapshot = errors.snapshot();

  errors.record(new Error("two"));

  assert.equal(snapshot.recent.length, 1);
  assert.deepEqual(snapshot.counts, { Error: 1 });
});

Deno.test("Harness.reset() forgets totals, counts and the ring", () => {
  const errors = new Harness({ ringSize: 2 });
  const fail = errors.wrap(() => {
    throw new Error("x");
  });
  for (let index = 0; index < 3; index++) catchSync(fail);

  errors.reset();
  errors.record(new Error("after"));

  const snapshot = errors.snapshot();
  assert.equal(snapshot.calls, 0);
  assert.equal(snapshot.errors, 1);
  assert.deepEqual(snapshot.recent.map((record) => record.message), ["after"]);
});

Deno.test("harness() names its harness after fn unless told otherwise", () => {
  assert.equal(harness(function fetchUser() {}).harness.name, "fetchUser");
  assert.equal(harness(() => {}, { name: "api" }).harness.name, "api");
  assert.equal(harness((() => () => {})()).harness.name, "harness");
});

Deno.test("Harness rejects bad options with a RangeError or TypeError naming them", () => {
  const cases: [unknown, typeof RangeError | typeof TypeError, string][] = [
    [{ ringSize: 0 }, RangeError, "ringSize must be an integer >= 1, got 0"],
    [{ ringSize: -3 }, RangeError, "ringSize must be an integer >= 1, got -3"],
    [
      { ringSize: 1.5 },
      RangeError,
      "ringSize must be an integer >= 1, got 1.5",
    ],
    [
      { ringSize: NaN },
      RangeError,
      "ringSize must be an integer >= 1, got NaN",
    ],
    [
      { ringSize: Infinity },
      RangeError,
      "ringSize must be an integer >= 1, got Infinity",
    ],
    [
      { ringSize: "5" },
      TypeError,
      'ringSize must be an integer >= 1, got "5"',
    ],
    [
      { sampleRatio: -0.1 },
      RangeError,
      "sampleRatio must be a ratio in [0, 1], got -0.1",
    ],
    [
      { sampleRatio: 1.5 },
      RangeError,
      "sampleRatio must be a ratio in [0, 1], got 1.5",
    ],
    [
      { sampleRatio: NaN },
      RangeError,
      "sampleRatio must be a ratio in [0, 1], got NaN",
    ],
    [
      { sampleRatio: "1" },
      TypeError,
      'sampleRatio must be a ratio in [0, 1], got "1"',
    ],
    [{ name: 3 }, TypeError, "name must be a string, got 3"],
    [{ random: 0.5 }, TypeError, "random must be a function, got 0.5"],
    [{ clock: {} }, TypeError, "clock must have a now() method, got an object"],
    [
      { recordArgs: "yes" },
      TypeError,
      'recordArgs must be a boolean or a function, got "yes"',
    ],
    [{ onError: {} }, TypeError, "onError must be a function, got an object"],
    [
      { logger: () => {} },
      TypeError,
      "logger must have an error() method, got a function",
    ],
    [null, TypeError, "options must be an object, got null"],
  ];

  for (const [options, ErrorClass, message] of cases) {
    assert.throws(
      () => new Harness(options as HarnessOptions),
      new ErrorClass(`Harness: ${message}`),
    );
    assert.throws(
      () => harness(() => {}, options as HarnessOptions),
      new ErrorClass(`Harness: ${message}`),
    );
  }
});

Deno.test("harness() and Harness.wrap() reject a non-function", () => {
  assert.throws(
    () => harness(42 as unknown as () => void),
    new TypeError("harness: fn must be a function, got 42"),
  );
  assert.throws(
    () => new Harness().wrap(null as unknown as () => void),
    new TypeError("Harness.wrap: fn must be a function, got null"),
  );
  assert.throws(
    () => new Harness().wrap(() => {}, 5 as unknown as string),
    new TypeError("Harness.wrap: name must be a string, got 5"),
  );
});
