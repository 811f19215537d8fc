/**
 * The Hystrix metrics event stream: one `HystrixCommand` JSON object per
 * service per interval, as Netflix's `hystrix.stream` servlet wrote them, so
 * that a Hystrix dashboard or Turbine can read dyno's metrics.
 *
 * @module
 */

import type { Clock, TimerHandle } from "./clock.ts";
import type { MetricsSource } from "./dashboard.ts";
import type { EventCounts, MetricsSnapshot } from "./metrics.ts";

/** Hystrix's default rolling window, for snapshots that report none. */
const DEFAULT_WINDOW_MS = 10_000;

/** How many unread batches a slow client may fall behind before we skip. */
const BUFFERED_BATCHES = 4;

const OPEN_STATES = new Set(["open", "half-open", "forced-open"]);

/** A Hystrix `HystrixCommand` event, plus dyno's own `dyno` field. */
export type HystrixCommandEvent = Record<string, unknown>;

/**
 * Maps a snapshot to the fields a Hystrix dashboard reads. Hystrix counts are
 * whole numbers, so they are rounded; the exact values, the circuit state by
 * name and the counts Hystrix has no field for travel in the `dyno` field.
 *
 * Percentiles dyno does not track are reported as the next higher one it
 * does (an upper bound): the 0th and 25th as the median, the 75th as the
 * 90th, the 95th as the 99th and the 99.5th as the 99.9th. Settings a
 * snapshot does not carry (thresholds, timeouts) are reported as 0.
 */
export function hystrixCommand(
  snapshot: MetricsSnapshot,
  currentTime: number,
): HystrixCommandEvent {
  const { rolling, latency, circuit } = snapshot;
  const windowMs = snapshot.windowMs > 0
    ? snapshot.windowMs
    : DEFAULT_WINDOW_MS;
  const requestCount = whole(snapshot.requests);
  const errorCount = whole(
    requestCount * finite(snapshot.errorPercentage) / 100,
  );
  const percentiles = {
    "0": whole(latency.p50Ms),
    "25": whole(latency.p50Ms),
    "50": whole(latency.p50Ms),
    "75": whole(latency.p90Ms),
    "90": whole(latency.p90Ms),
    "95": whole(latency.p99Ms),
    "99": whole(latency.p99Ms),
    "99.5": whole(latency.p999Ms),
    "100": whole(latency.maxMs),
  };

  return {
    type: "HystrixCommand",
    name: snapshot.name,
    group: snapshot.group,
    currentTime: whole(currentTime),
    isCircuitBreakerOpen: OPEN_STATES.has(circuit as string),
    errorPercentage: whole(snapshot.errorPercentage),
    errorCount,
    requestCount,
    rollingCountBadRequests: 0,
    rollingCountCollapsedRequests: 0,
    rollingCountEmit: 0,
    rollingCountExceptionsThrown: 0,
    rollingCountFailure: whole(rolling.failures),
    rollingCountFallbackEmit: 0,
    rollingCountFallbackFailure: whole(rolling.fallbackFailures),
    rollingCountFallbackMissing: 0,
    rollingCountFallbackRejection: 0,
    rollingCountFallbackSuccess: whole(rolling.fallbackSuccesses),
    rollingCountResponsesFromCache: 0,
    rollingCountSemaphoreRejected: whole(rolling.rejected),
    rollingCountShortCircuited: whole(rolling.shortCircuited),
    rollingCountSuccess: whole(rolling.successes),
    rollingCountThreadPoolRejected: 0,
    rollingCountTimeout: whole(rolling.timeouts),
    currentConcurrentExecutionCount: whole(snapshot.inFlight),
    rollingMaxConcurrentExecutionCount: whole(snapshot.inFlightMax),
    latencyExecute_mean: whole(latency.meanMs),
    latencyExecute: percentiles,
    latencyTotal_mean: whole(latency.meanMs),
    latencyTotal: { ...percentiles },
    propertyValue_circuitBreakerRequestVolumeThreshold: 0,
    propertyValue_circuitBreakerSleepWindowInMilliseconds: 0,
    propertyValue_circuitBreakerErrorThresholdPercentage: 0,
    propertyValue_circuitBreakerForceOpen: circuit === "forced-open",
    propertyValue_circuitBreakerForceClosed: circuit === "forced-closed",
    propertyValue_circuitBreakerEnabled: circuit !== undefined &&
      circuit !== "disabled",
    propertyValue_executionIsolationStrategy: "SEMAPHORE",
    propertyValue_executionIsolationThreadTimeoutInMilliseconds: 0,
    propertyValue_executionTimeoutInMilliseconds: 0,
    propertyValue_executionIsolationThreadInterruptOnTimeout: false,
    propertyValue_executionIsolationThreadPoolKeyOverride: null,
    propertyValue_executionIsolationSemaphoreMaxConcurrentRequests: 0,
    propertyValue_fallbackIsolationSemaphoreMaxConcurrentRequests: 0,
    propertyValue_metricsRollingStatisticalWindowInMilliseconds: whole(
      windowMs,
    ),
    propertyValue_requestCacheEnabled: false,
    propertyValue_requestLogEnabled: false,
    reportingHosts: 1,
    threadPool: snapshot.group,
    dyno: {
      circuitState: circuit ?? null,
      errorPercentage: finite(snapshot.errorPercentage),
      windowMs,
      queued: finite(snapshot.queued),
      latencyMs: {
        count: finite(latency.count),
        mean: finite(latency.meanMs),
        p50: finite(latency.p50Ms),
        p90: finite(latency.p90Ms),
        p99: finite(latency.p99Ms),
        p999: finite(latency.p999Ms),
        max: finite(latency.maxMs),
      },
      rolling: counts(rolling),
      cumulative: counts(snapshot.cumulative),
    },
  };
}

