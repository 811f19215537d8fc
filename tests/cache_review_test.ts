/**
 * A reviewer's adversarial tests of `LoadingCache` and its stores: eviction
 * order against a reference model, time-to-live and stale-if-error edges,
 * loaders that misbehave, aborts while a load is shared, stores that fail,
 * and keys that URLs and Deno KV handle badly.
 */

import assert from "node:assert/strict";
import {
  type CacheErrorEvent,
  type CacheStore,
  type LoaderContext,
  LoadingCache,
  type StoredEntry,
} from "../lib/cache.ts";
import {
  DenoKvStore,
  type KvLike,
  MemoryStore,
  WebCacheStore,
} from "../lib/cache_stores.ts";
import { sleep } from "../lib/clock.ts";
import { ManualClock, seededRandom, settle } from "../lib/testing.ts";

/** A loader whose runs finish only when the test says so. */
function controlledLoader<V>() {
  const runs: {
    context: LoaderContext;
    resolve: (value: V) => void;
    reject: (error: unknown) => void;
  }[] = [];
  const load = (context: LoaderContext) =>
    new Promise<V>((resolve, reject) => {
      runs.push({ context, resolve, reject });
    });
  return { load, runs };
}

// ------------------------------------------------------------ eviction order

Deno.test("eviction order matches a reference LRU over random set, read, peek, delete and clear", async (t) => {
  const universe = ["a", "b", "c", "d", "e", "f", "g", "h"];
  for (const maxEntries of [1, 2, 3, 7]) {
    await t.step(`maxEntries ${maxEntries}`, async () => {
      const random = seededRandom(maxEntries);
      const cache = new LoadingCache<number>({ maxEntries, ttlMs: Infinity });
      const model = new Map<string, number>();
      let evictions = 0;

      for (let step = 0; step < 5_000; step++) {
        const key = universe[Math.floor(random() * universe.length)];
        const op = random();
        if (op < 0.4) {
          await cache.set(key, step);
          if (!model.delete(key) && model.size === maxEntries) {
            model.delete(model.keys().next().value!);
            evictions++;
          }
          model.set(key, step);
        } else if (op < 0.7) {
          const expected = model.get(key);
          if (expected !== undefined) {
            assert.equal(cache.read(key), expected);
            model.delete(key);
            model.set(key, expected);
          }
        } else if (op < 0.85) {
          assert.equal(cache.peek(key), model.get(key));
        } else if (op < 0.99) {
          await cache.delete(key);
          model.delete(key);
        } else {
          await cache.clear();
          model.clear();
        }

        assert.equal(cache.size, model.size, `step ${step}`);
        for (const other of universe) {
          assert.equal(cache.peek(other), model.get(other), `step ${step}`);
        }
      }
      assert.equal(cache.stats.evictions, evictions);
    });
  }
});

Deno.test("capacity 1: each new key evicts the last, and delete or clear leaves room", async () => {
  const cache = new LoadingCache<string>({ maxEntries: 1 });

  await cache.set("a", "a");
  await cache.set("b", "b");
  assert.deepEqual([cache.peek("a"), cache.peek("b")], [undefined, "b"]);
  await cache.set("b", "b2");
  assert.equal(cache.stats.evictions, 1, "replacing a key evicts nothing");
  await cache.delete("b");
  await cache.set("c", "c");
  assert.equal(cache.stats.evictions, 1, "a deleted slot is reused");
  await cache.clear();
  assert.equal(await cache.get("d", () => "d"), "d");
  assert.equal(cache.size, 1);
  assert.equal(cache.stats.evictions, 1);
});

Deno.test("after clear() the eviction order starts afresh", async () => {
  const cache = new LoadingCache<number>({ maxEntries: 3 });
  for (const key of ["a", "b", "c"]) await cache.set(key, 1);
  await cache.clear();

  for (const key of ["x", "y", "z"]) await cache.set(key, 2);
  cache.read("x");
  await cache.set("w", 3);
  assert.deepEqual(
    ["w", "x", "y", "z", "a"].map((key) => cache.peek(key)),
    [3, 2, undefined, 2, undefined],
  );
});

