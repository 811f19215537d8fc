import assert from "node:assert/strict";
import {
  type CacheErrorEvent,
  type CacheOptions,
  type CacheStore,
  type LoaderContext,
  LoadingCache,
} from "../lib/cache.ts";
import { sleep } from "../lib/clock.ts";
import { ManualClock, settle } from "../lib/testing.ts";

const LN_2_53 = 53 * Math.LN2;

/** A loader that takes `deltaMs` of manual time and counts its runs. */
function slowLoader(clock: ManualClock, deltaMs: number) {
  const contexts: LoaderContext[] = [];
  const load = async (context: LoaderContext) => {
    contexts.push(context);
    const run = contexts.length;
    await sleep(deltaMs, { clock, signal: context.signal });
    return `v${run}`;
  };
  return { load, contexts };
}

function scripted(values: number[]): () => number {
  return () => {
    const value = values.shift();
    if (value === undefined) throw new Error("random() called too often");
    return value;
  };
}

/** A cache whose entry "k" loaded at 0 in 100 ms, expiring at 100 + ttlMs. */
async function warmCache(options: CacheOptions<string> = {}) {
  const clock = new ManualClock();
  const { load, contexts } = slowLoader(clock, 100);
  const cache = new LoadingCache<string>({ clock, load, ...options });
  const first = cache.get("k");
  await clock.advance(100);
  assert.equal(await first, "v1");
  return { clock, cache, contexts };
}

Deno.test("get() loads on a miss and hits afterwards", async () => {
  let loads = 0;
  const cache = new LoadingCache<string>({
    load: ({ key }) => `${key}${++loads}`,
  });

  assert.equal(await cache.get("a"), "a1");
  assert.equal(await cache.get("a"), "a1");
  assert.equal(await cache.get("b"), "b2");
  assert.equal(cache.size, 2);
  assert.deepEqual(cache.stats, {
    hits: 1,
    misses: 2,
    staleHits: 0,
    earlyRefreshes: 0,
    loads: 2,
    loadFailures: 0,
    storeHits: 0,
    coalesced: 0,
    evictions: 0,
  });
});

Deno.test("get() prefers the loader it is given over the load option", async () => {
  const cache = new LoadingCache<string>({ load: () => "default" });

  assert.equal(await cache.get("a", () => "given"), "given");
  assert.equal(await cache.get("b"), "default");
});

Deno.test("the loader gets the key, an AbortSignal and the time to live", async () => {
  let seen: LoaderContext | undefined;
  const cache = new LoadingCache<number>({ ttlMs: 500 });

  await cache.get("a", (context) => {
    seen = context;
    return 1;
  });
  assert.equal(seen?.key, "a");
  assert.ok(seen?.signal instanceof AbortSignal);
  assert.equal(seen?.signal.aborted, false);
  assert.equal(seen?.ttlMs, 500);
});

Deno.test("a miss without any loader rejects with a TypeError at once", async () => {
  const cache = new LoadingCache<number>();

  await assert.rejects(cache.get("a"), {
    name: "TypeError",
    message:
      'LoadingCache: no loader for key "a": pass one to get() or set the load option',
  });
  assert.throws(() => cache.read("a"), TypeError);
});

Deno.test("read() returns the value itself on a hit and a promise on a miss", async () => {
  const cache = new LoadingCache<number>({ load: () => 5 });

  const miss = cache.read("a");
  assert.ok(miss instanceof Promise);
  assert.equal(await miss, 5);
  assert.equal(cache.read("a"), 5);
});

Deno.test("1000 concurrent callers on an expired key run the loader once and all get its value", async () => {
  const { clock, cache, contexts } = await warmCache({ ttlMs: 1_000 });
  await clock.advance(1_000);

  const callers = Array.from({ length: 1000 }, () => cache.get("k"));
  await clock.advance(100);
  const values = await Promise.all(callers);

  assert.equal(contexts.length, 2);
  assert.ok(values.every((value) => value === "v2"));
  assert.equal(cache.stats.loads, 2);
  assert.equal(cache.stats.misses, 1001);
  assert.equal(cache.stats.coalesced, 999);
});

