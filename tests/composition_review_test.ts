import assert from "node:assert/strict";
import { Service, service } from "../lib/service.ts";
import { HttpStatusError, serviceFetch } from "../lib/service_fetch.ts";
import { Breaker, BreakerOpenError } from "../lib/breaker.ts";
import { BulkheadRejectedError } from "../lib/bulkhead.ts";
import { FallbackError } from "../lib/fallback.ts";
import { LoadingCache } from "../lib/cache.ts";
import { RetryError } from "../lib/retry.ts";
import { Timeout, TimeoutError } from "../lib/timeout.ts";
import { retry } from "../lib/retry.ts";
import { DependencyError, inject } from "../lib/inject.ts";
import {
  key,
  MissingServiceError,
  Registry,
  type RegistryEvent,
} from "../lib/registry.ts";
import {
  type ArgsFilter,
  filter,
  type Middleware,
  type ResultFilter,
} from "../lib/filter.ts";
import { Harness, harness } from "../lib/harness.ts";
import { ManualClock, settle } from "../lib/testing.ts";

function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

/** Rejects with the signal's reason when it aborts; never settles otherwise. */
function untilAborted<T>(signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((_, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason));
  });
}

/** A response whose body records whether it was cancelled. */
function tracked(status: number, headers: HeadersInit = {}) {
  const state = {
    cancelled: false,
    response: undefined as unknown as Response,
  };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new TextEncoder().encode(`status ${status}`));
      controller.close();
    },
    cancel() {
      state.cancelled = true;
    },
  });
  state.response = new Response(body, { status, headers });
  return state;
}

// ---------------------------------------------------------------- service

Deno.test("service: an operation that throws synchronously rejects, and metrics and gauge stay right", async () => {
  const prices = new Service<number>({ name: "prices" });
  const failure = new Error("sync");

  let outcome: Promise<number> | undefined;
  assert.doesNotThrow(() => {
    outcome = prices.execute(() => {
      throw failure;
    });
  });

  assert.equal(await outcome!.catch((error) => error), failure);
  assert.equal(prices.metrics?.inFlight, 0);
  assert.equal(prices.metrics?.snapshot().cumulative.failures, 1);
});

Deno.test("service: a sync throw answered by the fallback counts the failure and the fallback once", async () => {
  const prices = new Service<number>({
    name: "prices",
    fallback: { value: -1 },
  });

  const price = await prices.execute(() => {
    throw new Error("sync");
  });

  const counts = prices.metrics!.snapshot().cumulative;
  assert.equal(price, -1);
  assert.equal(counts.failures, 1);
  assert.equal(counts.fallbackSuccesses, 1);
  assert.equal(counts.fallbackFailures, 0);
  assert.equal(prices.metrics?.inFlight, 0);
});

Deno.test("service: a fallback whose `when` declines is not counted as a fallback outcome", async () => {
  const prices = new Service<number>({
    name: "prices",
    fallback: { value: -1, when: (error) => error instanceof TypeError },
  });
  const failure = new Error("503");

  const error = await prices.execute(() => Promise.reject(failure)).catch((
    error,
  ) => error);

  const counts = prices.metrics!.snapshot().cumulative;
  assert.equal(error, failure);
  assert.equal(counts.failures, 1);
  assert.equal(counts.fallbackSuccesses, 0);
  assert.equal(counts.fallbackFailures, 0);
});

Deno.test("service: a fallback whose `when` throws is a fallback failure", async () => {
  const prices = new Service<number>({
    name: "prices",
    fallback: {
      value: -1,
      when: () => {
        throw new Error("bad predicate");
      },
    },
  });

  const error = await prices.execute(() => Promise.reject(new Error("503")))
    .catch((error) => error);

  assert.ok(error instanceof FallbackError);
  assert.equal(prices.metrics!.snapshot().cumulative.fallbackFailures, 1);
});