Deno.test("deleting the oldest, the newest and a middle entry keeps the order of the rest", async () => {
  const cache = new LoadingCache<number>({ maxEntries: 5 });
  for (const [index, key] of ["a", "b", "c", "d", "e"].entries()) {
    await cache.set(key, index);
  }

  await cache.delete("a");
  await cache.delete("e");
  await cache.delete("c");
  for (const key of ["f", "g", "h"]) await cache.set(key, 9);
  await cache.set("i", 9);
  assert.equal(cache.peek("b"), undefined, "b was the oldest left");
  await cache.set("j", 9);
  assert.equal(cache.peek("d"), undefined);
  assert.deepEqual(["f", "g", "h", "i", "j"].map((key) => cache.peek(key)), [
    9,
    9,
    9,
    9,
    9,
  ]);
});

// --------------------------------------------------------------- time to live

Deno.test("ttlMs 0 from set(): the entry is expired at once and the next read loads", async () => {
  const clock = new ManualClock(1_000);
  const cache = new LoadingCache<number>({ clock });
  await cache.set("k", 1, { ttlMs: 0 });

  assert.equal(cache.peek("k"), undefined);
  assert.equal(await cache.get("k", () => 2), 2);
  assert.equal(cache.stats.misses, 1);
});

Deno.test("stale-if-error ends exactly staleIfErrorMs after expiry", async () => {
  const clock = new ManualClock();
  const events: CacheErrorEvent[] = [];
  const cache = new LoadingCache<string>({
    clock,
    ttlMs: 1_000,
    beta: 0,
    staleIfErrorMs: 500,
    onError: (event) => events.push(event),
    load: () => Promise.reject(new Error("down")),
  });
  await cache.set("k", "old");

  await clock.advance(1_499);
  assert.equal(await cache.get("k"), "old");
  assert.equal(events.at(-1)?.stale, true);
  await clock.advance(1);
  assert.ok(cache.read("k") instanceof Promise, "not served any more");
  await assert.rejects(cache.get("k"), { message: "down" });
  assert.equal(events.at(-1)?.stale, false);
});

Deno.test("a stale refresh whose load outlives the grace period fails quietly", async () => {
  const clock = new ManualClock();
  const events: CacheErrorEvent[] = [];
  const { load, runs } = controlledLoader<string>();
  const cache = new LoadingCache<string>({
    clock,
    ttlMs: 1_000,
    beta: 0,
    staleIfErrorMs: 500,
    onError: (event) => events.push(event),
    load,
  });
  await cache.set("k", "old");
  await clock.advance(1_000);
  const first = cache.get("k");
  runs[0].reject(new Error("down"));
  assert.equal(await first, "old");

  assert.equal(cache.read("k"), "old");
  assert.equal(runs.length, 2, "the stale read retried in the background");
  await clock.advance(600);
  runs[1].reject(new Error("still down"));
  await settle();
  assert.deepEqual(events.map((event) => event.stale), [true, false]);
  assert.equal(cache.stats.loadFailures, 2);
});

Deno.test("a refresh that fails and then succeeds serves the old value, then the new one", async () => {
  const clock = new ManualClock();
  const events: CacheErrorEvent[] = [];
  const { load, runs } = controlledLoader<string>();
  const cache = new LoadingCache<string>({
    clock,
    ttlMs: 1_000,
    random: () => 0.01,
    onError: (event) => events.push(event),
    load,
  });
  await cache.set("k", "v1", { deltaMs: 100 });
  await clock.advance(900);

  assert.equal(cache.read("k"), "v1");
  runs[0].reject(new Error("blip"));
  await settle();
  assert.equal(cache.read("k"), "v1");
  assert.equal(runs.length, 2, "the next read near expiry tries again");
  runs[1].resolve("v2");
  await settle();
  assert.equal(cache.read("k"), "v2");
  assert.equal(events.length, 1);
  assert.equal(events[0].stale, true);
  assert.deepEqual(
    [cache.stats.earlyRefreshes, cache.stats.loads, cache.stats.loadFailures],
    [2, 2, 1],
  );
});

