/**
 * A live dashboard and two exporters for dyno's metrics, as one web-standard
 * request handler: mount it in `Deno.serve`, `Bun.serve`, a Cloudflare
 * Worker's `fetch` or any router that speaks `Request` and `Response`.
 *
 * - `GET /` is a dashboard page with one tile per service, updated live.
 * - `GET /metrics` is the Prometheus text exposition format 0.0.4.
 * - `GET /stream` is a Hystrix metrics event stream, which the page reads and
 *   which a Hystrix dashboard or Turbine can read too.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import { dashboardPage } from "./_dashboard_page.ts";
import { hystrixStream } from "./_hystrix_stream.ts";
import { prometheusText } from "./_prometheus.ts";
import type { MetricsSnapshot } from "./metrics.ts";

export { prometheusText } from "./_prometheus.ts";
export type { Clock, TimerHandle } from "./clock.ts";
export type {
  CircuitState,
  EventCounts,
  LatencySummary,
  MetricsSnapshot,
} from "./metrics.ts";

/**
 * Anything that can report snapshots, such as a `MetricsRegistry` from
 * `@dyno/dyno/metrics`.
 */
export interface MetricsSource {
  /** One snapshot per service, taken now. */
  snapshot(): readonly MetricsSnapshot[];
}

/** Options for {@linkcode dashboard}. */
export interface DashboardOptions {
  /**
   * The path the handler is mounted under, such as `"/dyno"`: the page is
   * then at `/dyno/`, the exporters at `/dyno/metrics` and `/dyno/stream`.
   * Must start with `/`; a trailing `/` is ignored.
   *
   * @default {""}
   */
  basePath?: string;
  /**
   * Milliseconds between two batches of the event stream. A client may ask
   * for another pace with `?delay=` (as Hystrix dashboards do), never below
   * 100 ms.
   *
   * @default {1000}
   */
  streamIntervalMs?: number;
  /**
   * Whose timers pace the event stream.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * The page's title and heading.
   *
   * @default {"dyno"}
   */
  title?: string;
}

/** A web-standard request handler. */
export type DashboardHandler = (request: Request) => Response;

/** The fastest pace a client may ask of the event stream. */
const MIN_STREAM_INTERVAL_MS = 100;

const ALLOWED_METHODS = "GET, HEAD";

type Route = "page" | "metrics" | "stream";

/**
 * Makes a request handler that serves a live dashboard of `source`'s
 * services and exports their metrics for Prometheus and Hystrix tools.
 * Requests outside `basePath` or to unknown paths get 404, methods other
 * than GET and HEAD get 405.
 *
 * Nothing runs between requests: the event stream's timer lives only while
 * a client is connected, and stops when the client goes away.
 *
 * @example Scraping the Prometheus exporter
 * ```ts
 * import { dashboard } from "@dyno/dyno/dashboard";
 * import { Metrics, MetricsRegistry } from "@dyno/dyno/metrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * const users = new Metrics({ name: "users", registry });
 * await users.execute(() => "ok");
 * const handler = dashboard(registry, { basePath: "/dyno" });
 *
 * const response = handler(new Request("http://localhost/dyno/metrics"));
 * assert.equal(response.status, 200);
 * assert.match(await response.text(), /dyno_in_flight\{service="users"/);
 *
 * const missing = handler(new Request("http://localhost/elsewhere"));
 * assert.equal(missing.status, 404);
 * await missing.body?.cancel();
 * ```
 *
 * @example Mounting it in a server
 * ```ts ignore
 * import { dashboard } from "@dyno/dyno/dashboard";
 * import { Metrics, MetricsRegistry } from "@dyno/dyno/metrics";
 *
 * const registry = new MetricsRegistry();
 * const users = new Metrics({ name: "users", registry });
 * const handler = dashboard(registry, { basePath: "/dyno" });
 *
 * Deno.serve((request) => {
 *   const { pathname } = new URL(request.url);
 *   if (pathname.startsWith("/dyno")) return handler(request);
 *   return users.execute(() => new Response("hello"));
 * }); // the dashboard at http://localhost:8000/dyno/
 * ```
 *
 * @param source Where the snapshots come from; read on every request and
 *   every stream batch.
 * @param options Mount path, stream pace, clock and title.
 * @returns The request handler.
 * @throws {TypeError} If `source` has no `snapshot()` method, or an option
 *   has the wrong type.
 * @throws {RangeError} If `basePath` does not start with `/` or
 *   `streamIntervalMs` is not a positive finite number.
 */
