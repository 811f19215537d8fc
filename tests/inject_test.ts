import assert from "node:assert/strict";
import {
  type Dependencies,
  DependencyError,
  inject,
  type InjectedDependencies,
  type Lease,
  type ProvideContext,
} from "../lib/inject.ts";
import { key, Registry } from "../lib/registry.ts";
import { Retry, RetryError } from "../lib/retry.ts";
import { Timeout } from "../lib/timeout.ts";
import { ManualClock, settle } from "../lib/testing.ts";

/** A resource that records when it is disposed. */
class Resource {
  disposed = 0;
  constructor(readonly label: string, readonly log: string[] = []) {}
  [Symbol.dispose](): void {
    this.disposed++;
    this.log.push(`dispose ${this.label}`);
  }
}

class AsyncResource {
  disposed = 0;
  syncDisposed = 0;
  constructor(readonly label: string, readonly log: string[] = []) {}
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.resolve();
    this.disposed++;
    this.log.push(`async dispose ${this.label}`);
  }
  [Symbol.dispose](): void {
    this.syncDisposed++;
  }
}

Deno.test("inject() builds every dependency before the call and passes them with the call's arguments", async () => {
  const add = inject({
    base: () => 40,
    offset: { provide: () => Promise.resolve(2) },
  }, ({ base, offset }, times: number) => (base + offset) * times);

  assert.equal(await add(1), 42);
  assert.equal(await add(2), 84);
});

Deno.test("inject() starts all providers at once, not one after another", async () => {
  const started: string[] = [];
  const db = Promise.withResolvers<string>();
  const cache = Promise.withResolvers<string>();
  const handler = inject({
    db: () => {
      started.push("db");
      return db.promise;
    },
    cache: () => {
      started.push("cache");
      return cache.promise;
    },
  }, ({ db, cache }) => `${db}+${cache}`);

  const call = handler();
  await settle();
  assert.deepEqual(started, ["db", "cache"]);

  cache.resolve("c");
  db.resolve("d");
  assert.equal(await call, "d+c");
});

Deno.test("inject() infers the type of each dependency from its provider", async () => {
  class Database {
    query(): number {
      return 1;
    }
  }
  const deps = {
    db: { provide: () => Promise.resolve(new Database()) },
    cache: { provide: () => new Map<string, number>(), fallback: null },
    count: (context: ProvideContext) => context.name.length,
    leased: {
      acquire: (): Lease<Date> => ({ value: new Date(0), release() {} }),
    },
  };
  type Values = InjectedDependencies<typeof deps>;
  const check: Values = {
    db: new Database(),
    cache: null,
    count: 1,
    leased: new Date(0),
  };
  // @ts-expect-error: a required dependency cannot be null
  const wrong: Values = { ...check, db: null };

  const handler = inject(deps, ({ db, cache, count, leased }, id: string) => {
    const rows: number = db.query();
    const hit: number | undefined = cache?.get(id);
    return [rows, hit, count, leased.getTime()];
  });
  const result: Promise<(number | undefined)[]> = handler("ada");
  assert.deepEqual(await result, [1, undefined, 5, 0]);
  assert.ok(wrong);
});

Deno.test("inject() gives a dependency its fallback when its provider fails, and tells onFallback", async () => {
  const heard: [string, string][] = [];
  const handler = inject(
    {
      cache: {
        provide: (): Map<string, string> => {
          throw new Error("cache down");
        },
        fallback: null,
      },
      flags: {
        provide: () => Promise.reject(new Error("flags down")),
        fallback: undefined,
      },
    },
    ({ cache, flags }) => [cache, flags],
    {
      onFallback: (error, name) => heard.push([name, (error as Error).message]),
    },
  );

  assert.deepEqual(await handler(), [null, undefined]);
  assert.deepEqual(heard, [["cache", "cache down"], ["flags", "flags down"]]);
});

