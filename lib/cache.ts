/**
 * A get-or-load cache that keeps a popular key from stampeding: near expiry,
 * each read has a growing chance to recompute its entry early (the XFetch
 * rule), one caller does it in the background while the others keep the
 * current value, and a failed refresh can fall back on the old value for a
 * grace period.
 *
 * An optional {@linkcode CacheStore} shares entries between isolates or
 * machines; `@dyno/dyno/cache-stores` has adapters for the Web Cache API and
 * Deno KV.
 *
 * @example Loading, then hitting
 * ```ts
 * import { LoadingCache } from "@dyno/dyno/cache";
 * import assert from "node:assert/strict";
 *
 * let loads = 0;
 * const users = new LoadingCache<string>({
 *   ttlMs: 60_000,
 *   load: ({ key }) => `user ${key} (load ${++loads})`,
 * });
 *
 * assert.equal(await users.get("42"), "user 42 (load 1)");
 * assert.equal(await users.get("42"), "user 42 (load 1)");
 * ```
 *
 * @module
 */

import type { Clock } from "./clock.ts";

export type { Clock };

/** What a {@linkcode CacheStore} keeps for a key. */
export interface StoredEntry<V> {
  /** The cached value. */
  value: V;
  /** How long computing the value took, in milliseconds. */
  deltaMs: number;
  /**
   * When the value expires, in epoch milliseconds; `Infinity` for never.
   * A store that keeps JSON may give back `null` for `Infinity`.
   */
  expiresAt: number;
}

/** Options of {@linkcode CacheStore.set}. */
export interface StoreSetOptions {
  /**
   * How long, in milliseconds from now, the store should keep the entry: until
   * it expires plus the cache's `staleIfErrorMs`. `Infinity` means until the
   * store evicts it.
   */
  keepMs: number;
}

/**
 * A shared, asynchronous home for cache entries, so that several isolates or
 * machines share one cache. Each {@linkcode LoadingCache} keeps its own
 * in-memory layer and single flight in front of it, and consults the store on
 * a local miss and before each refresh. No lock is needed: the XFetch rule
 * keeps the number of concurrent recomputations small by itself.
 *
 * @example A store over a Map (a Redis client fits the same way)
 * ```ts
 * import { type CacheStore, LoadingCache, type StoredEntry } from "@dyno/dyno/cache";
 * import assert from "node:assert/strict";
 *
 * const map = new Map<string, string>();
 * const store: CacheStore<number> = {
 *   get: async (key) => {
 *     const text = map.get(key);
 *     return text === undefined ? undefined : JSON.parse(text);
 *   },
 *   set: async (key, entry: StoredEntry<number>) => {
 *     map.set(key, JSON.stringify(entry));
 *   },
 *   delete: async (key) => {
 *     map.delete(key);
 *   },
 * };
 *
 * const cache = new LoadingCache<number>({ store, load: () => 7 });
 * assert.equal(await cache.get("seven"), 7);
 * assert.equal(JSON.parse(map.get("seven")!).value, 7);
 * ```
 */
export interface CacheStore<V> {
  /** The entry for `key`, or `undefined`. Expired entries may be returned. */
  get(key: string): Promise<StoredEntry<V> | undefined>;
  /** Stores `entry` under `key`, to be kept for `options.keepMs`. */
  set(
    key: string,
    entry: StoredEntry<V>,
    options: StoreSetOptions,
  ): Promise<void>;
  /** Removes `key`. */
  delete(key: string): Promise<void>;
  /** Removes every entry; a cache without it clears only its own layer. */
  clear?(): Promise<void>;
  /** Throws a `RangeError` or `TypeError` for a key the store cannot hold. */
  checkKey?(key: string): void;
}

/** What a {@linkcode Loader} gets. */
export interface LoaderContext {
  /** The key to load. */
  readonly key: string;
  /**
   * Aborted when nobody wants the value any more: every waiting caller gave
   * up, or the key was deleted or the cache cleared.
   */
  readonly signal: AbortSignal;
  /** The new entry's time to live in milliseconds; the loader may change it. */
  ttlMs: number;
}