Deno.test("a failed load is shared by every caller waiting on it", async () => {
  let loads = 0;
  const cache = new LoadingCache<number>({
    load: () => Promise.reject(new Error(`down ${++loads}`)),
  });

  const results = await Promise.allSettled([cache.get("a"), cache.get("a")]);
  assert.deepEqual(
    results.map((result) =>
      result.status === "rejected" && result.reason.message
    ),
    ["down 1", "down 1"],
  );
  await assert.rejects(cache.get("a"), { message: "down 2" });
});

Deno.test("a loader that throws synchronously rejects the call", async () => {
  const cache = new LoadingCache<number>({
    load: () => {
      throw new Error("sync");
    },
  });

  await assert.rejects(cache.get("a"), { message: "sync" });
  await assert.rejects(cache.get("a"), { message: "sync" });
  assert.equal(cache.stats.loadFailures, 2);
});

Deno.test("XFetch: a read refreshes early exactly when now - delta * beta * ln(random) >= expiry", async (t) => {
  for (
    const [beta, random, due] of [
      [1, Math.exp(-2) - 1e-9, true],
      [1, Math.exp(-2) + 1e-9, false],
      [2, Math.exp(-1) - 1e-9, true],
      [2, Math.exp(-1) + 1e-9, false],
    ] as const
  ) {
    await t.step(`beta ${beta}, random ${random.toFixed(9)}`, async () => {
      const { clock, cache, contexts } = await warmCache({
        ttlMs: 1_000,
        beta,
        random: scripted([random]),
      });
      await clock.advance(800);

      assert.equal(cache.read("k"), "v1");
      assert.equal(contexts.length, due ? 2 : 1);
      assert.equal(cache.stats.earlyRefreshes, due ? 1 : 0);
    });
  }
});

Deno.test("an early refresh runs in the background while readers keep the current value", async () => {
  const { clock, cache, contexts } = await warmCache({
    ttlMs: 1_000,
    random: () => 0.01,
  });
  await clock.advance(900);

  for (let i = 0; i < 10; i++) assert.equal(cache.read("k"), "v1");
  assert.equal(contexts.length, 2);
  await clock.advance(99);
  assert.equal(cache.read("k"), "v1");
  await clock.advance(1);
  assert.equal(cache.read("k"), "v2");
  assert.equal(cache.stats.earlyRefreshes, 1);
  assert.equal(cache.stats.misses, 1);
});

Deno.test("a hit far from expiry draws no random number", async () => {
  let draws = 0;
  const { clock, cache } = await warmCache({
    ttlMs: 60_000,
    random: () => (draws++, 0.5),
  });

  for (let at = 0; at < 56_000; at += 1_000) {
    assert.equal(cache.read("k"), "v1");
    await clock.advance(1_000);
  }
  assert.equal(draws, 0);
});

Deno.test("random() below 2^-53 counts as 2^-53: no refresh earlier than 36.7 * delta * beta before expiry", async () => {
  let draws = 0;
  const { clock, cache, contexts } = await warmCache({
    ttlMs: 60_000,
    random: () => (draws++, 0),
  });
  const earliest = 60_100 - 100 * LN_2_53;

  await clock.advance(Math.floor(earliest) - 100);
  assert.equal(cache.read("k"), "v1");
  assert.equal(draws, 0);
  await clock.advance(1);
  assert.equal(cache.read("k"), "v1");
  assert.equal(draws, 1);
  assert.equal(contexts.length, 2);
});

Deno.test("beta 0 never refreshes early: the first read at expiry waits", async () => {
  const { clock, cache, contexts } = await warmCache({
    ttlMs: 1_000,
    beta: 0,
    random: scripted([]),
  });

  await clock.advance(999);
  assert.equal(cache.read("k"), "v1");
  await clock.advance(1);
  const waiting = cache.read("k");
  assert.ok(waiting instanceof Promise);
  await clock.advance(100);
  assert.equal(await waiting, "v2");
  assert.equal(contexts.length, 2);
});