Deno.test("inject() fails the call with one DependencyError naming every required dependency that failed", async () => {
  const dbError = new Error("connection refused");
  const queueError = new TypeError("no credentials");
  let called = false;
  const handler = inject({
    db: () => Promise.reject(dbError),
    config: () => ({ port: 1 }),
    queue: () => {
      throw queueError;
    },
    cache: { provide: () => Promise.reject(new Error("x")), fallback: null },
  }, () => {
    called = true;
  });

  const error = await handler().catch((error) => error);
  assert.ok(error instanceof DependencyError);
  assert.ok(error instanceof AggregateError);
  assert.equal(error.name, "DependencyError");
  assert.deepEqual(error.errors, [dbError, queueError]);
  assert.deepEqual(
    [...error.failures],
    [["db", dbError], ["queue", queueError]],
  );
  assert.equal(
    error.message,
    "2 dependencies failed: db (Error: connection refused), queue (TypeError: no credentials)",
  );
  assert.equal(called, false);
});

Deno.test("DependencyError says 'dependency' for one and describes non-Error causes", () => {
  const error = new DependencyError([["db", "socket closed"]], {
    cause: "root",
  });
  assert.equal(error.message, '1 dependency failed: db ("socket closed")');
  assert.equal(error.cause, "root");
  assert.deepEqual(error.errors, ["socket closed"]);
});

Deno.test("inject() builds a shared dependency once and reuses it across calls", async () => {
  let builds = 0;
  const handler = inject({
    pool: { provide: () => ({ id: ++builds }), lifetime: "shared" },
  }, ({ pool }) => pool.id);

  assert.deepEqual(await Promise.all([handler(), handler(), handler()]), [
    1,
    1,
    1,
  ]);
  assert.equal(await handler(), 1);
  assert.equal(builds, 1);
});

Deno.test("inject() shares one failed shared build among concurrent callers, and the next caller tries again", async () => {
  let attempts = 0;
  const gates: PromiseWithResolvers<string>[] = [];
  const handler = inject({
    pool: {
      provide: () => {
        attempts++;
        const gate = Promise.withResolvers<string>();
        gates.push(gate);
        return gate.promise;
      },
      lifetime: "shared",
    },
  }, ({ pool }) => pool);

  const first = handler().catch((error) => error);
  const second = handler().catch((error) => error);
  await settle();
  assert.equal(attempts, 1);

  const refused = new Error("refused");
  gates[0].reject(refused);
  const [a, b] = await Promise.all([first, second]);
  assert.ok(a instanceof DependencyError && b instanceof DependencyError);
  assert.equal(a.failures.get("pool"), refused);
  assert.equal(b.failures.get("pool"), refused);

  const third = handler();
  await settle();
  assert.equal(attempts, 2);
  gates[1].resolve("connected");
  assert.equal(await third, "connected");
  assert.equal(await handler(), "connected");
  assert.equal(attempts, 2);
});

Deno.test("inject() never disposes a shared dependency", async () => {
  const resource = new Resource("pool");
  const handler = inject({
    pool: { provide: () => resource, lifetime: "shared" },
  }, ({ pool }) => pool.label);

  await handler();
  await handler();
  assert.equal(resource.disposed, 0);
});

Deno.test("inject() disposes per-call dependencies after a call that returned, in reverse declaration order", async () => {
  const log: string[] = [];
  const handler = inject({
    first: () => new Resource("first", log),
    second: () => Promise.resolve(new AsyncResource("second", log)),
    plain: () => ({ label: "plain" }),
    nothing: () => null,
  }, ({ first, second }) => {
    log.push("call");
    return first.label + second.label;
  });

  assert.equal(await handler(), "firstsecond");
  assert.deepEqual(log, ["call", "async dispose second", "dispose first"]);
});

Deno.test("inject() prefers Symbol.asyncDispose over Symbol.dispose", async () => {
  let built: AsyncResource | undefined;
  const handler = inject({
    resource: () => (built = new AsyncResource("r")),
  }, () => "done");

  await handler();
  assert.equal(built!.disposed, 1);
  assert.equal(built!.syncDisposed, 0);
});

Deno.test("inject() disposes per-call dependencies after a call that threw, and rejects with the call's error", async () => {
  const log: string[] = [];
  const failure = new Error("handler failed");
  const handler = inject({ conn: () => new Resource("conn", log) }, () => {
    log.push("call");
    throw failure;
  });

  await assert.rejects(handler(), (error) => error === failure);
  assert.deepEqual(log, ["call", "dispose conn"]);
});

Deno.test("inject() disposes the dependencies that were built when another one failed", async () => {
  const log: string[] = [];
  const handler = inject({
    conn: () => new Resource("conn", log),
    broken: () => Promise.reject(new Error("broken")),
    lease: {
      acquire: (): Lease<number> => ({
        value: 1,
        release: () => void log.push("release lease"),
      }),
    },
  }, () => log.push("call"));

  await assert.rejects(handler(), DependencyError);
  assert.deepEqual(log, ["release lease", "dispose conn"]);
});

