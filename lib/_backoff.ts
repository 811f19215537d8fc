import { MAX_DELAY_MS } from "./clock.ts";
import { fail } from "./_check.ts";

/** The built-in backoff kinds of `@dyno/dyno/retry`. */
export type BackoffKind =
  | "constant"
  | "linear"
  | "exponential"
  | "full-jitter"
  | "decorrelated-jitter";

/**
 * A custom backoff: the delay before retry number `retry` (1 for the wait
 * after the first attempt), given the previous delay and a random source.
 */
export type BackoffFunction = (
  retry: number,
  previousDelayMs: number,
  random: () => number,
) => number;

/** The numbers a backoff is computed from. */
export interface BackoffSettings {
  kind: BackoffKind | BackoffFunction;
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
}

/**
 * The delay before retry number `retry`, always finite and within
 * 0..min(maxDelayMs, 2^31-1), whatever the inputs' size.
 */
export function backoffDelay(
  settings: BackoffSettings,
  retry: number,
  previousDelayMs: number,
  random: () => number,
): number {
  const { kind, initialDelayMs, factor } = settings;
  const capMs = Math.min(settings.maxDelayMs, MAX_DELAY_MS);

  let delayMs: number;
  if (typeof kind === "function") {
    delayMs = kind(retry, previousDelayMs, random);
    if (typeof delayMs !== "number" || Number.isNaN(delayMs)) {
      fail(
        "Retry",
        "backoff's delay",
        "a number of ms",
        delayMs,
        typeof delayMs === "number",
      );
    }
  } else if (kind === "constant") {
    delayMs = initialDelayMs;
  } else if (kind === "linear") {
    delayMs = initialDelayMs * retry;
  } else if (kind === "decorrelated-jitter") {
    const fromMs = initialDelayMs;
    const toMs = Math.min(capMs, Math.max(previousDelayMs, fromMs) * 3);
    delayMs = fromMs + unit(random) * Math.max(0, toMs - fromMs);
  } else {
    const grownMs = Math.min(capMs, initialDelayMs * factor ** (retry - 1));
    delayMs = kind === "full-jitter" ? unit(random) * grownMs : grownMs;
  }

  return delayMs > capMs ? capMs : delayMs > 0 ? delayMs : 0;
}

/** A draw from `random`, forced into [0, 1) so a bad source cannot give NaN. */
function unit(random: () => number): number {
  const value = random();

  return value >= 0 && value < 1 ? value : 0;
}