// ------------------------------------------------------- misbehaving loaders

Deno.test("a loader that throws synchronously during an early refresh keeps the value", async () => {
  const events: CacheErrorEvent[] = [];
  const cache = new LoadingCache<number>({
    random: () => 0,
    onError: (event) => events.push(event),
  });
  await cache.set("k", 1, { deltaMs: 60_000 });
  const failure = new Error("sync");

  const value = cache.read("k", () => {
    throw failure;
  });
  assert.equal(value, 1);
  await settle();
  assert.deepEqual(events, [
    { key: "k", error: failure, source: "loader", stale: true },
  ]);
  assert.equal(cache.peek("k"), 1);
});

Deno.test("a loader returning a plain value refreshes in the background", async () => {
  const cache = new LoadingCache<number>({ random: () => 0 });
  await cache.set("k", 1, { deltaMs: 60_000 });

  assert.equal(cache.read("k", () => 2), 1);
  await settle();
  assert.equal(cache.peek("k"), 2);
});

Deno.test("a read returns its own key's value even if the refresh it starts changes the cache at once", async () => {
  const cache = new LoadingCache<string>({ maxEntries: 1, random: () => 0 });
  await cache.set("k", "old", { deltaMs: 60_000 });

  const value = cache.read("k", () => {
    cache.set("other", "other");
    return "new";
  });
  assert.equal(value, "old");
  await settle();
});

// ------------------------------------------------------------------- aborts

Deno.test("abort: one caller giving up leaves the shared load to the others", async () => {
  const { load, runs } = controlledLoader<number>();
  const cache = new LoadingCache<number>({ load });
  const leaving = new AbortController();
  const staying = new AbortController();
  const reason = new Error("left");

  const gone = cache.get("k", undefined, { signal: leaving.signal });
  const kept = cache.get("k", undefined, { signal: staying.signal });
  leaving.abort(reason);
  await assert.rejects(gone, (error) => error === reason);
  assert.equal(runs[0].context.signal.aborted, false);

  runs[0].resolve(7);
  assert.equal(await kept, 7);
  assert.equal(runs.length, 1);
  assert.equal(cache.stats.coalesced, 1);
});

Deno.test("abort: a caller joining a background refresh cannot abort it", async () => {
  const clock = new ManualClock();
  const { load, runs } = controlledLoader<string>();
  const cache = new LoadingCache<string>({
    clock,
    ttlMs: 1_000,
    random: () => 0,
    load,
  });
  await cache.set("k", "v1", { deltaMs: 100 });
  await clock.advance(999);
  assert.equal(cache.read("k"), "v1");
  await clock.advance(1);

  const controller = new AbortController();
  const waiting = cache.get("k", undefined, { signal: controller.signal });
  controller.abort();
  await assert.rejects(waiting, { name: "AbortError" });
  assert.equal(runs[0].context.signal.aborted, false);
  runs[0].resolve("v2");
  await settle();
  assert.equal(cache.read("k"), "v2");
});

Deno.test("abort: a caller aborting its signal once it has the value does not abort the finished load", async () => {
  const { load, runs } = controlledLoader<number>();
  const cache = new LoadingCache<number>({ load });
  const controller = new AbortController();

  const waiting = cache.get("k", undefined, { signal: controller.signal });
  runs[0].resolve(1);
  try {
    assert.equal(await waiting, 1);
  } finally {
    controller.abort();
  }
  assert.equal(runs[0].context.signal.aborted, false);
  assert.equal(cache.peek("k"), 1);
});

Deno.test("abort: a load every caller left is dropped even if it finishes later", async () => {
  const { load, runs } = controlledLoader<number>();
  const cache = new LoadingCache<number>({ load });
  const controller = new AbortController();

  const waiting = cache.get("k", undefined, { signal: controller.signal });
  controller.abort();
  await assert.rejects(waiting, { name: "AbortError" });
  runs[0].resolve(1);
  await settle();
  assert.equal(cache.peek("k"), undefined);

  const again = cache.get("k");
  assert.equal(runs.length, 2, "a new load, not the abandoned one");
  runs[1].resolve(2);
  assert.equal(await again, 2);
  assert.equal(cache.stats.coalesced, 0);
  assert.equal(cache.stats.loadFailures, 0);
});

