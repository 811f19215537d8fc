/**
 * Checks of `dashboard`: its handler answers real `Request`s with real
 * `Response`s: Prometheus text, the HTML page, and the Hystrix event stream,
 * whose timer must stop when the client goes away.
 *
 * @module
 */

import {
  dashboard,
  type DashboardHandler,
  Metrics,
  MetricsRegistry,
} from "../../../mod.ts";
import { type Check, check, checkEqual, HandClock } from "./_check.ts";

const BASE = "http://localhost/dyno";

function serve(clock: HandClock | undefined): DashboardHandler {
  const registry = new MetricsRegistry();
  const metrics = new Metrics({
    name: "users",
    group: "api",
    registry,
    clock: new HandClock(),
  });
  metrics.recordSuccess(4);
  metrics.recordFailure(9);

  return dashboard(registry, { basePath: "/dyno", clock, title: "shop <1>" });
}

/** The first Hystrix event of a chunk of the stream. */
function firstEvent(chunk: Uint8Array | undefined): Record<string, unknown> {
  const text = new TextDecoder().decode(chunk);
  check(text.startsWith("data: "), `not an event: ${text.slice(0, 40)}`);

  return JSON.parse(text.slice("data: ".length, text.indexOf("\n\n")));
}

export const dashboardChecks: Check[] = [
  ["dashboard: /metrics answers Prometheus text", async () => {
    const handler = serve(new HandClock());

    const response = handler(new Request(`${BASE}/metrics`));
    const text = await response.text();
    const head = handler(new Request(`${BASE}/metrics`, { method: "HEAD" }));

    checkEqual(response.status, 200, "status");
    checkEqual(
      response.headers.get("content-type"),
      "text/plain; version=0.0.4; charset=utf-8",
      "content-type",
    );
    check(
      text.includes(
        'dyno_requests_total{service="users",group="api",outcome="success"} 1\n',
      ),
      "no success counter",
    );
    check(
      text.includes(
        'dyno_latency_ms{service="users",group="api",quantile="1"} 9\n',
      ),
      "no latency maximum",
    );
    checkEqual(head.status, 200, "HEAD status");
    checkEqual(head.body, null, "HEAD body");
  }],
  [
    "dashboard: / answers the HTML page; other paths 404, other methods 405",
    async () => {
      const handler = serve(new HandClock());

      const page = handler(new Request(`${BASE}/`));
      const html = await page.text();
      const bare = handler(new Request(BASE));
      const missing = handler(new Request("http://localhost/elsewhere"));
      const unknown = handler(new Request(`${BASE}/nope`));
      const post = handler(new Request(`${BASE}/`, { method: "POST" }));
      await Promise.all(
        [bare, missing, unknown, post].map((response) => response.text()),
      );

      checkEqual(page.status, 200, "page status");
      checkEqual(
        page.headers.get("content-type"),
        "text/html; charset=utf-8",
        "content-type",
      );
      check(html.startsWith("<!doctype html>"), "not an HTML document");
      check(
        /<title>shop (&lt;|&#60;)1(&gt;|&#62;)<\/title>/.test(html),
        "the title, escaped",
      );
      checkEqual(bare.status, 200, "status without the trailing slash");
      checkEqual(missing.status, 404, "status outside basePath");
      checkEqual(unknown.status, 404, "status of an unknown path");
      checkEqual(post.status, 405, "status of a POST");
      checkEqual(post.headers.get("allow"), "GET, HEAD", "allow header");
    },
  ],
  [
    "dashboard: /stream sends a Hystrix event at once and one per interval; cancel stops its timer",
    async () => {
      const clock = new HandClock();
      const handler = serve(clock);

      const response = handler(new Request(`${BASE}/stream`));
      const reader = response.body!.getReader();
      const first = firstEvent((await reader.read()).value);
      const timersWhileOpen = clock.pendingTimers;
      await clock.advance(1_000);
      const second = firstEvent((await reader.read()).value);
      await reader.cancel();

      checkEqual(
        response.headers.get("content-type"),
        "text/event-stream; charset=utf-8",
        "content-type",
      );
      checkEqual(first.type, "HystrixCommand", "type");
      checkEqual(first.name, "users", "name");
      checkEqual(first.rollingCountSuccess, 1, "rollingCountSuccess");
      checkEqual(first.rollingCountFailure, 1, "rollingCountFailure");
      checkEqual(second.name, "users", "second event's name");
      checkEqual(timersWhileOpen, 1, "timers while the stream is open");
      checkEqual(clock.pendingTimers, 0, "timers after cancel");
    },
  ],
  [
    "dashboard: /stream on the real clock closes when the request's signal aborts",
    async () => {
      const handler = serve(undefined);
      const controller = new AbortController();

      const response = handler(
        new Request(`${BASE}/stream`, { signal: controller.signal }),
      );
      const reader = response.body!.getReader();
      try {
        const first = firstEvent((await reader.read()).value);
        controller.abort();
        const end = await reader.read();

        checkEqual(first.name, "users", "name");
        checkEqual(end.done, true, "stream done after the abort");
      } finally {
        await reader.cancel();
      }
    },
  ],
];
