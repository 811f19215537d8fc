/**
 * Checks of `cache_stores`: MemoryStore, DenoKvStore over a KV with Deno KV's
 * shape, WebCacheStore over a Cache-like object and, where the runtime has
 * one, over its own global `caches`.
 *
 * @module
 */

import {
  DenoKvStore,
  type KvLike,
  LoadingCache,
  MemoryStore,
  type StoredEntry,
  type WebCacheLike,
  WebCacheStore,
} from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  checkJson,
  skip,
  thrown,
} from "./_check.ts";

function entry<V>(value: V): StoredEntry<V> {
  return { value, deltaMs: 3, expiresAt: 5_000 };
}

/** Deno KV's interface over a Map, as `Deno.openKv()` would answer. */
class MapKv implements KvLike {
  readonly entries = new Map<string, { value: unknown; expireIn?: number }>();

  get(key: readonly string[]): Promise<{ value: unknown }> {
    const kept = this.entries.get(JSON.stringify(key));
    return Promise.resolve({ value: kept?.value ?? null });
  }

  set(
    key: readonly string[],
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<unknown> {
    this.entries.set(JSON.stringify(key), {
      value: structuredClone(value),
      expireIn: options?.expireIn,
    });
    return Promise.resolve({ ok: true });
  }

  delete(key: readonly string[]): Promise<void> {
    this.entries.delete(JSON.stringify(key));
    return Promise.resolve();
  }

  async *list(selector: { prefix: readonly string[] }) {
    for (const text of [...this.entries.keys()]) {
      const key = JSON.parse(text) as string[];
      if (selector.prefix.every((part, i) => key[i] === part)) yield { key };
    }
  }
}

/** The Web Cache API's `Cache` over a Map of responses. */
class MapCache implements WebCacheLike {
  readonly responses = new Map<string, Response>();

  match(url: string): Promise<Response | undefined> {
    return Promise.resolve(this.responses.get(url)?.clone());
  }

  put(url: string, response: Response): Promise<void> {
    this.responses.set(url, response);
    return Promise.resolve();
  }

  delete(url: string): Promise<boolean> {
    return Promise.resolve(this.responses.delete(url));
  }

