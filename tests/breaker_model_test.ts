/**
 * A reference model of the breaker's state machine, written for reading
 * rather than speed (plain arrays, filters, no ring buffers), and a property
 * test that drives the model and the real breaker with the same random
 * sequences of calls, outcomes, durations, clock moves and manual commands,
 * checking after every step that they agree.
 *
 * The clock here is a plain settable clock, not `ManualClock`: the breaker
 * never starts a timer, and `ManualClock.advance` waits for a real macrotask
 * on every move, which would make thousands of steps take minutes.
 */

import assert from "node:assert/strict";
import {
  Breaker,
  BreakerOpenError,
  type BreakerOptions,
  type BreakerState,
  type BreakerTransitionReason,
} from "../lib/breaker.ts";
import { seededRandom } from "../lib/testing.ts";

type Result = "success" | "failure" | "ignored";

interface ModelConfig {
  window: { kind: "time"; windowMs: number; buckets: number } | {
    kind: "count";
    size: number;
  };
  minimumCalls: number;
  failureRateThreshold: number;
  slowCallDurationMs?: number;
  slowCallRateThreshold: number;
  openMs: number;
  openBackoff: number;
  maxOpenMs: number;
  halfOpenProbes: number;
  successesToClose: number;
  probeTimeoutMs: number;
}

interface ModelProbe {
  startMs: number;
}

type ModelCall =
  | { kind: "recorded"; epoch: number; startMs: number }
  | { kind: "probe"; probe: ModelProbe }
  | { kind: "unrecorded" };

type Admission =
  | { admitted: true; call: ModelCall }
  | { admitted: false; retryAfterMs: number };

interface Transition {
  from: BreakerState;
  to: BreakerState;
  reason: BreakerTransitionReason;
}

/**
 * The breaker's rules, one method per rule. Its window is a list of stamped
 * outcomes; the stamping rule (a success that reads no clock takes the time
 * of the next clock read; the stride of successes between reads starts at 1,
 * doubles up to 16 while a stride spans at most a quarter bucket, and drops
 * to 1 when one spans more than half a bucket) is written out here again.
 */
class BreakerModel {
  state: BreakerState = "closed";
  epoch = 0;
  lastReadMs = Number.NaN;
  sinceRead = 0;
  stride: number;
  records: { stampMs: number; outcome: number }[] = [];
  unread: { stampMs: number; outcome: number }[] = [];
  openUntilMs = 0;
  reopens = 0;
  probes: ModelProbe[] = [];
  probeSuccesses = 0;
  transitions: Transition[] = [];
  totals = { successes: 0, failures: 0, ignored: 0, rejected: 0 };

  constructor(readonly config: ModelConfig) {
    this.stride =
      config.window.kind === "time" && config.slowCallDurationMs === undefined
        ? 1
        : Infinity;
  }

  get bucketMs(): number {
    const window = this.config.window;
    return window.kind === "time" ? window.windowMs / window.buckets : Infinity;
  }

  windowCounts(): { calls: number; failures: number; slowCalls: number } {
    const window = this.config.window;
    let live = this.records;
    if (window.kind === "time") {
      const current = Math.floor(this.lastReadMs / this.bucketMs);
      live = live.filter((record) =>
        Math.floor(record.stampMs / this.bucketMs) > current - window.buckets
      );
    } else {
      live = live.slice(-window.size);
    }

    return {
      calls: live.length,
      failures: live.filter((record) => record.outcome & 1).length,
      slowCalls: live.filter((record) => record.outcome & 2).length,
    };
  }

  read(nowMs: number): void {
    this.lastReadMs = nowMs;
    this.sinceRead = 0;
    for (const record of this.unread) record.stampMs = nowMs;
    this.unread = [];

    if (this.state === "half-open" && this.probes.length > 0) {
      const oldest = this.probes[0];
      if (nowMs - oldest.startMs >= this.config.probeTimeoutMs) {
        this.open(oldest.startMs + this.config.probeTimeoutMs, "probe-timeout");
      }
    }
    if (this.state === "open" && nowMs >= this.openUntilMs) {
      this.probeSuccesses = 0;
      this.enter("half-open", "open-elapsed");
    }
  }

