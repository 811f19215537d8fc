/**
 * The flaky upstream: a real HTTP server on loopback serving stock quotes
 * (`/quote/SYMBOL`) and catalog pages (`/catalog/CATEGORY`), which misbehaves
 * as the run's phases say. It counts every call it receives, and every call
 * it answers 503, both in the phase the call arrived in: that phase decides
 * how the call is answered, however late the answer goes out.
 *
 * @module
 */

import type { Observations } from "./observations.ts";
import { phaseAt, type PhaseName } from "./phases.ts";

/** A running upstream. */
export interface Upstream {
  /** Its base URL, such as `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Stops accepting calls and waits for the running ones to end. */
  close(): Promise<void>;
}

interface Behaviour {
  readonly delayMs: number;
  readonly status: 200 | 503;
}

/** Starts the upstream on a free loopback port. */
export function startUpstream(observations: Observations): Upstream {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    onError: () => new Response("upstream error", { status: 500 }),
  }, (request) => answer(request, observations));

  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

async function answer(
  request: Request,
  observations: Observations,
): Promise<Response> {
  const [, route, id] = new URL(request.url).pathname.split("/");
  if ((route !== "quote" && route !== "catalog") || !id) {
    return new Response("not found", { status: 404 });
  }

  const receivedMs = observations.elapsedMs();
  const phase = phaseAt(observations.phases, receivedMs);
  observations.count(
    route === "quote" ? "upstream.quote" : "upstream.catalog",
    receivedMs,
  );
  const { delayMs, status } = behaviour(phase.name);

  await pause(delayMs);
  if (status !== 200) {
    observations.count("upstream.failed", receivedMs);
    return new Response("service unavailable", { status });
  }

  return Response.json(route === "quote" ? quote(id) : catalogPage(id));
}

function behaviour(phase: PhaseName): Behaviour {
  switch (phase) {
    case "healthy":
      return { delayMs: between(5, 20), status: 200 };
    case "slow":
      return {
        delayMs: Math.random() < 0.2 ? between(800, 1_500) : between(150, 350),
        status: 200,
      };
    case "flaky":
      return {
        delayMs: between(5, 30),
        status: Math.random() < 0.5 ? 503 : 200,
      };
    case "down":
      return { delayMs: between(1, 3), status: 503 };
    case "recovering":
      return { delayMs: between(10, 40), status: 200 };
  }
}

function quote(symbol: string): { symbol: string; price: number } {
  const seed = [...symbol].reduce((sum, char) => sum + char.charCodeAt(0), 0);
  const drift = Math.sin(Date.now() / 5_000 + seed) * 2;
  const price = 50 + (seed % 150) + drift + Math.random() - 0.5;

  return { symbol, price: Math.round(price * 100) / 100 };
}

function catalogPage(category: string): { category: string; items: string[] } {
  const items = Array.from(
    { length: 5 },
    (_, index) => `${category} item ${index + 1}`,
  );

  return { category, items };
}

function between(min: number, max: number): number {
  return min + Math.random() * (max - min);
}

/**
 * Waits `delayMs`. A caller that hangs up is not noticed: reading
 * `request.signal` in `Deno.serve` (legacy abort behaviour) prints a warning,
 * and a real slow upstream does not notice either.
 */
function pause(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}
