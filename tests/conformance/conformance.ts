/**
 * The runtime-neutral conformance script: small named checks of dyno's real
 * behaviour on the real clock, with short real delays. It imports only from
 * `mod.ts` and uses only web-standard APIs, so the same bundle runs in Deno,
 * Node, Bun, workerd and browsers; `tests/runtimes_test.ts` runs it in each.
 *
 * To cover a module, add a `<module>Checks` list below and spread it into
 * {@linkcode checks}.
 *
 * @module
 */

import * as dyno from "../../mod.ts";
import {
  clampDelay,
  MAX_DELAY_MS,
  Retry,
  retry,
  RetryError,
  sleep,
  systemClock,
  Timeout,
  timeout,
  TimeoutError,
} from "../../mod.ts";

/** A named check: returns or resolves when the behaviour holds, throws when not. */
export type Check = readonly [name: string, run: () => void | Promise<void>];

/** What {@linkcode runConformance} found. */
export interface ConformanceResult {
  /** How many checks passed. */
  passed: number;
  /** How many checks failed. */
  failed: number;
  /** One line per failed check: its name and what went wrong. */
  failures: string[];
}

/** Marks the line on which a command-line runtime prints the result. */
export const RESULT_PREFIX = "conformance-result ";

/** How long one check may take before it counts as hung. */
const CHECK_LIMIT_MS = 5_000;

/**
 * Long enough that a timer left behind by mistake keeps a CLI runtime alive
 * well past the runner's deadline, so a leak shows as a failure.
 */
const LONG_WAIT_MS = 60_000;

class ConformanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConformanceError";
  }
}

class Flaky extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Flaky";
  }
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceError(message);
}

function checkEqual<T>(actual: T, expected: T, what: string): void {
  if (!Object.is(actual, expected)) {
    throw new ConformanceError(
      `${what}: expected ${String(expected)}, got ${String(actual)}`,
    );
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new ConformanceError("expected a rejection, but it resolved");
}

function never(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), {
      once: true,
    });
  });
}

function later<T>(delayMs: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), delayMs));
}

function abortLater(controller: AbortController, reason: unknown): void {
  setTimeout(() => controller.abort(reason), 5);
}

const platformChecks: Check[] = [
  ["platform: AbortController aborts its signal with a reason", () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    let heard = 0;
    controller.signal.addEventListener("abort", () => heard++);

    controller.abort(reason);

    check(controller.signal instanceof AbortSignal, "signal is an AbortSignal");
    checkEqual(controller.signal.aborted, true, "signal.aborted");
    checkEqual(controller.signal.reason, reason, "signal.reason");
    checkEqual(heard, 1, "abort events heard");
  }],
  ["platform: EventTarget dispatches Event and CustomEvent", () => {
    const target = new EventTarget();
    const heard: unknown[] = [];
    target.addEventListener("ping", (event) => heard.push(event.type));
    target.addEventListener("data", (event) => {
      heard.push((event as CustomEvent<number>).detail);
    });

    target.dispatchEvent(new Event("ping"));
    target.dispatchEvent(new CustomEvent("data", { detail: 7 }));

    checkEqual(heard.join(","), "ping,7", "events heard");
  }],
  ["platform: Symbol.dispose and Symbol.asyncDispose exist", () => {
    checkEqual(typeof Symbol.dispose, "symbol", "typeof Symbol.dispose");
    checkEqual(
      typeof Symbol.asyncDispose,
      "symbol",
      "typeof Symbol.asyncDispose",
    );
  }],
  ["platform: timers, microtasks and performance.now", async () => {
    const order: string[] = [];
    const cancelled = setTimeout(() => order.push("cancelled"), 1);
    clearTimeout(cancelled);
    queueMicrotask(() => order.push("microtask"));
    const before = performance.now();

    await later(5, undefined);

    checkEqual(order.join(","), "microtask", "callbacks that ran");
    check(performance.now() >= before, "performance.now() went backwards");
  }],
  [
    "platform: Response, ReadableStream, TextEncoder and crypto.subtle",
    async () => {
      const bytes = new TextEncoder().encode("dyno");
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes);
          controller.close();
        },
      });
      const digest = await crypto.subtle.digest("SHA-256", bytes);

      checkEqual(await new Response(stream).text(), "dyno", "response text");
      checkEqual(digest.byteLength, 32, "SHA-256 digest length");
    },
  ],
  ["mod.ts: every export is defined", () => {
    const exports = Object.entries(dyno);
    const missing = exports.filter(([, value]) => value === undefined);

    check(exports.length > 0, "mod.ts exports nothing");
    checkEqual(
      missing.map(([name]) => name).join(","),
      "",
      "undefined exports",
    );
  }],
];

const clockChecks: Check[] = [
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

const retryChecks: Check[] = [
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

const timeoutChecks: Check[] = [
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

const compositionChecks: Check[] = [
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

/** Every check, in the order they run. */
export const checks: readonly Check[] = [
  ...platformChecks,
  ...clockChecks,
  ...retryChecks,
  ...timeoutChecks,
  ...compositionChecks,
];

async function runCheck(run: Check[1]): Promise<void> {
  let guard: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    guard = setTimeout(
      () => reject(new ConformanceError(`hung for ${CHECK_LIMIT_MS} ms`)),
      CHECK_LIMIT_MS,
    );
  });

  try {
    await Promise.race([Promise.resolve().then(run), hung]);
  } finally {
    clearTimeout(guard);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;

  return String(error);
}

/**
 * Runs every check in turn and counts the outcomes; a failure names the check
 * and what went wrong.
 */
export async function runConformance(): Promise<ConformanceResult> {
  const result: ConformanceResult = { passed: 0, failed: 0, failures: [] };

  for (const [name, run] of checks) {
    try {
      await runCheck(run);
      result.passed++;
    } catch (error) {
      result.failed++;
      result.failures.push(`${name}: ${describe(error)}`);
    }
  }

  return result;
}