Deno.test("stale-if-error: a failed early refresh keeps the value and is reported", async () => {
  const events: CacheErrorEvent[] = [];
  const cache = new LoadingCache<number>({
    ttlMs: 1_000,
    random: () => 0,
    onError: (event) => events.push(event),
  });
  await cache.set("k", 1, { deltaMs: 100 });
  const failure = new Error("backend down");

  assert.equal(cache.read("k", () => Promise.reject(failure)), 1);
  await settle();
  assert.equal(cache.read("k"), 1);
  assert.deepEqual(events, [
    { key: "k", error: failure, source: "loader", stale: true },
  ]);
  assert.equal(cache.stats.loadFailures, 1);
});

Deno.test("stale-if-error: after expiry, a failed load serves the old value for staleIfErrorMs", async () => {
  const clock = new ManualClock();
  const events: CacheErrorEvent[] = [];
  let fail = false;
  let loads = 0;
  const cache = new LoadingCache<string>({
    clock,
    ttlMs: 1_000,
    beta: 0,
    staleIfErrorMs: 5_000,
    onError: (event) => events.push(event),
    load: () => {
      loads++;
      return fail ? Promise.reject(new Error("down")) : `v${loads}`;
    },
  });
  assert.equal(await cache.get("k"), "v1");
  fail = true;

  await clock.advance(1_000);
  assert.equal(await cache.get("k"), "v1");
  assert.equal(events.length, 1);
  assert.equal(events[0].stale, true);

  await clock.advance(2_000);
  assert.equal(cache.read("k"), "v1");
  assert.equal(cache.read("k"), "v1");
  await clock.advance(0);
  assert.equal(loads, 3, "one background retry, not one per read");
  assert.equal(cache.stats.staleHits, 2);

  await clock.advance(3_000);
  await assert.rejects(cache.get("k"), { message: "down" });
  assert.equal(events.at(-1)?.stale, false);
});

Deno.test("stale-if-error: a later successful refresh ends the stale period", async () => {
  const clock = new ManualClock();
  let fail = true;
  const cache = new LoadingCache<string>({
    clock,
    ttlMs: 1_000,
    beta: 0,
    staleIfErrorMs: 5_000,
    load: () => fail ? Promise.reject(new Error("down")) : "new",
  });
  await cache.set("k", "old");

  await clock.advance(1_000);
  assert.equal(await cache.get("k"), "old");
  fail = false;
  assert.equal(cache.read("k"), "old");
  await clock.advance(0);
  assert.equal(cache.read("k"), "new");
});

Deno.test("without staleIfErrorMs a failed load after expiry rejects", async () => {
  const clock = new ManualClock();
  const events: CacheErrorEvent[] = [];
  const cache = new LoadingCache<string>({
    clock,
    ttlMs: 1_000,
    onError: (event) => events.push(event),
    load: () => Promise.reject(new Error("down")),
  });
  await cache.set("k", "old");

  await clock.advance(1_000);
  await assert.rejects(cache.get("k"), { message: "down" });
  assert.equal(events[0].stale, false);
});

Deno.test("a throwing onError hook does not break the cache", async () => {
  const cache = new LoadingCache<number>({
    onError: () => {
      throw new Error("hook");
    },
  });

  await assert.rejects(
    cache.get("a", () => Promise.reject(new Error("load"))),
    { message: "load" },
  );
  assert.equal(await cache.get("a", () => 1), 1);
});

Deno.test("maxEntries evicts the least recently used entry", async () => {
  const cache = new LoadingCache<string>({ maxEntries: 3 });
  for (const key of ["a", "b", "c"]) await cache.set(key, key);

  assert.equal(cache.read("a"), "a");
  await cache.set("d", "d");
  assert.equal(cache.peek("b"), undefined);

  assert.equal(cache.peek("c"), "c", "peek does not refresh the order");
  await cache.set("e", "e");
  assert.equal(cache.peek("c"), undefined);
  assert.deepEqual(["a", "d", "e"].map((key) => cache.peek(key)), [
    "a",
    "d",
    "e",
  ]);
  assert.equal(cache.size, 3);
  assert.equal(cache.stats.evictions, 2);
});

