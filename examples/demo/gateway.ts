/**
 * The gateway: a real HTTP server on loopback whose routes call the flaky
 * upstream with `fetch` through dyno.
 *
 * - `GET /quote?symbol=DYNO` goes through the `quotes` service: a pool of 6
 *   with a queue of 10, a 500 ms deadline per attempt, 3 attempts, a
 *   breaker, and a fallback that answers with the last price seen.
 * - `GET /catalog?category=books` reads a `LoadingCache` (XFetch early
 *   refresh, stale-if-error) whose loader goes through the `catalog`
 *   service. The service has no fallback: the cache's old entry is the
 *   fallback, served for `staleIfErrorMs` after it expires while refreshes
 *   keep failing.
 * - `/dyno/` is dyno's live dashboard of both services.
 *
 * Every response carries a `Server-Timing` header, and an `x-served-by`
 * header saying how the route answered (`live`, `fallback`, `cache-hit`,
 * `cache-stale`, `cache-miss`), by which the load generator counts the
 * answers.
 *
 * @module
 */

import {
  BreakerOpenError,
  BulkheadRejectedError,
  dashboard,
  type FallbackOptions,
  type FetchArgs,
  HttpStatusError,
  type LoaderContext,
  LoadingCache,
  MetricsRegistry,
  RetryError,
  serviceFetch,
  type ServiceFunction,
  Timing,
} from "../../mod.ts";
import type { Observations, ServiceName } from "./observations.ts";
import type { Tuning } from "./phases.ts";

/** A catalog page as the cache keeps it. */
export interface CatalogEntry {
  /** The category. */
  readonly category: string;
  /** Its items. */
  readonly items: readonly string[];
  /** When the upstream sent it, in epoch milliseconds. */
  readonly fetchedAtMs: number;
}

/** What {@linkcode startGateway} needs. */
export interface GatewayOptions {
  /** The upstream's base URL. */
  readonly upstreamUrl: string;
  /** The settings of the layers. */
  readonly tuning: Tuning;
  /** Where to note what happens. */
  readonly observations: Observations;
}

/** A running gateway. */
export interface Gateway {
  /** Its base URL. */
  readonly url: string;
  /** The dashboard's URL. */
  readonly dashboardUrl: string;
  /** The metrics of both services. */
  readonly registry: MetricsRegistry;
  /** The services, by name. */
  readonly services: Record<ServiceName, ServiceFunction<FetchArgs, Response>>;
  /** The catalog cache. */
  readonly cache: LoadingCache<CatalogEntry>;
  /** Ends dashboard streams and loads, then stops the server. */
  close(): Promise<void>;
}

/** The header by which the quotes fallback tells the route why it answered. */
const FALLBACK_HEADER = "x-dyno-fallback";

/** How long an attempt may wait in a pool's queue, in milliseconds. */
const QUEUE_TIMEOUT_MS = 1_000;

/** Starts the gateway on a free loopback port. */
export function startGateway(options: GatewayOptions): Gateway {
  const { tuning } = options;
  const registry = new MetricsRegistry();
  const quotes = resilientFetch("quotes", options, registry, {
    maxConcurrent: 6,
    maxQueued: 10,
  }, {
    handler: (error) =>
      Response.json({ fallback: true }, {
        headers: { [FALLBACK_HEADER]: reasonOf(error) },
      }),
  });
  const catalog = resilientFetch("catalog", options, registry, {
    maxConcurrent: 4,
    maxQueued: 4,
  });
  const cache = new LoadingCache<CatalogEntry>({
    ttlMs: tuning.cacheTtlMs,
    staleIfErrorMs: tuning.staleIfErrorMs,
  });

  const routes = new Routes(options, quotes, catalog, cache);
  const closing = new AbortController();
  const dashboardHandler = dashboard(registry, { basePath: "/dyno" });
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    onError: () => new Response("gateway error", { status: 500 }),
  }, async (request) => {
    const timing = new Timing();
    const { pathname } = new URL(request.url);
    // The dashboard gets a copy of the request whose signal ends its event
    // streams when the gateway closes. Deno's own `request.signal` is left
    // alone: reading it prints a warning about legacy abort behaviour, and a
    // stream whose client leaves is cancelled anyway.
    const response = pathname.startsWith("/dyno")
      ? dashboardHandler(
        new Request(request.url, {
          method: request.method,
          headers: request.headers,
          signal: closing.signal,
        }),
      )
      : await routes.answer(request, timing).catch(() =>
        new Response("bad gateway", { status: 502 })
      );
    timing.record("total", timing.elapsedMs());
    response.headers.set("server-timing", timing.serverTiming());
    return response;
  });

  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    url,
    dashboardUrl: `${url}/dyno/`,
    registry,
    services: { quotes, catalog },
    cache,
    close: async () => {
      closing.abort();
      await cache.clear();
      await routes.settled();
      await server.shutdown();
    },
  };
}