Deno.test("service: the caller's own abort counts as no failure and no fallback outcome", async () => {
  const clock = new ManualClock();
  const prices = new Service<number>({
    name: "prices",
    clock,
    breaker: { minimumCalls: 1 },
    fallback: { value: -1 },
  });
  const controller = new AbortController();
  const reason = new Error("client went away");

  const outcome = prices.execute(
    ({ signal }) => untilAborted<number>(signal),
    controller.signal,
  ).catch((error) => error);
  controller.abort(reason);

  assert.equal(await outcome, reason);
  const counts = prices.metrics!.snapshot().cumulative;
  assert.deepEqual(
    [counts.failures, counts.fallbackSuccesses, counts.fallbackFailures],
    [0, 0, 0],
  );
  assert.equal(prices.metrics?.inFlight, 0);
  assert.equal(prices.breaker?.state, "closed");
});

Deno.test("service: a caller abort while queued for a permit is not counted as a failure", async () => {
  const prices = new Service<number>({
    name: "prices",
    bulkhead: { maxConcurrent: 1, maxQueued: 1 },
  });
  let release!: (value: number) => void;
  const running = prices.execute(() => new Promise((r) => (release = r)));
  const controller = new AbortController();

  const queued = prices.execute(() => 2, controller.signal).catch((e) => e);
  controller.abort("left");

  assert.equal(await queued, "left");
  release(1);
  assert.equal(await running, 1);
  const counts = prices.metrics!.snapshot().cumulative;
  assert.deepEqual([counts.successes, counts.failures], [1, 0]);
  assert.equal(prices.metrics?.inFlight, 0);
  assert.equal(prices.bulkhead?.running, 0);
});

Deno.test("service: every layer combination passes the caller's abort to the work, counts nothing and frees everything", async () => {
  const layers = {
    timeoutMs: 1_000,
    totalTimeoutMs: 5_000,
    retry: { attempts: 2, initialDelayMs: 1 },
    breaker: {},
    bulkhead: { maxConcurrent: 1 },
    fallback: { value: -1 },
  };
  const names = Object.keys(layers) as (keyof typeof layers)[];
  for (let mask = 0; mask < 1 << names.length; mask++) {
    const clock = new ManualClock();
    const chosen = names.filter((_, index) => mask & (1 << index));
    const options = Object.fromEntries(
      chosen.map((name) => [name, layers[name]]),
    );
    const prices = new Service<number>({ name: "prices", clock, ...options });
    const controller = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];

    const outcome = prices.execute(({ signal }) => {
      seen.push(signal);
      return untilAborted<number>(signal);
    }, controller.signal).catch((error) => error);
    await clock.advance(0);
    controller.abort("bye");

    const label = chosen.join("+") || "none";
    assert.equal(await outcome, "bye", label);
    await clock.runAll();
    assert.equal(seen.length, 1, label);
    assert.equal(seen[0]?.reason, "bye", label);
    const counts = prices.metrics!.snapshot().cumulative;
    assert.equal(counts.failures + counts.timeouts, 0, label);
    assert.equal(counts.fallbackSuccesses + counts.fallbackFailures, 0, label);
    assert.equal(prices.metrics?.inFlight, 0, label);
    assert.equal(prices.bulkhead?.running ?? 0, 0, label);
    assert.equal(clock.pendingTimers, 0, label);
  }
});

Deno.test("service: a timed-out attempt that settles late is counted once, as a timeout, and holds its permit until then", async () => {
  const clock = new ManualClock();
  const prices = new Service<number>({
    name: "prices",
    clock,
    timeoutMs: 100,
    bulkhead: { maxConcurrent: 1, maxQueued: 0 },
  });
  let settleLate!: (value: number) => void;

  const outcome = prices.execute(() => new Promise((r) => (settleLate = r)))
    .catch((error) => error);
  await clock.advance(100);

  assert.ok(await outcome instanceof TimeoutError);
  const full = await prices.execute(() => 1).catch((error) => error);
  assert.ok(full instanceof BulkheadRejectedError);

  settleLate(7);
  await settle();
  const counts = prices.metrics!.snapshot().cumulative;
  assert.deepEqual(
    [counts.timeouts, counts.successes, counts.rejected],
    [1, 0, 1],
  );
  assert.equal(prices.bulkhead?.abandoned, 0);
  assert.equal(await prices.execute(() => 2), 2);
});

