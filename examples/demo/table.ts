/**
 * The live terminal table: one row per service, read from the same metrics
 * the dashboard shows, redrawn in place on a terminal and printed every few
 * seconds otherwise. Phase changes and breaker transitions are printed
 * above it as they happen.
 *
 * @module
 */

import type { CacheStats, EventCounts, MetricsSnapshot } from "../../mod.ts";
import { type Align, columns, fixed, seconds } from "./format.ts";
import type { Gateway } from "./gateway.ts";
import type { Observations, ServiceName } from "./observations.ts";

/** Options for {@linkcode LiveTable}. */
export interface LiveTableOptions {
  /** The gateway whose services are shown. */
  readonly gateway: Gateway;
  /** The run's notebook and clock. */
  readonly observations: Observations;
  /** How long the run lasts, in milliseconds. */
  readonly durationMs: number;
  /** Writes one line (or several, joined by newlines). */
  readonly print: (line: string) => void;
  /** Redraw in place with ANSI escapes, cutting lines to the terminal. */
  readonly redraw: boolean;
  /** Colour the breaker states. */
  readonly colour: boolean;
}

interface Sample {
  readonly atMs: number;
  readonly services: Map<string, EventCounts>;
  readonly cache: CacheStats;
  readonly clientRequests: number;
  readonly clientFallbacks: number;
  readonly upstreamCalls: number;
}

/** How often events are looked for, and the table redrawn on a terminal. */
const TICK_MS = 250;
const REDRAW_MS = 500;

const HEADER: readonly (readonly string[])[] = [
  ["", "", "calls", "err", "p50", "p99", "in", "", "retries", "cache"],
  [
    "service",
    "breaker",
    "/s",
    "%",
    "ms",
    "ms",
    "flight",
    "queued",
    "/s",
    "hit %",
  ],
];
const ALIGN: Align[] = [
  "left",
  "left",
  ...Array<Align>(HEADER[0].length - 2).fill("right"),
];

const COLOURS: Record<string, string> = {
  closed: "\x1b[32m",
  open: "\x1b[31m",
  "half-open": "\x1b[33m",
};

/** Shows the services live until {@linkcode LiveTable.stop}. */
export class LiveTable {
  readonly #options: LiveTableOptions;
  readonly #plainEveryMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #previous: Sample;
  #drawnAtMs = 0;
  #drawnLines = 0;
  #events: string[] = [];
  #transitionsSeen = 0;
  #printed = new Set<number>();
  #phaseSeen = "";

  /** Takes the first sample; call {@linkcode LiveTable.start} to show. */
  constructor(options: LiveTableOptions) {
    this.#options = options;
    this.#plainEveryMs = Math.max(2_000, options.durationMs / 10);
    this.#previous = this.#sample();
  }

  /** Starts looking for events and redrawing. */
  start(): void {
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Stops, after printing pending events and a last table. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#collectEvents(true);
    this.#draw();
  }

  #tick(): void {
    this.#collectEvents();
    const nowMs = this.#options.observations.elapsedMs();
    const sinceMs = nowMs - this.#drawnAtMs;

    if (this.#options.redraw) {
      const first = this.#drawnLines === 0;
      if (first || this.#events.length > 0 || sinceMs >= REDRAW_MS) {
        this.#draw();
      }
      return;
    }
    this.#flushEvents();
    if (sinceMs >= this.#plainEveryMs) this.#draw();
  }

  /**
   * Turns phase changes and breaker transitions into event lines, in time
   * order. A probe (open → half-open → open or closed) makes one line: a
   * half-open transition waits up to a second for its outcome.
   */
  #collectEvents(force = false): void {
    const { observations } = this.#options;
    const events: { atMs: number; text: string }[] = [];
    const phase = observations.phase();
    if (phase.name !== this.#phaseSeen) {
      this.#phaseSeen = phase.name;
      events.push({
        atMs: phase.startMs,
        text: `phase ${phase.name}: the upstream ${phase.description}`,
      });
    }

    const { transitions } = observations;
    const nowMs = observations.elapsedMs();
    for (
      let index = this.#transitionsSeen;
      index < transitions.length;
      index++
    ) {
      if (this.#printed.has(index)) continue;

      const change = transitions[index];
      const path = [change.from, change.to];
      let reason = change.reason;
      if (change.to === "half-open") {
        const outcome = transitions.findIndex((next, at) =>
          at > index && next.service === change.service
        );
        if (outcome === -1 && !force && nowMs - change.atMs < 1_000) break;
        if (outcome !== -1 && transitions[outcome].from === "half-open") {
          path.push(transitions[outcome].to);
          reason = transitions[outcome].reason;
          this.#printed.add(outcome);
        }
      }
      events.push({
        atMs: change.atMs,
        text: `${change.service} breaker ${path.join(" → ")} (${reason})`,
      });
      this.#printed.add(index);
    }
    while (this.#printed.delete(this.#transitionsSeen)) this.#transitionsSeen++;

    events.sort((a, b) => a.atMs - b.atMs);
    for (const { atMs, text } of events) {
      this.#events.push(`${seconds(atMs).padStart(7)}  ${text}`);
    }
  }

  #flushEvents(): void {
    for (const line of this.#events) this.#options.print(line);
    this.#events = [];
  }

  #draw(): void {
    const lines = this.#frame();
    const erase = this.#drawnLines > 0
      ? `\x1b[${this.#drawnLines}F\x1b[0J`
      : "";
    const events = this.#events;
    this.#events = [];

    if (this.#options.redraw) {
      this.#options.print(erase + [...events, "", ...lines].join("\n"));
    } else {
      for (const line of events) this.#options.print(line);
      this.#options.print(["", ...lines, ""].join("\n"));
    }
    this.#drawnLines = lines.length + 1;
    this.#drawnAtMs = this.#options.observations.elapsedMs();
  }

