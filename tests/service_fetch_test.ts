import assert from "node:assert/strict";
import { parseRetryAfter, serviceFetch } from "../lib/service.ts";
import { BreakerOpenError } from "../lib/breaker.ts";
import { MetricsRegistry } from "../lib/metrics.ts";
import { ManualClock } from "../lib/testing.ts";

/** A response whose body records whether it was released. */
function trackedResponse(status: number, headers: HeadersInit = {}) {
  const tracked = {
    cancelled: false,
    response: undefined as unknown as Response,
  };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new TextEncoder().encode(`status ${status}`));
      controller.close();
    },
    cancel() {
      tracked.cancelled = true;
    },
  });
  tracked.response = new Response(body, { status, headers });
  return tracked;
}

Deno.test("5xx and 429 count as failures and are retried; the body of each failed attempt is released", async () => {
  const clock = new ManualClock();
  const responses = [
    trackedResponse(503),
    trackedResponse(429),
    trackedResponse(200),
  ];
  const served = [...responses];
  const resilientFetch = serviceFetch({
    name: "catalog",
    clock,
    retry: { attempts: 3, backoff: "constant", initialDelayMs: 10 },
    fetch: () => Promise.resolve(served.shift()!.response),
  });

  const pending = resilientFetch("http://upstream.test/items");
  await clock.advance(20);
  const response = await pending;

  assert.equal(response.status, 200);
  assert.equal(await response.text(), "status 200");
  assert.deepEqual(responses.map((r) => r.cancelled), [true, true, false]);
  assert.equal(resilientFetch.metrics?.snapshot().cumulative.failures, 2);
});

Deno.test("when attempts run out, the last failed response is returned, body intact", async () => {
  const clock = new ManualClock();
  const responses = [trackedResponse(500), trackedResponse(502)];
  const served = [...responses];
  const resilientFetch = serviceFetch({
    name: "catalog",
    clock,
    retry: { attempts: 2, backoff: "constant", initialDelayMs: 1 },
    fetch: () => Promise.resolve(served.shift()!.response),
  });

  const pending = resilientFetch("http://upstream.test/items");
  await clock.advance(1);
  const response = await pending;

  assert.equal(response.status, 502);
  assert.equal(await response.text(), "status 502");
  assert.deepEqual(responses.map((r) => r.cancelled), [true, false]);
});

Deno.test("Retry-After sets the next retry's delay and the breaker's open time", async () => {
  const clock = new ManualClock();
  const delays: number[] = [];
  let calls = 0;
  const resilientFetch = serviceFetch({
    name: "catalog",
    clock,
    retry: {
      attempts: 2,
      initialDelayMs: 1,
      onRetry: ({ delayMs }) => delays.push(delayMs),
    },
    breaker: { minimumCalls: 2, openMs: 1_000, maxOpenMs: 60_000 },
    fetch: () => {
      calls++;
      return Promise.resolve(
        trackedResponse(503, { "retry-after": "7" }).response,
      );
    },
  });

  const first = resilientFetch("http://upstream.test/");
  await clock.advance(7_000);
  assert.equal((await first).status, 503);
  assert.deepEqual(delays, [7_000]);
  assert.equal(resilientFetch.breaker?.state, "open");

  const rejected = await resilientFetch("http://upstream.test/").catch((e) =>
    e
  );
  assert.ok(rejected instanceof BreakerOpenError);
  assert.equal(rejected.retryAfterMs, 7_000);
  assert.equal(calls, 2);
});

Deno.test("a fallback answers a failing status and releases the failed body", async () => {
  const failed = trackedResponse(503);
  const resilientFetch = serviceFetch({
    name: "catalog",
    fetch: () => Promise.resolve(failed.response),
    fallback: {
      handler: () => new Response("from the fallback", { status: 200 }),
    },
  });

  const response = await resilientFetch("http://upstream.test/");

  assert.equal(await response.text(), "from the fallback");
  assert.equal(failed.cancelled, true);
});

Deno.test("each attempt's signal reaches fetch, and a Request input is cloned per attempt", async () => {
  const seen: { signal: AbortSignal | null | undefined; body: string }[] = [];
  const resilientFetch = serviceFetch({
    name: "orders",
    timeoutMs: 5_000,
    retry: { attempts: 2, initialDelayMs: 0 },
    fetch: async (input, init) => {
      const request = input as Request;
      seen.push({ signal: init?.signal, body: await request.text() });
      return new Response(null, { status: seen.length === 1 ? 503 : 201 });
    },
  });

  const response = await resilientFetch(
    new Request("http://upstream.test/orders", {
      method: "POST",
      body: "order-1",
    }),
  );

  assert.equal(response.status, 201);
  assert.deepEqual(seen.map((s) => s.body), ["order-1", "order-1"]);
  assert.ok(seen.every((s) => s.signal instanceof AbortSignal));
});

Deno.test("against a real loopback upstream: retries a 503, counts metrics", async () => {
  let hits = 0;
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => (++hits === 1
      ? new Response("busy", { status: 503, headers: { "retry-after": "0" } })
      : Response.json({ ok: true })),
  );
  const registry = new MetricsRegistry();
  const resilientFetch = serviceFetch({
    name: "loopback",
    timeoutMs: 2_000,
    retry: { attempts: 3, initialDelayMs: 1 },
    breaker: {},
    bulkhead: { maxConcurrent: 2 },
    metrics: registry,
  });

  try {
    const response = await resilientFetch(
      `http://127.0.0.1:${upstream.addr.port}/`,
    );
    assert.deepEqual(await response.json(), { ok: true });
  } finally {
    await upstream.shutdown();
  }

  const [snapshot] = registry.snapshot();
  assert.equal(hits, 2);
  assert.equal(snapshot.cumulative.failures, 1);
  assert.equal(snapshot.cumulative.successes, 1);
  assert.equal(snapshot.cumulative.retries, 1);
});

Deno.test("parseRetryAfter() reads seconds and HTTP dates, and rejects the rest", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  assert.equal(parseRetryAfter("0", now), 0);
  assert.equal(parseRetryAfter(" 30 ", now), 30_000);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:29:00 GMT", now), 60_000);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), 0);
  assert.equal(parseRetryAfter("-5", now), undefined);
  assert.equal(parseRetryAfter("1.5", now), undefined);
  assert.equal(parseRetryAfter("", now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});
