import assert from "node:assert/strict";
import {
  key,
  MissingServiceError,
  Registry,
  type RegistryConfig,
  type RegistryEvent,
  type ServiceDefinition,
  ServiceKey,
} from "../lib/registry.ts";
import type { Lease, ProvideContext } from "../lib/inject.ts";
import { settle } from "../lib/testing.ts";

/** A service that records its disposal. */
class Pool {
  static made = 0;
  disposed = 0;
  readonly id = ++Pool.made;
  constructor(readonly host = "db") {}
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.resolve();
    this.disposed++;
  }
}

const DB = key<Pool>("db");

Deno.test("key() makes a typed key that compares by name", async () => {
  const registry = new Registry().register(DB, () => new Pool());

  const byKey: Pool = await registry.resolve(DB);
  const byName = await registry.resolve("db");
  const bySameName = await registry.resolve(key<Pool>("db"));
  assert.equal(byKey, byName);
  assert.equal(byKey, bySameName);
  assert.ok(DB instanceof ServiceKey);
  assert.equal(String(DB), "db");

  // @ts-expect-error: a key for a number does not take a string
  registry.register(key<number>("port"), { value: "8080" });
});

Deno.test("Registry.register() takes a value, a provider function or { provide }", async () => {
  const registry = new Registry()
    .register("value", { value: 1 })
    .register("sync", () => 2)
    .register("async", () => Promise.resolve(3))
    .register("object", { provide: () => 4 })
    .register("fn", { value: () => 5 });

  assert.equal(await registry.resolve("value"), 1);
  assert.equal(await registry.resolve("sync"), 2);
  assert.equal(await registry.resolve("async"), 3);
  assert.equal(await registry.resolve("object"), 4);
  assert.equal((await registry.resolve<() => number>("fn"))(), 5);
});

Deno.test("Registry builds a shared service once, with one build for concurrent first uses", async () => {
  let builds = 0;
  const gate = Promise.withResolvers<void>();
  const registry = new Registry().register(DB, async () => {
    builds++;
    await gate.promise;
    return new Pool();
  });

  const first = registry.resolve(DB);
  const second = registry.acquire(DB);
  await settle();
  gate.resolve();

  const lease = await second;
  assert.equal(await first, lease.value);
  assert.equal(await registry.resolve(DB), lease.value);
  assert.equal(builds, 1);
  await lease.release();
});

Deno.test("Registry keeps no failed shared build: concurrent uses share the failure, the next use tries again", async () => {
  let builds = 0;
  const gates: PromiseWithResolvers<Pool>[] = [];
  const registry = new Registry().register(DB, () => {
    builds++;
    const gate = Promise.withResolvers<Pool>();
    gates.push(gate);
    return gate.promise;
  });

  const first = registry.resolve(DB);
  const second = registry.acquire(DB);
  await settle();
  const refused = new Error("refused");
  gates[0].reject(refused);
  await assert.rejects(first, (error) => error === refused);
  await assert.rejects(second, (error) => error === refused);
  assert.equal(builds, 1);

  const third = registry.resolve(DB);
  gates[1].resolve(new Pool());
  assert.ok((await third) instanceof Pool);
  assert.equal(builds, 2);
});

Deno.test("Registry builds a 'call' service for each lease and disposes it on release", async () => {
  const contexts: ProvideContext[] = [];
  const registry = new Registry().register(DB, {
    provide: (context) => {
      contexts.push(context);
      return new Pool();
    },
    lifetime: "call",
  });
  const controller = new AbortController();

  const a = await registry.acquire(DB, { signal: controller.signal });
  const b = await registry.acquire(DB);
  assert.notEqual(a.value, b.value);
  assert.equal(contexts[0].signal, controller.signal);
  assert.equal(contexts[0].name, "db");

  await a.release();
  assert.equal(a.value.disposed, 1);
  assert.equal(b.value.disposed, 0);
  await b.release();
  assert.equal(b.value.disposed, 1);

  const mine = await registry.resolve(DB);
  assert.equal(mine.disposed, 0);
});