  keys(): Promise<{ url: string }[]> {
    return Promise.resolve([...this.responses.keys()].map((url) => ({ url })));
  }
}

/**
 * Runs `use` with a WebCacheStore over a new cache of the runtime's own
 * `caches`, deleted afterwards; skips the check where there is none.
 */
async function withRuntimeCache(
  use: (store: WebCacheStore<string>) => Promise<void>,
): Promise<void> {
  const storage = (globalThis as {
    caches?: { delete?(name: string): Promise<boolean> };
  }).caches;
  if (storage === undefined) skip("globalThis.caches is undefined");
  const cacheName = `dyno-conformance-${crypto.randomUUID()}`;

  try {
    await use(new WebCacheStore<string>({ cacheName }));
  } finally {
    await forget(storage, cacheName);
  }
}

function describe(value: unknown): string {
  return value instanceof Error
    ? `${value.name}: ${value.message}`
    : String(value);
}

/**
 * Deletes the named cache, so that no run leaves one behind. workerd's
 * `caches` cannot delete a cache; its entries go with the run's directory.
 */
async function forget(
  storage: { delete?(name: string): Promise<boolean> },
  cacheName: string,
): Promise<void> {
  try {
    await storage.delete?.(cacheName);
  } catch {
    // Nothing to clean up where deleting is not supported.
  }
}

export const cacheStoreChecks: Check[] = [
  [
    "cache_stores: MemoryStore drops entries after keepMs and the least recently used",
    async () => {
      let nowMs = 0;
      const store = new MemoryStore<number>({
        maxEntries: 2,
        clock: { now: () => nowMs },
      });

      await store.set("a", entry(1), { keepMs: 100 });
      await store.set("b", entry(2), { keepMs: 1_000 });
      await store.get("a");
      await store.set("c", entry(3), { keepMs: 1_000 });
      const afterEviction = [
        (await store.get("a"))?.value,
        (await store.get("b"))?.value,
        (await store.get("c"))?.value,
      ];
      nowMs = 100;

      checkJson(afterEviction, [1, null, 3], "values after an eviction");
      checkEqual(store.size, 2, "size");
      checkEqual(await store.get("a"), undefined, "a after its keepMs");
      checkJson(await store.get("c"), entry(3), "c after 100 ms");
    },
  ],
  [
    "cache_stores: DenoKvStore works over a KV with Deno KV's interface",
    async () => {
      const kv = new MapKv();
      const store = new DenoKvStore<number>({ kv, prefix: "conformance" });
      const cache = new LoadingCache<number>({
        store,
        clock: { now: () => 5_000 },
        ttlMs: 2_000,
        load: () => 42,
      });

      const answer = await cache.get("answer");
      const kept = kv.entries.get('["conformance","answer"]');
      const stored = await store.get("answer");
      await kv.set(["elsewhere", "x"], 1);
      await store.clear();
      const tooLong = thrown(() => store.checkKey("k".repeat(3_000)));

      checkEqual(answer, 42, "loaded value");
      checkEqual(kept?.expireIn, 2_000, "expireIn");
      checkEqual(stored?.value, 42, "stored value");
      checkEqual(stored?.deltaMs, 0, "stored deltaMs");
      checkEqual(stored?.expiresAt, 7_000, "stored expiresAt");
      checkJson(
        [...kv.entries.keys()],
        ['["elsewhere","x"]'],
        "keys after clear",
      );
      check(tooLong instanceof RangeError, "a key over 2 KiB was accepted");
    },
  ],
  [
    "cache_stores: WebCacheStore keeps JSON responses in a Cache-like object",
    async () => {
      let nowMs = 10_000;
      const cache = new MapCache();
      const store = new WebCacheStore<{ n: number }>({
        cache,
        clock: { now: () => nowMs },
      });
      const url = "https://dyno-cache.invalid/a%20b%2Fc";
      await cache.put("https://elsewhere.invalid/x", new Response("x"));

      await store.set("a b/c", entry({ n: 1 }), { keepMs: 1_500 });
      const response = await cache.match(url);
      const stored = await store.get("a b/c");
      await store.set("d", entry({ n: 2 }), { keepMs: 60_000 });
      nowMs = 11_500;
      const dropped = await store.get("a b/c");
      const droppedFromCache = !cache.responses.has(url);
      await store.clear();
      const badKey = thrown(() => store.checkKey("\uD800"));

      checkEqual(
        response?.headers.get("cache-control"),
        "max-age=2",
        "Cache-Control",
      );
      checkJson(await response?.json(), { n: 1 }, "response body");
      checkJson(stored, entry({ n: 1 }), "entry read back");
      checkEqual(dropped, undefined, "entry after keepMs");
      checkEqual(droppedFromCache, true, "response deleted after keepMs");
      checkJson(
        [...cache.responses.keys()],
        ["https://elsewhere.invalid/x"],
        "urls after clear",
      );
      check(badKey instanceof RangeError, "a lone surrogate was accepted");
    },
  ],
  [
    "cache_stores: WebCacheStore over the runtime's own caches (where globalThis.caches exists)",
    () =>
      withRuntimeCache(async (store) => {
        let loads = 0;
        const load = () => `hello ${++loads}`;
        const first = new LoadingCache<string>({ store, load });
        const second = new LoadingCache<string>({ store, load });

        const fromFirst = await first.get("greeting");
        const fromSecond = await second.get("greeting");
        const stored = await store.get("greeting");
        await store.delete("greeting");

        checkEqual(fromFirst, "hello 1", "first cache");
        checkEqual(fromSecond, "hello 1", "second cache, from the store");
        checkEqual(second.stats.storeHits, 1, "second cache's store hits");
        checkEqual(stored?.value, "hello 1", "stored value");
        checkEqual(await store.get("greeting"), undefined, "after delete");
      }),
  ],
  [
    "cache_stores: WebCacheStore.clear() on the runtime's own caches empties it, or rejects with a TypeError where it cannot list keys (where globalThis.caches exists)",
    () =>
      withRuntimeCache(async (store) => {
        await store.set("kept", entry("value"), { keepMs: 60_000 });

        const cleared = await store.clear().then(() => "cleared", (e) => e);

        check(
          cleared === "cleared" || cleared instanceof TypeError,
          `clear() rejected with ${describe(cleared)}`,
        );
        if (cleared === "cleared") {
          checkEqual(await store.get("kept"), undefined, "entry after clear");
        }
      }),
  ],
];