// ------------------------------------------------ set() against a running load

Deno.test("set() during a load is not overwritten by that load; its callers still get the loaded value", async () => {
  const { load, runs } = controlledLoader<number>();
  const cache = new LoadingCache<number>({ load });

  const waiting = cache.get("k");
  await cache.set("k", 2);
  runs[0].resolve(1);
  assert.equal(await waiting, 1);
  assert.equal(cache.peek("k"), 2);
  assert.equal(await cache.get("k"), 2);
});

Deno.test("set() during a background refresh wins over the refresh, also in the store", async () => {
  const store = new MemoryStore<string>();
  const { load, runs } = controlledLoader<string>();
  const cache = new LoadingCache<string>({ store, random: () => 0, load });
  await cache.set("k", "v1", { deltaMs: 60_000 });

  assert.equal(cache.read("k"), "v1");
  await settle();
  assert.equal(runs.length, 1);
  await cache.set("k", "written");
  runs[0].resolve("refreshed");
  await settle();
  assert.equal(cache.peek("k"), "written");
  assert.equal((await store.get("k"))?.value, "written");
});

Deno.test("a load that fails after set() does not mark the value it set as failed", async () => {
  const clock = new ManualClock();
  const { load, runs } = controlledLoader<string>();
  const cache = new LoadingCache<string>({
    clock,
    load,
    ttlMs: 100,
    beta: 0,
    staleIfErrorMs: 1_000,
  });

  const waiting = cache.get("k");
  await cache.set("k", "written");
  runs[0].reject(new Error("down"));
  assert.equal(await waiting, "written");
  await clock.advance(100);
  assert.ok(
    cache.read("k") instanceof Promise,
    "expired and never failed: a miss, not a stale hit",
  );
  runs[1].resolve("loaded");
  await settle();
  assert.equal(cache.stats.staleHits, 0);
});

Deno.test("after set() detaches a load, the next miss starts its own", async () => {
  const clock = new ManualClock();
  const { load, runs } = controlledLoader<number>();
  const cache = new LoadingCache<number>({ clock, load, ttlMs: 10, beta: 0 });

  const first = cache.get("k");
  await cache.set("k", 2);
  await clock.advance(10);
  const second = cache.get("k");
  assert.equal(runs.length, 2);
  runs[1].resolve(3);
  runs[0].resolve(1);
  assert.deepEqual(await Promise.all([first, second]), [1, 3]);
  assert.equal(cache.peek("k"), 3);
});

// --------------------------------------------------------------------- stats

