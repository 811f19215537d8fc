/**
 * The load generator: a fixed number of workers share a request budget per
 * second and call the gateway's two routes until the deadline, counting
 * what they get back, and how the gateway answered, in the phase in which
 * each request started.
 *
 * @module
 */

import type { Counter, Observations } from "./observations.ts";

/** Options for {@linkcode runLoad}. */
export interface LoadOptions {
  /** The gateway's base URL. */
  readonly url: string;
  /** When to stop, in milliseconds since the run started. */
  readonly untilMs: number;
  /** Where to note what comes back, and the run's clock. */
  readonly observations: Observations;
  /**
   * How many requests may be outstanding at once.
   *
   * @default {24}
   */
  readonly workers?: number;
  /**
   * The most requests started per second, over all workers.
   *
   * @default {120}
   */
  readonly ratePerSecond?: number;
  /** Stops the load early; requests in flight are aborted. */
  readonly signal?: AbortSignal;
}

const SYMBOLS = ["DYNO", "ACME", "INIT", "BOLT", "WAVE"];
const CATEGORIES = ["books", "music", "games", "tools"];

/** How long a client waits for an answer before it gives up. */
const CLIENT_TIMEOUT_MS = 5_000;

/** Drives the gateway until `untilMs`; resolves once every worker is done. */
export async function runLoad(options: LoadOptions): Promise<void> {
  const { workers = 24, ratePerSecond = 120, observations } = options;
  const gapMs = 1_000 / ratePerSecond;
  let nextStartMs = observations.elapsedMs();

  const worker = async () => {
    while (!options.signal?.aborted) {
      const nowMs = observations.elapsedMs();
      const startMs = Math.max(nextStartMs, nowMs);
      if (startMs >= options.untilMs) return;

      nextStartMs = startMs + gapMs;
      await pause(startMs - nowMs, options.signal);
      if (options.signal?.aborted) return;
      await request(options);
    }
  };

  await Promise.all(Array.from({ length: workers }, worker));
}

async function request(options: LoadOptions): Promise<void> {
  const { observations } = options;
  const startedMs = observations.elapsedMs();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), CLIENT_TIMEOUT_MS);
  const stop = () => controller.abort();
  options.signal?.addEventListener("abort", stop, { once: true });
  observations.count("client.requests", startedMs);

  try {
    const response = await fetch(`${options.url}${randomPath()}`, {
      signal: controller.signal,
    });
    await response.arrayBuffer();
    observations.latency(startedMs, observations.elapsedMs() - startedMs);
    observations.count(response.ok ? "client.ok" : "client.failed", startedMs);
    const answer = answerOf(response);
    if (answer !== undefined) observations.count(answer, startedMs);
    if (response.headers.has("server-timing")) {
      observations.count("client.timed", startedMs);
    }
  } catch {
    observations.count("client.unanswered", startedMs);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", stop);
  }
}

/** How the gateway answered, from its `x-served-by` header. */
const ANSWERS: Record<string, Counter> = {
  live: "quote.live",
  fallback: "quote.fallback",
  "cache-hit": "catalog.hit",
  "cache-stale": "catalog.stale",
  "cache-miss": "catalog.miss",
};

/**
 * The counter for how the gateway answered `response`; a catalog miss whose
 * load failed (a 503) is `catalog.unavailable`.
 */
function answerOf(response: Response): Counter | undefined {
  const answer = ANSWERS[response.headers.get("x-served-by") ?? ""];
  if (answer === "catalog.miss" && !response.ok) return "catalog.unavailable";

  return answer;
}

function randomPath(): string {
  if (Math.random() < 0.5) return `/quote?symbol=${pick(SYMBOLS)}`;

  return `/catalog?category=${pick(CATEGORIES)}`;
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

function pause(
  delayMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (delayMs <= 0) return Promise.resolve();

  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, delayMs);
    signal?.addEventListener("abort", done, { once: true });
  });
}
