import type { Clock } from "./clock.ts";

/**
 * Waits `delayMs` on `clock`, or rejects with `signal.reason` once it aborts.
 * The wait behind `sleep` of `./clock.ts`, for callers that checked their
 * input and clamped the delay.
 */
export function wait(
  delayMs: number,
  signal: AbortSignal | undefined,
  clock: Clock,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);

    let fired = false;
    const onAbort = () => {
      clock.clearTimer(handle);
      reject(signal!.reason);
    };
    const handle = clock.setTimer(() => {
      fired = true;
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, delayMs);
    if (!fired) signal?.addEventListener("abort", onAbort, { once: true });
  });
}