  #frame(): string[] {
    const { gateway, observations, durationMs, redraw, colour } = this.#options;
    const sample = this.#sample();
    const previous = this.#previous;
    this.#previous = sample;
    const intervalS = Math.max(0.001, (sample.atMs - previous.atMs) / 1_000);
    const rate = (now: number, before: number) => (now - before) / intervalS;

    const phase = observations.phase();
    const index = observations.phases.indexOf(phase) + 1;
    const title = `dyno demo  ${
      seconds(Math.min(sample.atMs, durationMs))
    } of ${
      seconds(durationMs)
    }  phase ${index}/${observations.phases.length}: ${phase.name}`;
    const traffic = `gateway ${
      whole(rate(sample.clientRequests, previous.clientRequests))
    } req/s (${
      whole(rate(sample.clientFallbacks, previous.clientFallbacks))
    } by fallback), upstream ${
      whole(rate(sample.upstreamCalls, previous.upstreamCalls))
    } calls/s`;

    const snapshots = gateway.registry.snapshot();
    const rows = snapshots.map((snapshot) =>
      this.#row(snapshot, sample, previous, intervalS)
    );
    const lines = fit([
      title,
      traffic,
      `dashboard ${gateway.dashboardUrl}`,
      "",
      ...columns([...HEADER, ...rows], ALIGN),
    ], redraw);
    if (!colour) return lines;

    return [bold(lines[0]), ...lines.slice(1).map(colourState)];
  }

  #row(
    snapshot: MetricsSnapshot,
    sample: Sample,
    previous: Sample,
    intervalS: number,
  ): string[] {
    const name = snapshot.name as ServiceName;
    const now = sample.services.get(name)!;
    const before = previous.services.get(name) ?? now;
    const calls = attempts(now) - attempts(before);
    const bound = this.#options.gateway.services[name].bulkhead?.maxQueued;

    return [
      name,
      snapshot.circuit ?? "-",
      whole(calls / intervalS),
      whole(snapshot.errorPercentage),
      short(snapshot.latency.p50Ms),
      short(snapshot.latency.p99Ms),
      String(snapshot.inFlight),
      `${snapshot.queued}/${bound}`,
      whole((now.retries - before.retries) / intervalS),
      name === "catalog" ? hitRatio(sample.cache, previous.cache) : "-",
    ];
  }

  #sample(): Sample {
    const { gateway, observations } = this.#options;
    const services = new Map<string, EventCounts>();
    for (const snapshot of gateway.registry.snapshot()) {
      services.set(snapshot.name, snapshot.cumulative);
    }

    return {
      atMs: observations.elapsedMs(),
      services,
      cache: gateway.cache.stats,
      clientRequests: observations.total("client.requests"),
      clientFallbacks: observations.total("quote.fallback"),
      upstreamCalls: observations.total("upstream.quote") +
        observations.total("upstream.catalog"),
    };
  }
}

function whole(value: number): string {
  return fixed(value, 0);
}

/** Milliseconds with one decimal below 10, whole above. */
function short(ms: number): string {
  return fixed(ms, ms < 10 ? 1 : 0);
}

function attempts(counts: EventCounts): number {
  return counts.successes + counts.failures + counts.timeouts +
    counts.shortCircuited + counts.rejected;
}

function hitRatio(now: CacheStats, before: CacheStats): string {
  const served = now.hits + now.staleHits - before.hits - before.staleHits;
  const reads = served + now.misses - before.misses;

  return reads === 0 ? "-" : whole((served / reads) * 100);
}

function colourState(line: string): string {
  return line.replace(
    /^(\S+\s+)(closed|open|half-open)(\s)/,
    (_, before, state, after) =>
      `${before}${COLOURS[state]}${state}\x1b[0m${after}`,
  );
}

function bold(text: string): string {
  return `\x1b[1m${text}\x1b[0m`;
}

/** On a terminal, cuts lines to its width so that redrawing stays in place. */
function fit(lines: string[], redraw: boolean): string[] {
  if (!redraw) return lines;

  let width = 0;
  try {
    width = Deno.consoleSize().columns - 1;
  } catch {
    // Not a terminal after all: leave the lines whole.
  }
  if (width <= 0) return lines;

  return lines.map((line) =>
    line.length <= width ? line : line.slice(0, width)
  );
}