/** The two routes and the state they keep. */
class Routes {
  readonly #upstreamUrl: string;
  readonly #tuning: Tuning;
  readonly #observations: Observations;
  readonly #quotes: ServiceFunction<FetchArgs, Response>;
  readonly #catalog: ServiceFunction<FetchArgs, Response>;
  readonly #cache: LoadingCache<CatalogEntry>;
  readonly #lastPrices = new Map<string, { price: number; atMs: number }>();
  readonly #loads = new Set<Promise<unknown>>();

  constructor(
    options: GatewayOptions,
    quotes: ServiceFunction<FetchArgs, Response>,
    catalog: ServiceFunction<FetchArgs, Response>,
    cache: LoadingCache<CatalogEntry>,
  ) {
    this.#upstreamUrl = options.upstreamUrl;
    this.#tuning = options.tuning;
    this.#observations = options.observations;
    this.#quotes = quotes;
    this.#catalog = catalog;
    this.#cache = cache;
  }

  /** Answers a request for `/quote` or `/catalog`. */
  answer(request: Request, timing: Timing): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/quote") {
      const symbol = url.searchParams.get("symbol") ?? "DYNO";
      return this.#quote(symbol, timing);
    }
    if (url.pathname === "/catalog") {
      const category = url.searchParams.get("category") ?? "books";
      return this.#catalogPage(category, timing);
    }

    return Promise.resolve(new Response("not found", { status: 404 }));
  }

  /** Waits for every catalog load still running, background ones included. */
  async settled(): Promise<void> {
    while (this.#loads.size > 0) await Promise.allSettled([...this.#loads]);
  }

  async #quote(symbol: string, timing: Timing): Promise<Response> {
    const startedMs = timing.elapsedMs();
    const response = await this.#quotes(
      `${this.#upstreamUrl}/quote/${encodeURIComponent(symbol)}`,
    );
    const reason = response.headers.get(FALLBACK_HEADER) ??
      (response.ok ? undefined : `upstream ${response.status}`);

    if (reason === undefined) {
      const { price } = await response.json();
      timing.record("upstream", timing.elapsedMs() - startedMs, {
        desc: "quotes: live",
      });
      this.#lastPrices.set(symbol, { price, atMs: Date.now() });
      return Response.json({ symbol, price, source: "live" }, {
        headers: { "x-served-by": "live" },
      });
    }

    await response.body?.cancel();
    timing.record("upstream", timing.elapsedMs() - startedMs, {
      desc: `quotes: fallback, ${reason}`,
    });
    const last = this.#lastPrices.get(symbol);
    return Response.json({
      symbol,
      price: last?.price ?? null,
      source: "fallback",
      reason,
      ageMs: last === undefined ? null : Date.now() - last.atMs,
    }, { headers: { "x-served-by": "fallback" } });
  }

  async #catalogPage(category: string, timing: Timing): Promise<Response> {
    const startedMs = timing.elapsedMs();
    let upstreamMs: number | undefined;
    const read = this.#cache.read(category, (context) => {
      const loadStartedMs = timing.elapsedMs();
      return this.#track(this.#load(context)).finally(() => {
        upstreamMs = timing.elapsedMs() - loadStartedMs;
      });
    });
    const waited = read instanceof Promise;

    let entry: CatalogEntry;
    try {
      entry = await read;
    } catch (error) {
      timing.record("cache", timing.elapsedMs() - startedMs, {
        desc: "miss, no old entry",
      });
      return Response.json({ category, error: reasonOf(error) }, {
        status: 503,
        headers: { "x-served-by": "cache-miss" },
      });
    }

    const ageMs = Date.now() - entry.fetchedAtMs;
    const outcome = ageMs > this.#tuning.cacheTtlMs
      ? "stale"
      : waited
      ? "miss"
      : "hit";
    timing.record("cache", timing.elapsedMs() - startedMs, { desc: outcome });
    if (waited && upstreamMs !== undefined) {
      timing.record("upstream", upstreamMs, { desc: "catalog" });
    }
    this.#observations.served(ageMs);
    return Response.json({ ...entry, ageMs }, {
      headers: { "x-served-by": `cache-${outcome}`, age: ageSeconds(ageMs) },
    });
  }

  async #load({ key, signal }: LoaderContext): Promise<CatalogEntry> {
    const response = await this.#catalog(
      `${this.#upstreamUrl}/catalog/${encodeURIComponent(key)}`,
      { signal },
    );
    if (!response.ok) {
      await response.body?.cancel();
      throw new HttpStatusError(response);
    }

    const { items } = await response.json();
    return { category: key, items, fetchedAtMs: Date.now() };
  }

  #track<T>(load: Promise<T>): Promise<T> {
    this.#loads.add(load);
    load.then(
      () => this.#loads.delete(load),
      () => this.#loads.delete(load),
    );
    return load;
  }
}