/** Computes the value of a key. */
export type Loader<V> = (context: LoaderContext) => V | PromiseLike<V>;

/** What {@linkcode CacheOptions.onError} gets. */
export interface CacheErrorEvent {
  /** The key being loaded or stored. */
  readonly key: string;
  /** What the loader or the store threw. */
  readonly error: unknown;
  /** Who failed. */
  readonly source: "loader" | "store";
  /** Whether the old value keeps being served instead (stale-if-error). */
  readonly stale: boolean;
}

/** Counters of a {@linkcode LoadingCache} since it was made. */
export interface CacheStats {
  /** Reads answered from memory without waiting. */
  readonly hits: number;
  /** Reads that had to wait for a load. */
  readonly misses: number;
  /** Reads answered with an expired value after a failed refresh. */
  readonly staleHits: number;
  /** Refreshes started before expiry by the XFetch rule. */
  readonly earlyRefreshes: number;
  /** Loader runs. */
  readonly loads: number;
  /** Loader runs that threw or rejected. */
  readonly loadFailures: number;
  /** Loads answered by the shared store instead of the loader. */
  readonly storeHits: number;
  /** Callers that joined a load already running instead of starting one. */
  readonly coalesced: number;
  /** Entries dropped to stay within `maxEntries`. */
  readonly evictions: number;
}

/** Options of a {@linkcode LoadingCache}. */
export interface CacheOptions<V> {
  /** The loader for calls that pass none. */
  load?: Loader<V>;
  /**
   * How long an entry lives, in milliseconds; `Infinity` for until evicted.
   *
   * @default {60_000}
   */
  ttlMs?: number;
  /**
   * How eagerly entries refresh before expiry (XFetch's beta, >= 0): above 1
   * earlier, below 1 later, 0 never early.
   *
   * @default {1}
   */
  beta?: number;
  /**
   * How many entries the in-memory layer holds; the least recently used go.
   *
   * @default {1000}
   */
  maxEntries?: number;
  /**
   * For how long after expiry, in milliseconds, an entry whose refresh failed
   * keeps being served while refreshes are retried in the background.
   *
   * @default {0}
   */
  staleIfErrorMs?: number;
  /** A store shared with other caches; without one, entries live in memory. */
  store?: CacheStore<V>;
  /**
   * The time source. The cache reads it at most once per microtask turn and
   * every 1024 reads, so a clock moved by hand is seen after the next `await`.
   * With a shared store every sharer must read epoch milliseconds.
   *
   * @default {`Date.now()`}
   */
  clock?: Pick<Clock, "now">;
  /**
   * The random source in [0, 1) for early refreshes. Draws below 2^-53 count
   * as 2^-53, so an entry never refreshes earlier than about 36.7 times its
   * load time (times beta) before expiry.
   *
   * @default {Math.random}
   */
  random?: () => number;
  /** Called when a loader or the store fails; what it throws is ignored. */
  onError?: (event: CacheErrorEvent) => void;
}

/** Options of {@linkcode LoadingCache.get} and {@linkcode LoadingCache.read}. */
export interface CacheGetOptions {
  /** This entry's time to live, in milliseconds, if it gets loaded. */
  ttlMs?: number;
  /** Aborting it makes this call stop waiting, rejecting with its reason. */
  signal?: AbortSignal;
}

/** Options of {@linkcode LoadingCache.set}. */
export interface CacheSetOptions {
  /** This entry's time to live in milliseconds. */
  ttlMs?: number;
  /**
   * How long computing the value took, in milliseconds, for early refresh.
   *
   * @default {0}
   */
  deltaMs?: number;
}

interface Flight<V> {
  readonly key: string;
  readonly controller: AbortController;
  promise: Promise<V>;
  waiters: number;
  pinned: boolean;
}

const MIN_RANDOM = 2 ** -53;
const MAX_DRAW = 53 * Math.LN2;
const NONE = -1;
const CLOCK_READS = 1024;
const wallClock = { now: () => Date.now() };
const noop = () => {};

