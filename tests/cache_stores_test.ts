import assert from "node:assert/strict";
import {
  type CacheErrorEvent,
  type CacheStore,
  LoadingCache,
  type StoredEntry,
} from "../lib/cache.ts";
import {
  DenoKvStore,
  type KvLike,
  MemoryStore,
  WebCacheStore,
} from "../lib/cache_stores.ts";
import { ManualClock } from "../lib/testing.ts";

const entry = (value: number, expiresAt = 10_000): StoredEntry<number> => ({
  value,
  deltaMs: 50,
  expiresAt,
});

// ---------------------------------------------------------------- MemoryStore

Deno.test("MemoryStore keeps, returns, deletes and clears entries", async () => {
  const store = new MemoryStore<number>();

  await store.set("a", entry(1), { keepMs: 60_000 });
  await store.set("b", entry(2), { keepMs: Infinity });
  assert.deepEqual(await store.get("a"), entry(1));
  assert.equal(store.size, 2);
  await store.delete("a");
  assert.equal(await store.get("a"), undefined);
  await store.clear();
  assert.equal(await store.get("b"), undefined);
});

Deno.test("MemoryStore drops an entry once its keepMs is over", async () => {
  const clock = new ManualClock();
  const store = new MemoryStore<number>({ clock });
  await store.set("a", entry(1), { keepMs: 1_000 });

  await clock.advance(999);
  assert.deepEqual(await store.get("a"), entry(1));
  await clock.advance(1);
  assert.equal(await store.get("a"), undefined);
  assert.equal(store.size, 0);
});

Deno.test("MemoryStore evicts the least recently used entry beyond maxEntries", async () => {
  const store = new MemoryStore<number>({ maxEntries: 2 });
  await store.set("a", entry(1), { keepMs: Infinity });
  await store.set("b", entry(2), { keepMs: Infinity });

  await store.get("a");
  await store.set("c", entry(3), { keepMs: Infinity });
  assert.equal(await store.get("b"), undefined);
  assert.deepEqual(await store.get("a"), entry(1));
});

Deno.test("MemoryStore refuses bad options", () => {
  for (const maxEntries of [0, -1, 1.5, NaN]) {
    assert.throws(() => new MemoryStore({ maxEntries }), {
      name: "RangeError",
      message:
        `MemoryStore: maxEntries must be an integer >= 1, got ${maxEntries}`,
    });
  }
  assert.throws(() => new MemoryStore({ clock: {} as never }), TypeError);
});

// ------------------------------------------------- LoadingCache with a store

Deno.test("a cold cache takes a fresh stored entry instead of loading, with its expiry", async () => {
  const clock = new ManualClock();
  const store = new MemoryStore<string>({ clock });
  let loads = 0;
  const load = () => `v${++loads}`;
  const first = new LoadingCache<string>({
    clock,
    store,
    load,
    ttlMs: 1_000,
    beta: 0,
  });
  const second = new LoadingCache<string>({
    clock,
    store,
    load,
    ttlMs: 1_000,
    beta: 0,
  });

  assert.equal(await first.get("k"), "v1");
  await clock.advance(600);
  assert.equal(await second.get("k"), "v1");
  assert.equal(loads, 1);
  assert.equal(second.stats.storeHits, 1);
  assert.equal(second.stats.loads, 0);

  await clock.advance(400);
  assert.equal(
    second.peek("k"),
    undefined,
    "the stored expiry holds, not a new one",
  );
});

Deno.test("a refresh takes a newer stored entry that another cache wrote", async () => {
  const clock = new ManualClock();
  const store = new MemoryStore<string>({ clock });
  let loads = 0;
  const load = () => `v${++loads}`;
  const options = { clock, store, load, ttlMs: 1_000, beta: 0 };
  const first = new LoadingCache<string>(options);
  const second = new LoadingCache<string>(options);
  assert.equal(await first.get("k"), "v1");
  assert.equal(await second.get("k"), "v1");

  await clock.advance(1_000);
  assert.equal(await first.get("k"), "v2");
  assert.equal(await second.get("k"), "v2");
  assert.equal(loads, 2);
  assert.equal(second.stats.storeHits, 2);
});

