/**
 * Checks of `service`: the composed resilient call path, the `service()`
 * wrapper, and `serviceFetch` against a stub `fetch` (no network).
 *
 * @module
 */

import {
  BreakerOpenError,
  HttpStatusError,
  LoadingCache,
  MetricsRegistry,
  parseRetryAfter,
  Service,
  service,
  serviceFetch,
} from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  checkJson,
  Flaky,
  HandClock,
  never,
  rejection,
} from "./_check.ts";

type Fetch = (
  input: RequestInfo | URL,
  init?: RequestInit,
) => Promise<Response>;

/** A `fetch` that answers each call with the next status, and notes what it got. */
function stubFetch(statuses: number[], headers: Record<string, string> = {}) {
  const calls: { url: string; body: string; signal: boolean }[] = [];
  const fetch: Fetch = async (input, init) => {
    const request = new Request(input, init);
    calls.push({
      url: request.url,
      body: await request.text(),
      signal: init?.signal instanceof AbortSignal,
    });
    const status = statuses.shift() ?? 200;
    return new Response(`status ${status}`, { status, headers });
  };

  return { fetch, calls };
}

export const serviceChecks: Check[] = [
  [
    "service: retries, then a breaker that opens hands the call to the fallback",
    async () => {
      const registry = new MetricsRegistry();
      const prices = new Service<number>({
        name: "prices",
        bulkhead: { maxConcurrent: 2, maxQueued: 2 },
        timeoutMs: 1_000,
        retry: { attempts: 3, initialDelayMs: 1, backoff: "constant" },
        breaker: { minimumCalls: 4, openMs: 60_000 },
        fallback: { value: -1 },
        metrics: registry,
      });
      let calls = 0;

      const recovered = await prices.execute(({ attempt, signal }) => {
        calls++;
        check(signal instanceof AbortSignal, "attempt has no signal");
        if (attempt < 3) throw new Flaky("503");
        return 42;
      });
      const fallenBack = await prices.execute(() => {
        calls++;
        throw new Flaky("503");
      });
      const callsBefore = calls;
      const shortCircuited = await prices.execute(() => calls++);
      const [snapshot] = registry.snapshot();

      checkEqual(recovered, 42, "recovered value");
      checkEqual(fallenBack, -1, "fallback value");
      checkEqual(shortCircuited, -1, "value while open");
      checkEqual(calls, callsBefore, "calls while open");
      checkEqual(prices.breaker?.state, "open", "breaker state");
      checkEqual(snapshot.name, "prices", "metrics name");
      checkEqual(snapshot.cumulative.successes, 1, "successes");
      checkEqual(snapshot.cumulative.failures, 3, "failures");
      checkEqual(snapshot.cumulative.shortCircuited, 2, "short-circuited");
      checkEqual(snapshot.cumulative.retries, 3, "retries");
      checkEqual(snapshot.cumulative.fallbackSuccesses, 2, "fallbacks");
      checkEqual(snapshot.circuit, "open", "circuit in the snapshot");
    },
  ],
  [
    "service: an attempt's deadline aborts it and the retry succeeds",
    async () => {
      const clock = new HandClock();
      const lookups = new Service<string>({
        name: "lookups",
        clock,
        timeoutMs: 10,
        retry: { attempts: 2, initialDelayMs: 5, backoff: "constant" },
      });
      const aborted: boolean[] = [];

      const running = lookups.execute(({ attempt, signal }) => {
        if (attempt === 2) return "second";
        signal?.addEventListener("abort", () => aborted.push(signal.aborted));
        return never(signal);
      });
      await clock.advance(15);
      const answer = await running;
      const snapshot = lookups.metrics!.snapshot();

      checkEqual(answer, "second", "answer");
      checkJson(aborted, [true], "first attempt's signal aborted");
      checkEqual(snapshot.cumulative.timeouts, 1, "timeouts");
      checkEqual(snapshot.cumulative.successes, 1, "successes");
      checkEqual(clock.pendingTimers, 0, "timers left");
    },
  ],
  [
    "service: service() keeps the signature, threads signals and caches",
    async () => {
      let upstream = 0;
      const lookUp = service(
        (id: number, init?: { signal?: AbortSignal }) => {
          upstream++;
          return Promise.resolve({ id, signal: init?.signal !== undefined });
        },
        {
          name: "users",
          timeoutMs: 1_000,
          signalFrom: ([, init]) => init?.signal,
          signalInto: ([id, init], signal) => [id, { ...init, signal }],
          cache: {
            cache: new LoadingCache<{ id: number; signal: boolean }>(),
            key: (id) => String(id),
          },
        },
      );
      const controller = new AbortController();

      const first = await lookUp(7, { signal: controller.signal });
      const again = await lookUp(7);
      const other = await lookUp(8);

      checkEqual(lookUp.length, 2, "length");
      checkJson(first, { id: 7, signal: true }, "first call");
      checkEqual(again, first, "cached call");
      checkEqual(other.id, 8, "other key");
      checkEqual(upstream, 2, "upstream calls");
      checkEqual(lookUp.breaker, undefined, "breaker");
      checkEqual(lookUp.metrics?.name, "users", "metrics");
    },
  ],
  ["service: serviceFetch retries a 503 after its Retry-After", async () => {
    const stub = stubFetch([503, 200], { "retry-after": "0" });
    const catalog = serviceFetch({
      name: "catalog",
      timeoutMs: 1_000,
      retry: { attempts: 3, initialDelayMs: 1 },
      fetch: stub.fetch,
    });

    const response = await catalog("https://catalog.example/items");

    checkEqual(response.status, 200, "status");
    checkEqual(await response.text(), "status 200", "body");
    checkEqual(stub.calls.length, 2, "fetch calls");
    checkJson(
      stub.calls.map((call) => call.signal),
      [true, true],
      "each attempt got a signal",
    );
    checkEqual(catalog.metrics?.snapshot().cumulative.retries, 1, "retries");
  }],
  [
    "service: serviceFetch resends a Request's body and returns the last failing response",
    async () => {
      const stub = stubFetch([503, 503]);
      const orders = serviceFetch({
        name: "orders",
        retry: { attempts: 2, initialDelayMs: 1 },
        fetch: stub.fetch,
      });

      const response = await orders(
        new Request("https://orders.example/", {
          method: "POST",
          body: "order-1",
        }),
      );

      checkEqual(response.status, 503, "status");
      checkEqual(await response.text(), "status 503", "body");
      checkJson(
        stub.calls.map((call) => call.body),
        ["order-1", "order-1"],
        "bodies sent",
      );
    },
  ],
  [
    "service: serviceFetch's breaker opens on failing statuses for at least Retry-After",
    async () => {
      const clock = new HandClock();
      const stub = stubFetch([503, 503, 200], { "retry-after": "30" });
      const search = serviceFetch({
        name: "search",
        clock,
        breaker: { minimumCalls: 2, openMs: 1_000 },
        fetch: stub.fetch,
      });

      const statuses = [
        (await search("https://search.example/?q=a")).status,
        (await search("https://search.example/?q=b")).status,
      ];
      const error = await rejection(search("https://search.example/?q=c"));

      checkJson(statuses, [503, 503], "statuses");
      check(error instanceof BreakerOpenError, "not a BreakerOpenError");
      checkEqual(error.breakerName, "search", "breakerName");
      checkEqual(error.retryAfterMs, 30_000, "retryAfterMs");
      checkEqual(stub.calls.length, 2, "fetch calls");
    },
  ],
  ["service: parseRetryAfter and HttpStatusError", () => {
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    const response = new Response(null, { status: 429 });
    const error = new HttpStatusError(response, 2_000);

    checkEqual(parseRetryAfter("120", now), 120_000, "delay-seconds");
    checkEqual(
      parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now),
      30_000,
      "HTTP date",
    );
    checkEqual(parseRetryAfter("soon", now), undefined, "nonsense");
    checkEqual(parseRetryAfter(null, now), undefined, "absent");
    checkEqual(error.name, "HttpStatusError", "name");
    checkEqual(error.status, 429, "status");
    checkEqual(error.retryAfterMs, 2_000, "retryAfterMs");
    checkEqual(error.response, response, "response");
  }],
];