Deno.test("eviction keeps working over many entries and reuses slots", async () => {
  const cache = new LoadingCache<number>({ maxEntries: 100 });
  for (let i = 0; i < 1_000; i++) await cache.set(`k${i}`, i);
  for (let i = 900; i < 1_000; i += 2) cache.read(`k${i}`);
  for (let i = 1_000; i < 1_050; i++) await cache.set(`k${i}`, i);

  assert.equal(cache.size, 100);
  for (let i = 900; i < 1_000; i++) {
    assert.equal(cache.peek(`k${i}`), i % 2 === 0 ? i : undefined);
  }
  assert.equal(cache.stats.evictions, 950);
});

Deno.test("TTL edges: an entry expires exactly at its expiry time", async () => {
  const clock = new ManualClock();
  const cache = new LoadingCache<number>({ clock, ttlMs: 1_000, beta: 0 });
  await cache.set("k", 1);

  await clock.advance(999);
  assert.equal(cache.peek("k"), 1);
  await clock.advance(1);
  assert.equal(cache.peek("k"), undefined);
  assert.ok(cache.read("k", () => 2) instanceof Promise);
});

Deno.test("TTL edges: ttlMs 0 loads on every call but still coalesces concurrent ones", async () => {
  let loads = 0;
  const cache = new LoadingCache<number>({ ttlMs: 0, load: () => ++loads });

  assert.deepEqual(await Promise.all([cache.get("k"), cache.get("k")]), [1, 1]);
  assert.equal(await cache.get("k"), 2);
});

Deno.test("TTL edges: ttlMs Infinity never expires", async () => {
  const clock = new ManualClock();
  const cache = new LoadingCache<number>({ clock, ttlMs: Infinity });
  await cache.get("k", () => 1);

  await clock.advance(1e12);
  assert.equal(cache.read("k"), 1);
});

Deno.test("TTL edges: get(), set() and the loader override the time to live per entry", async () => {
  const clock = new ManualClock();
  const cache = new LoadingCache<number>({ clock, ttlMs: 1_000, beta: 0 });
  await cache.get("get", () => 1, { ttlMs: 5_000 });
  await cache.set("set", 2, { ttlMs: 5_000 });
  await cache.get("loader", (context) => {
    context.ttlMs = 5_000;
    return 3;
  });
  await cache.set("default", 4);

  await clock.advance(4_999);
  assert.deepEqual(
    ["get", "set", "loader", "default"].map((key) => cache.peek(key)),
    [1, 2, 3, undefined],
  );
  await clock.advance(1);
  assert.equal(cache.peek("get"), undefined);
});

Deno.test("a loader that sets a bad ttlMs fails with a RangeError", async () => {
  const cache = new LoadingCache<number>();

  await assert.rejects(
    cache.get("k", (context) => {
      context.ttlMs = -1;
      return 1;
    }),
    {
      name: "RangeError",
      message: "LoadingCache: ttlMs must be a number >= 0, got -1",
    },
  );
});

Deno.test("abort: an already-aborted signal rejects at once without loading", async () => {
  let loads = 0;
  const cache = new LoadingCache<number>({ load: () => ++loads });
  const reason = new Error("gone");

  await assert.rejects(
    cache.get("k", undefined, { signal: AbortSignal.abort(reason) }),
    reason,
  );
  assert.equal(loads, 0);
});

Deno.test("abort: the last waiter giving up aborts the loader, and the next call loads again", async () => {
  const clock = new ManualClock();
  const { load, contexts } = slowLoader(clock, 100);
  const cache = new LoadingCache<string>({ clock, load });
  const controller = new AbortController();
  const reason = new Error("caller left");

  const waiting = cache.get("k", undefined, { signal: controller.signal });
  await clock.advance(50);
  controller.abort(reason);
  await assert.rejects(waiting, reason);
  assert.equal(contexts[0].signal.aborted, true);
  assert.equal(clock.pendingTimers, 0);

  const again = cache.get("k");
  await clock.advance(100);
  assert.equal(await again, "v2");
  assert.equal(cache.stats.loadFailures, 0);
});