Deno.test("service: retries sit outside the attempt deadline and inside the total one", async () => {
  const clock = new ManualClock();
  const prices = new Service<number>({
    name: "prices",
    clock,
    timeoutMs: 100,
    totalTimeoutMs: 250,
    retry: { attempts: 5, backoff: "constant", initialDelayMs: 10 },
  });
  const started: number[] = [];

  const outcome = prices.execute(({ signal }) => {
    started.push(clock.now());
    return untilAborted<number>(signal);
  }).catch((error) => error);
  await clock.advance(300);

  const error = await outcome;
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.timeoutMs, 250);
  assert.deepEqual(started, [0, 110, 220]);
  const counts = prices.metrics!.snapshot().cumulative;
  assert.equal(counts.timeouts, 3);
  assert.equal(counts.retries, 2);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("service: a breaker that opens mid-retry stops it; the fallback answers and counts once", async () => {
  const clock = new ManualClock();
  const prices = new Service<number>({
    name: "prices",
    clock,
    retry: { attempts: 5, backoff: "constant", initialDelayMs: 1 },
    breaker: { minimumCalls: 2, openMs: 1_000 },
    fallback: { value: -1 },
  });
  let calls = 0;

  const outcome = prices.execute(() => {
    calls++;
    return Promise.reject(new Error("503"));
  });
  await clock.advance(5);

  assert.equal(await outcome, -1);
  assert.equal(calls, 2);
  const counts = prices.metrics!.snapshot().cumulative;
  assert.deepEqual(
    [counts.failures, counts.shortCircuited, counts.retries],
    [2, 1, 2],
  );
  assert.deepEqual([counts.fallbackSuccesses, counts.fallbackFailures], [1, 0]);
});

Deno.test("service: a breaker to share counts a full pool unless its isFailure says otherwise", async () => {
  const shared = new Breaker({
    minimumCalls: 1,
    isFailure: (error) => !(error instanceof BulkheadRejectedError),
  });
  const prices = new Service<number>({
    name: "prices",
    breaker: shared,
    bulkhead: { maxConcurrent: 1 },
  });
  const running = prices.execute(() => never<number>());

  const full = await prices.execute(() => 1).catch((error) => error);

  assert.ok(full instanceof BulkheadRejectedError);
  assert.equal(shared.state, "closed");
  void running;
});

Deno.test("service: deadline options name themselves when bad", () => {
  for (const option of ["timeoutMs", "totalTimeoutMs"] as const) {
    for (const value of [0, -1, Number.NaN, 2 ** 31]) {
      assert.throws(
        () => new Service({ name: "x", [option]: value }),
        {
          name: "RangeError",
          message:
            `Service: ${option} must be a number from 1 to 2147483647, got ${value}`,
        },
      );
    }
  }
});

Deno.test("service(): with a cache, one caller's abort does not fail the others on the same key", async () => {
  const cache = new LoadingCache<string>();
  const loadSignals: AbortSignal[] = [];
  let answer!: (value: string) => void;
  const lookUp = service(
    (_id: string, _init?: { signal?: AbortSignal }) => {
      return new Promise<string>((resolve) => (answer = resolve));
    },
    {
      name: "users",
      cache: { cache, key: (id) => id },
      signalFrom: ([, init]) => init?.signal,
      signalInto: ([id, init], signal) => {
        loadSignals.push(signal);
        return [id, { ...init, signal }];
      },
    },
  );
  const leaving = new AbortController();

  const first = lookUp("ada", { signal: leaving.signal }).catch((e) => e);
  const second = lookUp("ada");
  leaving.abort("first caller left");

  assert.equal(await first, "first caller left");
  assert.equal(loadSignals.length, 1);
  assert.equal(loadSignals[0].aborted, false);
  answer("Ada");
  assert.equal(await second, "Ada");
  assert.equal(await lookUp("ada"), "Ada");
  assert.equal(lookUp.metrics?.snapshot().cumulative.successes, 1);
});

Deno.test("service(): with a cache, the load is aborted once every caller gave up, and counts no failure", async () => {
  const cache = new LoadingCache<string>();
  const lookUp = service(
    (_id: string, init?: { signal?: AbortSignal }) =>
      untilAborted<string>(init?.signal),
    {
      name: "users",
      cache: { cache, key: (id) => id },
      signalFrom: ([, init]) => init?.signal,
      signalInto: ([id, init], signal) => [id, { ...init, signal }],
    },
  );
  const controller = new AbortController();

  const call = lookUp("ada", { signal: controller.signal }).catch((e) => e);
  controller.abort("gone");

  assert.equal(await call, "gone");
  await settle();
  assert.equal(lookUp.metrics?.snapshot().cumulative.failures, 0);
  assert.equal(lookUp.metrics?.inFlight, 0);
});

Deno.test("service(): a cache key function that throws rejects the call", async () => {
  const failure = new Error("no key");
  const lookUp = service((id: string) => id, {
    name: "users",
    cache: {
      cache: new LoadingCache<string>(),
      key: () => {
        throw failure;
      },
    },
  });

  let call: Promise<string> | undefined;
  assert.doesNotThrow(() => (call = lookUp("ada")));
  assert.equal(await call!.catch((error) => error), failure);
});

// ----------------------------------------------------------- serviceFetch

Deno.test("serviceFetch: a Request whose body was read rejects at once, with no attempt", async () => {
  let calls = 0;
  const resilientFetch = serviceFetch({
    name: "orders",
    retry: { attempts: 3, initialDelayMs: 0 },
    breaker: { minimumCalls: 1 },
    fetch: () => {
      calls++;
      return Promise.resolve(new Response("ok"));
    },
  });
  const request = new Request("http://upstream.test/", {
    method: "POST",
    body: "order",
  });
  await request.text();

  const error = await resilientFetch(request).catch((error) => error);

  assert.ok(error instanceof TypeError);
  assert.equal(
    error.message,
    "serviceFetch: the Request's body is already used",
  );
  assert.equal(calls, 0);
  assert.equal(resilientFetch.breaker?.state, "closed");
  assert.equal(resilientFetch.metrics?.snapshot().cumulative.failures, 0);
});

Deno.test("serviceFetch: a fallback value that is a Response is cloned for every answer", async () => {
  const resilientFetch = serviceFetch({
    name: "orders",
    fallback: { value: new Response("maintenance", { status: 503 }) },
    fetch: () => Promise.reject(new TypeError("connection refused")),
  });

  const first = await resilientFetch("http://upstream.test/");
  const second = await resilientFetch("http://upstream.test/");

  assert.equal(await first.text(), "maintenance");
  assert.equal(await second.text(), "maintenance");
  assert.equal(second.status, 503);
});

Deno.test("serviceFetch: with a cache in front, every caller gets a readable body from one fetch", async () => {
  let calls = 0;
  const resilientFetch = serviceFetch({
    name: "orders",
    cache: {
      cache: new LoadingCache<Response>(),
      key: (input) => String(input),
    },
    fetch: () => {
      calls++;
      return Promise.resolve(new Response("cached body"));
    },
  });

  const first = await resilientFetch("http://upstream.test/a");
  const second = await resilientFetch("http://upstream.test/a");

  assert.equal(await first.text(), "cached body");
  assert.equal(await second.text(), "cached body");
  assert.equal(calls, 1);
});

Deno.test("serviceFetch: a response that arrives after its attempt timed out is cancelled", async () => {
  const clock = new ManualClock();
  const late = tracked(200);
  let respond!: (response: Response) => void;
  const resilientFetch = serviceFetch({
    name: "orders",
    clock,
    timeoutMs: 100,
    fetch: () => new Promise((resolve) => (respond = resolve)),
  });

  const outcome = resilientFetch("http://upstream.test/").catch((e) => e);
  await clock.advance(100);
  assert.ok(await outcome instanceof TimeoutError);

  respond(late.response);
  await settle();
  assert.equal(late.cancelled, true);
  assert.equal(resilientFetch.metrics?.snapshot().cumulative.timeouts, 1);
});

Deno.test("serviceFetch: a Retry-After date in the past retries at once and keeps the breaker's own open time", async () => {
  const clock = new ManualClock();
  const delays: number[] = [];
  const past = new Date(0).toUTCString();
  const responses = [tracked(503, { "retry-after": past }), tracked(503)];
  const served = [...responses];
  const resilientFetch = serviceFetch({
    name: "orders",
    clock,
    retry: {
      attempts: 2,
      initialDelayMs: 500,
      onRetry: ({ delayMs }) => delays.push(delayMs),
    },
    breaker: { minimumCalls: 2, openMs: 1_000 },
    fetch: () => Promise.resolve(served.shift()!.response),
  });

  const pending = resilientFetch("http://upstream.test/");
  await clock.advance(0);
  const response = await pending;

  assert.equal(response.status, 503);
  assert.deepEqual(delays, [0]);
  assert.equal(responses[0].cancelled, true);
  assert.equal(resilientFetch.breaker?.state, "open");
  const rejected = await resilientFetch("http://upstream.test/").catch((e) =>
    e
  );
  assert.ok(rejected instanceof BreakerOpenError);
  assert.equal(rejected.retryAfterMs, 1_000);
});

Deno.test("serviceFetch: a Retry-After date in the future sets the next retry's delay", async () => {
  const clock = new ManualClock();
  const delays: number[] = [];
  const statuses = [503, 200];
  const resilientFetch = serviceFetch({
    name: "orders",
    clock,
    retry: {
      attempts: 2,
      initialDelayMs: 1,
      maxDelayMs: 120_000,
      onRetry: ({ delayMs }) => delays.push(delayMs),
    },
    fetch: () => {
      const when = new Date(Date.now() + 60_000).toUTCString();
      return Promise.resolve(
        new Response(null, {
          status: statuses.shift()!,
          headers: { "retry-after": when },
        }),
      );
    },
  });

  const outcome = resilientFetch("http://upstream.test/");
  await clock.advance(60_000);

  assert.equal((await outcome).status, 200);
  assert.equal(delays.length, 1);
  assert.ok(delays[0] > 58_000 && delays[0] <= 60_000, `delay ${delays[0]}`);
});

Deno.test("serviceFetch: a breaker that opens during the retries releases the failed body and lets the fallback answer", async () => {
  const clock = new ManualClock();
  const failed = tracked(503);
  const resilientFetch = serviceFetch({
    name: "orders",
    clock,
    retry: { attempts: 3, backoff: "constant", initialDelayMs: 1 },
    breaker: { minimumCalls: 1 },
    fallback: {
      value: new Response("stale"),
      when: (error) =>
        error instanceof RetryError && error.has(BreakerOpenError),
    },
    fetch: () => Promise.resolve(failed.response),
  });

  const outcome = resilientFetch("http://upstream.test/");
  await clock.advance(1);

  assert.equal(await (await outcome).text(), "stale");
  assert.equal(failed.cancelled, true);
});

Deno.test("serviceFetch: the total deadline during a retry wait leaves no failed body behind", async () => {
  const clock = new ManualClock();
  const failed = tracked(503);
  const resilientFetch = serviceFetch({
    name: "orders",
    clock,
    totalTimeoutMs: 50,
    retry: { attempts: 3, backoff: "constant", initialDelayMs: 100 },
    fetch: () => Promise.resolve(failed.response),
  });

  const outcome = resilientFetch("http://upstream.test/").catch((e) => e);
  await clock.advance(50);

  assert.ok(await outcome instanceof TimeoutError);
  assert.equal(failed.cancelled, true);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("serviceFetch: a failed response that the fallback's `when` declines reaches the caller intact", async () => {
  const failed = tracked(503);
  const resilientFetch = serviceFetch({
    name: "orders",
    fallback: { value: new Response("x"), when: () => false },
    fetch: () => Promise.resolve(failed.response),
  });

  const response = await resilientFetch("http://upstream.test/");

  assert.equal(await response.text(), "status 503");
  assert.equal(failed.cancelled, false);
  const counts = resilientFetch.metrics!.snapshot().cumulative;
  assert.deepEqual([counts.fallbackSuccesses, counts.fallbackFailures], [0, 0]);
});

Deno.test("HttpStatusError keeps the response and the hint", () => {
  const response = new Response(null, { status: 429 });
  const error = new HttpStatusError(response, 0);
  assert.equal(error.response, response);
  assert.equal(error.retryAfterMs, 0);
  assert.equal(error.name, "HttpStatusError");
});

// ----------------------------------------------------------------- inject

Deno.test("inject: a call that throws synchronously disposes every value in reverse order, then rethrows the same error", async () => {
  const log: string[] = [];
  const disposable = (name: string) => ({
    [Symbol.dispose]() {
      log.push(`dispose ${name}`);
    },
  });
  const failure = new Error("sync");
  const handle = inject({
    a: () => disposable("a"),
    b: () => Promise.resolve(disposable("b")),
    c: {
      acquire: () => ({ value: 3, release: () => void log.push("release c") }),
    },
  }, () => {
    log.push("fn");
    throw failure;
  });

  assert.equal(await handle().catch((error) => error), failure);
  assert.deepEqual(log, ["fn", "release c", "dispose b", "dispose a"]);
});

Deno.test("inject: a disposal error never hides the call's own error", async () => {
  const disposalErrors: unknown[] = [];
  const failure = new Error("call failed");
  const handle = inject({
    db: () => ({
      [Symbol.dispose]() {
        throw new Error("close failed");
      },
    }),
  }, () => {
    throw failure;
  }, { onDisposeError: (error) => disposalErrors.push(error) });

  assert.equal(await handle().catch((error) => error), failure);
  assert.equal((disposalErrors[0] as Error).message, "close failed");
});

Deno.test("inject: concurrent callers share one shared build; a failed one is tried again by the next call", async () => {
  let builds = 0;
  let fail = true;
  const handle = inject({
    pool: {
      provide: async () => {
        builds++;
        await Promise.resolve();
        if (fail) throw new Error("down");
        return "pool";
      },
      lifetime: "shared",
    },
  }, ({ pool }) => pool);

  const results = await Promise.allSettled([handle(), handle(), handle()]);
  assert.equal(builds, 1);
  for (const result of results) {
    assert.equal(result.status, "rejected");
    assert.ok(result.reason instanceof DependencyError);
    assert.deepEqual([...result.reason.failures.keys()], ["pool"]);
  }

  fail = false;
  assert.deepEqual(await Promise.all([handle(), handle()]), ["pool", "pool"]);
  assert.equal(builds, 2);
  assert.equal(await handle(), "pool");
  assert.equal(builds, 2);
});

Deno.test("inject: a timeout around the call aborts the builds; values built late are disposed", async () => {
  const clock = new ManualClock();
  const deadline = new Timeout({ timeoutMs: 100, clock });
  const disposed: string[] = [];
  let deliver!: (value: object) => void;
  const handle = inject(
    {
      fast: () => ({ [Symbol.dispose]: () => void disposed.push("fast") }),
      slow: () => new Promise<object>((resolve) => (deliver = resolve)),
    },
    (_values, _signal: AbortSignal) => "ran",
    { signalFrom: ([signal]: [AbortSignal]) => signal },
  );

  const outcome = deadline.execute(({ signal }) => handle(signal))
    .catch((error) => error);
  await clock.advance(100);

  assert.ok(await outcome instanceof TimeoutError);
  deliver({ [Symbol.dispose]: () => void disposed.push("slow") });
  await settle();
  assert.deepEqual(disposed, ["slow", "fast"]);
});

Deno.test("inject: retry around the call rebuilds per-call values for every attempt and disposes each", async () => {
  let built = 0;
  let disposed = 0;
  const handle = retry(
    inject({
      connection: () => {
        built++;
        return { [Symbol.dispose]: () => void disposed++ };
      },
    }, () => {
      if (built < 3) throw new Error("flaky");
      return "done";
    }),
    { attempts: 3, initialDelayMs: 0 },
  );

  assert.equal(await handle(), "done");
  assert.deepEqual([built, disposed], [3, 3]);
});

Deno.test("inject + registry: a swap mid-call finishes on the old service, disposed once the call is done", async () => {
  const DB = key<{ name: string; closed: boolean }>("db");
  const makeDb = (name: string) => ({
    name,
    closed: false,
    [Symbol.dispose]() {
      this.closed = true;
    },
  });
  const registry = new Registry().register(DB, () => makeDb("old"));
  let finish!: () => void;
  const handle = inject(
    { db: registry.provider(DB) },
    async ({ db }) => {
      await new Promise<void>((resolve) => (finish = resolve));
      return db;
    },
  );

  const running = handle();
  await settle();
  registry.register(DB, () => makeDb("new"));
  const current = await registry.resolve(DB);
  finish();
  const used = await running;

  assert.equal(used.name, "old");
  assert.equal(used.closed, true);
  assert.equal(current.name, "new");
  assert.equal(current.closed, false);
});

// --------------------------------------------------------------- registry

Deno.test("registry: a swap with leases out disposes the old service once, after the last release, and reports its error", async () => {
  const registry = new Registry();
  const errors: unknown[] = [];
  registry.addEventListener("disposeerror", (event: RegistryEvent) => {
    errors.push(event.error);
  });
  let disposals = 0;
  registry.register("db", () => ({
    [Symbol.asyncDispose]() {
      disposals++;
      return Promise.reject(new Error("close failed"));
    },
  }));
  const first = await registry.acquire("db");
  const second = await registry.acquire("db");

  registry.register("db", { value: "replacement" });
  await first.release();
  assert.equal(disposals, 0);
  await second.release();
  await second.release();
  await first.release();

  assert.equal(disposals, 1);
  assert.equal((errors[0] as Error).message, "close failed");
  assert.equal(errors.length, 1);
  assert.equal(await registry.resolve("db"), "replacement");
});

Deno.test("registry: a service removed while it is being built is disposed once built", async () => {
  const registry = new Registry();
  let deliver!: (value: object) => void;
  let disposed = false;
  registry.register("db", () => new Promise<object>((r) => (deliver = r)));

  const pending = registry.resolve("db");
  registry.remove("db");
  deliver({ [Symbol.dispose]: () => void (disposed = true) });
  await pending;
  await settle();

  assert.equal(disposed, true);
  assert.equal(registry.has("db"), false);
});

Deno.test("registry: an aborted acquire of a call service disposes the instance built after it", async () => {
  const registry = new Registry();
  let deliver!: (value: object) => void;
  let disposed = false;
  registry.register("session", {
    provide: () => new Promise<object>((r) => (deliver = r)),
    lifetime: "call",
  });
  const controller = new AbortController();

  const lease = registry.acquire("session", { signal: controller.signal })
    .catch((error) => error);
  controller.abort("gone");
  assert.equal(await lease, "gone");

  deliver({ [Symbol.dispose]: () => void (disposed = true) });
  await settle();
  assert.equal(disposed, true);
});

Deno.test("registry: a child sees its parent's swaps unless it overrides the key", async () => {
  const parent = Registry.from({ region: { value: "eu" }, db: { value: 1 } });
  const child = parent.child().register("db", { value: 2 });
  const events: string[] = [];
  child.addEventListener("replaced", (event) => events.push(event.key));

  parent.register("region", { value: "us" });
  parent.register("db", { value: 3 });

  assert.equal(await child.resolve("region"), "us");
  assert.equal(await child.resolve("db"), 2);
  assert.deepEqual(events, []);
  const missing = await child.resolve("nope").catch((error) => error);
  assert.ok(missing instanceof MissingServiceError);
  assert.deepEqual(missing.available, ["db", "region"]);
});

// ----------------------------------------------------------------- filter

Deno.test("filter: types follow the function end to end", async () => {
  const toNumber: ArgsFilter<[string], number> = ([text]) => [text.trim()];
  const double: ResultFilter<[string], number> = (result) => result * 2;
  const parse = filter((text: string) => Number(text), {
    before: [toNumber],
    after: [double],
  });
  const parsed: number = parse(" 21 ");
  assert.equal(parsed, 42);

  // @ts-expect-error: a before filter must keep the argument types
  filter((n: number) => n, { before: [([n]) => [String(n)]] });
  // @ts-expect-error: an after filter must keep the result type
  filter((n: number) => n, { after: [(result) => String(result)] });
  // @ts-expect-error: a synchronous function takes no async filter
  filter((n: number) => n, { before: [(args) => Promise.resolve(args)] });

  const slow = filter((n: number) => Promise.resolve(n + 1), {
    before: [([n]) => Promise.resolve([n * 10] as [number])],
    after: [(result) => Promise.resolve(result * 2)],
  });
  // @ts-expect-error: an async function stays async
  const wrong: number = slow(1);
  void wrong;
  assert.equal(await slow(1), 22);
});

Deno.test("filter: middleware that answers on its own skips the filters and the function", async () => {
  const log: string[] = [];
  const gate: Middleware<[number], Promise<number>> = (args, next) =>
    args[0] < 0 ? Promise.resolve(0) : next(args);
  const guarded = filter((n: number) => {
    log.push("fn");
    return Promise.resolve(n);
  }, {
    around: [gate],
    before: [(args) => (log.push("before"), args)],
    after: [(result) => (log.push("after"), result)],
  });

  assert.equal(await guarded(-1), 0);
  assert.deepEqual(log, []);
  assert.equal(await guarded(5), 5);
  assert.deepEqual(log, ["before", "fn", "after"]);
});

Deno.test("filter: errors of an async chain pass through unchanged", async () => {
  const failure = new Error("upstream");
  const filtered = filter((_n: number): Promise<number> => {
    return Promise.reject(failure);
  }, {
    before: [(args) => Promise.resolve(args)],
    after: [(result) => result + 1],
  });

  assert.equal(await filtered(1).catch((error) => error), failure);
});

// ---------------------------------------------------------------- harness

Deno.test("harness: a sync throw is rethrown synchronously, same object and stack, whatever the value", () => {
  const error = new RangeError("boom");
  const stack = error.stack;
  for (const thrown of [error, "text", null, undefined, 0]) {
    const wrapped = harness(() => {
      throw thrown;
    });
    let caught: unknown = "nothing";
    try {
      wrapped();
    } catch (value) {
      caught = value;
    }
    assert.equal(caught, thrown);
    assert.equal(wrapped.harness.snapshot().errors, 1);
  }
  assert.equal(error.stack, stack);
});

Deno.test("harness: a rejection keeps its error and stack, and is counted per kind", async () => {
  const errors = new Harness({ name: "io" });
  const failure = new TypeError("bad input");
  const stack = failure.stack;
  const read = errors.wrap(() => Promise.reject(failure), "read");

  assert.equal(await read().catch((error) => error), failure);
  assert.equal(failure.stack, stack);
  assert.deepEqual(errors.snapshot().counts, { TypeError: 1 });
  assert.equal(errors.snapshot().recent[0].via, "rejection");
});

Deno.test("harness around a service: the caller and the harness see the same errors", async () => {
  const clock = new ManualClock();
  const errors = new Harness({ clock });
  const prices = new Service<number>({
    name: "prices",
    clock,
    breaker: { minimumCalls: 1 },
  });
  const price = errors.wrap(
    () => prices.execute(() => Promise.reject(new Error("503"))),
    "price",
  );

  const first = await price().catch((error) => error);
  const second = await price().catch((error) => error);

  assert.equal(first.message, "503");
  assert.ok(second instanceof BreakerOpenError);
  const { counts, recent } = errors.snapshot();
  assert.deepEqual(counts, { Error: 1, BreakerOpenError: 1 });
  assert.equal(recent[1].error, second);
});