/**
 * A bounded get-or-load cache with single flight, probabilistic early refresh
 * (XFetch: Vattani, Chierichetti and Lowenstein, VLDB 2015), stale-if-error
 * and an optional shared store.
 *
 * A read refreshes early when `now - deltaMs * beta * ln(random()) >= expiry`,
 * `deltaMs` being how long the value took to load. A read far from expiry
 * compares one precomputed time and draws no random number.
 *
 * Limits: a refresh that keeps failing is retried by the next read once the
 * previous try has settled, one at a time per key, with no backoff of its
 * own (wrap the loader in a breaker for that). A load that never settles
 * holds its key: misses wait for it and no refresh starts, so give the
 * loader a timeout. With a shared store, `delete()` and `clear()` reach the
 * store and this cache's layer, but other caches keep their in-memory copy
 * until it expires.
 *
 * @example A refresh in the background, at most one at a time
 * ```ts
 * import { LoadingCache } from "@dyno/dyno/cache";
 * import assert from "node:assert/strict";
 *
 * let version = 0;
 * const cache = new LoadingCache<number>({ load: () => ++version });
 *
 * const callers = Array.from({ length: 100 }, () => cache.get("config"));
 * assert.deepEqual(new Set(await Promise.all(callers)), new Set([1]));
 * assert.equal(cache.stats.loads, 1);
 * assert.equal(cache.stats.coalesced, 99);
 * ```
 */
export class LoadingCache<V> {
  #load: Loader<V> | undefined;
  #ttlMs: number;
  #beta: number;
  #maxEntries: number;
  #staleIfErrorMs: number;
  #store: CacheStore<V> | undefined;
  #clock: Pick<Clock, "now">;
  #random: () => number;
  #onError: ((event: CacheErrorEvent) => void) | undefined;

  #slots = new Map<string, number>();
  #keys: (string | undefined)[] = [];
  #values: (V | undefined)[] = [];
  #expiresAt = new Float64Array(0);
  #refreshAt = new Float64Array(0);
  #newer = new Int32Array(0);
  #older = new Int32Array(0);
  #failed = new Uint8Array(0);
  #newest = NONE;
  #oldest = NONE;
  #free: number[] = [];
  #used = 0;