Deno.test("inject() keeps the call's error when disposal also fails, and hands disposal errors to onDisposeError", async () => {
  const failure = new Error("handler failed");
  const disposalFailure = new Error("close failed");
  const heard: [string, unknown][] = [];
  const handler = inject({
    conn: () => ({
      [Symbol.dispose]() {
        throw disposalFailure;
      },
    }),
  }, () => {
    throw failure;
  }, { onDisposeError: (error, name) => heard.push([name, error]) });

  await assert.rejects(handler(), (error) => error === failure);
  assert.deepEqual(heard, [["conn", disposalFailure]]);
});

Deno.test("inject() keeps the DependencyError when disposing the built dependencies fails", async () => {
  const heard: unknown[] = [];
  const handler = inject(
    {
      conn: () => ({
        [Symbol.dispose]() {
          throw new Error("close failed");
        },
      }),
      broken: () => Promise.reject(new Error("broken")),
    },
    () => "never",
    { onDisposeError: (error) => heard.push(error) },
  );

  await assert.rejects(handler(), DependencyError);
  assert.equal(heard.length, 1);
});

Deno.test("inject() rejects a call that succeeded with the disposal error", async () => {
  const disposalFailure = new Error("close failed");
  const single = inject({
    conn: () => ({
      [Symbol.asyncDispose]: () => Promise.reject(disposalFailure),
    }),
  }, () => "done");
  await assert.rejects(single(), (error) => error === disposalFailure);

  const double = inject({
    a: () => ({
      [Symbol.dispose]() {
        throw new Error("a");
      },
    }),
    b: () => ({
      [Symbol.dispose]() {
        throw new Error("b");
      },
    }),
  }, () => "done");
  const error = await double().catch((error) => error);
  assert.ok(error instanceof AggregateError);
  assert.equal(error.message, "2 dependencies failed to dispose");
  assert.deepEqual(error.errors.map((e: Error) => e.message), ["b", "a"]);
});

Deno.test("inject() ignores hooks that throw", async () => {
  const handler = inject({
    cache: { provide: () => Promise.reject(new Error("x")), fallback: 0 },
    conn: () => ({
      [Symbol.dispose]() {
        throw new Error("close failed");
      },
    }),
  }, ({ cache }) => {
    throw new Error(`call ${cache}`);
  }, {
    onFallback: () => {
      throw new Error("hook");
    },
    onDisposeError: () => {
      throw new Error("hook");
    },
  });

  await assert.rejects(handler(), { message: "call 0" });
});

Deno.test("inject() hands the caller's signal and the dependency's name to per-call providers", async () => {
  const contexts: ProvideContext[] = [];
  const controller = new AbortController();
  const handler = inject(
    {
      conn: (context) => contexts.push(context),
      pool: {
        provide: (context) => contexts.push(context),
        lifetime: "shared",
      },
      lease: {
        acquire: (context): Lease<number> => {
          contexts.push(context);
          return { value: 1, release() {} };
        },
      },
    },
    (_deps, _options: { signal?: AbortSignal }) => "done",
    { signalFrom: ([options]) => options.signal },
  );

  await handler({ signal: controller.signal });
  const byName = Object.fromEntries(contexts.map((c) => [c.name, c.signal]));
  assert.equal(byName.conn, controller.signal);
  assert.equal(byName.lease, controller.signal);
  assert.equal(byName.pool, undefined);
});

Deno.test("inject() rejects at once with the reason of an already-aborted signal, building nothing", async () => {
  let builds = 0;
  const handler = inject(
    { conn: () => ++builds },
    (_deps, _signal: AbortSignal) => "done",
    { signalFrom: ([signal]) => signal },
  );
  const reason = new Error("client went away");

  await assert.rejects(
    handler(AbortSignal.abort(reason)),
    (error) => error === reason,
  );
  assert.equal(builds, 0);
});

