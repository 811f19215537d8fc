/**
 * The final summary, computed from the run's observations only, and its
 * text: a table per phase and explicit checks a reader can hold against
 * the phases.
 *
 * @module
 */

import {
  type Align,
  columns,
  count,
  fixed,
  percent,
  percentile,
  seconds,
} from "./format.ts";
import type {
  Counter,
  Observations,
  ServiceName,
  Transition,
} from "./observations.ts";
import { type PhaseName, phaseNamed } from "./phases.ts";

/**
 * What happened during one phase: each request and each attempt counts in
 * the phase in which it started (see `observations.ts`), so that per phase
 * `requests === ok + failed + unanswered`, the answers by kind add up to
 * `ok + failed`, and `upstreamFailures <= upstreamCalls`.
 */
export interface PhaseSummary {
  /** The phase. */
  readonly name: PhaseName;
  /** When it started, in seconds since the run started. */
  readonly startSeconds: number;
  /** When it ended. */
  readonly endSeconds: number;
  /** Requests the load generator started during the phase. */
  readonly requests: number;
  /** Of those, answered with a 2xx status. */
  readonly ok: number;
  /** Of those, answered with another status. */
  readonly failed: number;
  /** Of those, not answered at all (network error or client timeout). */
  readonly unanswered: number;
  /** Calls the upstream received during the phase (attempts, not requests). */
  readonly upstreamCalls: number;
  /** Of those, answered 503 by the upstream. */
  readonly upstreamFailures: number;
  /** Of `requests`, quotes answered live and by the fallback. */
  readonly quotes: { readonly live: number; readonly fallback: number };
  /**
   * Of `requests`, catalog pages by how the cache answered them;
   * `unavailable`: a miss whose load failed, answered 503 by the gateway.
   */
  readonly catalog: {
    readonly hit: number;
    readonly stale: number;
    readonly miss: number;
    readonly unavailable: number;
  };
  /** Retried attempts started during the phase, over both services. */
  readonly retries: number;
  /**
   * Attempts started during the phase that an open breaker turned away,
   * over both services.
   */
  readonly shortCircuited: number;
  /**
   * Attempts started during the phase that a pool turned away (its queue
   * full, or no permit within the queue timeout), over both services.
   */
  readonly shed: number;
  /** The longest queue in front of each service's pool. */
  readonly maxQueued: Record<ServiceName, number>;
  /** The quotes breaker's states during the phase, in order of appearance. */
  readonly quotesBreakerStates: readonly string[];
  /** The age of the oldest catalog entry served, in seconds. */
  readonly oldestCatalogSeconds: number;
  /** Client-side median latency, in milliseconds; NaN without requests. */
  readonly p50Ms: number;
  /** Client-side 99th percentile latency, in milliseconds. */
  readonly p99Ms: number;
}

/** One breaker's story. */
export interface BreakerSummary {
  /** Every transition, in order. */
  readonly transitions: readonly Transition[];
  /** When it first opened during the outage, in seconds; undefined if not. */
  readonly openedInOutageAtSeconds: number | undefined;
  /** When it first closed after the outage, in seconds; undefined if not. */
  readonly closedAfterOutageAtSeconds: number | undefined;
  /** Its state when the run ended. */
  readonly finalState: string;
}

/** One verdict of the summary. */
export interface Check {
  /** Whether it holds; true for a skipped check. */
  readonly ok: boolean;
  /** Whether it was not checked: the run stopped before its phases ended. */
  readonly skipped?: boolean;
  /** What it says, for people. */
  readonly text: string;
}

/** Everything {@linkcode runDemo} found. */
export interface DemoSummary {
  /** How long the load was meant to run, in seconds. */
  readonly durationSeconds: number;
  /** How long it ran: less than `durationSeconds` when stopped early. */
  readonly ranSeconds: number;
  /** Per phase, in order. */
  readonly phases: readonly PhaseSummary[];
  /** Per service. */
  readonly breakers: Record<ServiceName, BreakerSummary>;
  /** The longest queue in front of each pool, and its bound. */
  readonly queues: Record<
    ServiceName,
    { readonly max: number; readonly bound: number }
  >;
  /** Totals over the run. */
  readonly totals: {
    /** Requests the load generator started. */
    readonly requests: number;
    /** Responses that carried a `Server-Timing` header. */
    readonly withServerTiming: number;
    /** Responses of any status. */
    readonly responses: number;
    /** Calls the upstream received. */
    readonly upstreamCalls: number;
    /** `requests - upstreamCalls`: what the gateway kept off the upstream. */
    readonly savedCalls: number;
    /** Catalog requests the cache answered without waiting on the upstream. */
    readonly cacheServed: number;
    /** Retries. */
    readonly retries: number;
    /** Attempts turned away by an open breaker. */
    readonly shortCircuited: number;
    /** Attempts turned away by a full pool. */
    readonly shed: number;
  };
  /** The verdicts. */
  readonly checks: readonly Check[];
}