Deno.test("stale-if-error reaches across caches: an expired stored entry is served when the load fails", async () => {
  const clock = new ManualClock();
  const store = new MemoryStore<string>({ clock });
  const options = { clock, store, ttlMs: 1_000, staleIfErrorMs: 10_000 };
  await new LoadingCache<string>(options).set("k", "old");
  const events: CacheErrorEvent[] = [];
  const cold = new LoadingCache<string>({
    ...options,
    onError: (event) => events.push(event),
    load: () => Promise.reject(new Error("down")),
  });

  await clock.advance(5_000);
  assert.equal(await cold.get("k"), "old");
  assert.equal(events[0].stale, true);
  assert.equal(events[0].source, "loader");
});

Deno.test("a failing store is reported and the cache loads anyway", async () => {
  const failure = new Error("store down");
  const store: CacheStore<number> = {
    get: () => Promise.reject(failure),
    set: () => Promise.reject(failure),
    delete: () => Promise.reject(failure),
  };
  const events: CacheErrorEvent[] = [];
  const cache = new LoadingCache<number>({
    store,
    load: () => 1,
    onError: (event) => events.push(event),
  });

  assert.equal(await cache.get("k"), 1);
  assert.equal(cache.read("k"), 1);
  assert.deepEqual(events, [
    { key: "k", error: failure, source: "store", stale: false },
    { key: "k", error: failure, source: "store", stale: false },
  ]);
  await assert.rejects(cache.delete("k"), failure);
  assert.equal(cache.peek("k"), undefined);
});

Deno.test("a store that throws synchronously is reported like one that rejects", async () => {
  const store: CacheStore<number> = {
    get: () => {
      throw new Error("sync get");
    },
    set: () => {
      throw new Error("sync set");
    },
    delete: () => Promise.resolve(),
  };
  const events: CacheErrorEvent[] = [];
  const cache = new LoadingCache<number>({
    store,
    load: () => 1,
    onError: (event) => events.push(event),
  });

  assert.equal(await cache.get("k"), 1);
  assert.deepEqual(events.map((event) => (event.error as Error).message), [
    "sync get",
    "sync set",
  ]);
});

Deno.test("garbage in the store is ignored", async () => {
  const store: CacheStore<number> = {
    get: () => Promise.resolve({ nonsense: true } as never),
    set: () => Promise.resolve(),
    delete: () => Promise.resolve(),
  };
  const cache = new LoadingCache<number>({ store, load: () => 1 });

  assert.equal(await cache.get("k"), 1);
  assert.equal(cache.stats.loads, 1);
});

Deno.test("a stored expiresAt of null (Infinity through JSON) never expires", async () => {
  const clock = new ManualClock();
  const map = new Map<string, string>();
  const store: CacheStore<number> = {
    get: (key) =>
      Promise.resolve(JSON.parse(map.get(key) ?? "null") ?? undefined),
    set: (key, stored) =>
      Promise.resolve(void map.set(key, JSON.stringify(stored))),
    delete: (key) => Promise.resolve(void map.delete(key)),
  };
  await new LoadingCache<number>({ store, clock, ttlMs: Infinity }).set("k", 1);
  assert.equal(map.get("k"), '{"value":1,"deltaMs":0,"expiresAt":null}');

  await clock.advance(1e12);
  const cold = new LoadingCache<number>({ store, clock, load: () => 2 });
  assert.equal(await cold.get("k"), 1);
  assert.equal(cold.stats.storeHits, 1);
});

Deno.test("set(), delete() and clear() reach the store", async () => {
  const store = new MemoryStore<number>();
  const cache = new LoadingCache<number>({ store, ttlMs: 1_000 });

  await cache.set("a", 1, { deltaMs: 20 });
  const stored = await store.get("a");
  assert.equal(stored?.value, 1);
  assert.equal(stored?.deltaMs, 20);
  await cache.set("b", 2);
  await cache.delete("a");
  assert.equal(await store.get("a"), undefined);
  await cache.clear();
  assert.equal(store.size, 0);
});