  #flights = new Map<string, Flight<V>>();
  #stats = {
    hits: 0,
    misses: 0,
    staleHits: 0,
    earlyRefreshes: 0,
    loads: 0,
    loadFailures: 0,
    storeHits: 0,
    coalesced: 0,
    evictions: 0,
  };
  #nowMs = 0;
  #nowReads = 0;
  #forgetNow = () => {
    this.#nowReads = 0;
  };

  /** Makes an empty cache; throws a `RangeError` or `TypeError` for bad options. */
  constructor(options: CacheOptions<V> = {}) {
    const { beta = 1, maxEntries = 1000, store } = options;
    if (typeof beta !== "number" || !(beta >= 0) || beta === Infinity) {
      throw new RangeError(
        `LoadingCache: beta must be a finite number >= 0, got ${beta}`,
      );
    }
    if (
      !Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 2 ** 30
    ) {
      throw new RangeError(
        `LoadingCache: maxEntries must be an integer in 1..2^30, got ${maxEntries}`,
      );
    }
    for (const name of ["load", "random", "onError"] as const) {
      checkFunction(name, options[name], true);
    }
    checkFunction("clock.now", options.clock?.now, !options.clock);
    for (const name of ["get", "set", "delete"] as const) {
      checkFunction(`store.${name}`, store?.[name], !store);
    }

    this.#load = options.load;
    this.#ttlMs = checkDuration("ttlMs", options.ttlMs ?? 60_000);
    this.#beta = beta;
    this.#maxEntries = maxEntries;
    this.#staleIfErrorMs = checkDuration(
      "staleIfErrorMs",
      options.staleIfErrorMs ?? 0,
    );
    this.#store = store;
    this.#clock = options.clock ?? wallClock;
    this.#random = options.random ?? Math.random;
    this.#onError = options.onError;
  }

  /** How many entries the in-memory layer holds. */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * A snapshot of the counters.
   *
   * @example Counting hits and misses
   * ```ts
   * import { LoadingCache } from "@dyno/dyno/cache";
   * import assert from "node:assert/strict";
   *
   * const cache = new LoadingCache<number>({ load: () => 1 });
   * await cache.get("a");
   * await cache.get("a");
   * assert.equal(cache.stats.misses, 1);
   * assert.equal(cache.stats.hits, 1);
   * ```
   */
  get stats(): CacheStats {
    return { ...this.#stats };
  }

  /**
   * The value of `key`, loading it on a miss with `loader` (or the `load`
   * option). Concurrent misses share one load. Near expiry, a read may start
   * a refresh in the background and still get the current value at once.
   * Rejects at once with a `TypeError` or `RangeError` for a bad key or
   * option, or with no loader to call.
   *
   * @example Get or load
   * ```ts
   * import { LoadingCache } from "@dyno/dyno/cache";
   * import assert from "node:assert/strict";
   *
   * const cache = new LoadingCache<string>();
   * const value = await cache.get("greeting", async ({ signal }) => {
   *   assert.equal(signal.aborted, false);
   *   return "hello";
   * });
   * assert.equal(value, "hello");
   * ```
   */
  get(
    key: string,
    loader?: Loader<V>,
    options?: CacheGetOptions,
  ): Promise<V> {
    try {
      const result = this.read(key, loader, options);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Like {@linkcode LoadingCache.get}, but a hit returns the value itself
   * rather than a promise, so that it allocates nothing; `await` works on
   * both. Bad input throws synchronously.
   *
   * @example A hit without a promise
   * ```ts
   * import { LoadingCache } from "@dyno/dyno/cache";
   * import assert from "node:assert/strict";
   *
   * const cache = new LoadingCache<number>({ load: () => 5 });
   * assert.ok(cache.read("five") instanceof Promise);
   * await cache.get("five");
   * assert.equal(cache.read("five"), 5);
   * ```
   */
  read(
    key: string,
    loader?: Loader<V>,
    options?: CacheGetOptions,
  ): V | Promise<V> {
    const slot = this.#slots.get(key);
    if (
      slot !== undefined && options === undefined &&
      this.#now() < this.#refreshAt[slot]
    ) {
      this.#stats.hits++;
      if (slot !== this.#newest) this.#touch(slot);
      return this.#values[slot] as V;
    }

    return this.#readSlowly(key, slot, loader, options);
  }

  /**
   * The value of `key` if it is cached and not expired, else `undefined`;
   * it neither loads, refreshes, counts nor changes the eviction order.
   *
   * @example Peeking
   * ```ts
   * import { LoadingCache } from "@dyno/dyno/cache";
   * import assert from "node:assert/strict";
   *
   * const cache = new LoadingCache<number>();
   * assert.equal(cache.peek("a"), undefined);
   * await cache.set("a", 1);
   * assert.equal(cache.peek("a"), 1);
   * ```
   */
  peek(key: string): V | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined || this.#now() >= this.#expiresAt[slot]) {
      return undefined;
    }

    return this.#values[slot];
  }

  /**
   * Stores `value` under `key`, here and in the store. A load of `key` that
   * is running goes on for its callers, but no longer overwrites the value.
   *
   * @example Setting a value with its own time to live
   * ```ts
   * import { LoadingCache } from "@dyno/dyno/cache";
   * import assert from "node:assert/strict";
   *
   * const cache = new LoadingCache<string>();
   * await cache.set("token", "abc", { ttlMs: 5_000 });
   * assert.equal(await cache.get("token"), "abc");
   * ```
   */
  async set(
    key: string,
    value: V,
    options: CacheSetOptions = {},
  ): Promise<void> {
    this.#checkKey(key);
    const ttlMs = checkDuration("ttlMs", options.ttlMs ?? this.#ttlMs);
    const deltaMs = checkDuration("deltaMs", options.deltaMs ?? 0);
    const now = this.#readClock();

    this.#flights.delete(key);
    this.#install(key, value, deltaMs, now + ttlMs);
    if (this.#store) {
      await this.#store.set(
        key,
        { value, deltaMs, expiresAt: now + ttlMs },
        { keepMs: ttlMs + this.#staleIfErrorMs },
      );
    }
  }

  /**
   * Removes `key` here and in the store, and aborts its load if one runs.
   *
   * @example Deleting
   * ```ts
   * import { LoadingCache } from "@dyno/dyno/cache";
   * import assert from "node:assert/strict";
   *
   * const cache = new LoadingCache<number>();
   * await cache.set("a", 1);
   * await cache.delete("a");
   * assert.equal(cache.peek("a"), undefined);
   * ```
   */
  async delete(key: string): Promise<void> {
    this.#checkKey(key);
    const slot = this.#slots.get(key);
    if (slot !== undefined) this.#remove(slot);
    this.#abandon(this.#flights.get(key));

    await this.#store?.delete(key);
  }

  /**
   * Removes every entry, aborts every load, and clears the store if it can.
   *
   * @example Clearing
   * ```ts
   * import { LoadingCache } from "@dyno/dyno/cache";
   * import assert from "node:assert/strict";
   *
   * const cache = new LoadingCache<number>();
   * await cache.set("a", 1);
   * await cache.clear();
   * assert.equal(cache.size, 0);
   * ```
   */
  async clear(): Promise<void> {
    for (const flight of [...this.#flights.values()]) this.#abandon(flight);
    this.#slots.clear();
    this.#keys.length = this.#values.length = this.#free.length = 0;
    this.#used = 0;
    this.#newest = this.#oldest = NONE;

    await this.#store?.clear?.();
  }

  /**
   * Wraps `fn` so that its results are cached under `keyOf(...args)`
   * (default: the arguments as JSON).
   *
   * @example Caching a function
   * ```ts
   * import { LoadingCache } from "@dyno/dyno/cache";
   * import assert from "node:assert/strict";
   *
   * let calls = 0;
   * const square = new LoadingCache<number>().wrap((n: number) => {
   *   calls++;
   *   return n * n;
   * });
   * assert.equal(await square(3), 9);
   * assert.equal(await square(3), 9);
   * assert.equal(calls, 1);
   * ```
   */
  wrap<A extends unknown[]>(
    fn: (...args: A) => V | PromiseLike<V>,
    keyOf: (...args: A) => string = (...args) => JSON.stringify(args),
  ): (...args: A) => Promise<V> {
    const cached = (...args: A): Promise<V> => {
      try {
        return this.get(keyOf(...args), () => fn(...args));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return cached;
  }

  #readSlowly(
    key: string,
    slot: number | undefined,
    loader: Loader<V> | undefined,
    options: CacheGetOptions | undefined,
  ): V | Promise<V> {
    const signal = options?.signal;
    const ttlMs = checkDuration("ttlMs", options?.ttlMs ?? this.#ttlMs);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (slot === undefined) this.#checkKey(key);
    checkFunction("loader", loader, true);
    const load = loader ?? this.#load;

    if (slot !== undefined) {
      const now = this.#now();
      const expiresAt = this.#expiresAt[slot];
      const fresh = now < expiresAt;
      if (
        fresh || (this.#failed[slot] && now < expiresAt + this.#staleIfErrorMs)
      ) {
        this.#stats[fresh ? "hits" : "staleHits"]++;
        this.#touch(slot);
        const value = this.#values[slot] as V;
        if (
          load && !this.#flights.has(key) &&
          (!fresh || this.#isDue(slot, now))
        ) {
          if (fresh) this.#stats.earlyRefreshes++;
          this.#start(key, load, ttlMs, true);
        }
        return value;
      }
    }

    let flight = this.#flights.get(key);
    if (flight) this.#stats.coalesced++;
    else if (load) flight = this.#start(key, load, ttlMs, false);
    else {
      throw new TypeError(
        `LoadingCache: no loader for key "${key}": pass one to get() or set the load option`,
      );
    }
    this.#stats.misses++;

    return this.#wait(flight, signal);
  }

  #isDue(slot: number, now: number): boolean {
    const expiresAt = this.#expiresAt[slot];
    const refreshAt = this.#refreshAt[slot];
    if (now < refreshAt) return false;

    const draw = -Math.log(Math.max(this.#random(), MIN_RANDOM));
    return draw * (expiresAt - refreshAt) / MAX_DRAW >= expiresAt - now;
  }

  #start(
    key: string,
    load: Loader<V>,
    ttlMs: number,
    background: boolean,
  ): Flight<V> {
    const flight: Flight<V> = {
      key,
      controller: new AbortController(),
      promise: undefined as unknown as Promise<V>,
      waiters: 0,
      pinned: background,
    };
    this.#flights.set(key, flight);

    flight.promise = this.#run(flight, load, ttlMs);
    flight.promise.catch(noop);
    return flight;
  }

  async #run(flight: Flight<V>, load: Loader<V>, ttlMs: number): Promise<V> {
    const { key, controller: { signal } } = flight;
    const current = () => this.#flights.get(key) === flight;
    try {
      const stored = this.#store && await this.#fromStore(key);
      if (signal.aborted) throw signal.reason;
      if (stored && current() && this.#adopt(key, stored)) return stored.value;

      this.#stats.loads++;
      const context = { key, signal, ttlMs };
      const startedAt = this.#readClock();
      const value = await load(context);
      if (signal.aborted) throw signal.reason;
      const now = this.#readClock();
      const deltaMs = Math.max(0, now - startedAt);
      const entry = {
        value,
        deltaMs,
        expiresAt: now + checkDuration("ttlMs", context.ttlMs),
      };
      if (!current()) return value;

      this.#install(key, value, deltaMs, entry.expiresAt);
      if (this.#store) await this.#toStore(key, entry, context.ttlMs);
      return value;
    } catch (error) {
      if (signal.aborted) throw error;
      return this.#fail(key, error, current());
    } finally {
      if (current()) this.#flights.delete(key);
    }
  }

  async #fromStore(key: string): Promise<StoredEntry<V> | undefined> {
    try {
      const stored = await this.#store!.get(key);
      if (stored?.expiresAt === null) return { ...stored, expiresAt: Infinity };
      if (typeof stored?.expiresAt === "number") return stored;
    } catch (error) {
      this.#report(key, error, "store", false);
    }
  }

  async #toStore(
    key: string,
    entry: StoredEntry<V>,
    ttlMs: number,
  ): Promise<void> {
    try {
      await this.#store!.set(key, entry, {
        keepMs: ttlMs + this.#staleIfErrorMs,
      });
    } catch (error) {
      this.#report(key, error, "store", false);
    }
  }

  #adopt(key: string, stored: StoredEntry<V>): boolean {
    const now = this.#readClock();
    const slot = this.#slots.get(key);
    const { value, deltaMs, expiresAt } = stored;
    if (
      (slot !== undefined && expiresAt <= this.#expiresAt[slot]) ||
      !(now < expiresAt + this.#staleIfErrorMs)
    ) {
      return false;
    }

    this.#install(key, value, deltaMs > 0 ? deltaMs : 0, expiresAt);
    if (now >= expiresAt) return false;
    this.#stats.storeHits++;
    return true;
  }

  /** `current`: whether the failed load still owns the key (no set() since). */
  #fail(key: string, error: unknown, current: boolean): V {
    this.#stats.loadFailures++;
    const slot = this.#slots.get(key);
    const stale = slot !== undefined &&
      this.#readClock() < this.#expiresAt[slot] + this.#staleIfErrorMs;

    this.#report(key, error, "loader", stale);
    if (!stale) throw error;
    if (current) this.#failed[slot] = 1;
    return this.#values[slot] as V;
  }

  #report(
    key: string,
    error: unknown,
    source: CacheErrorEvent["source"],
    stale: boolean,
  ): void {
    try {
      this.#onError?.({ key, error, source, stale });
    } catch {
      // A throwing hook must not break the cache.
    }
  }

  #wait(flight: Flight<V>, signal: AbortSignal | undefined): Promise<V> {
    if (!signal) {
      flight.pinned = true;
      return flight.promise;
    }

    flight.waiters++;
    return new Promise<V>((resolve, reject) => {
      const onAbort = () => {
        if (--flight.waiters === 0 && !flight.pinned) this.#abandon(flight);
        reject(signal.reason);
      };
      const settle = () => signal.removeEventListener("abort", onAbort);
      signal.addEventListener("abort", onAbort, { once: true });
      flight.promise.then(
        (value) => (settle(), resolve(value)),
        (error) => (settle(), reject(error)),
      );
    });
  }

  #abandon(flight: Flight<V> | undefined): void {
    if (!flight) return;

    if (this.#flights.get(flight.key) === flight) {
      this.#flights.delete(flight.key);
    }
    flight.controller.abort();
  }

  #now(): number {
    if (this.#nowReads > 0) {
      this.#nowReads--;
      return this.#nowMs;
    }

    this.#nowReads = CLOCK_READS - 1;
    queueMicrotask(this.#forgetNow);
    return (this.#nowMs = this.#clock.now());
  }

  #readClock(): number {
    const now = this.#clock.now();
    if (now > this.#nowMs) this.#nowMs = now;

    return now;
  }

  #checkKey(key: string): void {
    if (typeof key !== "string") {
      throw new TypeError(
        `LoadingCache: key must be a string, got ${typeof key}`,
      );
    }
    this.#store?.checkKey?.(key);
  }

  #install(key: string, value: V, deltaMs: number, expiresAt: number): void {
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = this.#allocate();
      this.#slots.set(key, slot);
      this.#keys[slot] = key;
      this.#link(slot);
    } else {
      this.#touch(slot);
    }

    this.#values[slot] = value;
    this.#expiresAt[slot] = expiresAt;
    this.#refreshAt[slot] = expiresAt - deltaMs * this.#beta * MAX_DRAW;
    this.#failed[slot] = 0;
  }

  #allocate(): number {
    if (this.#slots.size >= this.#maxEntries) {
      this.#stats.evictions++;
      this.#remove(this.#oldest);
    }
    if (this.#free.length > 0) return this.#free.pop()!;
    if (this.#used === this.#expiresAt.length) this.#grow();

    return this.#used++;
  }

  #grow(): void {
    const capacity = Math.min(
      this.#maxEntries,
      Math.max(16, this.#used * 2),
    );
    this.#expiresAt = grown(this.#expiresAt, new Float64Array(capacity));
    this.#refreshAt = grown(this.#refreshAt, new Float64Array(capacity));
    this.#newer = grown(this.#newer, new Int32Array(capacity));
    this.#older = grown(this.#older, new Int32Array(capacity));
    this.#failed = grown(this.#failed, new Uint8Array(capacity));
  }

  #remove(slot: number): void {
    this.#unlink(slot);
    this.#slots.delete(this.#keys[slot]!);
    this.#keys[slot] = this.#values[slot] = undefined;
    this.#free.push(slot);
  }

  #link(slot: number): void {
    this.#older[slot] = this.#newest;
    this.#newer[slot] = NONE;
    if (this.#newest === NONE) this.#oldest = slot;
    else this.#newer[this.#newest] = slot;
    this.#newest = slot;
  }

  #unlink(slot: number): void {
    const older = this.#older[slot];
    const newer = this.#newer[slot];
    if (older === NONE) this.#oldest = newer;
    else this.#newer[older] = newer;
    if (newer === NONE) this.#newest = older;
    else this.#older[newer] = older;
  }

  #touch(slot: number): void {
    if (slot === this.#newest) return;

    this.#unlink(slot);
    this.#link(slot);
  }
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(
  from: T,
  to: T,
): T {
  to.set(from as never);
  return to;
}

function checkDuration(name: string, value: unknown): number {
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(
      `LoadingCache: ${name} must be a number >= 0, got ${value}`,
    );
  }

  return value;
}

function checkFunction(
  name: string,
  value: unknown,
  optional: boolean,
): void {
  if (!(optional && value === undefined) && typeof value !== "function") {
    throw new TypeError(
      `LoadingCache: ${name} must be a function, got ${typeof value}`,
    );
  }
}