/** The facts the observations cannot know. */
export interface SummaryContext {
  /** How long the load was meant to run, in milliseconds. */
  readonly durationMs: number;
  /** How long it ran, in milliseconds. */
  readonly ranMs: number;
  /** Each pool's queue bound. */
  readonly queueBounds: Record<ServiceName, number>;
  /** Each breaker's state at the end. */
  readonly finalStates: Record<ServiceName, string>;
}

const SERVICES: readonly ServiceName[] = ["quotes", "catalog"];

/** Computes the summary of a run. */
export function summarize(
  observations: Observations,
  context: SummaryContext,
): DemoSummary {
  const phases = observations.phases.map((phase) =>
    summarizePhase(observations, phase.name)
  );
  const breakers = {
    quotes: summarizeBreaker(observations, "quotes", context),
    catalog: summarizeBreaker(observations, "catalog", context),
  };
  const queues = {
    quotes: queueOf(phases, "quotes", context),
    catalog: queueOf(phases, "catalog", context),
  };
  const sum = (pick: (phase: PhaseSummary) => number) =>
    phases.reduce((total, phase) => total + pick(phase), 0);
  const requests = sum((phase) => phase.requests);
  const upstreamCalls = sum((phase) => phase.upstreamCalls);
  const totals = {
    requests,
    withServerTiming: observations.total("client.timed"),
    responses: sum((phase) => phase.ok + phase.failed),
    upstreamCalls,
    savedCalls: requests - upstreamCalls,
    cacheServed: sum((phase) => phase.catalog.hit + phase.catalog.stale),
    retries: sum((phase) => phase.retries),
    shortCircuited: sum((phase) => phase.shortCircuited),
    shed: sum((phase) => phase.shed),
  };
  const partial = {
    durationSeconds: context.durationMs / 1_000,
    ranSeconds: context.ranMs / 1_000,
    phases,
    breakers,
    queues,
    totals,
  };

  return { ...partial, checks: checksOf(partial) };
}

function summarizePhase(
  observations: Observations,
  name: PhaseName,
): PhaseSummary {
  const phase = phaseNamed(observations.phases, name);
  const record = observations.record(name);
  const get = (counter: Counter) => record.counts.get(counter) ?? 0;
  const both = (event: "retries" | "shortCircuited" | "shed") =>
    get(`quotes.${event}`) + get(`catalog.${event}`);

  return {
    name,
    startSeconds: phase.startMs / 1_000,
    endSeconds: phase.endMs / 1_000,
    requests: get("client.requests"),
    ok: get("client.ok"),
    failed: get("client.failed"),
    unanswered: get("client.unanswered"),
    upstreamCalls: get("upstream.quote") + get("upstream.catalog"),
    upstreamFailures: get("upstream.failed"),
    quotes: { live: get("quote.live"), fallback: get("quote.fallback") },
    catalog: {
      hit: get("catalog.hit"),
      stale: get("catalog.stale"),
      miss: get("catalog.miss"),
      unavailable: get("catalog.unavailable"),
    },
    retries: both("retries"),
    shortCircuited: both("shortCircuited"),
    shed: both("shed"),
    maxQueued: { ...record.maxQueued },
    quotesBreakerStates: statesDuring(observations, "quotes", phase),
    oldestCatalogSeconds: record.oldestServedMs / 1_000,
    p50Ms: percentile(record.latenciesMs, 50),
    p99Ms: percentile(record.latenciesMs, 99),
  };
}

function statesDuring(
  observations: Observations,
  service: ServiceName,
  phase: { startMs: number; endMs: number },
): string[] {
  const changes = observations.transitions.filter((change) =>
    change.service === service
  );
  const before = changes.filter((change) => change.atMs < phase.startMs);
  const states = [before.at(-1)?.to ?? "closed"];
  for (const change of changes) {
    if (change.atMs >= phase.startMs && change.atMs < phase.endMs) {
      states.push(change.to);
    }
  }

  return [...new Set(states)];
}

