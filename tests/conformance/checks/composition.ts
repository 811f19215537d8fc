/**
 * Checks of policies working together: retry and timeout.
 *
 * @module
 */

import { Retry, Timeout } from "../../../mod.ts";
import { type Check, checkEqual, later, never, rejection } from "./_check.ts";

export const compositionChecks: Check[] = [
  [
    "policies: an aborted signal rejects before the operation runs",
    async () => {
      const reason = new Error("already gone");
      const controller = new AbortController();
      controller.abort(reason);
      let calls = 0;
      const operation = () => calls++;

      const retried = new Retry().execute(operation, controller.signal);
      const timed = new Timeout({ timeoutMs: 10 }).execute(
        operation,
        controller.signal,
      );

      checkEqual(await rejection(retried), reason, "Retry rejection");
      checkEqual(await rejection(timed), reason, "Timeout rejection");
      checkEqual(calls, 0, "operation calls");
    },
  ],
  ["policies: retry recovers from an attempt that timed out", async () => {
    const policy = new Retry({ attempts: 2, initialDelayMs: 1 });
    const deadline = new Timeout({ timeoutMs: 10 });
    const errors: string[] = [];

    const answer = await policy.execute(({ attempt, signal }) =>
      deadline.execute(
        (timed) => attempt === 1 ? never(timed.signal) : later(1, "recovered"),
        signal,
      ).catch((error: Error) => {
        errors.push(error.name);
        throw error;
      })
    );

    checkEqual(answer, "recovered", "answer");
    checkEqual(errors.join(","), "TimeoutError", "errors seen");
  }],
];