Deno.test("random workloads: every call settles, the counters add up and maxEntries holds", async (t) => {
  for (const seed of [1, 2, 3, 4]) {
    await t.step(`seed ${seed}`, async () => {
      const random = seededRandom(seed);
      const clock = new ManualClock();
      const maxEntries = 1 + Math.floor(random() * 4);
      let invocations = 0;
      let injectedFailures = 0;
      const load = ({ key, signal }: LoaderContext) => {
        invocations++;
        const roll = random();
        if (roll < 0.05) {
          injectedFailures++;
          throw new Error(`sync ${key}`);
        }
        if (roll < 0.15) return invocations;
        const fails = roll < 0.35;
        return sleep(Math.floor(random() * 200), { clock, signal }).then(() => {
          if (!fails) return invocations;
          injectedFailures++;
          throw new Error(`async ${key}`);
        });
      };
      const cache = new LoadingCache<number>({
        clock,
        maxEntries,
        ttlMs: 300,
        staleIfErrorMs: random() < 0.5 ? 0 : 200,
        random: seededRandom(seed + 100),
      });
      const calls: { settled: boolean }[] = [];
      const controllers: AbortController[] = [];
      const track = (result: number | Promise<number>) => {
        const call = { settled: !(result instanceof Promise) };
        if (result instanceof Promise) {
          result.then(
            () => (call.settled = true),
            () => (call.settled = true),
          );
        }
        calls.push(call);
      };

      for (let step = 0; step < 500; step++) {
        const key = `k${Math.floor(random() * 6)}`;
        const op = random();
        if (op < 0.3) {
          track(cache.read(key, load));
        } else if (op < 0.5) {
          const controller = new AbortController();
          controllers.push(controller);
          track(cache.get(key, load, { signal: controller.signal }));
        } else if (op < 0.6) {
          controllers.splice(Math.floor(random() * controllers.length), 1)[0]
            ?.abort();
        } else if (op < 0.7) {
          await cache.set(key, -step, { deltaMs: random() * 50 });
        } else if (op < 0.75) {
          await cache.delete(key);
        } else if (op < 0.76) {
          await cache.clear();
        } else {
          await clock.advance(Math.floor(random() * 60));
        }
        assert.ok(cache.size <= maxEntries, `step ${step}`);
      }
      await clock.advance(10_000);

      assert.deepEqual(calls.filter((call) => !call.settled), []);
      const { hits, misses, staleHits, loads, loadFailures } = cache.stats;
      assert.equal(hits + misses + staleHits, calls.length);
      assert.equal(loads, invocations);
      assert.ok(loadFailures <= injectedFailures);
    });
  }
});

Deno.test("stats count every kind of read and load exactly once", async () => {
  const clock = new ManualClock();
  const { load, runs } = controlledLoader<string>();
  const store = new MemoryStore<string>({ clock });
  const cache = new LoadingCache<string>({
    clock,
    load,
    store,
    maxEntries: 2,
    ttlMs: 1_000,
    staleIfErrorMs: 1_000,
    random: () => 0.01,
  });

  const misses = [cache.get("a"), cache.get("a"), cache.get("a")];
  await settle();
  runs[0].resolve("a1");
  await Promise.all(misses);
  cache.read("a");
  await store.set("b", { value: "b0", deltaMs: 0, expiresAt: 5_000 }, {
    keepMs: 5_000,
  });
  assert.equal(await cache.get("b"), "b0");
  await cache.set("c", "c0");

  await clock.advance(1_000);
  const expired = cache.get("a");
  await settle();
  runs[1].reject(new Error("down"));
  assert.equal(await expired, "a1");
  assert.equal(cache.read("a"), "a1");
  await settle();
  runs[2].resolve("a2");
  await settle();

  assert.deepEqual(cache.stats, {
    hits: 1,
    misses: 5,
    staleHits: 1,
    earlyRefreshes: 0,
    loads: 3,
    loadFailures: 1,
    storeHits: 1,
    coalesced: 2,
    evictions: 2,
  });
});

Deno.test("the stats snapshot is a copy", async () => {
  const cache = new LoadingCache<number>({ load: () => 1 });
  const before = cache.stats as { hits: number };
  before.hits = 99;

  await cache.get("a");
  await cache.get("a");
  assert.equal(cache.stats.hits, 1);
});

// -------------------------------------------------------------- failing stores

function failingStore(
  how: "reject" | "throw",
): CacheStore<number> & { calls: string[] } {
  const calls: string[] = [];
  const fail = (name: string) => () => {
    calls.push(name);
    if (how === "throw") throw new Error(`${name} threw`);
    return Promise.reject(new Error(`${name} rejected`));
  };
  return {
    calls,
    get: fail("get"),
    set: fail("set"),
    delete: fail("delete"),
  };
}

