import assert from "node:assert/strict";
import {
  dashboard,
  type DashboardOptions,
  type MetricsSource,
} from "../lib/dashboard.ts";
import {
  type CircuitState,
  Metrics,
  MetricsRegistry,
  type MetricsSnapshot,
} from "../lib/metrics.ts";
import { ManualClock, settle } from "../lib/testing.ts";
import { counts, snapshot as makeSnapshot } from "./_snapshots.ts";

function snapshot(overrides: Partial<MetricsSnapshot> = {}): MetricsSnapshot {
  return makeSnapshot({ circuit: "closed", ...overrides });
}

/** A source whose snapshots a test can change, counting its reads. */
class FakeSource implements MetricsSource {
  snapshots: MetricsSnapshot[];
  reads = 0;

  constructor(snapshots: MetricsSnapshot[] = [snapshot()]) {
    this.snapshots = snapshots;
  }

  snapshot(): MetricsSnapshot[] {
    this.reads++;
    return this.snapshots;
  }
}

function get(
  handler: (request: Request) => Response,
  path: string,
  init?: RequestInit,
): Response {
  return handler(new Request(`http://localhost${path}`, init));
}

const decoder = new TextDecoder();

/** Reads one batch of the stream and returns its events' JSON objects. */
async function readBatch(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<Record<string, unknown>[]> {
  const { value, done } = await reader.read();
  assert.equal(done, false, "the stream is still open");

  return parseEvents(decoder.decode(value));
}

function parseEvents(text: string): Record<string, unknown>[] {
  assert.ok(text.endsWith("\n\n"), "a batch ends with a complete event");

  return text.split("\n\n").filter((event) => event.startsWith("data: "))
    .map((event) => JSON.parse(event.slice("data: ".length)));
}

function streamOf(handler: (request: Request) => Response, path = "/stream") {
  const response = get(handler, path);
  return { response, reader: response.body!.getReader() };
}

/** The fields Hystrix's own stream writes for each `HystrixCommand`. */
const HYSTRIX_FIELDS = [
  "type",
  "name",
  "group",
  "currentTime",
  "isCircuitBreakerOpen",
  "errorPercentage",
  "errorCount",
  "requestCount",
  "rollingCountBadRequests",
  "rollingCountCollapsedRequests",
  "rollingCountEmit",
  "rollingCountExceptionsThrown",
  "rollingCountFailure",
  "rollingCountFallbackEmit",
  "rollingCountFallbackFailure",
  "rollingCountFallbackMissing",
  "rollingCountFallbackRejection",
  "rollingCountFallbackSuccess",
  "rollingCountResponsesFromCache",
  "rollingCountSemaphoreRejected",
  "rollingCountShortCircuited",
  "rollingCountSuccess",
  "rollingCountThreadPoolRejected",
  "rollingCountTimeout",
  "currentConcurrentExecutionCount",
  "rollingMaxConcurrentExecutionCount",
  "latencyExecute_mean",
  "latencyExecute",
  "latencyTotal_mean",
  "latencyTotal",
  "propertyValue_circuitBreakerRequestVolumeThreshold",
  "propertyValue_circuitBreakerSleepWindowInMilliseconds",
  "propertyValue_circuitBreakerErrorThresholdPercentage",
  "propertyValue_circuitBreakerForceOpen",
  "propertyValue_circuitBreakerForceClosed",
  "propertyValue_circuitBreakerEnabled",
  "propertyValue_executionIsolationStrategy",
  "propertyValue_executionIsolationThreadTimeoutInMilliseconds",
  "propertyValue_executionTimeoutInMilliseconds",
  "propertyValue_executionIsolationThreadInterruptOnTimeout",
  "propertyValue_executionIsolationThreadPoolKeyOverride",
  "propertyValue_executionIsolationSemaphoreMaxConcurrentRequests",
  "propertyValue_fallbackIsolationSemaphoreMaxConcurrentRequests",
  "propertyValue_metricsRollingStatisticalWindowInMilliseconds",
  "propertyValue_requestCacheEnabled",
  "propertyValue_requestLogEnabled",
  "reportingHosts",
  "threadPool",
];

Deno.test("dashboard() rejects bad options, naming the option and the value", () => {
  const source = new FakeSource();
  const cases: [DashboardOptions, typeof Error, string][] = [
    [
      { streamIntervalMs: 0 },
      RangeError,
      "dashboard: streamIntervalMs must be a positive finite number, got 0",
    ],
    [
      { streamIntervalMs: -5 },
      RangeError,
      "dashboard: streamIntervalMs must be a positive finite number, got -5",
    ],
    [
      { streamIntervalMs: NaN },
      RangeError,
      "dashboard: streamIntervalMs must be a positive finite number, got NaN",
    ],
    [
      { streamIntervalMs: Infinity },
      RangeError,
      "dashboard: streamIntervalMs must be a positive finite number, got Infinity",
    ],
    [
      { streamIntervalMs: "1000" as unknown as number },
      TypeError,
      'dashboard: streamIntervalMs must be a number, got "1000"',
    ],
    [
      { basePath: "dyno" },
      RangeError,
      'dashboard: basePath must start with "/" and hold no "?", "#" or spaces, got "dyno"',
    ],
    [
      { basePath: "/dyno?x=1" },
      RangeError,
      'dashboard: basePath must start with "/" and hold no "?", "#" or spaces, got "/dyno?x=1"',
    ],
    [
      { basePath: 7 as unknown as string },
      TypeError,
      "dashboard: basePath must be a string, got 7",
    ],
    [
      { clock: {} as unknown as ManualClock },
      TypeError,
      "dashboard: clock must be a Clock, got an object",
    ],
    [
      { title: null as unknown as string },
      TypeError,
      "dashboard: title must be a string, got null",
    ],
  ];

  for (const [options, ErrorClass, message] of cases) {
    assert.throws(() => dashboard(source, options), (error: Error) => {
      assert.ok(error instanceof ErrorClass, `${message}: ${error}`);
      assert.equal(error.message, message);
      return true;
    });
  }
});

Deno.test("dashboard() rejects a source without a snapshot() method", () => {
  for (
    const [source, shown] of [
      [undefined, "undefined"],
      [{}, "an object"],
      [[], "an array"],
    ] as const
  ) {
    assert.throws(
      () => dashboard(source as unknown as MetricsSource),
      new TypeError(
        `dashboard: source must have a snapshot() method, got ${shown}`,
      ),
    );
  }
});

Deno.test("dashboard() starts no timer and reads no metrics until asked", async () => {
  const clock = new ManualClock();
  const source = new FakeSource();
  const handler = dashboard(source, { clock });

  assert.equal(clock.pendingTimers, 0);
  assert.equal(source.reads, 0);
  await get(handler, "/").text();
  assert.equal(clock.pendingTimers, 0);
  assert.equal(source.reads, 0);
});

Deno.test("unknown routes get 404", async () => {
  const handler = dashboard(new FakeSource(), { basePath: "/dyno" });
  const paths = [
    "/",
    "/metrics",
    "/stream",
    "/dynosaur",
    "/dyno/metrics/",
    "/dyno/streams",
    "/dyno/index.html",
    "/other/dyno/metrics",
  ];

  for (const path of paths) {
    const response = get(handler, path);
    assert.equal(response.status, 404, path);
    assert.equal(await response.text(), "Not Found\n");
  }
});

Deno.test("methods other than GET and HEAD get 405 with an Allow header", async () => {
  const handler = dashboard(new FakeSource());

  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    for (const path of ["/", "/metrics", "/stream"]) {
      const response = get(handler, path, { method });
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.headers.get("allow"), "GET, HEAD");
      await response.body?.cancel();
    }
  }
});