Deno.test("Registry swap while running: calls finish on the old service, disposed after the last lease", async () => {
  const registry = new Registry().register(DB, () => new Pool("old"));
  const replaced: string[] = [];
  registry.addEventListener("replaced", (event) => replaced.push(event.key));

  const first = await registry.acquire(DB);
  const second = await registry.acquire(DB);
  registry.register(DB, () => new Pool("new"));

  const fresh = await registry.acquire(DB);
  assert.equal(fresh.value.host, "new");
  assert.equal(first.value, second.value);
  assert.equal(first.value.host, "old");
  assert.deepEqual(replaced, ["db"]);

  await first.release();
  assert.equal(first.value.disposed, 0);
  await second.release();
  assert.equal(second.value.disposed, 1);
  await second.release();
  assert.equal(second.value.disposed, 1);
  assert.equal(fresh.value.disposed, 0);
  await fresh.release();
  assert.equal(fresh.value.disposed, 0);
});

Deno.test("Registry.use() holds the old service across a swap and disposes it when the call ends", async () => {
  const registry = new Registry().register(DB, () => new Pool("old"));
  const gate = Promise.withResolvers<void>();
  let seen: Pool | undefined;

  const running = registry.use(DB, async (pool) => {
    seen = pool;
    await gate.promise;
    return pool.host;
  });
  await settle();
  registry.register(DB, () => new Pool("new"));
  assert.equal(await registry.use(DB, (pool) => pool.host), "new");
  assert.equal(seen!.disposed, 0);

  gate.resolve();
  assert.equal(await running, "old");
  assert.equal(seen!.disposed, 1);
});

Deno.test("Registry.use() releases its lease when the call throws", async () => {
  const registry = new Registry().register(DB, () => new Pool());
  const failure = new Error("query failed");
  let pool: Pool | undefined;

  await assert.rejects(
    registry.use(DB, (p) => {
      pool = p;
      throw failure;
    }),
    (error) => error === failure,
  );
  registry.remove(DB);
  await settle();
  assert.equal(pool!.disposed, 1);
});

Deno.test("Registry disposes a replaced service at once when no lease holds it, and never disposes values", async () => {
  const value = new Pool("value");
  const registry = new Registry().register(DB, () => new Pool("built"));
  const built = await registry.resolve(DB);

  registry.register(DB, { value });
  await settle();
  assert.equal(built.disposed, 1);

  registry.register(DB, () => new Pool("next"));
  registry.remove(DB);
  await settle();
  assert.equal(value.disposed, 0);
});

Deno.test("Registry replacing a service whose build is pending: waiting leases get it, and it is disposed after them", async () => {
  const gate = Promise.withResolvers<Pool>();
  const registry = new Registry().register(DB, () => gate.promise);

  const waiting = registry.acquire(DB);
  const unleased = registry.resolve(DB);
  registry.register(DB, () => new Pool("new"));
  const old = new Pool("old");
  gate.resolve(old);

  const lease = await waiting;
  assert.equal(lease.value, old);
  assert.equal(await unleased, old);
  await settle();
  assert.equal(old.disposed, 0);
  await lease.release();
  assert.equal(old.disposed, 1);
});

Deno.test("Registry disposes a replaced service whose build finishes after the swap with nobody waiting", async () => {
  const gate = Promise.withResolvers<Pool>();
  const registry = new Registry().register(DB, () => gate.promise);
  const unleased = registry.resolve(DB);

  registry.remove(DB);
  const old = new Pool("old");
  gate.resolve(old);
  await unleased;
  await settle();
  assert.equal(old.disposed, 1);
});

Deno.test("Registry children inherit their parent's services and override them", async () => {
  const root = new Registry()
    .register(DB, () => new Pool("shared"))
    .register("region", { value: "eu" });
  const tenantA = root.child().register(DB, () => new Pool("tenant-a"));
  const tenantB = new Registry({ parent: root });

  assert.equal((await tenantA.resolve(DB)).host, "tenant-a");
  assert.equal((await tenantB.resolve(DB)).host, "shared");
  assert.equal((await root.resolve(DB)).host, "shared");
  assert.equal(await tenantA.resolve("region"), "eu");
  assert.equal(tenantA.parent, root);
  assert.equal(await tenantB.resolve(DB), await root.resolve(DB));

  root.register("late", { value: 1 });
  assert.equal(tenantA.has("late"), true);
  assert.deepEqual(tenantA.keys(), ["db", "late", "region"]);

  tenantA.remove(DB);
  assert.equal((await tenantA.resolve(DB)).host, "shared");
  assert.equal(tenantA.remove(DB), false);
});