Deno.test("a failing store never breaks reads, early refreshes or stale-if-error", async (t) => {
  for (const how of ["reject", "throw"] as const) {
    await t.step(how, async () => {
      const clock = new ManualClock();
      const store = failingStore(how);
      const events: CacheErrorEvent[] = [];
      let loads = 0;
      const cache = new LoadingCache<number>({
        clock,
        store,
        ttlMs: 1_000,
        staleIfErrorMs: 1_000,
        random: () => 0,
        onError: (event) => events.push(event),
        load: async ({ signal }) => {
          const run = ++loads;
          await sleep(100, { clock, signal });
          if (run === 3) throw new Error("down");
          return run;
        },
      });

      const first = cache.get("k");
      await clock.advance(100);
      assert.equal(await first, 1);
      assert.equal(cache.read("k"), 1, "an early refresh despite the store");
      await clock.advance(100);
      assert.equal(cache.peek("k"), 2);
      await clock.advance(1_000);
      const stale = cache.get("k");
      await clock.advance(100);
      assert.equal(await stale, 2, "stale-if-error despite the store");
      assert.deepEqual(
        events.map((event) => `${event.source} ${event.stale}`),
        [
          "store false",
          "store false",
          "store false",
          "store false",
          "store false",
          "loader true",
        ],
      );
      assert.deepEqual(store.calls, ["get", "set", "get", "set", "get"]);
    });
  }
});

Deno.test("a store that holds JSON round-trips an entry that never expires", async () => {
  const texts = new Map<string, string>();
  const store: CacheStore<number> = {
    get: (key) => {
      const text = texts.get(key);
      return Promise.resolve(text === undefined ? undefined : JSON.parse(text));
    },
    set: (key, entry) => {
      texts.set(key, JSON.stringify(entry));
      return Promise.resolve();
    },
    delete: (key) => Promise.resolve(void texts.delete(key)),
  };
  const clock = new ManualClock(1e12);
  const writer = new LoadingCache<number>({ clock, store, ttlMs: Infinity });
  await writer.set("k", 1);
  assert.equal(JSON.parse(texts.get("k")!).expiresAt, null);

  const reader = new LoadingCache<number>({ clock, store, ttlMs: Infinity });
  assert.equal(await reader.get("k", () => 2), 1);
  await clock.advance(1e15);
  assert.equal(reader.read("k"), 1);
  assert.equal(reader.stats.storeHits, 1);
});

Deno.test("store entries with broken fields are ignored or repaired, never trusted blindly", async (t) => {
  const broken: [string, unknown, number][] = [
    ["expiresAt NaN", { value: 9, deltaMs: 0, expiresAt: NaN }, 1],
    ["expiresAt a string", { value: 9, deltaMs: 0, expiresAt: "9e15" }, 1],
    ["deltaMs NaN", { value: 9, deltaMs: NaN, expiresAt: 9e15 }, 9],
    ["deltaMs negative", { value: 9, deltaMs: -5, expiresAt: 9e15 }, 9],
    ["a number", 9, 1],
    ["null", null, 1],
  ];
  for (const [name, stored, expected] of broken) {
    await t.step(name, async () => {
      const store: CacheStore<number> = {
        get: () => Promise.resolve(stored as StoredEntry<number>),
        set: () => Promise.resolve(),
        delete: () => Promise.resolve(),
      };
      const cache = new LoadingCache<number>({ store, random: () => 0.5 });

      assert.equal(await cache.get("k", () => 1), expected);
      assert.equal(cache.read("k"), expected, "a hit, not an endless refresh");
    });
  }
});

// ------------------------------------------------------------- WebCacheStore

async function withWebCache(
  test: (cacheName: string) => Promise<void>,
): Promise<void> {
  const name = `dyno-review-${crypto.randomUUID()}`;
  try {
    await test(name);
  } finally {
    await caches.delete(name);
  }
}

const stored = (value: string): StoredEntry<string> => ({
  value,
  deltaMs: 1,
  expiresAt: 9e15,
});

Deno.test("WebCacheStore keeps keys apart that URLs would merge or escape", () =>
  withWebCache(async (cacheName) => {
    const store = new WebCacheStore<string>({ cacheName });
    const keys = [
      "",
      ".",
      "..",
      "...",
      ".;",
      "%2E",
      "%2e",
      "a/b",
      "a%2Fb",
      "a?b",
      "a#b",
      "a+b",
      "a b",
      "a;b",
      "~!*'()",
      "\\",
      "é",
      "🦕",
    ];

    for (const key of keys) {
      await store.set(key, stored(key), { keepMs: 60_000 });
    }
    for (const key of keys) {
      assert.equal((await store.get(key))?.value, key, JSON.stringify(key));
    }
  }));