Deno.test("the store is told to keep an entry through its stale-if-error grace", async () => {
  const kept: number[] = [];
  const store: CacheStore<number> = {
    get: () => Promise.resolve(undefined),
    set: (_key, _entry, { keepMs }) => (kept.push(keepMs), Promise.resolve()),
    delete: () => Promise.resolve(),
  };
  const cache = new LoadingCache<number>({
    store,
    ttlMs: 1_000,
    staleIfErrorMs: 500,
  });

  await cache.get("a", () => 1);
  await cache.set("b", 2, { ttlMs: 100 });
  assert.deepEqual(kept, [1_500, 600]);
});

// -------------------------------------------------------------- WebCacheStore

async function withWebCache(
  test: (name: string) => Promise<void>,
): Promise<void> {
  const name = `dyno-test-${crypto.randomUUID()}`;
  try {
    await test(name);
  } finally {
    await caches.delete(name);
  }
}

Deno.test("WebCacheStore keeps entries in Deno's caches", () =>
  withWebCache(async (cacheName) => {
    const store = new WebCacheStore<{ name: string }>({ cacheName });
    const keys = ["plain", "with space", "a/b?c#d&e=f", "ünï©ødé 🦕", ""];

    for (const [index, key] of keys.entries()) {
      await store.set(key, {
        value: { name: key },
        deltaMs: index,
        expiresAt: 1_000 + index,
      }, { keepMs: 60_000 });
    }
    for (const [index, key] of keys.entries()) {
      assert.deepEqual(await store.get(key), {
        value: { name: key },
        deltaMs: index,
        expiresAt: 1_000 + index,
      });
    }

    await store.set("forever", {
      value: { name: "x" },
      deltaMs: 0,
      expiresAt: Infinity,
    }, { keepMs: Infinity });
    assert.equal((await store.get("forever"))?.expiresAt, Infinity);
    await store.delete("plain");
    assert.equal(await store.get("plain"), undefined);
    assert.equal(await store.get("never set"), undefined);
  }));

Deno.test("WebCacheStore sets Cache-Control and drops entries once keepMs is over", () =>
  withWebCache(async (cacheName) => {
    const clock = new ManualClock(1_000_000);
    const store = new WebCacheStore<number>({ cacheName, clock });
    await store.set("a", entry(1), { keepMs: 1_500 });

    const cache = await caches.open(cacheName);
    const response = await cache.match("https://dyno-cache.invalid/a");
    assert.equal(response?.headers.get("cache-control"), "max-age=2");
    await response?.body?.cancel();

    await clock.advance(1_499);
    assert.deepEqual(await store.get("a"), entry(1));
    await clock.advance(1);
    assert.equal(await store.get("a"), undefined);
    assert.equal(await cache.match("https://dyno-cache.invalid/a"), undefined);
  }));

Deno.test("WebCacheStore clear() removes only its own base URL", () =>
  withWebCache(async (cacheName) => {
    const ours = new WebCacheStore<number>({ cacheName });
    const theirs = new WebCacheStore<number>({
      cacheName,
      baseUrl: "https://elsewhere.invalid/",
    });
    await ours.set("a", entry(1), { keepMs: 60_000 });
    await theirs.set("a", entry(2), { keepMs: 60_000 });

    await ours.clear();
    assert.equal(await ours.get("a"), undefined);
    assert.deepEqual(await theirs.get("a"), entry(2));
  }));

Deno.test("WebCacheStore takes a cache object and a codec", () =>
  withWebCache(async (cacheName) => {
    const store = new WebCacheStore<Date>({
      cache: caches.open(cacheName),
      encode: (date) => date.toISOString(),
      decode: (text) => new Date(text),
    });
    const when = new Date("2024-02-29T12:00:00Z");

    await store.set("when", { value: when, deltaMs: 1, expiresAt: 2 }, {
      keepMs: 60_000,
    });
    const stored = await store.get("when");
    assert.ok(stored?.value instanceof Date);
    assert.equal(stored.value.getTime(), when.getTime());
  }));