Deno.test("inject() rejects with the signal's reason when it aborts during building, and disposes what arrives later", async () => {
  const controller = new AbortController();
  const slow = Promise.withResolvers<Resource>();
  const fast = new Resource("fast");
  let called = false;
  const handler = inject({
    fast: () => fast,
    slow: () => slow.promise,
  }, (_deps, _signal: AbortSignal) => {
    called = true;
  }, { signalFrom: ([signal]) => signal });

  const call = handler(controller.signal);
  await settle();
  const reason = new Error("cancelled");
  controller.abort(reason);
  await assert.rejects(call, (error) => error === reason);

  const late = new Resource("slow");
  slow.resolve(late);
  await settle();
  assert.equal(called, false);
  assert.equal(fast.disposed, 1);
  assert.equal(late.disposed, 1);
});

Deno.test("inject() composes with Retry and Timeout: a connection tried three times, within 2 s", async (t) => {
  const clock = new ManualClock();

  function connectionProvider(behaviour: (attempt: number) => Promise<string>) {
    const attempts: AbortSignal[] = [];
    const retry = new Retry({
      attempts: 3,
      backoff: "constant",
      initialDelayMs: 500,
      clock,
    });
    const deadline = new Timeout({ timeoutMs: 2_000, clock });
    const provide = ({ signal }: ProvideContext) =>
      deadline.execute(
        ({ signal }) =>
          retry.execute(({ attempt, signal }) => {
            attempts.push(signal);
            return behaviour(attempt);
          }, signal),
        signal,
      );
    return { provide, attempts };
  }

  await t.step("third attempt connects", async () => {
    const { provide, attempts } = connectionProvider((attempt) =>
      attempt < 3
        ? Promise.reject(new Error(`refused ${attempt}`))
        : Promise.resolve("connected")
    );
    const handler = inject({ db: { provide } }, ({ db }) => db);

    const call = handler();
    await clock.advance(1_000);
    assert.equal(await call, "connected");
    assert.equal(attempts.length, 3);
    assert.equal(clock.pendingTimers, 0);
  });

  await t.step(
    "every attempt refused: a DependencyError with the RetryError",
    async () => {
      const { provide } = connectionProvider((attempt) =>
        Promise.reject(new Error(`refused ${attempt}`))
      );
      const handler = inject({ db: { provide } }, ({ db }) => db);

      const call = handler().catch((error) => error);
      await clock.advance(1_000);
      const error = await call;
      assert.ok(error instanceof DependencyError);
      assert.ok(error.failures.get("db") instanceof RetryError);
      assert.equal(clock.pendingTimers, 0);
    },
  );

  await t.step("attempts that hang: the 2 s deadline aborts them", async () => {
    const { provide, attempts } = connectionProvider(() =>
      new Promise((_, reject) => {
        const signal = attempts[attempts.length - 1];
        signal.addEventListener("abort", () => reject(signal.reason));
      })
    );
    const handler = inject({
      db: { provide, fallback: "offline" },
    }, ({ db }) => db);

    const call = handler();
    await clock.advance(2_000);
    assert.equal(await call, "offline");
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].aborted, true);
    assert.equal(attempts[0].reason.name, "TimeoutError");
    assert.equal(clock.pendingTimers, 0);
  });

  await t.step("the caller's signal reaches every attempt", async () => {
    const { provide, attempts } = connectionProvider(() =>
      new Promise((_, reject) => {
        const signal = attempts[attempts.length - 1];
        signal.addEventListener("abort", () => reject(signal.reason));
      })
    );
    const handler = inject(
      { db: { provide } },
      ({ db }, _signal: AbortSignal) => db,
      { signalFrom: ([signal]) => signal },
    );
    const controller = new AbortController();
    const reason = new Error("client went away");

    const call = handler(controller.signal);
    await clock.advance(100);
    controller.abort(reason);
    await assert.rejects(call, (error) => error === reason);
    assert.equal(attempts[0].reason, reason);
    assert.equal(clock.pendingTimers, 0);
  });
});

Deno.test("inject() acquires a registry's service for each call and releases it after", async () => {
  const DB = key<Resource>("db");
  const registry = new Registry().register(DB, () => new Resource("v1"));
  const gate = Promise.withResolvers<void>();
  const handler = inject({ db: registry.provider(DB) }, async ({ db }) => {
    if (db.label === "v1") await gate.promise;
    return db.label;
  });

  const running = handler();
  await settle();
  const old = await registry.resolve(DB);
  registry.register(DB, () => new Resource("v2"));

  assert.equal(await handler(), "v2");
  await settle();
  assert.equal(old.disposed, 0);
  gate.resolve();
  assert.equal(await running, "v1");
  assert.equal(old.disposed, 1);
  await registry[Symbol.asyncDispose]();
});

