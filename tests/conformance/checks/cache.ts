/**
 * Checks of `cache`: single flight, early refresh by the XFetch rule,
 * stale-if-error and sharing a store, with time and randomness injected.
 *
 * @module
 */

import { LoadingCache, MemoryStore } from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  checkJson,
  Flaky,
  gate,
  rejection,
  settle,
} from "./_check.ts";

/** A time source for the cache, moved by assigning `nowMs`. */
class Time {
  nowMs = 0;
  now = (): number => this.nowMs;

  /** Moves to `nowMs`; the cache sees it after the next turn. */
  async moveTo(nowMs: number): Promise<void> {
    this.nowMs = nowMs;
    await settle();
  }
}

export const cacheChecks: Check[] = [
  ["cache: concurrent misses share one load (single flight)", async () => {
    const loading = gate<string>();
    let loads = 0;
    const cache = new LoadingCache<string>({
      clock: new Time(),
      load: () => {
        loads++;
        return loading.promise;
      },
    });

    const callers = Array.from({ length: 20 }, () => cache.get("config"));
    loading.resolve("v1");
    const values = new Set(await Promise.all(callers));
    const hit = cache.read("config");

    checkJson([...values], ["v1"], "values");
    checkEqual(loads, 1, "loads");
    checkEqual(cache.stats.misses, 20, "misses");
    checkEqual(cache.stats.coalesced, 19, "coalesced");
    checkEqual(hit, "v1", "a hit, returned without a promise");
    checkEqual(cache.stats.hits, 1, "hits");
  }],
  [
    "cache: a read near expiry refreshes early in the background (XFetch)",
    async () => {
      const time = new Time();
      let version = 0;
      const cache = new LoadingCache<number>({
        clock: time,
        random: () => 0.5,
        ttlMs: 1_000,
        load: () => ++version,
      });
      // With deltaMs 100 and a draw of 0.5, a read refreshes once
      // 100 * ln 2 = 69.3 ms or less are left before expiry at 1 000 ms.
      await cache.set("config", 0, { ttlMs: 1_000, deltaMs: 100 });

      await time.moveTo(900);
      const farFromExpiry = await cache.get("config");
      const refreshesFar = cache.stats.earlyRefreshes;
      await time.moveTo(950);
      const nearExpiry = await cache.get("config");
      const refreshesNear = cache.stats.earlyRefreshes;
      await settle();

      checkEqual(farFromExpiry, 0, "value 100 ms before expiry");
      checkEqual(refreshesFar, 0, "early refreshes 100 ms before expiry");
      checkEqual(nearExpiry, 0, "value served while refreshing");
      checkEqual(refreshesNear, 1, "early refreshes 50 ms before expiry");
      checkEqual(cache.peek("config"), 1, "value after the refresh");
      checkEqual(cache.stats.loads, 1, "loads");
      checkEqual(cache.stats.misses, 0, "misses");
    },
  ],
  [
    "cache: expiry reloads; stale-if-error serves the old value for a while",
    async () => {
      const time = new Time();
      const errors: string[] = [];
      let healthy = true;
      let loads = 0;
      const cache = new LoadingCache<string>({
        clock: time,
        ttlMs: 1_000,
        beta: 0,
        staleIfErrorMs: 500,
        onError: ({ key, source, stale }) =>
          errors.push(`${key} ${source} stale=${stale}`),
        load: () => {
          loads++;
          if (!healthy) throw new Flaky("upstream down");
          return `v${loads}`;
        },
      });

      const first = await cache.get("k");
      await time.moveTo(1_000);
      const reloaded = await cache.get("k");
      healthy = false;
      await time.moveTo(2_100);
      const failedReload = await cache.get("k");
      const staleHit = await cache.get("k");
      await settle();
      await time.moveTo(2_500);
      const tooOld = await rejection(cache.get("k"));

      checkEqual(first, "v1", "first load");
      checkEqual(reloaded, "v2", "reload at expiry");
      checkEqual(failedReload, "v2", "stale value when the reload failed");
      checkEqual(staleHit, "v2", "stale value while refreshes fail");
      checkEqual(cache.stats.staleHits, 1, "stale hits");
      checkEqual(cache.stats.loadFailures, 3, "load failures");
      check(tooOld instanceof Flaky, "past staleIfErrorMs the error shows");
      checkJson(
        errors,
        [
          "k loader stale=true",
          "k loader stale=true",
          "k loader stale=false",
        ],
        "error events",
      );
    },
  ],
  ["cache: two caches share a MemoryStore", async () => {
    const time = new Time();
    const store = new MemoryStore<string>({ clock: time });
    let loads = 0;
    const load = () => `computed ${++loads}`;
    const first = new LoadingCache<string>({ store, load, clock: time });
    const second = new LoadingCache<string>({ store, load, clock: time });

    const fromFirst = await first.get("k");
    const fromSecond = await second.get("k");
    await first.delete("k");

    checkEqual(fromFirst, "computed 1", "first cache");
    checkEqual(fromSecond, "computed 1", "second cache");
    checkEqual(loads, 1, "loads");
    checkEqual(second.stats.storeHits, 1, "second cache's store hits");
    checkEqual(await store.get("k"), undefined, "store entry after delete");
    checkEqual(second.peek("k"), "computed 1", "second cache's own copy");
  }],
  ["cache: wrap() caches a function by its arguments", async () => {
    let calls = 0;
    const square = new LoadingCache<number>({ clock: new Time() }).wrap(
      (n: number) => {
        calls++;
        return n * n;
      },
    );

    checkEqual(await square(3), 9, "first call");
    checkEqual(await square(3), 9, "second call");
    checkEqual(await square(4), 16, "other argument");
    checkEqual(calls, 2, "calls");
  }],
];