Deno.test("WebCacheStore refuses what it cannot hold", () =>
  withWebCache(async (cacheName) => {
    const store = new WebCacheStore<unknown>({ cacheName });
    const cache = new LoadingCache<unknown>({ store, load: () => 1 });

    assert.throws(() => store.checkKey("lone \ud800"), {
      name: "RangeError",
      message:
        "WebCacheStore: key is not well-formed UTF-16 (a lone surrogate)",
    });
    await assert.rejects(cache.get("lone \ud800"), RangeError);
    await assert.rejects(
      store.set("u", { value: undefined, deltaMs: 0, expiresAt: 1 }, {
        keepMs: 1,
      }),
      {
        name: "TypeError",
        message:
          'WebCacheStore: encode gave undefined for key "u", not a string',
      },
    );
    assert.throws(() => new WebCacheStore({ baseUrl: "not a url" }), {
      name: "TypeError",
      message:
        'WebCacheStore: baseUrl must be an absolute URL, got "not a url"',
    });
  }));

Deno.test("WebCacheStore shares one cache between two LoadingCaches", () =>
  withWebCache(async (cacheName) => {
    let loads = 0;
    const load = () => ++loads;
    const first = new LoadingCache<number>({
      store: new WebCacheStore({ cacheName }),
      load,
    });
    const second = new LoadingCache<number>({
      store: new WebCacheStore({ cacheName }),
      load,
    });

    assert.equal(await first.get("k"), 1);
    assert.equal(await second.get("k"), 1);
    assert.equal(loads, 1);
  }));

// ---------------------------------------------------------------- DenoKvStore

type OpenKv = (path: string) => Promise<KvLike & { close(): void }>;

async function withKv(
  test: (kv: KvLike) => Promise<void>,
): Promise<void> {
  const openKv = (Deno as unknown as { openKv?: OpenKv }).openKv;
  assert.ok(openKv, "Deno.openKv is missing: run the tests with --unstable-kv");
  const kv = await openKv(":memory:");
  try {
    await test(kv);
  } finally {
    kv.close();
  }
}

Deno.test("DenoKvStore keeps entries in Deno KV", () =>
  withKv(async (kv) => {
    const store = new DenoKvStore<{ n: number[] }>({ kv });
    const stored = { value: { n: [1, 2] }, deltaMs: 5, expiresAt: Infinity };

    await store.set("a", stored, { keepMs: Infinity });
    assert.deepEqual(await store.get("a"), stored);
    assert.deepEqual((await kv.get(["dyno-cache", "a"])).value, stored);
    await store.delete("a");
    assert.equal(await store.get("a"), undefined);
  }));

Deno.test("DenoKvStore sets expireIn from keepMs", async () => {
  const calls: unknown[] = [];
  const kv: KvLike = {
    get: () => Promise.resolve({ value: null }),
    set: (_key, _value, options) => (calls.push(options), Promise.resolve()),
    delete: () => Promise.resolve(),
  };
  const store = new DenoKvStore<number>({ kv, prefix: "p" });

  await store.set("a", entry(1), { keepMs: 1_500.2 });
  await store.set("b", entry(1), { keepMs: Infinity });
  await store.set("c", entry(1), { keepMs: 0 });
  assert.deepEqual(calls, [{ expireIn: 1_501 }, undefined, { expireIn: 1 }]);
});

Deno.test("DenoKvStore clear() removes only its prefix", () =>
  withKv(async (kv) => {
    const ours = new DenoKvStore<number>({ kv, prefix: "ours" });
    const theirs = new DenoKvStore<number>({ kv, prefix: "theirs" });
    for (const key of ["a", "b", "c"]) {
      await ours.set(key, entry(1), { keepMs: 60_000 });
      await theirs.set(key, entry(2), { keepMs: 60_000 });
    }

    await ours.clear();
    assert.equal(await ours.get("a"), undefined);
    assert.deepEqual(await theirs.get("c"), entry(2));
  }));

