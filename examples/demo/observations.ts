/**
 * What the demo saw, phase by phase: counters bumped by the upstream, the
 * gateway and the load generator, client latencies, breaker transitions
 * and queue lengths. The summary is computed from these alone.
 *
 * Every request and every attempt counts in exactly one phase, the one in
 * which it started: a client's request (and how the gateway answered it)
 * when the load generator sent it, an upstream call (and its 503) when the
 * upstream received it, a retried, short-circuited or shed attempt when it
 * was made. Queue lengths, the ages of catalog entries served and breaker
 * transitions are noted when they happen.
 *
 * @module
 */

import { type Phase, phaseAt, type PhaseName } from "./phases.ts";

/** The gateway's two services. */
export type ServiceName = "quotes" | "catalog";

/** Every counter kept per phase. */
export type Counter =
  | "client.requests"
  | "client.ok"
  | "client.failed"
  | "client.unanswered"
  | "client.timed"
  | "quote.live"
  | "quote.fallback"
  | "catalog.hit"
  | "catalog.stale"
  | "catalog.miss"
  | "catalog.unavailable"
  | "upstream.quote"
  | "upstream.catalog"
  | "upstream.failed"
  | `${ServiceName}.${"retries" | "shortCircuited" | "shed"}`;

/** A breaker's change of state, as seen by the gateway. */
export interface Transition {
  /** Whose breaker. */
  readonly service: ServiceName;
  /** When, in milliseconds since the run started. */
  readonly atMs: number;
  /** The phase it happened in. */
  readonly phase: PhaseName;
  /** The state left. */
  readonly from: string;
  /** The state entered. */
  readonly to: string;
  /** Why, as the breaker tells it. */
  readonly reason: string;
}

/** What one phase saw. */
export interface PhaseRecord {
  /** Counter values. */
  readonly counts: Map<Counter, number>;
  /** Client-side latencies of every answered request, in milliseconds. */
  readonly latenciesMs: number[];
  /** The longest queue seen in front of each service's pool. */
  readonly maxQueued: Record<ServiceName, number>;
  /** The age of the oldest catalog entry served, in milliseconds. */
  oldestServedMs: number;
}

/** The demo's shared notebook, timed from its construction. */
export class Observations {
  /** The run's phases. */
  readonly phases: readonly Phase[];
  /** Every breaker transition, in order. */
  readonly transitions: Transition[] = [];
  readonly #startMs = performance.now();
  readonly #records = new Map<PhaseName, PhaseRecord>();

  /** Starts the run's clock now. */
  constructor(phases: readonly Phase[]) {
    this.phases = phases;
    for (const phase of phases) {
      this.#records.set(phase.name, {
        counts: new Map(),
        latenciesMs: [],
        maxQueued: { quotes: 0, catalog: 0 },
        oldestServedMs: 0,
      });
    }
  }

  /** Milliseconds since the run started. */
  elapsedMs(): number {
    return performance.now() - this.#startMs;
  }

  /** The phase running now. */
  phase(): Phase {
    return phaseAt(this.phases, this.elapsedMs());
  }

  /** The record of the phase named `name`. */
  record(name: PhaseName): PhaseRecord {
    return this.#records.get(name)!;
  }

  /**
   * Adds one to `counter` in the phase running at `atMs` (milliseconds since
   * the run started), by default now.
   */
  count(counter: Counter, atMs: number = this.elapsedMs()): void {
    const { counts } = this.record(phaseAt(this.phases, atMs).name);
    counts.set(counter, (counts.get(counter) ?? 0) + 1);
  }

  /** The sum of `counter` over every phase. */
  total(counter: Counter): number {
    let sum = 0;
    for (const record of this.#records.values()) {
      sum += record.counts.get(counter) ?? 0;
    }

    return sum;
  }

  /** Notes a client-side latency in the phase the request started in. */
  latency(startedAtMs: number, latencyMs: number): void {
    const phase = phaseAt(this.phases, startedAtMs);
    this.record(phase.name).latenciesMs.push(latencyMs);
  }

  /** Notes how many calls wait in front of `service`'s pool. */
  queued(service: ServiceName, queued: number): void {
    const record = this.#current();
    record.maxQueued[service] = Math.max(record.maxQueued[service], queued);
  }

  /** Notes the age of a catalog entry the gateway served. */
  served(ageMs: number): void {
    const record = this.#current();
    record.oldestServedMs = Math.max(record.oldestServedMs, ageMs);
  }

  /** Notes a breaker's change of state. */
  transition(
    service: ServiceName,
    change: { from: string; to: string; reason: string },
  ): void {
    const atMs = this.elapsedMs();
    const phase = phaseAt(this.phases, atMs).name;
    const { from, to, reason } = change;
    this.transitions.push({ service, atMs, phase, from, to, reason });
  }

  #current(): PhaseRecord {
    return this.record(this.phase().name);
  }
}
