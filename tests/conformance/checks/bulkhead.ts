/**
 * Checks of `bulkhead`: the permit limit, its queue and abandoned work.
 *
 * @module
 */

import {
  Bulkhead,
  bulkhead,
  BulkheadRejectedError,
  Timeout,
} from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  checkJson,
  gate,
  HandClock,
  rejection,
} from "./_check.ts";

export const bulkheadChecks: Check[] = [
  [
    "bulkhead: runs maxConcurrent at once, queues maxQueued in order, rejects the rest",
    async () => {
      const pool = new Bulkhead({ name: "db", maxConcurrent: 2, maxQueued: 1 });
      const open = gate();
      const started: number[] = [];
      const work = (id: number) => () => {
        started.push(id);
        return open.promise.then(() => id);
      };

      const calls = [1, 2, 3].map((id) => pool.execute(work(id)));
      const gauges = [pool.running, pool.queued];
      const error = await rejection(pool.execute(work(4)));
      const startedBefore = started.join(",");
      open.resolve();

      checkJson(gauges, [2, 1], "running and queued");
      checkEqual(startedBefore, "1,2", "started before the gate opened");
      check(
        error instanceof BulkheadRejectedError,
        "not a BulkheadRejectedError",
      );
      checkEqual(error.name, "BulkheadRejectedError", "name");
      checkEqual(error.reason, "full", "reason");
      checkEqual(error.bulkheadName, "db", "bulkheadName");
      checkEqual(error.maxConcurrent, 2, "maxConcurrent");
      checkEqual(error.maxQueued, 1, "maxQueued");
      checkJson(await Promise.all(calls), [1, 2, 3], "results");
      checkEqual(started.join(","), "1,2,3", "started in all");
      checkJson([pool.running, pool.queued], [0, 0], "gauges at the end");
    },
  ],
  [
    "bulkhead: a queued call leaves on its caller's abort or after queueTimeoutMs",
    async () => {
      const clock = new HandClock();
      const pool = new Bulkhead({
        maxConcurrent: 1,
        maxQueued: 2,
        queueTimeoutMs: 50,
        clock,
      });
      const open = gate();
      const first = pool.execute(() => open.promise);
      const controller = new AbortController();
      const reason = new Error("user left");
      let ran = 0;

      const leaving = rejection(pool.execute(() => ran++, controller.signal));
      const waiting = rejection(pool.execute(() => ran++));
      const queuedBefore = pool.queued;
      controller.abort(reason);
      const queuedAfterAbort = pool.queued;
      await clock.advance(50);
      const error = await waiting;
      open.resolve();
      await first;

      checkEqual(queuedBefore, 2, "queued");
      checkEqual(queuedAfterAbort, 1, "queued after the abort");
      checkEqual(await leaving, reason, "aborted caller's rejection");
      check(
        error instanceof BulkheadRejectedError,
        "not a BulkheadRejectedError",
      );
      checkEqual(error.reason, "queue-timeout", "reason");
      checkEqual(error.queueTimeoutMs, 50, "queueTimeoutMs");
      checkEqual(ran, 0, "queued operations that ran");
      checkEqual(pool.running, 0, "running at the end");
      checkEqual(clock.pendingTimers, 0, "timers left");
    },
  ],
  [
    "bulkhead: a timed-out call keeps its permit until its work settles",
    async () => {
      const clock = new HandClock();
      const pool = new Bulkhead({ maxConcurrent: 1, maxQueued: 1, clock });
      const deadline = new Timeout({ timeoutMs: 10, clock });
      const work = gate();

      const first = rejection(
        pool.execute(({ signal }) =>
          deadline.execute(() => work.promise, signal)
        ),
      );
      await clock.advance(10);
      const error = await first;
      const gauges = [pool.running, pool.abandoned];
      const next = pool.execute(() => "ran");
      const queued = pool.queued;
      work.resolve();

      checkEqual((error as Error).name, "TimeoutError", "error name");
      checkJson(gauges, [0, 1], "running and abandoned after the timeout");
      checkEqual(queued, 1, "queued behind the abandoned work");
      checkEqual(await next, "ran", "next call");
      checkEqual(pool.abandoned, 0, "abandoned at the end");
    },
  ],
  ["bulkhead: bulkhead() caps concurrent calls of a function", async () => {
    let inFlight = 0;
    let peak = 0;
    const fetchReport = bulkhead(async (id: number) => {
      peak = Math.max(peak, ++inFlight);
      await Promise.resolve();
      inFlight--;
      return `report ${id}`;
    }, { maxConcurrent: 2, maxQueued: 10 });

    const reports = await Promise.all([1, 2, 3, 4].map(fetchReport));

    checkEqual(reports[3], "report 4", "last report");
    checkEqual(peak, 2, "peak concurrency");
  }],
];