Deno.test("HEAD gets each route's headers without a body and starts no stream", () => {
  const clock = new ManualClock();
  const source = new FakeSource();
  const handler = dashboard(source, { clock });

  for (
    const [path, type] of [
      ["/", "text/html; charset=utf-8"],
      ["/metrics", "text/plain; version=0.0.4; charset=utf-8"],
      ["/stream", "text/event-stream; charset=utf-8"],
    ]
  ) {
    const response = get(handler, path, { method: "HEAD" });
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), type);
    assert.equal(response.body, null);
  }
  assert.equal(clock.pendingTimers, 0);
  assert.equal(source.reads, 0);
});

Deno.test("basePath mounts every route under it, with or without a trailing slash", async () => {
  for (const basePath of ["/dyno", "/dyno/", "/ops/dyno"]) {
    const handler = dashboard(new FakeSource(), { basePath });
    const root = basePath.replace(/\/$/, "");

    for (const path of [root, `${root}/`, `${root}/metrics`]) {
      const response = get(handler, path);
      assert.equal(response.status, 200, `${basePath}: ${path}`);
      await response.body?.cancel();
    }
  }
});

Deno.test('basePath "/" is the same as none', async () => {
  const handler = dashboard(new FakeSource(), { basePath: "/" });

  for (const path of ["/", "/metrics"]) {
    const response = get(handler, path);
    assert.equal(response.status, 200, path);
    await response.body?.cancel();
  }
});

