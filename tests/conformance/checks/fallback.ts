/**
 * Checks of `fallback`: values, handlers, selection and failed fallbacks.
 *
 * @module
 */

import {
  Breaker,
  BreakerOpenError,
  Fallback,
  fallback,
  FallbackError,
} from "../../../mod.ts";
import { type Check, check, checkEqual, never, rejection } from "./_check.ts";

class NotFound extends Error {
  constructor() {
    super("not found");
    this.name = "NotFound";
  }
}

export const fallbackChecks: Check[] = [
  [
    "fallback: answers selected failures, passes others and successes through",
    async () => {
      const profile = new Fallback({
        value: "guest",
        when: (error) => error instanceof NotFound,
      });

      const missing = await profile.execute(() => {
        throw new NotFound();
      });
      const found = await profile.execute(() => Promise.resolve("ada"));
      const error = await rejection(
        profile.execute(() => Promise.reject(new Error("db down"))),
      );

      checkEqual(missing, "guest", "fallback value");
      checkEqual(found, "ada", "successful result");
      checkEqual((error as Error).message, "db down", "unselected error");
    },
  ],
  ["fallback: a handler gets the error and the caller's signal", async () => {
    const controller = new AbortController();
    const rates = new Fallback({
      handler: (error, { signal }) =>
        `${(error as Error).message} (${signal === controller.signal})`,
    });

    const answer = await rates.execute(
      () => Promise.reject(new Error("timeout")),
      controller.signal,
    );

    checkEqual(answer, "timeout (true)", "handler's answer");
  }],
  ["fallback: a failing handler rejects with FallbackError", async () => {
    const original = new Error("service down");
    const cached = new Fallback({
      handler: () => Promise.reject(new Error("cache down too")),
    });

    const error = await rejection(
      cached.execute(() => Promise.reject(original)),
    );

    check(error instanceof FallbackError, "not a FallbackError");
    checkEqual(error.name, "FallbackError", "name");
    checkEqual(error.cause, original, "cause");
    checkEqual(
      (error.fallbackError as Error).message,
      "cache down too",
      "fallbackError",
    );
  }],
  [
    "fallback: fallback() wraps a function; the caller's abort passes through",
    async () => {
      const breaker = new Breaker({ name: "prices" });
      breaker.forceOpen();
      const price = fallback(breaker.wrap((sku: string) => sku.length), {
        value: -1,
        when: (error) => error instanceof BreakerOpenError,
      });
      const controller = new AbortController();
      const reason = new Error("caller gave up");
      const anything = new Fallback({ value: 0 });

      const running = rejection(anything.execute(
        ({ signal }) => never(signal),
        controller.signal,
      ));
      controller.abort(reason);

      checkEqual(await price("A1"), -1, "fallback of an open breaker");
      checkEqual(await running, reason, "abort rejection");
    },
  ],
];