Deno.test("WebCacheStore keeps a dot-dot key under its base URL, where clear() finds it", () =>
  withWebCache(async (cacheName) => {
    const store = new WebCacheStore<string>({
      cacheName,
      baseUrl: "https://dyno.invalid/inner/",
    });
    const outer = new WebCacheStore<string>({
      cacheName,
      baseUrl: "https://dyno.invalid/",
    });
    await outer.set("inner", stored("outer's"), { keepMs: 60_000 });
    await store.set("..", stored("dot-dot"), { keepMs: 60_000 });

    await store.clear();
    assert.equal(await store.get(".."), undefined);
    const cache = await caches.open(cacheName);
    assert.deepEqual((await cache.keys()).map((request) => request.url), [
      "https://dyno.invalid/inner",
    ]);
  }));

Deno.test("WebCacheStore clear() finds its entries under a base URL written unnormalised", () =>
  withWebCache(async (cacheName) => {
    const store = new WebCacheStore<string>({
      cacheName,
      baseUrl: "HTTPS://Dyno.INVALID:443/a b/",
    });
    await store.set("k", stored("v"), { keepMs: 60_000 });
    assert.equal((await store.get("k"))?.value, "v");

    await store.clear();
    const cache = await caches.open(cacheName);
    assert.deepEqual(await cache.keys(), []);
  }));

Deno.test("WebCacheStore refuses a base URL with a fragment, which the Cache API drops", () => {
  assert.throws(
    () => new WebCacheStore({ baseUrl: "https://dyno.invalid/#keys/" }),
    {
      name: "TypeError",
      message:
        'WebCacheStore: baseUrl must have no fragment, got "https://dyno.invalid/#keys/"',
    },
  );
});

// --------------------------------------------------------------- DenoKvStore

type OpenKv = (path: string) => Promise<KvLike & { close(): void }>;

async function withKv(test: (kv: KvLike) => Promise<void>): Promise<void> {
  const openKv = (Deno as unknown as { openKv?: OpenKv }).openKv;
  assert.ok(openKv, "Deno.openKv is missing: run the tests with --unstable-kv");
  const kv = await openKv(":memory:");
  try {
    await test(kv);
  } finally {
    kv.close();
  }
}

Deno.test("DenoKvStore keeps an entry whose time to live is finite but beyond Deno KV's expireIn", () =>
  withKv(async (kv) => {
    const store = new DenoKvStore<number>({ kv });
    const events: CacheErrorEvent[] = [];
    const cache = new LoadingCache<number>({
      store,
      ttlMs: Number.MAX_SAFE_INTEGER,
      onError: (event) => events.push(event),
    });

    await cache.set("set", 1);
    assert.equal(await cache.get("loaded", () => 2), 2);
    assert.equal((await store.get("set"))?.value, 1);
    assert.equal((await store.get("loaded"))?.value, 2);
    assert.deepEqual(events, []);
  }));

Deno.test("DenoKvStore gives back an entry that never expires as Infinity, and a second cache adopts it", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(1e12);
    const first = new LoadingCache<string>({
      clock,
      ttlMs: Infinity,
      store: new DenoKvStore({ kv }),
    });
    const second = new LoadingCache<string>({
      clock,
      store: new DenoKvStore({ kv }),
    });
    await first.get("k", () => "forever");

    assert.equal(await second.get("k", () => "reloaded"), "forever");
    await clock.advance(1e15);
    assert.equal(second.read("k"), "forever");
  }));

Deno.test("DenoKvStore clear() removes more entries than one page of kv.list", () =>
  withKv(async (kv) => {
    const store = new DenoKvStore<number>({ kv });
    const keep = new DenoKvStore<number>({ kv, prefix: "other" });
    for (let i = 0; i < 1_200; i++) {
      await store.set(`k${i}`, { value: i, deltaMs: 0, expiresAt: 9e15 }, {
        keepMs: 60_000,
      });
    }
    await keep.set("k0", { value: -1, deltaMs: 0, expiresAt: 9e15 }, {
      keepMs: 60_000,
    });

    await store.clear();
    let left = 0;
    for await (const _ of kv.list!({ prefix: ["dyno-cache"] })) left++;
    assert.equal(left, 0);
    assert.equal((await keep.get("k0"))?.value, -1);
  }));

