/**
 * The demo's script: five phases of upstream behaviour, and the settings of
 * dyno's layers, all scaled from the run's duration so that a short test run
 * tells the same story as the full minute.
 *
 * @module
 */

/** What the upstream does in a phase. */
export type PhaseName = "healthy" | "slow" | "flaky" | "down" | "recovering";

/** One phase of the run, in milliseconds since the run started. */
export interface Phase {
  /** The phase's name. */
  readonly name: PhaseName;
  /** When it starts. */
  readonly startMs: number;
  /** When it ends (the next phase starts). */
  readonly endMs: number;
  /** What the upstream does meanwhile, after "the upstream". */
  readonly description: string;
}

/** Each phase's share of the run and what it means. */
const SCRIPT: readonly [PhaseName, number, string][] = [
  ["healthy", 0.25, "answers in 5-20 ms"],
  ["slow", 0.15, "answers in 150-350 ms, 1 call in 5 in 0.8-1.5 s"],
  ["flaky", 0.15, "fails half of its calls with 503"],
  ["down", 0.25, "fails every call with 503"],
  ["recovering", 0.2, "answers in 10-40 ms again"],
];

/** The phases of a run lasting `durationMs`, back to back. */
export function phasesFor(durationMs: number): Phase[] {
  const phases: Phase[] = [];
  let startMs = 0;
  for (const [name, share, description] of SCRIPT) {
    const endMs = name === "recovering"
      ? durationMs
      : Math.round(startMs + share * durationMs);
    phases.push({ name, startMs, endMs, description });
    startMs = endMs;
  }

  return phases;
}

/** The phase running at `elapsedMs`; the last one once the run is over. */
export function phaseAt(phases: readonly Phase[], elapsedMs: number): Phase {
  for (const phase of phases) {
    if (elapsedMs < phase.endMs) return phase;
  }

  return phases[phases.length - 1];
}

/** The phase named `name`. */
export function phaseNamed(phases: readonly Phase[], name: PhaseName): Phase {
  return phases.find((phase) => phase.name === name)!;
}

/** The settings of the gateway's layers for one run. */
export interface Tuning {
  /** The breakers' rolling window, in milliseconds. */
  readonly breakerWindowMs: number;
  /** How long a breaker stays open before it probes, in milliseconds. */
  readonly openMs: number;
  /** How long a catalog entry is fresh, in milliseconds. */
  readonly cacheTtlMs: number;
  /**
   * How long after expiry a catalog entry whose refresh failed is still
   * served, in milliseconds: long enough to cover the flaky phase and the
   * whole outage.
   */
  readonly staleIfErrorMs: number;
  /** Each upstream attempt's deadline, in milliseconds. */
  readonly timeoutMs: number;
}

/**
 * Settings for a run lasting `durationMs`. Upstream latencies do not scale,
 * so neither does the attempt deadline; everything measured against the
 * phases does: the breaker's window is a sixth of the run, it stays open
 * for a twentieth (several probes during the outage, closing within the
 * first quarter of the recovery), and a catalog entry stays fresh for a
 * twentieth and may be served stale for nearly half.
 */
export function tuningFor(durationMs: number): Tuning {
  return {
    breakerWindowMs: roundTo(clamp(durationMs / 6, 1_000, 10_000), 10),
    openMs: Math.round(clamp(durationMs / 20, 300, 5_000)),
    cacheTtlMs: Math.round(clamp(durationMs / 20, 250, 5_000)),
    staleIfErrorMs: Math.round(durationMs * 0.45),
    timeoutMs: 500,
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function roundTo(value: number, step: number): number {
  return Math.round(value / step) * step;
}
