/**
 * Checks of `breaker`: opening on failures, probing after the open period,
 * carrying its state through JSON, on a hand-moved clock and on the real one.
 *
 * @module
 */

import { Breaker, BreakerOpenError } from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  Flaky,
  HandClock,
  later,
  never,
  rejection,
} from "./_check.ts";

const down = () => Promise.reject(new Flaky("503"));

function listen(breaker: Breaker): string[] {
  const changes: string[] = [];
  breaker.on("statechange", (event) => {
    changes.push(`${event.from}->${event.to} (${event.reason})`);
  });

  return changes;
}

export const breakerChecks: Check[] = [
  [
    "breaker: opens after failures and rejects with BreakerOpenError",
    async () => {
      const clock = new HandClock();
      const breaker = new Breaker({
        name: "payments",
        clock,
        minimumCalls: 3,
        openMs: 1_000,
      });
      const changes = listen(breaker);
      let calls = 0;

      for (let i = 1; i <= 3; i++) {
        const error = await rejection(breaker.execute(down));
        check(error instanceof Flaky, `call ${i} did not fail with its error`);
      }
      const error = await rejection(breaker.execute(() => calls++));

      check(error instanceof BreakerOpenError, "not a BreakerOpenError");
      checkEqual(error.name, "BreakerOpenError", "name");
      checkEqual(error.breakerName, "payments", "breakerName");
      checkEqual(error.state, "open", "error.state");
      checkEqual(error.retryAfterMs, 1_000, "retryAfterMs");
      checkEqual(calls, 0, "operation calls while open");
      checkEqual(breaker.state, "open", "state");
      checkEqual(breaker.stats.totals.rejected, 1, "rejected total");
      checkEqual(
        changes.join(", "),
        "closed->open (failure-rate)",
        "state changes",
      );
      checkEqual(clock.pendingTimers, 0, "timers the breaker set");
    },
  ],
  [
    "breaker: after openMs a probe closes it; a failed probe reopens it for longer",
    async () => {
      const clock = new HandClock();
      const breaker = new Breaker({
        clock,
        minimumCalls: 1,
        openMs: 1_000,
        openBackoff: 2,
      });
      const changes = listen(breaker);

      await rejection(breaker.execute(down));
      await clock.advance(999);
      checkEqual(breaker.state, "open", "state 1 ms before openMs");
      await clock.advance(1);
      checkEqual(breaker.state, "half-open", "state at openMs");

      await rejection(breaker.execute(down));
      const error = await rejection(breaker.execute(() => "too soon"));
      check(error instanceof BreakerOpenError, "not a BreakerOpenError");
      checkEqual(error.retryAfterMs, 2_000, "retryAfterMs after a re-open");

      await clock.advance(2_000);
      checkEqual(await breaker.execute(() => "probe"), "probe", "probe");
      checkEqual(breaker.state, "closed", "state after the probe");
      checkEqual(
        changes.join(", "),
        [
          "closed->open (failure-rate)",
          "open->half-open (open-elapsed)",
          "half-open->open (probe-failure)",
          "open->half-open (open-elapsed)",
          "half-open->closed (probe-success)",
        ].join(", "),
        "state changes",
      );
    },
  ],
  [
    "breaker: toJSON() carries an open breaker through JSON to a new one",
    async () => {
      const window = { kind: "count", size: 4 } as const;
      const clock = new HandClock();
      const breaker = new Breaker({
        clock,
        window,
        minimumCalls: 2,
        openMs: 1_000,
      });
      await breaker.execute(() => "ok");
      await rejection(breaker.execute(down));
      await clock.advance(400);

      const saved = JSON.parse(JSON.stringify(breaker));
      const otherClock = new HandClock(987_654);
      const copy = new Breaker({
        clock: otherClock,
        window,
        minimumCalls: 2,
        openMs: 1_000,
        initialState: saved,
      });

      checkEqual(saved.version, 1, "snapshot version");
      checkEqual(saved.state, "open", "saved state");
      checkEqual(saved.openRemainingMs, 600, "saved openRemainingMs");
      checkEqual(copy.state, "open", "restored state");
      const error = await rejection(copy.execute(() => 1));
      check(error instanceof BreakerOpenError, "not a BreakerOpenError");
      checkEqual(error.retryAfterMs, 600, "restored retryAfterMs");
      await otherClock.advance(600);
      checkEqual(copy.state, "half-open", "restored state after 600 ms");
    },
  ],
  ["breaker: opens and probes on the real clock", async () => {
    const breaker = new Breaker({ minimumCalls: 1, openMs: 20 });

    await rejection(breaker.execute(down));
    const error = await rejection(breaker.execute(() => 1));
    await later(30, undefined);

    check(error instanceof BreakerOpenError, "not a BreakerOpenError");
    check(
      error.retryAfterMs > 0 && error.retryAfterMs <= 20,
      `retryAfterMs ${error.retryAfterMs}, expected in (0, 20]`,
    );
    checkEqual(breaker.state, "half-open", "state after 30 ms");
    checkEqual(await breaker.execute(() => "probe"), "probe", "probe");
    checkEqual(breaker.state, "closed", "state after the probe");
  }],
  [
    "breaker: wrap() keeps arguments; the caller's signal reaches the operation",
    async () => {
      const breaker = new Breaker({ name: "users" });
      const getUser = breaker.wrap((id: number, prefix: string) =>
        Promise.resolve(`${prefix}${id}`)
      );
      const controller = new AbortController();
      const reason = new Error("caller gave up");
      let seen: AbortSignal | undefined;

      checkEqual(await getUser(7, "user-"), "user-7", "wrapped result");
      const running = rejection(breaker.execute(({ signal }) => {
        seen = signal;
        return never(signal);
      }, controller.signal));
      controller.abort(reason);

      checkEqual(await running, reason, "rejection");
      checkEqual(seen, controller.signal, "signal seen by the operation");
      checkEqual(
        await rejection(breaker.execute(() => 1, controller.signal)),
        reason,
        "rejection of a call with an aborted signal",
      );
      checkEqual(breaker.stats.totals.failures, 0, "the abort counted");
    },
  ],
  ["breaker: forceOpen, forceClosed, disable and reset", async () => {
    const breaker = new Breaker({ minimumCalls: 1 });

    breaker.forceOpen();
    const error = await rejection(breaker.execute(() => 1));
    breaker.forceClosed();
    await rejection(breaker.execute(down));
    const forcedClosedCalls = breaker.stats.calls;
    breaker.disable();
    await rejection(breaker.execute(down));

    check(error instanceof BreakerOpenError, "not a BreakerOpenError");
    checkEqual(error.state, "forced-open", "error.state");
    checkEqual(error.retryAfterMs, Infinity, "retryAfterMs");
    checkEqual(forcedClosedCalls, 0, "calls recorded while forced closed");
    checkEqual(breaker.state, "disabled", "state");
    checkEqual(breaker.stats.failureRate, 1, "failure rate while disabled");
    breaker.reset();
    checkEqual(breaker.state, "closed", "state after reset");
    checkEqual(breaker.stats.calls, 0, "calls after reset");
  }],
];
