/**
 * A crowd reading one key at a steady rate over many expiry periods, in
 * simulated time: one cache alone, then several caches ("isolates") sharing a
 * store, each with its own single flight.
 *
 * The clock here is a small event-driven one rather than `ManualClock`,
 * whose every step waits for a real macrotask: a million reads at one step
 * each would take hours. Loads complete on its timers; promise jobs are
 * drained with microtask turns only, which is enough because nothing in the
 * simulation does real I/O.
 */

import assert from "node:assert/strict";
import { type Clock, sleep, type TimerHandle } from "../lib/clock.ts";
import { LoadingCache } from "../lib/cache.ts";
import { MemoryStore } from "../lib/cache_stores.ts";
import { seededRandom } from "../lib/testing.ts";

interface SimTimer {
  readonly id: number;
  readonly dueAt: number;
  readonly callback: () => void;
}

class SimClock implements Clock {
  nowMs = 0;
  #timers: SimTimer[] = [];
  #nextId = 1;

  now(): number {
    return this.nowMs;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.#nextId++, dueAt: this.nowMs + delayMs, callback };
    const index = this.#timers.findIndex((other) => other.dueAt > timer.dueAt);
    if (index === -1) this.#timers.push(timer);
    else this.#timers.splice(index, 0, timer);

    return timer.id;
  }

  clearTimer(handle: TimerHandle): void {
    const index = this.#timers.findIndex((timer) => timer.id === handle);
    if (index !== -1) this.#timers.splice(index, 1);
  }

  /** Moves to `targetMs`, firing due timers in order, each at its time. */
  async advanceTo(targetMs: number): Promise<void> {
    while (this.#timers.length > 0 && this.#timers[0].dueAt <= targetMs) {
      const timer = this.#timers.shift()!;
      this.nowMs = timer.dueAt;
      timer.callback();
      await drain();
    }
    this.nowMs = targetMs;
    await null;
  }
}

async function drain(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await null;
}

interface Crowd {
  isolates: number;
  readsPerSecond: number;
  beta: number;
  periods: number;
  deltaMs: number;
  ttlMs: number;
  seed: number;
}

interface CrowdResult {
  /** Recomputations of each version, the warm-up and the last left out. */
  loadsPerPeriod: number[];
  /** Reads after warm-up that had to wait for a load. */
  waited: number;
  reads: number;
}

async function runCrowd(crowd: Crowd): Promise<CrowdResult> {
  const clock = new SimClock();
  const store = crowd.isolates > 1
    ? new MemoryStore<number>({ clock })
    : undefined;
  let latest = 0;
  let completed = 0;
  let draws = 0;
  const loadsOf = new Map<number, number>();
  const load = async ({ signal }: { signal: AbortSignal }) => {
    const from = latest;
    loadsOf.set(from, (loadsOf.get(from) ?? 0) + 1);
    await sleep(crowd.deltaMs, { clock, signal });
    return (latest = ++completed);
  };
  const isolates = Array.from({ length: crowd.isolates }, (_, index) => {
    const random = seededRandom(crowd.seed * 1_000 + index);
    return new LoadingCache<number>({
      clock,
      store,
      load,
      ttlMs: crowd.ttlMs,
      beta: crowd.beta,
      random: () => (draws++, random()),
    });
  });

  const intervalMs = 1_000 / crowd.readsPerSecond;
  let waited = 0;
  let reads = 0;
  while (loadsOf.size <= crowd.periods + 1) {
    await clock.advanceTo(reads * intervalMs);
    const drawsBefore = draws;
    const value = isolates[reads % crowd.isolates].read("k");
    if (value instanceof Promise && latest > 0) waited++;
    if (value instanceof Promise || draws !== drawsBefore) await drain();
    reads++;
  }

  const loadsPerPeriod = [...loadsOf.values()].slice(1, -1);
  return { loadsPerPeriod, waited, reads };
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

Deno.test("one process: exactly one load per period, and no reader waits once warm", async (t) => {
  for (const readsPerSecond of [100, 1_000]) {
    await t.step(`${readsPerSecond} reads/s`, async () => {
      const result = await runCrowd({
        isolates: 1,
        readsPerSecond,
        beta: 1,
        periods: 50,
        deltaMs: 500,
        ttlMs: 10_000,
        seed: 1,
      });

      // deno-lint-ignore no-console
      console.log(
        `one process, ${readsPerSecond} reads/s: ${result.reads} reads, ` +
          `${result.loadsPerPeriod.length} periods, ` +
          `max loads in a period ${Math.max(...result.loadsPerPeriod)}, ` +
          `readers that waited ${result.waited}`,
      );
      assert.ok(result.loadsPerPeriod.length >= 50);
      assert.ok(result.loadsPerPeriod.every((loads) => loads === 1));
      assert.equal(result.waited, 0);
    });
  }
});

Deno.test("isolates sharing a store: XFetch keeps recomputations per period at or below e^(1/beta), at any read rate", async (t) => {
  for (const beta of [1, 2]) {
    for (const readsPerSecond of [100, 1_000]) {
      await t.step(`beta ${beta}, ${readsPerSecond} reads/s`, async () => {
        const result = await runCrowd({
          isolates: 8,
          readsPerSecond,
          beta,
          periods: 1_000,
          deltaMs: 100,
          ttlMs: 3_000,
          seed: 7,
        });
        const average = mean(result.loadsPerPeriod);
        const bound = Math.exp(1 / beta);

        // deno-lint-ignore no-console
        console.log(
          `8 isolates, beta ${beta}, ${readsPerSecond} reads/s: ` +
            `${average.toFixed(3)} recomputations per period ` +
            `(bound e^(1/beta) = ${bound.toFixed(3)}, ` +
            `${result.loadsPerPeriod.length} periods)`,
        );
        assert.ok(average <= bound, `${average} > ${bound}`);
      });
    }
  }
});

Deno.test("isolates sharing a store: without early refresh, recomputations grow with the number of isolates", async () => {
  const averages: number[] = [];
  for (const isolates of [1, 2, 4, 8, 16]) {
    const result = await runCrowd({
      isolates,
      readsPerSecond: 1_000,
      beta: 0,
      periods: 30,
      deltaMs: 100,
      ttlMs: 3_000,
      seed: 3,
    });
    averages.push(mean(result.loadsPerPeriod));
  }

  // deno-lint-ignore no-console
  console.log(
    "beta 0, 1000 reads/s, recomputations per period for 1, 2, 4, 8, 16 isolates: " +
      averages.map((average) => average.toFixed(2)).join(", "),
  );
  assert.equal(averages[0], 1);
  for (let i = 1; i < averages.length; i++) {
    assert.ok(averages[i] > averages[i - 1], averages.join(", "));
  }
  assert.ok(averages[4] > Math.E * 2);
});
