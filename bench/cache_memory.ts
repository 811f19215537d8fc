/**
 * Heap bytes per entry at 100k entries: dyno's LoadingCache beside
 * lru-cache 11 (with and without a TTL) and a plain Map.
 *
 * Run: deno run --v8-flags=--expose-gc bench/cache_memory.ts
 */

import { LRUCache } from "npm:lru-cache@11";
import { LoadingCache } from "../lib/cache.ts";

const ENTRIES = 100_000;
const keys = Array.from({ length: ENTRIES }, (_, i) => `key:${i}`);
const values = Array.from({ length: ENTRIES }, (_, i) => ({ id: i }));

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  throw new Error("run with --v8-flags=--expose-gc");
}

async function heapUsed(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  for (let i = 0; i < 3; i++) gc!();
  return Deno.memoryUsage().heapUsed;
}

async function bytesPerEntry(fill: () => unknown): Promise<number> {
  const before = await heapUsed();
  const kept = fill();
  const after = await heapUsed();
  if (kept === undefined) throw new Error("nothing kept");

  return (after - before) / ENTRIES;
}

const contenders: [string, () => unknown][] = [
  ["Map (key -> value)", () => {
    const map = new Map<string, object>();
    for (let i = 0; i < ENTRIES; i++) map.set(keys[i], values[i]);
    return map;
  }],
  ["lru-cache, ttl", () => {
    const lru = new LRUCache<string, object>({ max: ENTRIES, ttl: 60_000 });
    for (let i = 0; i < ENTRIES; i++) lru.set(keys[i], values[i]);
    return lru;
  }],
  ["lru-cache, no ttl", () => {
    const lru = new LRUCache<string, object>({ max: ENTRIES });
    for (let i = 0; i < ENTRIES; i++) lru.set(keys[i], values[i]);
    return lru;
  }],
  ["dyno LoadingCache, ttl", () => {
    const cache = new LoadingCache<object>({
      maxEntries: ENTRIES,
      ttlMs: 60_000,
    });
    for (let i = 0; i < ENTRIES; i++) cache.set(keys[i], values[i]);
    return cache;
  }],
];

for (const [name, fill] of contenders) {
  const runs = [];
  for (let run = 0; run < 3; run++) runs.push(await bytesPerEntry(fill));
  const best = Math.min(...runs);
  // deno-lint-ignore no-console
  console.log(`${name.padEnd(24)} ${best.toFixed(1)} bytes per entry`);
}