Deno.test("GET / serves a self-contained page that reads the stream beside it", async () => {
  const handler = dashboard(new FakeSource(), {
    title: "<Shop> & co",
  });
  const response = get(handler, "/");

  assert.equal(response.status, 200);
  assert.equal(
    response.headers.get("content-type"),
    "text/html; charset=utf-8",
  );
  assert.match(
    response.headers.get("content-security-policy")!,
    /default-src 'none'/,
  );
  const html = await response.text();
  assert.match(html, /<title>&#60;Shop&#62; &#38; co<\/title>/);
  assert.equal(html.includes("<Shop>"), false);
  assert.match(html, /new EventSource\(base \+ "stream"\)/);
  assert.equal(/<script[^>]+src=|<link[^>]+stylesheet/.test(html), false);
  const urls = html.match(/https?:\/\/[^\s"']+/g) ?? [];
  assert.deepEqual(urls, ["http://www.w3.org/2000/svg"]);
});

Deno.test("GET /stream sends a batch at once, then one every streamIntervalMs", async () => {
  const clock = new ManualClock();
  const source = new FakeSource();
  const handler = dashboard(source, { clock, streamIntervalMs: 2000 });
  const { response, reader } = streamOf(handler);

  assert.equal(response.status, 200);
  assert.equal(
    response.headers.get("content-type"),
    "text/event-stream; charset=utf-8",
  );
  assert.match(response.headers.get("cache-control")!, /no-cache/);
  assert.equal((await readBatch(reader))[0].requestCount, 0);
  assert.equal(clock.pendingTimers, 1);

  source.snapshots = [snapshot({ requests: 7 })];
  await clock.advance(1999);
  assert.equal(source.reads, 1);
  await clock.advance(1);
  assert.equal((await readBatch(reader))[0].requestCount, 7);

  await reader.cancel();
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("the stream sends one HystrixCommand event per service, with Hystrix's fields", async () => {
  const clock = new ManualClock();
  const source = new FakeSource([
    snapshot({ name: "users" }),
    snapshot({ name: "orders", group: "shop" }),
  ]);
  const { reader } = streamOf(dashboard(source, { clock }));

  const events = await readBatch(reader);
  assert.deepEqual(events.map((event) => event.name), ["users", "orders"]);
  for (const event of events) {
    assert.deepEqual(Object.keys(event), [...HYSTRIX_FIELDS, "dyno"]);
    assert.equal(event.type, "HystrixCommand");
    assert.deepEqual(Object.keys(event.latencyExecute as object).sort(), [
      "0",
      "100",
      "25",
      "50",
      "75",
      "90",
      "95",
      "99",
      "99.5",
    ]);
  }
  assert.equal(events[1].group, "shop");
  assert.equal(events[1].threadPool, "shop");
  await reader.cancel();
});

Deno.test("Hystrix fields carry the snapshot's counts, rounded as Hystrix's are", async () => {
  const clock = new ManualClock();
  const before = Date.now();
  const source = new FakeSource([snapshot({
    windowMs: 5000,
    rolling: counts({
      successes: 90,
      failures: 6,
      timeouts: 3,
      shortCircuited: 4,
      rejected: 1,
      fallbackSuccesses: 8,
      fallbackFailures: 2,
      retries: 5,
    }),
    requests: 100,
    errorPercentage: 10.4,
    inFlight: 3,
    inFlightMax: 9,
    queued: 2,
    latency: {
      count: 100,
      meanMs: 4.6,
      p50Ms: 3.2,
      p90Ms: 7.5,
      p99Ms: 12.4,
      p999Ms: 20.6,
      maxMs: 25,
    },
  })]);
  const { reader } = streamOf(dashboard(source, { clock }));
  const [event] = await readBatch(reader);

  assert.ok((event.currentTime as number) >= before);
  assert.ok((event.currentTime as number) <= Date.now());
  assert.equal(event.errorPercentage, 10);
  assert.equal(event.errorCount, 10);
  assert.equal(event.requestCount, 100);
  assert.equal(event.rollingCountSuccess, 90);
  assert.equal(event.rollingCountFailure, 6);
  assert.equal(event.rollingCountTimeout, 3);
  assert.equal(event.rollingCountShortCircuited, 4);
  assert.equal(event.rollingCountSemaphoreRejected, 1);
  assert.equal(event.rollingCountThreadPoolRejected, 0);
  assert.equal(event.rollingCountFallbackSuccess, 8);
  assert.equal(event.rollingCountFallbackFailure, 2);
  assert.equal(event.currentConcurrentExecutionCount, 3);
  assert.equal(event.rollingMaxConcurrentExecutionCount, 9);
  assert.equal(event.latencyExecute_mean, 5);
  assert.deepEqual(event.latencyExecute, {
    "0": 3,
    "25": 3,
    "50": 3,
    "75": 8,
    "90": 8,
    "95": 12,
    "99": 12,
    "99.5": 21,
    "100": 25,
  });
  assert.deepEqual(event.latencyTotal, event.latencyExecute);
  assert.equal(
    event.propertyValue_metricsRollingStatisticalWindowInMilliseconds,
    5000,
  );
  assert.equal(event.propertyValue_executionIsolationStrategy, "SEMAPHORE");
  assert.equal(event.reportingHosts, 1);
  assert.deepEqual(event.dyno, {
    circuitState: "closed",
    errorPercentage: 10.4,
    windowMs: 5000,
    queued: 2,
    latencyMs: {
      count: 100,
      mean: 4.6,
      p50: 3.2,
      p90: 7.5,
      p99: 12.4,
      p999: 20.6,
      max: 25,
    },
    rolling: {
      successes: 90,
      failures: 6,
      timeouts: 3,
      shortCircuited: 4,
      rejected: 1,
      fallbackSuccesses: 8,
      fallbackFailures: 2,
      retries: 5,
    },
    cumulative: counts(),
  });
  await reader.cancel();
});

Deno.test("isCircuitBreakerOpen and the breaker properties follow the circuit state", async () => {
  const cases: [
    CircuitState | undefined,
    boolean,
    boolean,
    boolean,
    boolean,
  ][] = [
    // state, open, forceOpen, forceClosed, enabled
    ["closed", false, false, false, true],
    ["open", true, false, false, true],
    ["half-open", true, false, false, true],
    ["forced-open", true, true, false, true],
    ["forced-closed", false, false, true, true],
    ["disabled", false, false, false, false],
    [undefined, false, false, false, false],
  ];
  const clock = new ManualClock();

  for (const [circuit, open, forceOpen, forceClosed, enabled] of cases) {
    const source = new FakeSource([snapshot({ circuit })]);
    const { reader } = streamOf(dashboard(source, { clock }));
    const [event] = await readBatch(reader);

    assert.equal(event.isCircuitBreakerOpen, open, String(circuit));
    assert.equal(event.propertyValue_circuitBreakerForceOpen, forceOpen);
    assert.equal(event.propertyValue_circuitBreakerForceClosed, forceClosed);
    assert.equal(event.propertyValue_circuitBreakerEnabled, enabled);
    assert.equal(
      (event.dyno as { circuitState: unknown }).circuitState,
      circuit ?? null,
    );
    await reader.cancel();
  }
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("non-finite numbers become 0 in the stream, and a missing window Hystrix's 10 s", async () => {
  const clock = new ManualClock();
  const source = new FakeSource([snapshot({
    windowMs: 0,
    requests: NaN,
    errorPercentage: Infinity,
    inFlight: -Infinity,
  })]);
  const { reader } = streamOf(dashboard(source, { clock }));
  const [event] = await readBatch(reader);

  assert.equal(event.requestCount, 0);
  assert.equal(event.errorPercentage, 0);
  assert.equal(event.errorCount, 0);
  assert.equal(event.currentConcurrentExecutionCount, 0);
  assert.equal(
    event.propertyValue_metricsRollingStatisticalWindowInMilliseconds,
    10_000,
  );
  await reader.cancel();
});

Deno.test("an empty source streams keep-alive comments", async () => {
  const clock = new ManualClock();
  const { reader } = streamOf(dashboard(new FakeSource([]), { clock }));

  const { value } = await reader.read();
  assert.equal(decoder.decode(value), ": ping\n\n");
  await reader.cancel();
});

Deno.test("cancelling the stream clears its timer", async () => {
  const clock = new ManualClock();
  const source = new FakeSource();
  const { reader } = streamOf(dashboard(source, { clock }));
  await readBatch(reader);

  await reader.cancel();
  assert.equal(clock.pendingTimers, 0);
  await clock.advance(10_000);
  assert.equal(source.reads, 1);
});

Deno.test("aborting the request's signal ends the stream and clears its timer", async () => {
  const clock = new ManualClock();
  const controller = new AbortController();
  const handler = dashboard(new FakeSource(), { clock });
  const response = get(handler, "/stream", { signal: controller.signal });
  const reader = response.body!.getReader();
  await readBatch(reader);
  assert.equal(clock.pendingTimers, 1);

  controller.abort();
  assert.equal(clock.pendingTimers, 0);
  assert.equal((await reader.read()).done, true);
});

Deno.test("a request aborted before it is handled gets an ended stream and no timer", async () => {
  const clock = new ManualClock();
  const source = new FakeSource();
  const handler = dashboard(source, { clock });
  const response = get(handler, "/stream", { signal: AbortSignal.abort() });

  assert.equal(await response.text(), "");
  assert.equal(clock.pendingTimers, 0);
  assert.equal(source.reads, 0);
});

Deno.test("?delay= sets the stream's pace, never below 100 ms", async () => {
  const cases: [string, number][] = [
    ["?delay=250", 250],
    ["?delay=5", 100],
    ["?delay=0", 1000],
    ["?delay=", 1000],
    ["?delay=soon", 1000],
  ];

  for (const [query, intervalMs] of cases) {
    const clock = new ManualClock();
    const source = new FakeSource();
    const { reader } = streamOf(
      dashboard(source, { clock }),
      `/stream${query}`,
    );
    await readBatch(reader);

    await clock.advance(intervalMs - 1);
    assert.equal(source.reads, 1, query);
    await clock.advance(1);
    assert.equal(source.reads, 2, query);
    await reader.cancel();
  }
});

Deno.test("a client that stops reading gets batches skipped, not buffered without bound", async () => {
  const clock = new ManualClock();
  const source = new FakeSource();
  const { reader } = streamOf(dashboard(source, { clock }));

  for (let tick = 0; tick < 10; tick++) await clock.advance(1000);
  assert.equal(source.reads, 4);
  assert.equal(clock.pendingTimers, 1);

  for (let batch = 0; batch < 4; batch++) await readBatch(reader);
  await clock.advance(1000);
  assert.equal(source.reads, 5);
  await readBatch(reader);
  await reader.cancel();
});

Deno.test("a source that throws errors the stream and clears its timer", async () => {
  const clock = new ManualClock();
  const source = new FakeSource();
  const { reader } = streamOf(dashboard(source, { clock }));
  await readBatch(reader);

  source.snapshot = () => {
    throw new Error("registry gone");
  };
  await clock.advance(1000);
  await assert.rejects(reader.read(), { message: "registry gone" });
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("two clients get streams with a timer each, each cleared on its own", async () => {
  const clock = new ManualClock();
  const handler = dashboard(new FakeSource(), { clock });
  const first = streamOf(handler);
  const second = streamOf(handler);
  assert.equal(clock.pendingTimers, 2);

  await first.reader.cancel();
  assert.equal(clock.pendingTimers, 1);
  await clock.advance(1000);
  await readBatch(second.reader);
  await readBatch(second.reader);
  await second.reader.cancel();
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("served by Deno.serve, the stream stops when the client goes away", async () => {
  const clock = new ManualClock();
  const source = new FakeSource();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    dashboard(source, { clock, basePath: "/dyno" }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/dyno/stream`;
  const client = new AbortController();

  try {
    const response = await fetch(url, { signal: client.signal });
    const reader = response.body!.getReader();
    assert.equal((await readBatch(reader))[0].name, "users");
    await clock.advance(1000);
    assert.equal((await readBatch(reader))[0].name, "users");
    assert.equal(clock.pendingTimers, 1);

    client.abort();
    await reader.closed.catch(() => {});
    for (let wait = 0; wait < 100 && clock.pendingTimers > 0; wait++) {
      await settle();
    }
    assert.equal(clock.pendingTimers, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("over a real MetricsRegistry, the stream and the exporter follow recorded calls", async () => {
  const clock = new ManualClock();
  const registry = new MetricsRegistry();
  let circuit: CircuitState = "closed";
  const users = new Metrics({
    name: "users",
    group: "api",
    clock,
    registry,
    circuitState: () => circuit,
    queued: () => 2,
  });
  const handler = dashboard(registry, { clock, basePath: "/dyno" });
  const { reader } = streamOf(handler, "/dyno/stream");

  const [before] = await readBatch(reader);
  assert.equal(before.name, "users");
  assert.equal(before.requestCount, 0);

  users.callStarted();
  for (let call = 0; call < 9; call++) users.recordSuccess(10);
  users.recordFailure(30);
  users.recordShortCircuited();
  users.recordRetry();
  circuit = "open";
  await clock.advance(1000);
  const [after] = await readBatch(reader);
  assert.equal(after.requestCount, 11);
  assert.equal(after.errorPercentage, 18);
  assert.equal(after.rollingCountSuccess, 9);
  assert.equal(after.rollingCountShortCircuited, 1);
  assert.equal(after.currentConcurrentExecutionCount, 1);
  assert.equal(after.isCircuitBreakerOpen, true);
  assert.equal((after.latencyExecute as Record<string, number>)["100"], 30);
  assert.equal((after.dyno as { queued: number }).queued, 2);
  await reader.cancel();

  const text = await get(handler, "/dyno/metrics").text();
  assert.match(
    text,
    /^dyno_requests_total\{service="users",group="api",outcome="success"\} 9$/m,
  );
  assert.match(text, /^dyno_retries_total\{service="users",group="api"\} 1$/m);
  assert.match(
    text,
    /^dyno_circuit_state\{service="users",group="api",state="open"\} 1$/m,
  );
  assert.match(text, /^dyno_queued\{service="users",group="api"\} 2$/m);
  assert.equal(clock.pendingTimers, 0);
});
