/**
 * Checks of `timeout`, on the real clock with short real deadlines.
 *
 * @module
 */

import { systemClock, Timeout, timeout, TimeoutError } from "../../../mod.ts";
import {
  abortLater,
  type Check,
  check,
  checkEqual,
  later,
  LONG_WAIT_MS,
  never,
  rejection,
} from "./_check.ts";

export const timeoutChecks: Check[] = [
  ["timeout: work within the deadline resolves with its value", async () => {
    const deadline = new Timeout({ timeoutMs: 1_000 });

    checkEqual(await deadline.execute(() => 1), 1, "sync result");
    checkEqual(await deadline.execute(() => later(5, 2)), 2, "async result");
  }],
  ["timeout: late work rejects with a TimeoutError", async () => {
    const deadline = new Timeout({ timeoutMs: 10 });
    const before = systemClock.now();

    const error = await rejection(
      deadline.execute(({ signal }) => never(signal)),
    );

    const elapsedMs = systemClock.now() - before;
    check(error instanceof TimeoutError, "not a TimeoutError");
    checkEqual(error.name, "TimeoutError", "name");
    checkEqual(error.timeoutMs, 10, "timeoutMs");
    check(elapsedMs >= 5, `timed out after ${elapsedMs} ms, expected 10`);
  }],
  ["timeout: the deadline aborts the operation's signal", async () => {
    const deadline = new Timeout({ timeoutMs: 10 });
    let operationSignal: AbortSignal | undefined;

    const error = await rejection(deadline.execute(({ signal }) => {
      operationSignal = signal;
      return never(signal);
    }));

    checkEqual(operationSignal?.aborted, true, "signal aborted");
    checkEqual(operationSignal?.reason, error, "signal reason");
  }],
  ["timeout: abandoned settles when ignored work does", async () => {
    const deadline = new Timeout({ timeoutMs: 5 });
    let finished = false;

    const error = await rejection(
      deadline.execute(() => later(20, "late").then(() => (finished = true))),
    );

    check(error instanceof TimeoutError, "not a TimeoutError");
    checkEqual(finished, false, "work finished before the timeout");
    check(error.abandoned !== undefined, "abandoned is undefined");
    await error.abandoned;
    checkEqual(finished, true, "work finished when abandoned settled");
  }],
  ["timeout: the caller's signal rejects with its reason", async () => {
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    const deadline = new Timeout({ timeoutMs: LONG_WAIT_MS });

    const running = deadline.execute(
      ({ signal }) => never(signal),
      controller.signal,
    );
    abortLater(controller, reason);

    checkEqual(await rejection(running), reason, "rejection");
  }],
  [
    "timeout: onTimeout hears it and a throwing hook changes nothing",
    async () => {
      const heard: string[] = [];
      const deadline = new Timeout({
        timeoutMs: 5,
        onTimeout: (error) => {
          heard.push(error.name);
          throw new Error("hook bug");
        },
      });

      const error = await rejection(
        deadline.execute(({ signal }) => never(signal)),
      );

      check(error instanceof TimeoutError, "not a TimeoutError");
      checkEqual(heard.join(","), "TimeoutError", "hook heard");
    },
  ],
  ["timeout: timeout() wraps a function and keeps its arguments", async () => {
    const double = timeout((n: number) => later(1, n * 2), {
      timeoutMs: 1_000,
    });
    const slow = timeout(() => later(20, 0), { timeoutMs: 5 });

    checkEqual(await double(21), 42, "result");
    const error = await rejection(slow());
    checkEqual((error as Error).name, "TimeoutError", "slow call's error");
  }],
  ["timeout: bad timeoutMs throws a RangeError naming it", () => {
    let error: unknown;
    try {
      new Timeout({ timeoutMs: 0 });
    } catch (thrown) {
      error = thrown;
    }

    check(error instanceof RangeError, "not a RangeError");
    check(error.message.includes("timeoutMs"), `message: ${error.message}`);
  }],
];
