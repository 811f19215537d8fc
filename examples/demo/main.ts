/**
 * `deno task demo`: what dyno is for, in one command. A flaky upstream and a
 * dyno-powered gateway start on loopback, a load generator drives the
 * gateway through five phases (healthy, slow, flaky, down, recovering), a
 * live table and the dashboard show the services, and a summary checks what
 * happened against the phases.
 *
 * ```sh
 * deno task demo                  # about a minute
 * deno task demo --duration 20    # the same story in 20 s
 * ```
 *
 * @module
 */

import { startGateway } from "./gateway.ts";
import { runLoad } from "./load.ts";
import { Observations, type ServiceName } from "./observations.ts";
import { type Phase, phasesFor, tuningFor } from "./phases.ts";
import { type DemoSummary, formatSummary, summarize } from "./summary.ts";
import { LiveTable } from "./table.ts";
import { startUpstream } from "./upstream.ts";

export type { DemoSummary } from "./summary.ts";

/** Options for {@linkcode runDemo}. */
export interface DemoOptions {
  /** How long the load runs, in seconds; the phases scale with it. */
  durationSeconds: number;
  /**
   * Writes a line of output.
   *
   * @default {a line to stdout}
   */
  print?: (line: string) => void;
  /**
   * Whether to show the live table while the load runs. It redraws in place
   * when printing to a terminal, and is printed every few seconds otherwise.
   *
   * @default {true}
   */
  live?: boolean;
  /** Stops the load early; the summary covers what ran. */
  signal?: AbortSignal;
}

/** The shortest run whose phases still tell the story. */
export const MIN_DURATION_SECONDS = 5;

/** The longest run allowed. */
export const MAX_DURATION_SECONDS = 3_600;

const DEFAULT_DURATION_SECONDS = 60;

/**
 * Runs the demo: starts both servers, drives the load for
 * `durationSeconds`, shuts everything down and returns what happened. The
 * summary is printed too.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const { durationSeconds, live = true } = options;
  checkDuration(durationSeconds);
  const print = options.print ?? writeLine;
  const redraw = options.print === undefined && Deno.stdout.isTerminal();
  const colour = redraw && !Deno.noColor;

  const durationMs = durationSeconds * 1_000;
  const observations = new Observations(phasesFor(durationMs));
  const upstream = startUpstream(observations);
  const gateway = startGateway({
    upstreamUrl: upstream.url,
    tuning: tuningFor(durationMs),
    observations,
  });
  for (const line of introduction(durationMs, upstream.url, gateway)) {
    print(line);
  }

  const table = live
    ? new LiveTable({
      gateway,
      observations,
      durationMs,
      print,
      redraw,
      colour,
    })
    : undefined;
  table?.start();
  let ranMs = durationMs;
  try {
    await runLoad({
      url: gateway.url,
      untilMs: durationMs,
      observations,
      signal: options.signal,
    });
    // The last workers return as soon as no start is left before the
    // deadline, which may be a few milliseconds before it: only a stop
    // ends the run early.
    if (options.signal?.aborted) {
      ranMs = Math.min(durationMs, observations.elapsedMs());
    }
  } finally {
    table?.stop();
    await gateway.close();
    await upstream.close();
  }

  const services = gateway.services;
  const summary = summarize(observations, {
    durationMs,
    ranMs,
    queueBounds: byService((name) => services[name].bulkhead!.maxQueued),
    finalStates: byService((name) => services[name].breaker!.state),
  });
  for (const line of formatSummary(summary)) print(line);
  return summary;
}

function checkDuration(durationSeconds: number): void {
  if (
    typeof durationSeconds !== "number" ||
    !(durationSeconds >= MIN_DURATION_SECONDS &&
      durationSeconds <= MAX_DURATION_SECONDS)
  ) {
    throw new RangeError(
      `runDemo: durationSeconds must be a number in ${MIN_DURATION_SECONDS}..${MAX_DURATION_SECONDS}, got ${durationSeconds}`,
    );
  }
}

function introduction(
  durationMs: number,
  upstreamUrl: string,
  gateway: { url: string; dashboardUrl: string },
): string[] {
  const phases = phasesFor(durationMs).map(describePhase).join(", ");

  return [
    `dyno demo: a flaky upstream, a gateway in front of it, ${
      Math.round(durationMs / 1_000)
    } s of load.`,
    `  upstream   ${upstreamUrl}  (quotes and catalog pages, misbehaving in phases)`,
    `  gateway    ${gateway.url}  (GET /quote?symbol=DYNO, GET /catalog?category=books)`,
    `  dashboard  ${gateway.dashboardUrl}  (open it while the demo runs)`,
    `  phases     ${phases}`,
    "",
  ];
}

function describePhase(phase: Phase): string {
  const from = Math.round(phase.startMs / 100) / 10;
  const to = Math.round(phase.endMs / 100) / 10;

  return `${phase.name} ${from}-${to} s`;
}

function byService<T>(
  value: (name: ServiceName) => T,
): Record<ServiceName, T> {
  return { quotes: value("quotes"), catalog: value("catalog") };
}

const encoder = new TextEncoder();

function writeLine(line: string): void {
  let bytes = encoder.encode(line + "\n");
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}

/** Reads `--duration SECONDS` (or `--duration=SECONDS`) from `args`. */
export function parseArgs(
  args: readonly string[],
): { durationSeconds: number } {
  let durationSeconds = DEFAULT_DURATION_SECONDS;
  for (let index = 0; index < args.length; index++) {
    const [flag, inline] = args[index].split(/=(.*)/s, 2);
    if (flag !== "--duration" && flag !== "-d") {
      throw new TypeError(`unknown argument ${JSON.stringify(args[index])}`);
    }

    const value = inline ?? args[++index];
    durationSeconds = Number(value);
    if (
      value === undefined || value.trim() === "" ||
      Number.isNaN(durationSeconds)
    ) {
      throw new TypeError(
        `--duration needs a number of seconds, got ${JSON.stringify(value)}`,
      );
    }
  }

  return { durationSeconds };
}

const USAGE =
  `usage: deno task demo [--duration SECONDS]   (${MIN_DURATION_SECONDS}..${MAX_DURATION_SECONDS}, default ${DEFAULT_DURATION_SECONDS})`;

async function main(): Promise<void> {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    return writeLine(USAGE);
  }

  let durationSeconds: number;
  try {
    ({ durationSeconds } = parseArgs(Deno.args));
    checkDuration(durationSeconds);
  } catch (error) {
    writeLine(`${(error as Error).message}\n${USAGE}`);
    Deno.exitCode = 2;
    return;
  }

  const controller = new AbortController();
  const interrupt = () => {
    Deno.removeSignalListener("SIGINT", interrupt);
    writeLine("\ninterrupted: stopping the load and shutting down");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", interrupt);
  try {
    const summary = await runDemo({
      durationSeconds,
      signal: controller.signal,
    });
    if (summary.checks.some((check) => !check.ok)) Deno.exitCode = 1;
  } finally {
    if (!controller.signal.aborted) {
      Deno.removeSignalListener("SIGINT", interrupt);
    }
  }
}

if (import.meta.main) await main();
