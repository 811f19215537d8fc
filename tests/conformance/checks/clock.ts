/**
 * Checks of `clock`: the system clock, its timers and `sleep()`.
 *
 * @module
 */

import { clampDelay, MAX_DELAY_MS, sleep, systemClock } from "../../../mod.ts";
import {
  abortLater,
  type Check,
  check,
  checkEqual,
  LONG_WAIT_MS,
  rejection,
} from "./_check.ts";

export const clockChecks: Check[] = [
  ["clock: systemClock.now() never goes backwards", () => {
    let previous = systemClock.now();
    for (let i = 0; i < 100; i++) {
      const now = systemClock.now();
      check(now >= previous, `now() went from ${previous} to ${now}`);
      previous = now;
    }
  }],
  ["clock: clampDelay() keeps delays within timer limits", () => {
    checkEqual(clampDelay(Number.NaN), 0, "clampDelay(NaN)");
    checkEqual(clampDelay(-5), 0, "clampDelay(-5)");
    checkEqual(clampDelay(12.5), 12.5, "clampDelay(12.5)");
    checkEqual(clampDelay(Infinity), MAX_DELAY_MS, "clampDelay(Infinity)");
  }],
  ["clock: systemClock timers fire and clear", async () => {
    let cleared = false;
    const handle = systemClock.setTimer(() => (cleared = true), 1);
    systemClock.clearTimer(handle);

    const fired = await new Promise<boolean>((resolve) => {
      systemClock.setTimer(() => resolve(true), 5);
    });

    checkEqual(fired, true, "timer fired");
    checkEqual(cleared, false, "cleared timer fired");
  }],
  ["clock: sleep() waits on the real clock", async () => {
    const before = systemClock.now();

    await sleep(15);

    const elapsedMs = systemClock.now() - before;
    check(elapsedMs >= 10, `slept ${elapsedMs} ms, expected about 15`);
  }],
  ["clock: an aborted sleep() rejects with the signal's reason", async () => {
    const controller = new AbortController();
    const reason = new Error("shutting down");
    const waiting = sleep(LONG_WAIT_MS, { signal: controller.signal });

    abortLater(controller, reason);

    checkEqual(await rejection(waiting), reason, "rejection");
    checkEqual(
      await rejection(sleep(1, { signal: controller.signal })),
      reason,
      "rejection of a sleep with an aborted signal",
    );
  }],
];
