import assert from "node:assert/strict";
import { Service, service, serviceFetch } from "../lib/service.ts";
import { LoadingCache } from "../lib/cache.ts";
import { FallbackError } from "../lib/fallback.ts";
import { ManualClock, settle } from "../lib/testing.ts";

function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

function userCache(clock: ManualClock, staleIfErrorMs = 0) {
  return new LoadingCache<string>({
    clock,
    ttlMs: 1_000,
    beta: 0,
    staleIfErrorMs,
  });
}

Deno.test("an aborted caller waiting on a cache load gets its reason, not the fallback", async () => {
  const clock = new ManualClock();
  const lookUp = service(
    (_id: number, _signal?: AbortSignal) => never<string>(),
    {
      name: "users",
      clock,
      timeoutMs: 1_000,
      fallback: { value: "guest" },
      signalFrom: ([, signal]) => signal,
      signalInto: ([id], signal) => [id, signal],
      cache: { cache: userCache(clock), key: (id) => `user:${id}` },
    },
  );
  const controller = new AbortController();
  const reason = new Error("caller left");

  const outcome = lookUp(1, controller.signal).catch((error) => error);
  controller.abort(reason);

  assert.equal(await outcome, reason);
  await settle();
  assert.equal(clock.pendingTimers, 0);
  const counts = lookUp.metrics!.snapshot().cumulative;
  assert.equal(counts.fallbackSuccesses, 0);
  assert.equal(counts.failures + counts.timeouts, 0);
  assert.equal(lookUp.metrics!.inFlight, 0);

  const aborted = AbortSignal.abort(reason);
  await assert.rejects(lookUp(1, aborted), (error) => error === reason);
  assert.equal(lookUp.metrics!.snapshot().cumulative.fallbackSuccesses, 0);
});

Deno.test("single flight: one failed load, each waiter gets its own fallback answer", async () => {
  const clock = new ManualClock();
  let fail!: (error: unknown) => void;
  let loads = 0;
  let handlerRuns = 0;
  const lookUp = service(
    (_id: number) => {
      loads++;
      return new Promise<string>((_, reject) => (fail = reject));
    },
    {
      name: "users",
      clock,
      fallback: { handler: () => `guest ${++handlerRuns}` },
      cache: { cache: userCache(clock), key: (id) => `user:${id}` },
    },
  );

  const waiters = [lookUp(1), lookUp(1), lookUp(1)];
  assert.equal(lookUp.metrics!.inFlight, 1);
  fail(new Error("down"));

  assert.deepEqual(await Promise.all(waiters), [
    "guest 1",
    "guest 2",
    "guest 3",
  ]);
  const counts = lookUp.metrics!.snapshot().cumulative;
  assert.equal(loads, 1);
  assert.equal(counts.failures, 1);
  // One answer per caller, as the module documents; more than the failures.
  assert.equal(counts.fallbackSuccesses, 3);
  assert.equal(lookUp.metrics!.inFlight, 0);
});

Deno.test("a `when` filter and a failing handler behave per caller outside the cache", async (t) => {
  const clock = new ManualClock();

  await t.step("an unselected error passes through, uncounted", async () => {
    const lookUp = service(
      (_id: number) => Promise.reject(new Error("404")),
      {
        name: "users",
        clock,
        fallback: {
          value: "guest",
          when: (error) => (error as Error).message !== "404",
        },
        cache: { cache: userCache(clock), key: (id) => `user:${id}` },
      },
    );

    await assert.rejects(lookUp(1), { message: "404" });
    const counts = lookUp.metrics!.snapshot().cumulative;
    assert.equal(counts.fallbackSuccesses + counts.fallbackFailures, 0);
  });

  await t.step(
    "a throwing handler gives each caller a FallbackError",
    async () => {
      const lookUp = service(
        (_id: number) => Promise.reject(new Error("down")),
        {
          name: "users",
          clock,
          fallback: {
            handler: () => {
              throw new Error("backup down too");
            },
          },
          cache: { cache: userCache(clock), key: (id) => `user:${id}` },
        },
      );

      const errors = await Promise.all(
        [lookUp(1), lookUp(1)].map((call) => call.catch((error) => error)),
      );
      for (const error of errors) {
        assert.ok(error instanceof FallbackError);
        assert.equal((error.cause as Error).message, "down");
      }
      assert.equal(lookUp.metrics!.snapshot().cumulative.fallbackFailures, 2);
    },
  );
});

