/**
 * Shared stores for `LoadingCache` (`@dyno/dyno/cache`): one in process memory, one over
 * the Web Cache API (`caches`: browsers, Deno, Cloudflare Workers), and one
 * over Deno KV. Each holds `{ value, deltaMs, expiresAt }` per key; the caches
 * in front of it keep their own single flight.
 *
 * @example Two caches sharing a store
 * ```ts
 * import { LoadingCache } from "@dyno/dyno/cache";
 * import { MemoryStore } from "@dyno/dyno/cache-stores";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore<string>();
 * let loads = 0;
 * const load = () => `computed ${++loads}`;
 * const first = new LoadingCache<string>({ store, load });
 * const second = new LoadingCache<string>({ store, load });
 *
 * assert.equal(await first.get("k"), "computed 1");
 * assert.equal(await second.get("k"), "computed 1");
 * assert.equal(loads, 1);
 * ```
 *
 * @module
 */

import type { CacheStore, StoredEntry, StoreSetOptions } from "./cache.ts";
import type { Clock } from "./clock.ts";

export type { Clock };

const wallClock = { now: () => Date.now() };

/** Options of a {@linkcode MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * How many entries it holds; the least recently used go first.
   *
   * @default {10_000}
   */
  maxEntries?: number;
  /**
   * The clock that decides when an entry's `keepMs` is over.
   *
   * @default {`Date.now()`}
   */
  clock?: Pick<Clock, "now">;
}

interface Kept<V> {
  readonly entry: StoredEntry<V>;
  readonly dropAt: number;
}

/**
 * A {@linkcode CacheStore} in this process's memory, shared by the caches
 * given it: values are shared by reference, not copied.
 *
 * @example A bounded store
 * ```ts
 * import { MemoryStore } from "@dyno/dyno/cache-stores";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryStore<number>({ maxEntries: 1 });
 * const entry = { value: 1, deltaMs: 5, expiresAt: Date.now() + 1_000 };
 * await store.set("a", entry, { keepMs: 1_000 });
 * await store.set("b", entry, { keepMs: 1_000 });
 * assert.equal(await store.get("a"), undefined);
 * assert.deepEqual(await store.get("b"), entry);
 * ```
 */
export class MemoryStore<V> implements CacheStore<V> {
  #entries = new Map<string, Kept<V>>();
  #maxEntries: number;
  #clock: Pick<Clock, "now">;

  /** Makes an empty store; throws a `RangeError` for a bad `maxEntries`. */
  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries = 10_000, clock = wallClock } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(
        `MemoryStore: maxEntries must be an integer >= 1, got ${maxEntries}`,
      );
    }
    if (typeof clock?.now !== "function") {
      throw new TypeError("MemoryStore: clock.now must be a function");
    }

    this.#maxEntries = maxEntries;
    this.#clock = clock;
  }

  /** How many entries it holds. */
  get size(): number {
    return this.#entries.size;
  }

  /** The entry for `key`, or `undefined` once its `keepMs` is over. */
  get(key: string): Promise<StoredEntry<V> | undefined> {
    const kept = this.#entries.get(key);
    if (kept === undefined) return Promise.resolve(undefined);

    this.#entries.delete(key);
    if (this.#clock.now() >= kept.dropAt) return Promise.resolve(undefined);
    this.#entries.set(key, kept);
    return Promise.resolve(kept.entry);
  }

  /** Stores `entry` for `options.keepMs` milliseconds. */
  set(
    key: string,
    entry: StoredEntry<V>,
    options: StoreSetOptions,
  ): Promise<void> {
    this.#entries.delete(key);
    this.#entries.set(key, {
      entry,
      dropAt: this.#clock.now() + options.keepMs,
    });
    if (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }

    return Promise.resolve();
  }

  /** Removes `key`. */
  delete(key: string): Promise<void> {
    this.#entries.delete(key);
    return Promise.resolve();
  }

  /** Removes every entry. */
  clear(): Promise<void> {
    this.#entries.clear();
    return Promise.resolve();
  }
}

/** The part of a Web Cache API `Cache` that {@linkcode WebCacheStore} uses. */
export interface WebCacheLike {
  /** The stored response for `url`, if any. */
  match(url: string): Promise<Response | undefined>;
  /** Stores `response` for `url`. */
  put(url: string, response: Response): Promise<void>;
  /** Removes `url`. */
  delete(url: string): Promise<boolean>;
  /** The stored requests, for {@linkcode WebCacheStore.clear}. */
  keys?(): Promise<ReadonlyArray<{ readonly url: string }>>;
}