  admit(nowMs: number): Admission {
    switch (this.state) {
      case "closed":
      case "disabled": {
        const timed = this.config.slowCallDurationMs !== undefined;
        if (timed) this.read(nowMs);
        return {
          admitted: true,
          call: {
            kind: "recorded",
            epoch: this.epoch,
            startMs: timed ? nowMs : Number.NaN,
          },
        };
      }
      case "forced-closed":
        return { admitted: true, call: { kind: "unrecorded" } };
      case "forced-open":
        return this.reject(Infinity);
    }

    this.read(nowMs);
    if (this.state === "open") return this.reject(this.openUntilMs - nowMs);
    if (this.probes.length < this.config.halfOpenProbes) {
      const probe = { startMs: nowMs };
      this.probes.push(probe);
      return { admitted: true, call: { kind: "probe", probe } };
    }

    return this.reject(
      this.probes[0].startMs + this.config.probeTimeoutMs - nowMs,
    );
  }

  reject(retryAfterMs: number): Admission {
    this.totals.rejected++;
    return { admitted: false, retryAfterMs };
  }

  settle(call: ModelCall, result: Result, nowMs: number): void {
    if (call.kind === "recorded") this.settleRecorded(call, result, nowMs);
    if (call.kind === "probe") this.settleProbe(call.probe, result, nowMs);

    if (result === "success") this.totals.successes++;
    else if (result === "failure") this.totals.failures++;
    else this.totals.ignored++;
  }

  settleRecorded(
    call: { epoch: number; startMs: number },
    result: Result,
    nowMs: number,
  ): void {
    if (result === "ignored" || call.epoch !== this.epoch) return;

    const slowMs = this.config.slowCallDurationMs;
    if (slowMs !== undefined) {
      this.read(nowMs);
      const slow = nowMs - call.startMs >= slowMs;
      const outcome = (result === "failure" ? 1 : 0) | (slow ? 2 : 0);
      this.records.push({ stampMs: nowMs, outcome });
      this.evaluate(nowMs);
    } else if (result === "failure") {
      this.read(nowMs);
      this.records.push({ stampMs: nowMs, outcome: 1 });
      this.evaluate(nowMs);
    } else {
      this.untimedSuccess(nowMs);
    }
  }

  untimedSuccess(nowMs: number): void {
    const record = { stampMs: this.lastReadMs, outcome: 0 };
    this.records.push(record);
    this.unread.push(record);
    this.sinceRead++;
    if (this.sinceRead >= this.stride) {
      const gapMs = nowMs - this.lastReadMs;
      this.read(nowMs);
      if (gapMs * 4 <= this.bucketMs) {
        this.stride = Math.min(16, this.stride * 2);
      } else if (gapMs * 2 > this.bucketMs) this.stride = 1;
    }

    if (this.opening() !== undefined) {
      this.read(nowMs);
      this.evaluate(nowMs);
    }
  }

  settleProbe(probe: ModelProbe, result: Result, nowMs: number): void {
    if (!this.probes.includes(probe)) return;

    this.read(nowMs);
    if (!this.probes.includes(probe)) return;

    this.probes = this.probes.filter((other) => other !== probe);
    const slowMs = this.config.slowCallDurationMs;
    if (result === "ignored") return;
    if (result === "failure") {
      this.open(nowMs, "probe-failure");
    } else if (slowMs !== undefined && nowMs - probe.startMs >= slowMs) {
      this.open(nowMs, "probe-slow");
    } else {
      this.probeSuccesses++;
      if (this.probeSuccesses >= this.config.successesToClose) {
        this.close("probe-success");
      }
    }
  }

  opening(): "failure-rate" | "slow-call-rate" | undefined {
    const { calls, failures, slowCalls } = this.windowCounts();
    if (this.state !== "closed" || calls < this.config.minimumCalls) {
      return undefined;
    }
    if (failures / calls >= this.config.failureRateThreshold) {
      return "failure-rate";
    }
    if (
      this.config.slowCallDurationMs !== undefined &&
      slowCalls / calls >= this.config.slowCallRateThreshold
    ) {
      return "slow-call-rate";
    }
    return undefined;
  }