Deno.test("synchronous throws: signalFrom rejects without the fallback, fn's throw is answered", async () => {
  const clock = new ManualClock();
  const lookUp = service(
    (id: number, _signal?: AbortSignal): string => {
      throw new Error(`no ${id}`);
    },
    {
      name: "users",
      clock,
      fallback: { value: "guest" },
      signalFrom: () => {
        throw new Error("bad args");
      },
      cache: { cache: userCache(clock), key: (id) => `user:${id}` },
    },
  );
  let outcome: Promise<string> | undefined;
  assert.doesNotThrow(() => {
    outcome = lookUp(1);
  });
  await assert.rejects(outcome!, { message: "bad args" });

  const plain = service((id: number): string => {
    throw new Error(`no ${id}`);
  }, {
    name: "users",
    clock,
    fallback: { value: "guest" },
    cache: { cache: userCache(clock), key: (id) => `user:${id}` },
  });
  assert.equal(await plain(1), "guest");
  assert.equal(plain.metrics!.snapshot().cumulative.failures, 1);
  assert.equal(plain.metrics!.snapshot().cumulative.fallbackSuccesses, 1);
});

Deno.test("Service.execute keeps its answers with and without a fallback", async () => {
  const plain = new Service<string>({ name: "plain" });
  await assert.rejects(
    plain.execute(() => Promise.reject(new Error("down"))),
    { message: "down" },
  );
  assert.equal(plain.metrics!.inFlight, 0);

  const guarded = new Service<string>({
    name: "guarded",
    fallback: { value: "guest" },
  });
  assert.equal(
    await guarded.execute(() => Promise.reject(new Error("down"))),
    "guest",
  );
  assert.equal(await guarded.execute(() => "ok"), "ok");
  const counts = guarded.metrics!.snapshot().cumulative;
  assert.deepEqual(
    [counts.successes, counts.failures, counts.fallbackSuccesses],
    [1, 1, 1],
  );
  assert.equal(guarded.metrics!.inFlight, 0);
  assert.equal(guarded.metrics!.snapshot().inFlightMax, 1);
});

Deno.test("calls in flight leave out the time a fallback takes to answer", async () => {
  let answer!: (value: string) => void;
  const prices = new Service<string>({
    name: "prices",
    fallback: {
      handler: () => new Promise<string>((resolve) => (answer = resolve)),
    },
  });

  const outcome = prices.execute(() => Promise.reject(new Error("down")));
  await settle();

  const inFlight = prices.metrics!.inFlight;
  answer("cached price");
  assert.equal(await outcome, "cached price");
  assert.equal(inFlight, 0);
  assert.equal(prices.metrics!.snapshot().cumulative.fallbackSuccesses, 1);
});

Deno.test("a cache key that is not a string rejects, unanswered by the fallback", async () => {
  const clock = new ManualClock();
  const lookUp = service((id: number) => Promise.resolve(`user ${id}`), {
    name: "users",
    clock,
    fallback: { value: "guest" },
    cache: {
      cache: userCache(clock),
      key: (id) => id as unknown as string,
    },
  });

  const outcome = await lookUp(1).catch((error) => error);
  const counts = lookUp.metrics!.snapshot().cumulative;
  assert.ok(
    outcome instanceof TypeError,
    `got ${
      JSON.stringify(outcome)
    }, fallbackSuccesses ${counts.fallbackSuccesses}, requests ${
      lookUp.metrics!.snapshot().requests
    }`,
  );
});