/** One server-sent event per snapshot, or a comment to keep the line alive. */
export function hystrixEvents(
  snapshots: readonly MetricsSnapshot[],
  currentTime: number,
): string {
  if (snapshots.length === 0) return ": ping\n\n";

  let text = "";
  for (const snapshot of snapshots) {
    text += `data: ${
      JSON.stringify(hystrixCommand(snapshot, currentTime))
    }\n\n`;
  }

  return text;
}

/** Options for {@linkcode hystrixStream}. */
export interface HystrixStreamOptions {
  /** Milliseconds between batches. */
  readonly intervalMs: number;
  /** Whose timers pace the batches. */
  readonly clock: Clock;
  /** Aborting it ends the stream and its timer. */
  readonly signal?: AbortSignal;
}

/**
 * A byte stream of Hystrix events: the first batch at once, then one batch
 * every `intervalMs`. Its timer lives only while the stream does: cancelling
 * it (the client went away) or aborting `signal` clears the timer. A batch
 * that finds the client still `BUFFERED_BATCHES` behind is skipped.
 */
export function hystrixStream(
  source: MetricsSource,
  options: HystrixStreamOptions,
): ReadableStream<Uint8Array> {
  return new ReadableStream(new BatchSource(source, options), {
    highWaterMark: BUFFERED_BATCHES,
  });
}

class BatchSource implements UnderlyingDefaultSource<Uint8Array> {
  readonly #source: MetricsSource;
  readonly #options: HystrixStreamOptions;
  readonly #encoder = new TextEncoder();
  #controller?: ReadableStreamDefaultController<Uint8Array>;
  #handle: TimerHandle | undefined;
  #stopped = false;

  constructor(source: MetricsSource, options: HystrixStreamOptions) {
    this.#source = source;
    this.#options = options;
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    const { signal } = this.#options;
    this.#controller = controller;
    if (signal?.aborted) return this.#abort();

    signal?.addEventListener("abort", this.#abort, { once: true });
    this.#tick();
  }

  cancel(): void {
    this.#stop();
  }

  #tick = (): void => {
    this.#handle = undefined;
    if (this.#stopped) return;

    const controller = this.#controller!;
    try {
      if (controller.desiredSize! > 0) {
        const text = hystrixEvents(this.#source.snapshot(), Date.now());
        controller.enqueue(this.#encoder.encode(text));
      }
    } catch (error) {
      this.#stop();
      return controller.error(error);
    }

    const { clock, intervalMs } = this.#options;
    this.#handle = clock.setTimer(this.#tick, intervalMs);
  };

  #abort = (): void => {
    if (this.#stopped) return;

    this.#stop();
    this.#controller!.close();
  };

  #stop(): void {
    this.#stopped = true;
    if (this.#handle !== undefined) {
      this.#options.clock.clearTimer(this.#handle);
    }
    this.#handle = undefined;
    this.#options.signal?.removeEventListener("abort", this.#abort);
  }
}

function counts(events: EventCounts): EventCounts {
  return {
    successes: finite(events.successes),
    failures: finite(events.failures),
    timeouts: finite(events.timeouts),
    shortCircuited: finite(events.shortCircuited),
    rejected: finite(events.rejected),
    fallbackSuccesses: finite(events.fallbackSuccesses),
    fallbackFailures: finite(events.fallbackFailures),
    retries: finite(events.retries),
  };
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

function whole(value: number): number {
  return Number.isFinite(value) ? Math.round(value) : 0;
}