function summarizeBreaker(
  observations: Observations,
  service: ServiceName,
  context: SummaryContext,
): BreakerSummary {
  const down = phaseNamed(observations.phases, "down");
  const transitions = observations.transitions.filter((change) =>
    change.service === service
  );
  const opened = transitions.find((change) =>
    change.to === "open" && change.phase === "down"
  );
  const closed = transitions.find((change) =>
    change.to === "closed" && change.atMs >= down.endMs
  );

  return {
    transitions,
    openedInOutageAtSeconds: opened && opened.atMs / 1_000,
    closedAfterOutageAtSeconds: closed && closed.atMs / 1_000,
    finalState: context.finalStates[service],
  };
}

function queueOf(
  phases: readonly PhaseSummary[],
  service: ServiceName,
  context: SummaryContext,
): { max: number; bound: number } {
  return {
    max: Math.max(0, ...phases.map((phase) => phase.maxQueued[service])),
    bound: context.queueBounds[service],
  };
}

function checksOf(summary: Omit<DemoSummary, "checks">): Check[] {
  const outage = summary.phases.find((phase) => phase.name === "down")!;
  const healthy = summary.phases.find((phase) => phase.name === "healthy")!;

  const after = (
    phases: PhaseSummary[],
    what: string,
    check: () => Check,
  ): Check => {
    const unfinished = phases.find((phase) =>
      phase.endSeconds > summary.ranSeconds
    );
    return unfinished === undefined ? check() : {
      ok: true,
      skipped: true,
      text: `not checked, the run stopped before the ${unfinished.name} ` +
        `phase ended: ${what}`,
    };
  };
  const recovering = summary.phases.find((phase) =>
    phase.name === "recovering"
  )!;

  return [
    after(
      [outage, recovering],
      "the quotes breaker opens during the outage and closes after it",
      () => breakerCheck(summary.breakers.quotes),
    ),
    after(
      [healthy],
      "the quotes breaker stays closed while the upstream is healthy",
      () => ({
        ok: healthy.quotesBreakerStates.join() === "closed",
        text: healthy.quotesBreakerStates.join() === "closed"
          ? "quotes breaker stayed closed while the upstream was healthy"
          : `quotes breaker left closed while the upstream was healthy (${
            healthy.quotesBreakerStates.join(", ")
          })`,
      }),
    ),
    queueCheck(summary.queues),
    after(
      [outage],
      "the cache serves catalog pages during the outage",
      () => cacheCheck(outage),
    ),
    after(
      [outage],
      "every request gets an answer during the outage",
      () => answersCheck(outage),
    ),
    {
      ok: summary.totals.withServerTiming === summary.totals.responses,
      text: `${count(summary.totals.withServerTiming)} of ${
        count(summary.totals.responses)
      } responses carried a Server-Timing header`,
    },
  ];
}

function breakerCheck(breaker: BreakerSummary): Check {
  const opened = breaker.openedInOutageAtSeconds;
  const closed = breaker.closedAfterOutageAtSeconds;
  if (opened === undefined) {
    return { ok: false, text: "quotes breaker did not open during the outage" };
  }
  if (closed === undefined) {
    return {
      ok: false,
      text: `quotes breaker opened during the outage (at ${
        seconds(opened * 1_000)
      }) but did not close after it (${breaker.finalState} at the end)`,
    };
  }

  return {
    ok: true,
    text: `quotes breaker opened during the outage (at ${
      seconds(opened * 1_000)
    }) and closed after it (at ${seconds(closed * 1_000)})`,
  };
}

function queueCheck(queues: DemoSummary["queues"]): Check {
  const ok = SERVICES.every((name) => queues[name].max <= queues[name].bound);
  const detail = SERVICES.map((name) =>
    `${name} max ${queues[name].max} of ${queues[name].bound}`
  ).join(", ");

  return {
    ok,
    text: ok
      ? `queues never exceeded their bounds (${detail})`
      : `a queue exceeded its bound (${detail})`,
  };
}

function cacheCheck(outage: PhaseSummary): Check {
  const served = outage.catalog.hit + outage.catalog.stale;

  return {
    ok: served > 0,
    text: `cache served ${count(served)} catalog requests during the outage (${
      count(outage.catalog.stale)
    } stale, the oldest ${fixed(outage.oldestCatalogSeconds)} s old)`,
  };
}