Deno.test("a null signal from signalFrom counts as none", async () => {
  const clock = new ManualClock();
  const lookUp = service(
    (id: number, _init?: { signal?: AbortSignal | null }) =>
      Promise.resolve(`user ${id}`),
    {
      name: "users",
      clock,
      fallback: { value: "guest" },
      signalFrom: ([, init]) => init?.signal as AbortSignal | undefined,
      cache: { cache: userCache(clock), key: (id) => `user:${id}` },
    },
  );

  let outcome: Promise<string> | undefined;
  let thrown: unknown;
  try {
    outcome = lookUp(1, { signal: null });
  } catch (error) {
    thrown = error;
  }
  assert.equal(thrown, undefined);
  assert.equal(await outcome, "user 1");
});

Deno.test("serviceFetch with a cache: a failed response is released before the fallback answers, which is not cached", async () => {
  const clock = new ManualClock();
  let status = 503;
  let fetches = 0;
  const released: number[] = [];
  const resilientFetch = serviceFetch({
    name: "catalog",
    clock,
    fallback: { value: new Response("fallback") },
    cache: {
      cache: new LoadingCache<Response>({ clock, ttlMs: 1_000, beta: 0 }),
      key: (input) => String(input),
    },
    fetch: () => Promise.resolve(streamed(++fetches, status, released)),
  });

  const first = await resilientFetch("https://catalog.example/items");
  assert.equal(await first.text(), "fallback");
  assert.deepEqual(released, [1]);

  status = 200;
  const second = await resilientFetch("https://catalog.example/items");
  assert.equal(await second.text(), "body 2");
  assert.equal(fetches, 2);
});

Deno.test("serviceFetch releases a failed response that a stale value answers for", async () => {
  const clock = new ManualClock();
  let status = 200;
  let fetches = 0;
  const released: number[] = [];
  const resilientFetch = serviceFetch({
    name: "catalog",
    clock,
    fallback: { value: new Response("fallback") },
    cache: {
      cache: new LoadingCache<Response>({
        clock,
        ttlMs: 1_000,
        beta: 0,
        staleIfErrorMs: 10_000,
      }),
      key: (input) => String(input),
    },
    fetch: () => Promise.resolve(streamed(++fetches, status, released)),
  });
  assert.equal(
    await (await resilientFetch("https://catalog.example/items")).text(),
    "body 1",
  );

  await clock.advance(1_500);
  status = 503;
  const stale = await resilientFetch("https://catalog.example/items");
  assert.equal(await stale.text(), "body 1");
  await settle();

  assert.ok(released.includes(2), "the 503 that reached no caller is released");
});

Deno.test("serviceFetch with a cache gives each waiter its own failed Response", async () => {
  const clock = new ManualClock();
  let respond!: (response: Response) => void;
  const resilientFetch = serviceFetch({
    name: "catalog",
    clock,
    fallback: {
      value: new Response("fallback"),
      when: (error) => (error as Error).name !== "HttpStatusError",
    },
    cache: {
      cache: new LoadingCache<Response>({ clock }),
      key: (input) => String(input),
    },
    fetch: () => new Promise<Response>((resolve) => (respond = resolve)),
  });

  const a = resilientFetch("https://catalog.example/items");
  const b = resilientFetch("https://catalog.example/items");
  respond(new Response("try later", { status: 503 }));
  const [first, second] = await Promise.all([a, b]);

  assert.equal(await first.text(), "try later");
  assert.equal(await second.text().catch(String), "try later");
});

/** A response whose body notes its id in `released` once read or cancelled. */
function streamed(id: number, status: number, released: number[]): Response {
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new TextEncoder().encode(`body ${id}`));
      controller.close();
      released.push(id);
    },
    cancel() {
      released.push(id);
    },
  });
  return new Response(body, { status });
}