/** Options of a {@linkcode WebCacheStore}. */
export interface WebCacheStoreOptions<V> {
  /**
   * The cache to use, e.g. `caches.default` on Cloudflare Workers. Without
   * it, the store opens `cacheName` from the global `caches` on first use.
   */
  cache?: WebCacheLike | Promise<WebCacheLike>;
  /**
   * The name to open from `caches` when no `cache` is given.
   *
   * @default {"dyno-cache"}
   */
  cacheName?: string;
  /**
   * Where the keys live: each key becomes this URL plus the key,
   * percent-encoded (`.` and `..` plus `;`, so that URLs keep them apart).
   * It cannot have a fragment, which the Cache API ignores.
   *
   * @default {"https://dyno-cache.invalid/"}
   */
  baseUrl?: string;
  /**
   * Turns a value into the response body.
   *
   * @default {JSON.stringify}
   */
  encode?: (value: V) => string;
  /**
   * Turns a response body back into a value.
   *
   * @default {JSON.parse}
   */
  decode?: (text: string) => V;
  /**
   * The clock that decides when an entry's `keepMs` is over.
   *
   * @default {`Date.now()`}
   */
  clock?: Pick<Clock, "now">;
}

const DELTA_HEADER = "x-dyno-delta-ms";
const EXPIRES_HEADER = "x-dyno-expires-at";
const DROP_HEADER = "x-dyno-drop-at";
const YEAR_S = 31_536_000;

/**
 * A {@linkcode CacheStore} over the Web Cache API, present in browsers, Deno
 * and Cloudflare Workers. Each entry is a response under a URL made from its
 * key; values go through JSON unless `encode` and `decode` say otherwise.
 * Responses carry `Cache-Control: max-age` for runtimes that honour it, and
 * are dropped on read once their `keepMs` is over. Keys that are not
 * well-formed UTF-16 are refused, as a URL cannot hold them.
 *
 * On Cloudflare Workers the Cache API is local to each data centre, and
 * does nothing on `workers.dev` domains.
 *
 * @example Over Deno's own `caches`
 * ```ts
 * import { LoadingCache } from "@dyno/dyno/cache";
 * import { WebCacheStore } from "@dyno/dyno/cache-stores";
 * import assert from "node:assert/strict";
 *
 * const store = new WebCacheStore<string>({ cacheName: "doc-example" });
 * const cache = new LoadingCache<string>({ store, load: () => "hello" });
 * assert.equal(await cache.get("greeting"), "hello");
 * assert.equal((await store.get("greeting"))?.value, "hello");
 * await store.clear();
 * ```
 */
export class WebCacheStore<V> implements CacheStore<V> {
  #cache: WebCacheLike | Promise<WebCacheLike> | undefined;
  #cacheName: string;
  #baseUrl: string;
  #encode: (value: V) => string;
  #decode: (text: string) => V;
  #clock: Pick<Clock, "now">;

  /** Makes the store; nothing is opened until first use. */
  constructor(options: WebCacheStoreOptions<V> = {}) {
    const { baseUrl = "https://dyno-cache.invalid/" } = options;
    if (!URL.canParse(baseUrl)) {
      throw new TypeError(
        `WebCacheStore: baseUrl must be an absolute URL, got "${baseUrl}"`,
      );
    }
    const url = new URL(baseUrl);
    if (url.href.includes("#")) {
      throw new TypeError(
        `WebCacheStore: baseUrl must have no fragment, got "${baseUrl}"`,
      );
    }

    this.#cache = options.cache;
    this.#cacheName = options.cacheName ?? "dyno-cache";
    this.#baseUrl = url.href;
    this.#encode = options.encode ?? JSON.stringify;
    this.#decode = options.decode ?? JSON.parse;
    this.#clock = options.clock ?? wallClock;
  }

  /** Throws a `RangeError` for a key that is not well-formed UTF-16. */
  checkKey(key: string): void {
    checkWellFormed("WebCacheStore", key);
  }