Deno.test("abort: the loader goes on while another caller still waits", async () => {
  const clock = new ManualClock();
  const { load, contexts } = slowLoader(clock, 100);
  const cache = new LoadingCache<string>({ clock, load });
  const first = new AbortController();
  const second = new AbortController();

  const leaving = cache.get("k", undefined, { signal: first.signal });
  const staying = cache.get("k", undefined, { signal: second.signal });
  const pinned = cache.get("k");
  first.abort();
  second.abort();
  await assert.rejects(leaving, { name: "AbortError" });
  await assert.rejects(staying, { name: "AbortError" });
  assert.equal(contexts[0].signal.aborted, false);

  await clock.advance(100);
  assert.equal(await pinned, "v1");
  assert.equal(contexts.length, 1);
});

Deno.test("abort: delete() aborts the running load and drops its result", async () => {
  let context: LoaderContext | undefined;
  let finish: (value: number) => void = () => {};
  const cache = new LoadingCache<number>({
    load: (given) => {
      context = given;
      return new Promise((resolve) => (finish = resolve));
    },
  });

  const waiting = cache.get("k");
  await cache.delete("k");
  assert.equal(context?.signal.aborted, true);
  finish(1);
  await assert.rejects(waiting, { name: "AbortError" });
  assert.equal(cache.peek("k"), undefined);
});

Deno.test("abort: clear() aborts every running load", async () => {
  const signals: AbortSignal[] = [];
  const cache = new LoadingCache<number>({
    load: ({ signal }) =>
      new Promise((_, reject) => {
        signals.push(signal);
        signal.addEventListener("abort", () => reject(signal.reason));
      }),
  });

  const waiting = [cache.get("a"), cache.get("b")];
  await cache.clear();
  for (const call of waiting) {
    await assert.rejects(call, { name: "AbortError" });
  }
  assert.deepEqual(signals.map((signal) => signal.aborted), [true, true]);
  assert.equal(cache.stats.loadFailures, 0);
});

Deno.test("delete() and clear() remove entries", async () => {
  const cache = new LoadingCache<number>();
  for (const key of ["a", "b", "c"]) await cache.set(key, 1);

  await cache.delete("a");
  await cache.delete("missing");
  assert.equal(cache.peek("a"), undefined);
  assert.equal(cache.size, 2);
  await cache.clear();
  assert.equal(cache.size, 0);
  assert.equal(cache.peek("b"), undefined);

  await cache.set("d", 4);
  assert.equal(cache.peek("d"), 4);
});

Deno.test("the clock is read at most once per microtask turn", async () => {
  let now = 0;
  let reads = 0;
  const clock = { now: () => (reads++, now) };
  const cache = new LoadingCache<number>({ clock, ttlMs: 10, beta: 0 });
  await cache.set("k", 1);
  await null;

  reads = 0;
  for (let i = 0; i < 100; i++) cache.read("k");
  assert.equal(reads, 1);
  now = 10;
  assert.equal(cache.peek("k"), 1, "same turn: the old time still holds");
  await null;
  assert.equal(cache.peek("k"), undefined);
});

Deno.test("the clock is read again after 1024 reads in one turn", async () => {
  let reads = 0;
  const cache = new LoadingCache<number>({
    clock: { now: () => (reads++, 0) },
  });
  await cache.set("k", 1);
  await null;

  reads = 0;
  for (let i = 0; i < 2048; i++) cache.read("k");
  assert.equal(reads, 2);
});

Deno.test("wrap() caches a function by its arguments", async () => {
  let calls = 0;
  const cache = new LoadingCache<number>();
  const add = cache.wrap((a: number, b: number) => (calls++, a + b));
  const byFirst = cache.wrap((a: number) => a * 10, (a) => `times10:${a}`);

  assert.equal(await add(1, 2), 3);
  assert.equal(await add(1, 2), 3);
  assert.equal(await add(2, 1), 3);
  assert.equal(calls, 2);
  assert.equal(await byFirst(4), 40);
  assert.equal(cache.peek("times10:4"), 40);
});