Deno.test("DenoKvStore refuses an oversized key before the loader runs", () =>
  withKv(async (kv) => {
    let loads = 0;
    const cache = new LoadingCache<number>({
      store: new DenoKvStore({ kv }),
      load: () => ++loads,
    });

    await assert.rejects(cache.get("x".repeat(2_100)), RangeError);
    await assert.rejects(cache.delete("\0".repeat(1_100)), RangeError);
    assert.equal(loads, 0);
  }));

// ------------------------------------------------------------------ bad input

Deno.test("more bad options fail at construction, naming the value", async (t) => {
  const bad: [string, () => unknown, string][] = [
    [
      "beta -Infinity",
      () => new LoadingCache({ beta: -Infinity }),
      "LoadingCache: beta must be a finite number >= 0, got -Infinity",
    ],
    [
      "maxEntries 2^30 + 1",
      () => new LoadingCache({ maxEntries: 2 ** 30 + 1 }),
      "LoadingCache: maxEntries must be an integer in 1..2^30, got 1073741825",
    ],
    [
      "maxEntries Infinity",
      () => new LoadingCache({ maxEntries: Infinity }),
      "LoadingCache: maxEntries must be an integer in 1..2^30, got Infinity",
    ],
    [
      "ttlMs -Infinity",
      () => new LoadingCache({ ttlMs: -Infinity }),
      "LoadingCache: ttlMs must be a number >= 0, got -Infinity",
    ],
    [
      "staleIfErrorMs NaN",
      () => new LoadingCache({ staleIfErrorMs: NaN }),
      "LoadingCache: staleIfErrorMs must be a number >= 0, got NaN",
    ],
  ];
  for (const [name, make, message] of bad) {
    await t.step(name, () => {
      assert.throws(make, { name: "RangeError", message });
    });
  }
});

Deno.test("beta -0 counts as 0: never early", async () => {
  const cache = new LoadingCache<number>({ beta: -0, random: () => 0 });
  await cache.set("k", 1, { deltaMs: 1e9 });

  assert.equal(cache.read("k", () => 2), 1);
  assert.equal(cache.stats.earlyRefreshes, 0);
});

Deno.test("a bad key or ttlMs rejects without loading, even for a key that is cached", async () => {
  let loads = 0;
  const cache = new LoadingCache<number>({ load: () => ++loads });
  await cache.get("k");

  await assert.rejects(cache.get("k", undefined, { ttlMs: NaN }), RangeError);
  await assert.rejects(cache.get(Symbol() as never), TypeError);
  await assert.rejects(cache.delete(1 as never), TypeError);
  assert.equal(loads, 1);
});

Deno.test("a loader that is not a function fails at once, not as a load failure", async () => {
  const clock = new ManualClock();
  const events: CacheErrorEvent[] = [];
  const cache = new LoadingCache<number>({
    clock,
    ttlMs: 1_000,
    staleIfErrorMs: 1_000,
    onError: (event) => events.push(event),
  });
  await cache.set("k", 1);
  await clock.advance(1_000);

  await assert.rejects(cache.get("k", 5 as never), {
    name: "TypeError",
    message: "LoadingCache: loader must be a function, got number",
  });
  assert.throws(() => cache.read("new", "load" as never), TypeError);
  assert.deepEqual(events, []);
  assert.equal(cache.stats.loadFailures, 0);
});

Deno.test("wrap(): a key function that throws makes the call reject, not throw", async () => {
  const wrapped = new LoadingCache<number>().wrap((n: bigint) => Number(n));

  let call: Promise<number> | undefined;
  assert.doesNotThrow(() => (call = wrapped(1n)));
  await assert.rejects(call!, TypeError);
});