Deno.test("Registry leases on an inherited service hold the parent's instance across a parent swap", async () => {
  const root = new Registry().register(DB, () => new Pool("v1"));
  const tenant = root.child();

  const lease = await tenant.acquire(DB);
  root.register(DB, () => new Pool("v2"));
  assert.equal((await tenant.resolve(DB)).host, "v2");
  await settle();
  assert.equal(lease.value.disposed, 0);

  await lease.release();
  assert.equal(lease.value.disposed, 1);
});

Deno.test("Registry throws MissingServiceError listing the keys that exist, parents' included", async () => {
  const root = Registry.from({ db: { value: 1 } });
  const tenant = root.child().register("cache", { value: 2 });

  const error = await tenant.acquire("queue").catch((error) => error);
  assert.ok(error instanceof MissingServiceError);
  assert.equal(error.name, "MissingServiceError");
  assert.equal(error.key, "queue");
  assert.deepEqual(error.available, ["cache", "db"]);
  assert.equal(
    error.message,
    'No service registered as "queue"; registered: "cache", "db"',
  );

  assert.throws(() => tenant.resolveSync(key("nope")), MissingServiceError);
  await assert.rejects(root.resolve("queue"), MissingServiceError);
  await assert.rejects(root.use("queue", () => 1), MissingServiceError);
  assert.throws(() => new Registry().resolveSync("db"), {
    name: "MissingServiceError",
    message: 'No service registered as "db"; none are registered',
  });
});

Deno.test("Registry dispatches registered, replaced and removed events", () => {
  const registry = new Registry();
  const events: string[] = [];
  const listener = (event: RegistryEvent) =>
    events.push(`${event.type} ${event.key}`);
  registry.addEventListener("registered", listener);
  registry.addEventListener("replaced", listener);
  registry.addEventListener("removed", listener);

  registry.register(DB, { value: new Pool() });
  registry.register(DB, { value: new Pool() });
  registry.remove(DB);
  registry.remove(DB);
  registry.removeEventListener("registered", listener);
  registry.register("other", { value: 1 });

  assert.deepEqual(events, ["registered db", "replaced db", "removed db"]);
});

Deno.test("Registry dispatches disposeerror when disposing a service fails, and release() still resolves", async () => {
  const failure = new Error("close failed");
  const registry = new Registry().register("conn", () => ({
    [Symbol.dispose]() {
      throw failure;
    },
  }));
  const heard: RegistryEvent[] = [];
  registry.addEventListener("disposeerror", (event) => heard.push(event));

  const lease = await registry.acquire("conn");
  registry.remove("conn");
  await lease.release();

  assert.equal(heard.length, 1);
  assert.equal(heard[0].key, "conn");
  assert.equal(heard[0].error, failure);
});