export function dashboard(
  source: MetricsSource,
  options: DashboardOptions = {},
): DashboardHandler {
  const { basePath, streamIntervalMs, clock, title } = validate(
    source,
    options,
  );
  const page = dashboardPage(title);

  return function dashboardHandler(request: Request): Response {
    const url = new URL(request.url);
    const route = routeOf(url.pathname, basePath);
    if (route === undefined) return plain(404, "Not Found");

    if (request.method !== "GET" && request.method !== "HEAD") {
      return plain(405, "Method Not Allowed", { allow: ALLOWED_METHODS });
    }
    const head = request.method === "HEAD";

    if (route === "metrics") {
      const body = head ? null : prometheusText(source.snapshot());
      return new Response(body, { headers: METRICS_HEADERS });
    }
    if (route === "stream") {
      if (head) return new Response(null, { headers: STREAM_HEADERS });

      const intervalMs = requestedInterval(url, streamIntervalMs);
      const { signal } = request;
      const body = hystrixStream(source, { intervalMs, clock, signal });
      return new Response(body, { headers: STREAM_HEADERS });
    }

    return new Response(head ? null : page, { headers: PAGE_HEADERS });
  };
}

const METRICS_HEADERS = {
  "content-type": "text/plain; version=0.0.4; charset=utf-8",
  "cache-control": "no-store",
};

const STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-store, max-age=0, must-revalidate",
  "x-accel-buffering": "no",
};

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "content-security-policy": [
    "default-src 'none'",
    "script-src 'unsafe-inline'",
    "style-src 'unsafe-inline'",
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; "),
};

interface ValidOptions {
  basePath: string;
  streamIntervalMs: number;
  clock: Clock;
  title: string;
}

function validate(
  source: MetricsSource,
  options: DashboardOptions,
): ValidOptions {
  const {
    basePath = "",
    streamIntervalMs = 1000,
    clock = systemClock,
    title = "dyno",
  } = options;
  if (typeof source?.snapshot !== "function") {
    throw new TypeError(
      `dashboard: source must have a snapshot() method, got ${
        describe(source)
      }`,
    );
  }
  if (typeof basePath !== "string") {
    throw new TypeError(
      `dashboard: basePath must be a string, got ${describe(basePath)}`,
    );
  }
  if (basePath !== "" && !/^\/[^?#\s]*$/.test(basePath)) {
    throw new RangeError(
      `dashboard: basePath must start with "/" and hold no "?", "#" or spaces, got ${
        JSON.stringify(basePath)
      }`,
    );
  }
  if (typeof streamIntervalMs !== "number") {
    throw new TypeError(
      `dashboard: streamIntervalMs must be a number, got ${
        describe(streamIntervalMs)
      }`,
    );
  }
  if (!(streamIntervalMs > 0) || !Number.isFinite(streamIntervalMs)) {
    throw new RangeError(
      `dashboard: streamIntervalMs must be a positive finite number, got ${streamIntervalMs}`,
    );
  }
  if (typeof clock?.setTimer !== "function") {
    throw new TypeError(
      `dashboard: clock must be a Clock, got ${describe(clock)}`,
    );
  }
  if (typeof title !== "string") {
    throw new TypeError(
      `dashboard: title must be a string, got ${describe(title)}`,
    );
  }

  return {
    basePath: basePath.replace(/\/+$/, ""),
    streamIntervalMs,
    clock,
    title,
  };
}

function routeOf(pathname: string, basePath: string): Route | undefined {
  if (!pathname.startsWith(basePath)) return undefined;

  const rest = pathname.slice(basePath.length);
  if (rest === "" || rest === "/") return "page";
  if (rest === "/metrics") return "metrics";
  if (rest === "/stream") return "stream";

  return undefined;
}

function requestedInterval(url: URL, defaultMs: number): number {
  const delay = Number(url.searchParams.get("delay") || Number.NaN);
  if (!(delay > 0) || !Number.isFinite(delay)) return defaultMs;

  return Math.max(delay, MIN_STREAM_INTERVAL_MS);
}

function plain(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(text + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (value === null || typeof value !== "object") return String(value);

  return Array.isArray(value) ? "an array" : "an object";
}