  evaluate(nowMs: number): void {
    const reason = this.opening();
    if (reason !== undefined) this.open(nowMs, reason);
  }

  open(atMs: number, reason: BreakerTransitionReason): void {
    this.reopens = this.state === "half-open" ? this.reopens + 1 : 0;
    const periodMs = this.config.openMs *
      this.config.openBackoff ** this.reopens;
    this.openUntilMs = atMs + Math.min(periodMs, this.config.maxOpenMs);
    this.records = [];
    this.unread = [];
    this.sinceRead = 0;
    this.probes = [];
    this.probeSuccesses = 0;
    this.enter("open", reason);
  }

  close(reason: BreakerTransitionReason): void {
    this.records = [];
    this.unread = [];
    this.sinceRead = 0;
    this.probes = [];
    this.probeSuccesses = 0;
    this.reopens = 0;
    this.enter("closed", reason);
  }

  manual(command: "forceOpen" | "forceClosed" | "disable" | "reset"): void {
    if (command === "reset") return this.close("reset");

    this.probes = [];
    if (command === "forceOpen") this.enter("forced-open", "force-open");
    if (command === "forceClosed") this.enter("forced-closed", "force-closed");
    if (command === "disable") this.enter("disabled", "disable");
  }

  enter(to: BreakerState, reason: BreakerTransitionReason): void {
    const from = this.state;
    this.state = to;
    this.epoch++;
    if (from !== to) this.transitions.push({ from, to, reason });
  }
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function configFor(random: () => number): ModelConfig {
  const window = random() < 0.6
    ? {
      kind: "time" as const,
      windowMs: 1_000,
      buckets: pick(random, [1, 4, 10]),
    }
    : { kind: "count" as const, size: pick(random, [5, 10, 20]) };
  const minimumCalls = Math.min(
    pick(random, [1, 3, 5, 8]),
    window.kind === "count" ? window.size : Infinity,
  );

  return {
    window,
    minimumCalls,
    failureRateThreshold: pick(random, [0.3, 0.5, 1]),
    slowCallDurationMs: random() < 0.3 ? pick(random, [20, 100]) : undefined,
    slowCallRateThreshold: pick(random, [0.5, 1]),
    openMs: pick(random, [100, 500]),
    openBackoff: pick(random, [1, 2]),
    maxOpenMs: 2_000,
    halfOpenProbes: pick(random, [1, 2, 3]),
    successesToClose: pick(random, [1, 2, 3]),
    probeTimeoutMs: pick(random, [300, 800]),
  };
}

interface Pending {
  model: ModelCall;
  settle: { resolve(value: string): void; reject(error: Error): void };
  done: Promise<unknown>;
}

async function runSeed(seed: number, steps: number): Promise<Transition[]> {
  const random = seededRandom(seed);
  const config = configFor(random);
  const clock = {
    nowMs: 0,
    now() {
      return this.nowMs;
    },
  };
  const options: BreakerOptions = {
    ...config,
    name: `seed-${seed}`,
    clock: clock as unknown as BreakerOptions["clock"],
    isFailure: (error) => (error as Error).message !== "ignored",
  };
  const breaker = new Breaker(options);
  const model = new BreakerModel(config);
  const transitions: Transition[] = [];
  breaker.on("statechange", ({ from, to, reason }) => {
    transitions.push({ from, to, reason });
  });
  const pending: Pending[] = [];
  const context = (step: number) =>
    `seed ${seed}, step ${step}, config ${JSON.stringify(config)}`;

  const startCall = async (step: number): Promise<Pending | undefined> => {
    const admission = model.admit(clock.nowMs);
    let invoked = false;
    const deferred = Promise.withResolvers<string>();
    const signal = random() < 0.2 ? new AbortController().signal : undefined;
    const result = breaker.execute(() => {
      invoked = true;
      return deferred.promise;
    }, signal);
    assert.equal(invoked, admission.admitted, `admitted, ${context(step)}`);
    if (admission.admitted) {
      return {
        model: admission.call,
        settle: deferred,
        done: result.catch(() => {}),
      };
    }

    const error = await result.catch((error) => error);
    assert.ok(error instanceof BreakerOpenError, context(step));
    assert.equal(
      error.retryAfterMs,
      admission.retryAfterMs,
      `retryAfterMs, ${context(step)}`,
    );
    return undefined;
  };
  const finish = async (call: Pending, outcome: Result): Promise<void> => {
    model.settle(call.model, outcome, clock.nowMs);
    if (outcome === "success") call.settle.resolve("ok");
    else call.settle.reject(new Error(outcome));
    await call.done;
  };

  for (let step = 0; step < steps; step++) {
    const roll = random();

    if (roll < 0.33) {
      const call = await startCall(step);
      if (call !== undefined) pending.push(call);
    } else if (roll < 0.63) {
      if (pending.length === 0) continue;
      const index = Math.floor(random() * pending.length);
      const [call] = pending.splice(index, 1);
      await finish(
        call,
        pick(
          random,
          [
            "success",
            "success",
            "success",
            "failure",
            "failure",
            "ignored",
          ] as const,
        ),
      );
    } else if (roll < 0.65) {
      const length = 10 + Math.floor(random() * 60);
      const stepMs = pick(random, [0, 1, 5, 40]);
      for (let i = 0; i < length; i++) {
        const call = await startCall(step);
        clock.nowMs += Math.floor(random() * stepMs);
        if (call !== undefined) {
          await finish(call, random() < 0.9 ? "success" : "failure");
        }
      }
    } else if (roll < 0.85) {
      const r = random();
      clock.nowMs += r < 0.6
        ? Math.floor(random() * 30)
        : r < 0.95
        ? Math.floor(random() * 600)
        : Math.floor(random() * 5_000);
    } else if (roll < 0.94) {
      model.read(clock.nowMs);
      assert.equal(breaker.state, model.state, `state, ${context(step)}`);
    } else if (roll < 0.99) {
      model.read(clock.nowMs);
      const stats = breaker.stats;
      const counts = model.windowCounts();
      assert.deepEqual(
        {
          calls: stats.calls,
          failures: stats.failures,
          slowCalls: stats.slowCalls,
        },
        counts,
        `window, ${context(step)}`,
      );
      const { successes, failures, ignored, rejected } = stats.totals;
      assert.deepEqual(
        { successes, failures, ignored, rejected },
        model.totals,
        `totals, ${context(step)}`,
      );
    } else {
      const command = pick(
        random,
        [
          "forceOpen",
          "forceClosed",
          "disable",
          "reset",
          "reset",
          "reset",
        ] as const,
      );
      model.manual(command);
      breaker[command]();
    }
  }

  assert.deepEqual(transitions, model.transitions, `transitions, seed ${seed}`);
  for (const call of pending) call.settle.resolve("late");
  await Promise.all(pending.map((call) => call.done));
  return transitions;
}

Deno.test("the breaker agrees with its reference model on random sequences", async (t) => {
  const reasons = new Set<string>();
  for (let seed = 1; seed <= 40; seed++) {
    await t.step(`seed ${seed}`, async () => {
      for (const { reason } of await runSeed(seed, 4_000)) reasons.add(reason);
    });
  }

  assert.deepEqual([...reasons].sort(), [
    "disable",
    "failure-rate",
    "force-closed",
    "force-open",
    "open-elapsed",
    "probe-failure",
    "probe-slow",
    "probe-success",
    "probe-timeout",
    "reset",
    "slow-call-rate",
  ]);
});

Deno.test("the model reopens a timed-out probe as of its deadline, not of the read", () => {
  const model = new BreakerModel({
    window: { kind: "count", size: 4 },
    minimumCalls: 2,
    failureRateThreshold: 0.5,
    slowCallRateThreshold: 1,
    openMs: 100,
    openBackoff: 2,
    maxOpenMs: 1_000,
    halfOpenProbes: 1,
    successesToClose: 1,
    probeTimeoutMs: 50,
  });
  for (let i = 0; i < 2; i++) {
    const admission = model.admit(0);
    assert.ok(admission.admitted);
    model.settle(admission.call, "failure", 0);
  }
  assert.equal(model.state, "open");

  model.read(100);
  assert.equal(model.state, "half-open");
  assert.ok(model.admit(100).admitted);
  model.read(160);
  assert.equal(model.state, "open");
  assert.equal(model.openUntilMs, 150 + 200);
});