Deno.test("inject() gives a missing registry service its fallback or a DependencyError", async () => {
  const registry = Registry.from({ present: { value: 1 } });
  const handler = inject({
    present: registry.provider<number>("present"),
    optional: { ...registry.provider<string>("absent"), fallback: "none" },
  }, ({ present, optional }) => `${present}/${optional}`);
  assert.equal(await handler(), "1/none");

  const strict = inject(
    { absent: registry.provider("absent") },
    ({ absent }) => absent,
  );
  const error = await strict().catch((error) => error);
  assert.ok(error instanceof DependencyError);
  assert.equal(
    (error.failures.get("absent") as Error).name,
    "MissingServiceError",
  );
});

Deno.test("inject() calls provide() and acquire() with their object as this", async () => {
  class Provider {
    prefix = "p";
    provide(context: ProvideContext): string {
      return `${this.prefix}:${context.name}`;
    }
  }
  const handler = inject({ item: new Provider() }, ({ item }) => item);
  assert.equal(await handler(), "p:item");
});

Deno.test("inject() fails a dependency whose acquire() gives no lease", async () => {
  const handler = inject({
    // @ts-expect-error: acquire() must give a lease
    broken: { acquire: () => 42 },
  }, () => "never");

  const error = await handler().catch((error) => error);
  assert.ok(error instanceof DependencyError);
  const cause = error.failures.get("broken") as Error;
  assert.ok(cause instanceof TypeError);
  assert.equal(
    cause.message,
    'inject: acquire() of "broken" must give an object with value and release(), got 42',
  );
});

Deno.test("inject() rejects bad arguments with a TypeError naming the value", async (t) => {
  const cases: [string, () => unknown, string][] = [
    [
      "dependencies null",
      () => inject(null as unknown as Dependencies, () => 1),
      "inject: dependencies must be an object of name: provider, got null",
    ],
    [
      "dependencies array",
      () => inject([] as unknown as Dependencies, () => 1),
      "inject: dependencies must be an object of name: provider, got []",
    ],
    [
      "dependency a number",
      () => inject({ db: 42 } as unknown as Dependencies, () => 1),
      'inject: dependency "db" must be a function or an object with either provide() or acquire(), got 42',
    ],
    [
      "dependency without provider",
      () =>
        inject({ db: { fallback: null } } as unknown as Dependencies, () => 1),
      'inject: dependency "db" must be a function or an object with either provide() or acquire(), got {"fallback":null}',
    ],
    [
      "dependency with both",
      () =>
        inject({
          db: { provide: () => 1, acquire: () => ({ value: 1, release() {} }) },
        } as Dependencies, () => 1),
      'inject: dependency "db" must be a function or an object with either provide() or acquire(), got {}',
    ],
    [
      "unknown lifetime",
      () =>
        inject({
          db: { provide: () => 1, lifetime: "forever" },
        } as unknown as Dependencies, () => 1),
      'inject: lifetime of "db" must be "call" or "shared", got "forever"',
    ],
    [
      "fn not a function",
      () => inject({}, "handler" as unknown as () => 1),
      'inject: fn must be a function, got "handler"',
    ],
    [
      "options not an object",
      () => inject({}, () => 1, 5 as unknown as object),
      "inject: options must be an object, got 5",
    ],
    [
      "signalFrom not a function",
      () =>
        inject({}, () => 1, {
          signalFrom: "signal" as unknown as () => undefined,
        }),
      'inject: signalFrom must be a function, got "signal"',
    ],
    [
      "onDisposeError not a function",
      () =>
        inject({}, () => 1, {
          onDisposeError: {} as unknown as () => undefined,
        }),
      "inject: onDisposeError must be a function, got {}",
    ],
  ];
  for (const [name, make, message] of cases) {
    await t.step(name, () => {
      assert.throws(make, (error) => {
        assert.ok(error instanceof TypeError);
        assert.equal(error.message, message);
        return true;
      });
    });
  }
});

Deno.test("inject() with no dependencies simply calls the function", async () => {
  const handler = inject({}, (deps, a: number, b: number) => {
    assert.deepEqual(deps, {});
    return a + b;
  });
  assert.equal(await handler(1, 2), 3);
});