Deno.test("a store's checkKey refuses a key at once", async () => {
  const store: CacheStore<number> = {
    get: () => Promise.resolve(undefined),
    set: () => Promise.resolve(),
    delete: () => Promise.resolve(),
    checkKey: (key) => {
      if (key.length > 3) throw new RangeError(`too long: ${key}`);
    },
  };
  let loads = 0;
  const cache = new LoadingCache<number>({ store, load: () => ++loads });

  await assert.rejects(cache.get("long key"), {
    name: "RangeError",
    message: "too long: long key",
  });
  await assert.rejects(cache.set("long key", 1), RangeError);
  assert.equal(loads, 0);
});

Deno.test("bad keys and options fail at once, naming the value", async (t) => {
  const bad: [string, () => unknown, ErrorConstructor, string][] = [
    [
      "beta -1",
      () => new LoadingCache({ beta: -1 }),
      RangeError,
      "LoadingCache: beta must be a finite number >= 0, got -1",
    ],
    [
      "beta NaN",
      () => new LoadingCache({ beta: NaN }),
      RangeError,
      "LoadingCache: beta must be a finite number >= 0, got NaN",
    ],
    [
      "beta Infinity",
      () => new LoadingCache({ beta: Infinity }),
      RangeError,
      "LoadingCache: beta must be a finite number >= 0, got Infinity",
    ],
    [
      "beta string",
      () => new LoadingCache({ beta: "1" as never }),
      RangeError,
      "LoadingCache: beta must be a finite number >= 0, got 1",
    ],
    [
      "maxEntries 0",
      () => new LoadingCache({ maxEntries: 0 }),
      RangeError,
      "LoadingCache: maxEntries must be an integer in 1..2^30, got 0",
    ],
    [
      "maxEntries 1.5",
      () => new LoadingCache({ maxEntries: 1.5 }),
      RangeError,
      "LoadingCache: maxEntries must be an integer in 1..2^30, got 1.5",
    ],
    [
      "maxEntries NaN",
      () => new LoadingCache({ maxEntries: NaN }),
      RangeError,
      "LoadingCache: maxEntries must be an integer in 1..2^30, got NaN",
    ],
    [
      "ttlMs -1",
      () => new LoadingCache({ ttlMs: -1 }),
      RangeError,
      "LoadingCache: ttlMs must be a number >= 0, got -1",
    ],
    [
      "ttlMs NaN",
      () => new LoadingCache({ ttlMs: NaN }),
      RangeError,
      "LoadingCache: ttlMs must be a number >= 0, got NaN",
    ],
    [
      "staleIfErrorMs -5",
      () => new LoadingCache({ staleIfErrorMs: -5 }),
      RangeError,
      "LoadingCache: staleIfErrorMs must be a number >= 0, got -5",
    ],
    [
      "load not a function",
      () => new LoadingCache({ load: 5 as never }),
      TypeError,
      "LoadingCache: load must be a function, got number",
    ],
    [
      "random not a function",
      () => new LoadingCache({ random: 0.5 as never }),
      TypeError,
      "LoadingCache: random must be a function, got number",
    ],
    [
      "clock without now",
      () => new LoadingCache({ clock: {} as never }),
      TypeError,
      "LoadingCache: clock.now must be a function, got undefined",
    ],
    [
      "store without get",
      () => new LoadingCache({ store: {} as never }),
      TypeError,
      "LoadingCache: store.get must be a function, got undefined",
    ],
    [
      "read ttlMs -1",
      () =>
        new LoadingCache({ load: () => 1 }).read("k", undefined, { ttlMs: -1 }),
      RangeError,
      "LoadingCache: ttlMs must be a number >= 0, got -1",
    ],
    [
      "read key 42",
      () => new LoadingCache({ load: () => 1 }).read(42 as never),
      TypeError,
      "LoadingCache: key must be a string, got number",
    ],
  ];
  for (const [name, make, type, message] of bad) {
    await t.step(name, () => {
      assert.throws(make, { name: type.name, message });
    });
  }

  await t.step("get() rejects rather than throws", async () => {
    const cache = new LoadingCache<number>({ load: () => 1 });
    await assert.rejects(cache.get(undefined as never), TypeError);
    await assert.rejects(cache.set("k", 1, { ttlMs: -1 }), RangeError);
    await assert.rejects(cache.set("k", 1, { deltaMs: NaN }), RangeError);
  });
});
