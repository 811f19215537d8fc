/**
 * Cache hits: dyno's LoadingCache beside lru-cache 11 with a TTL.
 *
 * Group `cache` has lru-cache's synchronous `get` as its baseline, since a
 * hit needs no promise: `dyno read` returns the value itself on a hit.
 * Group `cache async` has the usual raw async call as its baseline, with
 * dyno's `get` and lru-cache's `fetch`, both awaited.
 *
 * Both caches read the clock lazily: lru-cache once per millisecond through a
 * timer, dyno once per microtask turn and every 1024 reads. A synchronous
 * bench loop runs in one turn, so in group `cache` neither pays for a clock
 * read per hit; in group `cache async` every await starts a new turn, and
 * dyno reads the clock on each hit.
 *
 * Memory per entry: `deno run --v8-flags=--expose-gc bench/cache_memory.ts`.
 */

import { LRUCache } from "npm:lru-cache@11";
import { LoadingCache } from "../lib/cache.ts";

const KEYS = 1_000;
const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`);

const lru = new LRUCache<string, number>({
  max: 10_000,
  ttl: 60_000,
  fetchMethod: (key) => key.length,
});
const dyno = new LoadingCache<number>({
  maxEntries: 10_000,
  ttlMs: 60_000,
  load: ({ key }) => key.length,
});
const nearExpiry = new LoadingCache<number>({
  maxEntries: 10_000,
  ttlMs: 60_000,
  random: () => 0.999_999,
});
for (const key of keys) {
  lru.set(key, key.length);
  await dyno.get(key);
  await nearExpiry.set(key, key.length, { deltaMs: 60_000 });
}

let i = 0;
const nextKey = () => keys[i = (i + 1) % KEYS];

Deno.bench("lru-cache get (hit, ttl)", {
  group: "cache",
  baseline: true,
}, () => {
  lru.get(nextKey());
});

Deno.bench("dyno read (hit)", { group: "cache" }, () => {
  dyno.read(nextKey());
});

Deno.bench("dyno peek (hit)", { group: "cache" }, () => {
  dyno.peek(nextKey());
});

Deno.bench("dyno read (hit near expiry: draws a random number)", {
  group: "cache",
}, () => {
  nearExpiry.read(nextKey());
});

Deno.bench("raw async call", {
  group: "cache async",
  baseline: true,
}, async () => {
  // deno-lint-ignore require-await
  await (async () => 1)();
});

Deno.bench("dyno get (hit, awaited)", { group: "cache async" }, async () => {
  await dyno.get(nextKey());
});

Deno.bench("lru-cache fetch (hit, ttl, awaited)", {
  group: "cache async",
}, async () => {
  await lru.fetch(nextKey());
});