/**
 * A `fetch` through a service with every layer, reporting to `observations`
 * the attempts it retries, short-circuits and sheds, each in the phase in
 * which the attempt starts: a retry's after its backoff, and one that timed
 * out in the pool's queue when it joined the queue.
 */
function resilientFetch(
  name: ServiceName,
  { tuning, observations }: GatewayOptions,
  registry: MetricsRegistry,
  pool: { maxConcurrent: number; maxQueued: number },
  fallback?: FallbackOptions<Response>,
): ServiceFunction<FetchArgs, Response> {
  const call = serviceFetch({
    name,
    bulkhead: {
      ...pool,
      queueTimeoutMs: QUEUE_TIMEOUT_MS,
      onQueued: (event) => observations.queued(name, event.queued),
      onRejected: ({ error }) =>
        observations.count(
          `${name}.shed`,
          observations.elapsedMs() -
            (error.reason === "queue-timeout" ? QUEUE_TIMEOUT_MS : 0),
        ),
    },
    timeoutMs: tuning.timeoutMs,
    retry: {
      attempts: 3,
      initialDelayMs: 50,
      maxDelayMs: 400,
      onRetry: ({ delayMs }) =>
        observations.count(
          `${name}.retries`,
          observations.elapsedMs() + delayMs,
        ),
    },
    breaker: {
      window: { kind: "time", windowMs: tuning.breakerWindowMs, buckets: 10 },
      minimumCalls: 10,
      failureRateThreshold: 0.6,
      openMs: tuning.openMs,
    },
    fallback,
    metrics: registry,
  });

  call.breaker!.on("statechange", (event) => {
    observations.transition(name, event);
  });
  call.breaker!.on("rejected", () => {
    observations.count(`${name}.shortCircuited`);
  });
  return call;
}

/** Why a call failed, in a few words fit for a header. */
function reasonOf(error: unknown): string {
  if (error instanceof RetryError) {
    return `${reasonOf(error.cause)} after ${error.attempts.length} attempts`;
  }
  if (error instanceof BreakerOpenError) return "breaker open";
  if (error instanceof BulkheadRejectedError) {
    return error.reason === "full" ? "pool full" : "queue timeout";
  }
  if (error instanceof HttpStatusError) return `upstream ${error.status}`;
  if ((error as Error | null)?.name === "TimeoutError") return "timeout";

  return "upstream unreachable";
}

function ageSeconds(ageMs: number): string {
  return String(Math.max(0, Math.floor(ageMs / 1_000)));
}