  /** The entry for `key`, or `undefined`. */
  async get(key: string): Promise<StoredEntry<V> | undefined> {
    const cache = await this.#open();
    const url = this.#url(key);
    const response = await cache.match(url);
    if (response === undefined) return undefined;

    const text = await response.text();
    const { headers } = response;
    if (this.#clock.now() >= Number(headers.get(DROP_HEADER))) {
      await cache.delete(url);
      return undefined;
    }
    return {
      value: this.#decode(text),
      deltaMs: Number(headers.get(DELTA_HEADER)),
      expiresAt: Number(headers.get(EXPIRES_HEADER)),
    };
  }

  /** Stores `entry` as a response kept for `options.keepMs`. */
  async set(
    key: string,
    entry: StoredEntry<V>,
    options: StoreSetOptions,
  ): Promise<void> {
    const body = this.#encode(entry.value);
    if (typeof body !== "string") {
      throw new TypeError(
        `WebCacheStore: encode gave ${typeof body} for key "${key}", not a string`,
      );
    }
    const maxAgeS = Math.min(YEAR_S, Math.ceil(options.keepMs / 1000));
    const headers = {
      "cache-control": `max-age=${maxAgeS}`,
      "content-type": "application/json",
      [DELTA_HEADER]: String(entry.deltaMs),
      [EXPIRES_HEADER]: String(entry.expiresAt),
      [DROP_HEADER]: String(this.#clock.now() + options.keepMs),
    };

    const cache = await this.#open();
    await cache.put(this.#url(key), new Response(body, { headers }));
  }

  /** Removes `key`. */
  async delete(key: string): Promise<void> {
    const cache = await this.#open();
    await cache.delete(this.#url(key));
  }

  /**
   * Removes every entry under `baseUrl`. Rejects with a `TypeError` when the
   * given cache cannot list its keys.
   */
  async clear(): Promise<void> {
    const cache = await this.#open();
    if (typeof cache.keys !== "function") {
      throw new TypeError("WebCacheStore: this cache cannot list its keys");
    }

    let requests: ReadonlyArray<{ readonly url: string }>;
    try {
      requests = await cache.keys();
    } catch (error) {
      throw new TypeError("WebCacheStore: this cache cannot list its keys", {
        cause: error,
      });
    }
    const ours = requests.filter(({ url }) => url.startsWith(this.#baseUrl));
    await Promise.all(ours.map(({ url }) => cache.delete(url)));
  }

  #url(key: string): string {
    const path = encodeURIComponent(key);
    // URLs resolve the segments "." and ".." away; an encoded key never holds
    // a raw ";", so "." + ";" and ".." + ";" stand for them alone.
    return this.#baseUrl + (path === "." || path === ".." ? `${path};` : path);
  }

  #open(): WebCacheLike | Promise<WebCacheLike> {
    if (this.#cache !== undefined) return this.#cache;

    const storage = (globalThis as {
      caches?: { open(name: string): Promise<WebCacheLike> };
    }).caches;
    if (storage === undefined) {
      throw new TypeError(
        "WebCacheStore: this runtime has no global caches; pass the cache option",
      );
    }
    return (this.#cache = storage.open(this.#cacheName));
  }
}

/**
 * The part of a `Deno.Kv` that {@linkcode DenoKvStore} uses, so that this
 * module does not depend on Deno's types.
 */
export interface KvLike {
  /** Reads `key`; `value` is `null` when absent. */
  get(key: readonly string[]): Promise<{ value: unknown }>;
  /** Writes `key`, expiring after `options.expireIn` milliseconds. */
  set(
    key: readonly string[],
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<unknown>;
  /** Removes `key`. */
  delete(key: readonly string[]): Promise<void>;
  /** Lists the keys under a prefix, for {@linkcode DenoKvStore.clear}. */
  list?(
    selector: { prefix: readonly string[] },
  ): AsyncIterable<{ key: readonly unknown[] }>;
}

/** Options of a {@linkcode DenoKvStore}. */
export interface DenoKvStoreOptions {
  /** An open `Deno.Kv`, e.g. from `await Deno.openKv()`. */
  kv: KvLike;
  /**
   * The first part of every KV key, so that the cache has its own space.
   *
   * @default {"dyno-cache"}
   */
  prefix?: string;
}

const KV_MAX_KEY_BYTES = 2048;
/** Deno KV refuses an `expireIn` that ends after about the year 262000. */
const KV_MAX_EXPIRE_IN_MS = 1e15;

/**
 * A {@linkcode CacheStore} over Deno KV. Entries are stored under
 * `[prefix, key]` with `expireIn` set from `keepMs` (none when `keepMs` is
 * over 10^15 ms, about 31,700 years, more than Deno KV takes); values must be
 * structured-cloneable and at most 64 KiB (Deno KV's limit), or the write
 * fails and the cache reports it. Keys over Deno KV's 2048-byte limit, or not
 * well-formed UTF-16, are refused at once.
 *
 * @example Over an in-memory Deno KV
 * ```ts
 * import { LoadingCache } from "@dyno/dyno/cache";
 * import { DenoKvStore } from "@dyno/dyno/cache-stores";
 * import assert from "node:assert/strict";
 *
 * // Deno.openKv needs --unstable-kv.
 * const kv = await Deno.openKv(":memory:");
 * const store = new DenoKvStore<number>({ kv });
 * const cache = new LoadingCache<number>({ store, load: () => 42 });
 * assert.equal(await cache.get("answer"), 42);
 * assert.equal((await store.get("answer"))?.value, 42);
 * kv.close();
 * ```
 */
export class DenoKvStore<V> implements CacheStore<V> {
  #kv: KvLike;
  #prefix: string;
  #prefixBytes: number;

  /** Makes the store; throws a `TypeError` for a bad `kv` or `prefix`. */
  constructor(options: DenoKvStoreOptions) {
    const { kv, prefix = "dyno-cache" } = options ?? {};
    for (const name of ["get", "set", "delete"] as const) {
      if (typeof kv?.[name] !== "function") {
        throw new TypeError(`DenoKvStore: kv.${name} must be a function`);
      }
    }
    if (typeof prefix !== "string") {
      throw new TypeError(
        `DenoKvStore: prefix must be a string, got ${typeof prefix}`,
      );
    }

    this.#kv = kv;
    this.#prefix = prefix;
    this.#prefixBytes = keyPartBytes(prefix);
  }

  /**
   * Throws a `RangeError` for a key that Deno KV cannot hold: longer than
   * 2048 bytes once encoded with the prefix, or not well-formed UTF-16.
   */
  checkKey(key: string): void {
    checkWellFormed("DenoKvStore", key);
    const bytes = this.#prefixBytes + keyPartBytes(key);
    if (bytes > KV_MAX_KEY_BYTES) {
      throw new RangeError(
        `DenoKvStore: key takes ${bytes} bytes with its prefix, over ` +
          `Deno KV's limit of ${KV_MAX_KEY_BYTES}`,
      );
    }
  }

  /** The entry for `key`, or `undefined`. */
  async get(key: string): Promise<StoredEntry<V> | undefined> {
    const { value } = await this.#kv.get([this.#prefix, key]);
    return (value ?? undefined) as StoredEntry<V> | undefined;
  }

  /** Stores `entry`, expiring after `options.keepMs`. */
  async set(
    key: string,
    entry: StoredEntry<V>,
    options: StoreSetOptions,
  ): Promise<void> {
    const { value, deltaMs, expiresAt } = entry;
    const expireIn = Math.max(1, Math.ceil(options.keepMs));

    await this.#kv.set(
      [this.#prefix, key],
      { value, deltaMs, expiresAt },
      expireIn <= KV_MAX_EXPIRE_IN_MS ? { expireIn } : undefined,
    );
  }

  /** Removes `key`. */
  async delete(key: string): Promise<void> {
    await this.#kv.delete([this.#prefix, key]);
  }

  /**
   * Removes every entry under the prefix. Rejects with a `TypeError` when
   * `kv` has no `list`.
   */
  async clear(): Promise<void> {
    if (typeof this.#kv.list !== "function") {
      throw new TypeError("DenoKvStore: kv.list is needed to clear");
    }

    for await (const { key } of this.#kv.list({ prefix: [this.#prefix] })) {
      await this.#kv.delete(key as readonly string[]);
    }
  }
}

function keyPartBytes(part: string): number {
  let nulls = 0;
  for (const char of part) if (char === "\0") nulls++;

  return 2 + new TextEncoder().encode(part).length + nulls;
}

function checkWellFormed(store: string, key: string): void {
  try {
    encodeURIComponent(key);
  } catch {
    throw new RangeError(
      `${store}: key is not well-formed UTF-16 (a lone surrogate)`,
    );
  }
}
