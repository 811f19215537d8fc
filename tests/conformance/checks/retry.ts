/**
 * Checks of `retry`, on the real clock with short real delays.
 *
 * @module
 */

import { Retry, retry, RetryError, systemClock } from "../../../mod.ts";
import {
  abortLater,
  type Check,
  check,
  checkEqual,
  Flaky,
  later,
  LONG_WAIT_MS,
  never,
  rejection,
} from "./_check.ts";

export const retryChecks: Check[] = [
  ["retry: Retry.execute() succeeds after failures", async () => {
    const policy = new Retry({
      attempts: 3,
      backoff: "constant",
      initialDelayMs: 5,
    });
    const attempts: number[] = [];
    const before = systemClock.now();

    const answer = await policy.execute(({ attempt, signal }) => {
      check(signal instanceof AbortSignal, "attempt has no AbortSignal");
      attempts.push(attempt);
      if (attempt < 3) throw new Flaky(`flaky ${attempt}`);
      return "third time lucky";
    });

    const elapsedMs = systemClock.now() - before;
    checkEqual(answer, "third time lucky", "answer");
    checkEqual(attempts.join(","), "1,2,3", "attempts");
    check(elapsedMs >= 6, `waited ${elapsedMs} ms, expected about 10`);
  }],
  ["retry: RetryError carries every attempt's error", async () => {
    const policy = new Retry({
      attempts: 3,
      backoff: "constant",
      initialDelayMs: 1,
    });
    let calls = 0;

    const error = await rejection(policy.execute(async () => {
      await later(1, undefined);
      calls++;
      throw calls === 1 ? new Flaky("429") : new Error(`503 #${calls}`);
    }));

    check(error instanceof RetryError, "not a RetryError");
    check(error instanceof AggregateError, "not an AggregateError");
    checkEqual(error.name, "RetryError", "name");
    checkEqual(error.errors.length, 3, "errors");
    checkEqual(error.attempts.length, 3, "attempt records");
    checkEqual(error.has(Flaky), true, "has(Flaky)");
    checkEqual((error.cause as Error).message, "503 #3", "cause");
  }],
  ["retry: retry() wraps a function and keeps its arguments", async () => {
    let failuresLeft = 2;
    const fetchScore = retry(async (player: string, score: number) => {
      await later(1, undefined);
      if (failuresLeft-- > 0) throw new Flaky("upstream hiccup");
      return `${player}: ${score}`;
    }, { attempts: 3, initialDelayMs: 1 });

    checkEqual(await fetchScore("ada", 42), "ada: 42", "result");
  }],
  ["retry: the caller's signal cuts the wait between attempts", async () => {
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    const policy = new Retry({
      attempts: 2,
      backoff: "constant",
      initialDelayMs: LONG_WAIT_MS,
      onRetry: () => abortLater(controller, reason),
    });
    let calls = 0;

    const error = await rejection(policy.execute(() => {
      calls++;
      throw new Flaky("down");
    }, controller.signal));

    checkEqual(error, reason, "rejection");
    checkEqual(calls, 1, "attempts run");
  }],
  ["retry: the caller's abort reaches the running attempt", async () => {
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    let attemptSignal: AbortSignal | undefined;

    const running = new Retry({ attempts: 3 }).execute(({ signal }) => {
      attemptSignal = signal;
      return never(signal);
    }, controller.signal);
    abortLater(controller, reason);

    checkEqual(await rejection(running), reason, "rejection");
    checkEqual(attemptSignal?.aborted, true, "attempt signal aborted");
  }],
  ["retry: bad options throw a RangeError naming the option", () => {
    let error: unknown;
    try {
      new Retry({ attempts: 0 });
    } catch (thrown) {
      error = thrown;
    }

    check(error instanceof RangeError, "not a RangeError");
    check(error.message.includes("attempts"), `message: ${error.message}`);
  }],
];