function answersCheck(outage: PhaseSummary): Check {
  const errors = outage.failed + outage.unanswered;
  const how = `${count(outage.quotes.fallback)} quotes from the fallback, ${
    count(outage.catalog.hit + outage.catalog.stale)
  } catalog pages from the cache`;

  return {
    ok: errors === 0,
    text: errors === 0
      ? `every request got an answer during the outage (${how})`
      : `${count(errors)} of ${
        count(outage.requests)
      } requests failed during the outage (${how})`,
  };
}

/** The summary as lines of text. */
export function formatSummary(summary: DemoSummary): string[] {
  const right = (count: number) => Array<Align>(count).fill("right");
  const clients = columns([
    ["", "", "", "", "", "", "upstream", "upstream"],
    [
      "phase",
      "time",
      "requests",
      "errors",
      "p50 ms",
      "p99 ms",
      "calls",
      "503s",
    ],
    ...summary.phases.map((phase) => [
      phase.name,
      `${fixed(phase.startSeconds)}-${fixed(phase.endSeconds)} s`,
      count(phase.requests),
      count(phase.failed + phase.unanswered),
      fixed(phase.p50Ms),
      fixed(phase.p99Ms),
      count(phase.upstreamCalls),
      count(phase.upstreamFailures),
    ]),
  ], ["left", ...right(7)]);

  const answers = columns([
    ["", "quotes", "catalog", "", "short-", ""],
    [
      "phase",
      "live/fallback",
      "hit/stale/miss",
      "retries",
      "circuited",
      "shed",
    ],
    ...summary.phases.map((phase) => [
      phase.name,
      `${count(phase.quotes.live)}/${count(phase.quotes.fallback)}`,
      `${count(phase.catalog.hit)}/${count(phase.catalog.stale)}/${
        count(phase.catalog.miss + phase.catalog.unavailable)
      }`,
      count(phase.retries),
      count(phase.shortCircuited),
      count(phase.shed),
    ]),
  ], ["left", ...right(5)]);

  const breakers = columns(
    SERVICES.map((name) => [
      name,
      timeline(summary.breakers[name], summary.ranSeconds),
    ]),
  );

  return [
    "",
    `Summary of a ${fixed(summary.durationSeconds, 0)} s run${
      summary.ranSeconds < summary.durationSeconds
        ? ` (stopped at ${seconds(summary.ranSeconds * 1_000)})`
        : ""
    }`,
    "",
    "What the clients saw (requests by when they were sent, latency by the client),",
    "and what the upstream received and answered 503 (by when each call arrived):",
    ...indent(clients),
    "",
    "How the gateway answered those requests; retries, short-circuits and shed",
    "count attempts (by when each attempt started):",
    ...indent(answers),
    "",
    "Breakers:",
    ...indent(breakers),
    "",
    ...summary.checks.map((check) =>
      `${check.skipped ? "-" : check.ok ? "✔" : "✘"} ${check.text}`
    ),
    savings(summary.totals),
  ];
}

function indent(lines: string[]): string[] {
  return lines.map((line) => "  " + line);
}

/**
 * A breaker's story in one line: closed and open spells with their times,
 * half-open probes folded into the open spell that they failed to end.
 */
function timeline(breaker: BreakerSummary, endSeconds: number): string {
  const spells: string[] = [];
  let state = "closed";
  let sinceMs = 0;
  let failedProbes = 0;
  const close = (untilMs: number) => {
    const probes = failedProbes === 0
      ? ""
      : ` (${failedProbes} failed probe${failedProbes === 1 ? "" : "s"})`;
    spells.push(
      `${state} ${fixed(sinceMs / 1_000)}-${fixed(untilMs / 1_000)} s${probes}`,
    );
  };

  for (const change of breaker.transitions) {
    const spell = change.to === "closed" ? "closed" : "open";
    if (change.from === "half-open" && change.to === "open") failedProbes++;
    if (spell === state) continue;

    close(change.atMs);
    state = spell;
    sinceMs = change.atMs;
    failedProbes = 0;
  }
  close(endSeconds * 1_000);

  return spells.join(", ");
}

function savings(totals: DemoSummary["totals"]): string {
  const { requests, savedCalls, cacheServed, shortCircuited, shed, retries } =
    totals;

  return [
    `upstream calls saved: ${count(savedCalls)} of ${count(requests)} ` +
    `requests (${percent(savedCalls / requests)}); along the way the cache`,
    `  answered ${count(cacheServed)} requests, the breaker turned away ` +
    `${count(shortCircuited)} attempts, the pool ${count(shed)},`,
    `  and retries added ${count(retries)} ` +
    "(refreshes and probes count too: not an exact sum)",
  ].join("\n");
}