Deno.test("Registry state stays right when a listener throws", async () => {
  const onError = (event: Event) => event.preventDefault();
  globalThis.addEventListener("error", onError);
  try {
    const registry = new Registry();
    registry.addEventListener("registered", () => {
      throw new Error("listener bug");
    });
    registry.register("a", { value: 1 });
    assert.equal(await registry.resolve("a"), 1);
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});

Deno.test("Registry.from() loads services from a configuration object", async () => {
  let requests = 0;
  const registry = Registry.from({
    config: { value: { port: 8080 } },
    db: () => new Pool(),
    request: { provide: () => ++requests, lifetime: "call" },
    pool: {
      provide: () => Promise.resolve(new Pool("pool")),
      lifetime: "shared",
    },
  });

  assert.deepEqual(registry.keys(), ["config", "db", "pool", "request"]);
  assert.deepEqual(await registry.resolve("config"), { port: 8080 });
  assert.equal(await registry.resolve("db"), await registry.resolve("db"));
  assert.equal(await registry.resolve("request"), 1);
  assert.equal(await registry.resolve("request"), 2);
  assert.equal((await registry.resolve<Pool>("pool")).host, "pool");

  const child = Registry.from({ config: { value: "child" } }, {
    parent: registry,
  });
  assert.equal(await child.resolve("config"), "child");
  assert.equal(child.has("db"), true);
});

Deno.test("Registry.resolveSync() gives values and shared services built synchronously", async () => {
  let builds = 0;
  const registry = Registry.from({
    port: { value: 8080 },
    clock: () => ({ builds: ++builds }),
    slow: () => Promise.resolve("ready"),
    perCall: { provide: () => 1, lifetime: "call" },
  });

  assert.equal(registry.resolveSync("port"), 8080);
  assert.equal(registry.resolveSync("clock"), registry.resolveSync("clock"));
  assert.equal(builds, 1);
  assert.throws(() => registry.resolveSync("slow"), {
    name: "TypeError",
    message:
      'Registry.resolveSync: "slow" is built asynchronously and is not ready; use resolve()',
  });
  assert.equal(await registry.resolve("slow"), "ready");
  assert.equal(registry.resolveSync("slow"), "ready");
  assert.throws(() => registry.resolveSync("perCall"), {
    name: "TypeError",
    message:
      'Registry.resolveSync: "perCall" has lifetime "call"; use acquire()',
  });
});

Deno.test("Registry rejects an aborted signal with its reason, and a wait that is aborted", async () => {
  const gate = Promise.withResolvers<Pool>();
  const registry = new Registry()
    .register(DB, () => gate.promise)
    .register("value", { value: 1 });
  const reason = new Error("cancelled");

  await assert.rejects(
    registry.acquire("value", { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  await assert.rejects(
    registry.resolve("value", { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );

  const controller = new AbortController();
  const waiting = registry.acquire(DB, { signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);

  registry.remove(DB);
  const old = new Pool();
  gate.resolve(old);
  await settle();
  assert.equal(old.disposed, 1);
});

Deno.test("Registry disposes a 'call' service that arrives after its acquire was aborted", async () => {
  const gate = Promise.withResolvers<Pool>();
  const registry = new Registry().register(DB, {
    provide: () => gate.promise,
    lifetime: "call",
  });
  const controller = new AbortController();
  const reason = new Error("cancelled");

  const waiting = registry.acquire(DB, { signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);

  const late = new Pool();
  gate.resolve(late);
  await settle();
  assert.equal(late.disposed, 1);
});

Deno.test("Registry leases work with using and await using", async () => {
  const registry = new Registry().register(DB, () => new Pool("old"));
  let held: Pool;
  {
    await using lease = await registry.acquire(DB);
    held = lease.value;
    registry.register(DB, () => new Pool("new"));
  }
  assert.equal(held.disposed, 1);

  {
    using lease = await registry.acquire(DB);
    held = lease.value;
    registry.remove(DB);
  }
  await settle();
  assert.equal(held.disposed, 1);
});

Deno.test("Registry disposal removes its own services and disposes them, leased ones after release", async () => {
  const root = new Registry().register("root", () => new Pool("root"));
  const registry = root.child()
    .register("idle", () => new Pool("idle"))
    .register("busy", () => new Pool("busy"));
  const removed: string[] = [];
  registry.addEventListener("removed", (event) => removed.push(event.key));
  const idle = await registry.resolve<Pool>("idle");
  const busy = await registry.acquire<Pool>("busy");
  const inherited = await registry.resolve<Pool>("root");

  await registry[Symbol.asyncDispose]();
  assert.equal(idle.disposed, 1);
  assert.equal(busy.value.disposed, 0);
  assert.deepEqual(removed, ["idle", "busy"]);
  assert.deepEqual(registry.keys(), ["root"]);

  await busy.release();
  assert.equal(busy.value.disposed, 1);
  assert.equal(inherited.disposed, 0);
  await root[Symbol.asyncDispose]();
  assert.equal(inherited.disposed, 1);
});

Deno.test("Registry.provider() gives an inject dependency that acquires the service", async () => {
  const registry = new Registry().register(DB, () => new Pool());
  const controller = new AbortController();

  const dependency = registry.provider(DB);
  const lease = await dependency.acquire({
    name: "database",
    signal: controller.signal,
  });
  assert.equal(lease.value, await registry.resolve(DB));
  await lease.release();
});

Deno.test("Registry.provider() lends a built service at once, and the lease still holds it across a swap", async () => {
  const registry = new Registry().register(DB, () => new Pool("old"));
  const old = await registry.resolve(DB);
  const dependency = registry.provider(DB);

  const acquired = dependency.acquire({ name: "db" });
  assert.ok(!(acquired instanceof Promise));
  const lease = acquired as Lease<Pool>;
  assert.equal(lease.value, old);

  registry.register(DB, () => new Pool("new"));
  await settle();
  assert.equal(old.disposed, 0);
  await lease.release();
  assert.equal(old.disposed, 1);
});

Deno.test("Registry rejects bad keys with a TypeError naming the value", async (t) => {
  const registry = new Registry();
  const bad: [unknown, string][] = [
    [42, "42"],
    ["", '""'],
    ["   ", '"   "'],
    [null, "null"],
    [undefined, "undefined"],
    [{ name: "db" }, '{"name":"db"}'],
    [Symbol("db"), "Symbol(db)"],
  ];
  const calls: [string, (key: never) => unknown][] = [
    ["register", (key) => registry.register(key, { value: 1 })],
    ["remove", (key) => registry.remove(key)],
    ["has", (key) => registry.has(key)],
    ["acquire", (key) => registry.acquire(key)],
    ["use", (key) => registry.use(key, () => 1)],
    ["resolve", (key) => registry.resolve(key)],
    ["resolveSync", (key) => registry.resolveSync(key)],
    ["provider", (key) => registry.provider(key)],
  ];
  for (const [method, call] of calls) {
    await t.step(method, () => {
      for (const [value, shown] of bad) {
        assert.throws(() => call(value as never), {
          name: "TypeError",
          message:
            `Registry.${method}: key must be a ServiceKey or a non-empty string, got ${shown}`,
        });
      }
    });
  }
  await t.step("key()", () => {
    for (const [value, shown] of bad) {
      assert.throws(() => key(value as string), {
        name: "TypeError",
        message: `ServiceKey: name must be a non-empty string, got ${shown}`,
      });
    }
  });
});

Deno.test("Registry rejects bad definitions with a TypeError naming the value", () => {
  const registry = new Registry();
  const bad: [unknown, string][] = [
    [42, "42"],
    [null, "null"],
    ["db", '"db"'],
    [{}, "{}"],
    [{ provide: "connect" }, '{"provide":"connect"}'],
    [{ value: 1, provide: () => 1 }, '{"value":1}'],
  ];
  for (const [definition, shown] of bad) {
    assert.throws(
      () =>
        registry.register(
          "db",
          definition as ServiceDefinition<unknown>,
        ),
      {
        name: "TypeError",
        message:
          `Registry: definition of "db" must be a provider function, { provide } or { value }, got ${shown}`,
      },
    );
  }
  assert.throws(
    () =>
      registry.register("db", {
        provide: () => 1,
        lifetime: "forever" as "call",
      }),
    {
      name: "TypeError",
      message:
        'Registry: lifetime of "db" must be "shared" or "call", got "forever"',
    },
  );
  assert.deepEqual(registry.keys(), []);
});

Deno.test("Registry rejects bad configuration and options with a TypeError naming the value", () => {
  const cases: [() => unknown, string][] = [
    [
      () => Registry.from(null as unknown as RegistryConfig),
      "Registry.from: config must be an object of name: definition, got null",
    ],
    [
      () => Registry.from([] as unknown as RegistryConfig),
      "Registry.from: config must be an object of name: definition, got []",
    ],
    [
      () => Registry.from({ db: 5 } as unknown as RegistryConfig),
      'Registry: definition of "db" must be a provider function, { provide } or { value }, got 5',
    ],
    [
      () => new Registry({ parent: {} as Registry }),
      "Registry: parent must be a Registry, got {}",
    ],
    [
      () => new Registry("root" as unknown as object),
      'Registry: options must be an object, got "root"',
    ],
  ];
  for (const [make, message] of cases) {
    assert.throws(make, { name: "TypeError", message });
  }
});

Deno.test("Registry.use() rejects a non-function with a TypeError naming the value", () => {
  const registry = Registry.from({ db: { value: 1 } });
  assert.throws(
    () => registry.use("db", 5 as unknown as () => number),
    {
      name: "TypeError",
      message: "Registry.use: fn must be a function, got 5",
    },
  );
});