Deno.test("DenoKvStore refuses keys over Deno KV's 2048 bytes at once", () =>
  withKv(async (kv) => {
    const store = new DenoKvStore<number>({ kv, prefix: "p" });
    const cache = new LoadingCache<number>({ store, load: () => 1 });
    const longest = "x".repeat(2_043);

    store.checkKey(longest);
    await store.set(longest, entry(1), { keepMs: 1_000 });
    store.checkKey("\0".repeat(1_021));
    await store.set("\0".repeat(1_021), entry(1), { keepMs: 1_000 });

    for (const key of [`${longest}x`, "\0".repeat(1_022), "é".repeat(1_022)]) {
      assert.throws(() => store.checkKey(key), {
        name: "RangeError",
        message:
          /^DenoKvStore: key takes 20\d\d bytes with its prefix, over Deno KV's limit of 2048$/,
      });
      await assert.rejects(cache.get(key), RangeError);
    }
    assert.throws(() => store.checkKey("\udc00"), {
      name: "RangeError",
      message: "DenoKvStore: key is not well-formed UTF-16 (a lone surrogate)",
    });
    assert.equal(cache.stats.loads, 0);
  }));

Deno.test("a value too large for Deno KV is reported and still returned", () =>
  withKv(async (kv) => {
    const events: CacheErrorEvent[] = [];
    const cache = new LoadingCache<string>({
      store: new DenoKvStore({ kv }),
      load: () => "x".repeat(70_000),
      onError: (event) => events.push(event),
    });

    assert.equal((await cache.get("big")).length, 70_000);
    assert.equal(events.length, 1);
    assert.equal(events[0].source, "store");
    assert.ok(events[0].error instanceof TypeError);
  }));

Deno.test("two LoadingCaches share one Deno KV", () =>
  withKv(async (kv) => {
    let loads = 0;
    const load = () => ++loads;
    const first = new LoadingCache<number>({
      store: new DenoKvStore({ kv }),
      load,
    });
    const second = new LoadingCache<number>({
      store: new DenoKvStore({ kv }),
      load,
    });

    assert.equal(await first.get("k"), 1);
    assert.equal(await second.get("k"), 1);
    assert.equal(loads, 1);
    await second.clear();
    assert.equal(
      await first.get("k"),
      1,
      "the first cache keeps its own layer",
    );
    assert.equal((await kv.get(["dyno-cache", "k"])).value, null);
  }));

Deno.test("DenoKvStore refuses bad options", async () => {
  assert.throws(() => new DenoKvStore({ kv: {} as never }), {
    name: "TypeError",
    message: "DenoKvStore: kv.get must be a function",
  });
  const kv: KvLike = {
    get: () => Promise.resolve({ value: null }),
    set: () => Promise.resolve(),
    delete: () => Promise.resolve(),
  };
  assert.throws(() => new DenoKvStore({ kv, prefix: 1 as never }), TypeError);
  await assert.rejects(new DenoKvStore({ kv }).clear(), {
    name: "TypeError",
    message: "DenoKvStore: kv.list is needed to clear",
  });
});

Deno.test("WebCacheStore.clear() rejects with a TypeError where the cache's keys() throws at once (as workerd's does)", async () => {
  const notImplemented = () => {
    throw new Error("Failed to execute 'keys' on 'Cache': not implemented");
  };
  const cache = {
    match: () => Promise.resolve(undefined),
    put: () => Promise.resolve(),
    delete: () => Promise.resolve(false),
    keys: notImplemented,
  };
  const store = new WebCacheStore<string>({ cache: cache as never });

  await assert.rejects(store.clear(), (error: Error) => {
    assert.ok(error instanceof TypeError);
    assert.equal(
      error.message,
      "WebCacheStore: this cache cannot list its keys",
    );
    assert.match((error.cause as Error).message, /not implemented/);
    return true;
  });
});
