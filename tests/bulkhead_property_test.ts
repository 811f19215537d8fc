import assert from "node:assert/strict";
import { Bulkhead, BulkheadRejectedError } from "../lib/bulkhead.ts";
import { ManualClock, seededRandom, settle } from "../lib/testing.ts";

type Kind = "deferred" | "sync-value" | "sync-throw";

/** One call as the test sees it: the ground truth the pool is checked against. */
interface Call {
  id: number;
  kind: Kind;
  controller: AbortController | undefined;
  queueSeq: number | undefined;
  started: boolean;
  opSettled: boolean;
  abandonedWork: PromiseWithResolvers<void> | undefined;
  workSettled: boolean;
  op: PromiseWithResolvers<string> | undefined;
  outcome:
    | { ok: true; value: unknown }
    | { ok: false; error: unknown }
    | undefined;
}

interface Config {
  maxConcurrent: number;
  maxQueued: number;
  queueTimeoutMs: number | undefined;
  holdAbandonedPermits: boolean;
}

function pick<T>(random: () => number, items: readonly T[]): T | undefined {
  return items.length === 0
    ? undefined
    : items[Math.floor(random() * items.length)];
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 40; i++) await Promise.resolve();
}

class Scenario {
  readonly clock = new ManualClock();
  readonly pool: Bulkhead;
  readonly calls: Call[] = [];
  #nextQueueSeq = 0;
  #lastStartedQueueSeq = -1;

  constructor(readonly config: Config, readonly random: () => number) {
    this.pool = new Bulkhead({ ...config, clock: this.clock });
  }

  /** Calls whose work is really running against the "dependency". */
  realConcurrency(): number {
    return this.calls.filter((call) =>
      call.started &&
      (!call.opSettled ||
        (this.config.holdAbandonedPermits && call.abandonedWork !== undefined &&
          !call.workSettled))
    ).length;
  }

  waiting(): Call[] {
    return this.calls.filter((call) =>
      !call.started && call.outcome === undefined && call.queueSeq !== undefined
    );
  }

  call(): void {
    const kinds: Kind[] = ["deferred", "deferred", "sync-value", "sync-throw"];
    const call: Call = {
      id: this.calls.length,
      kind: pick(this.random, kinds)!,
      controller: this.random() < 0.5 ? new AbortController() : undefined,
      queueSeq: undefined,
      started: false,
      opSettled: false,
      abandonedWork: undefined,
      workSettled: false,
      op: undefined,
      outcome: undefined,
    };
    this.calls.push(call);
    const waitingBefore = this.waiting().length;

    const promise = this.pool.execute(
      () => this.#start(call, waitingBefore),
      call.controller?.signal,
    );
    promise.then(
      (value) => this.#record(call, { ok: true, value }),
      (error) => this.#record(call, { ok: false, error }),
    );

    if (!call.started && this.pool.queued > waitingBefore) {
      call.queueSeq = this.#nextQueueSeq++;
    }
  }

  #start(call: Call, waitingAtCall: number): string | Promise<string> {
    assert.equal(call.started, false, `call ${call.id} started twice`);
    if (call.queueSeq === undefined) {
      assert.equal(waitingAtCall, 0, `call ${call.id} overtook a queued call`);
    } else {
      assert.ok(
        call.queueSeq > this.#lastStartedQueueSeq,
        `call ${call.id} broke FIFO order`,
      );
      this.#lastStartedQueueSeq = call.queueSeq;
    }
    call.started = true;
    assert.ok(
      this.realConcurrency() <= this.config.maxConcurrent,
      `limit exceeded when call ${call.id} started`,
    );

    if (call.kind === "sync-value") {
      call.opSettled = true;
      return `value ${call.id}`;
    }
    if (call.kind === "sync-throw") {
      call.opSettled = true;
      throw new Error(`sync ${call.id}`);
    }
    call.op = Promise.withResolvers<string>();
    return call.op.promise;
  }

  #record(call: Call, outcome: NonNullable<Call["outcome"]>): void {
    assert.equal(call.outcome, undefined, `call ${call.id} settled twice`);
    call.outcome = outcome;
  }

  running(): Call[] {
    return this.calls.filter((call) =>
      call.op !== undefined && !call.opSettled
    );
  }

  resolveOne(): void {
    const call = pick(this.random, this.running());
    if (call === undefined) return;
    call.opSettled = true;
    call.op!.resolve(`value ${call.id}`);
  }

  rejectOne(): void {
    const call = pick(this.random, this.running());
    if (call === undefined) return;
    call.opSettled = true;
    call.op!.reject(new Error(`failed ${call.id}`));
  }

  timeOutOne(): void {
    const call = pick(this.random, this.running());
    if (call === undefined) return;
    call.opSettled = true;
    call.abandonedWork = Promise.withResolvers<void>();
    call.op!.reject(
      Object.assign(new Error(`timed out ${call.id}`), {
        name: "TimeoutError",
        abandoned: call.abandonedWork.promise,
      }),
    );
  }

  finishAbandonedWork(): void {
    const abandoned = this.calls.filter((call) =>
      call.abandonedWork !== undefined && !call.workSettled
    );
    const call = pick(this.random, abandoned);
    if (call === undefined) return;
    call.workSettled = true;
    if (this.random() < 0.5) call.abandonedWork!.resolve();
    else call.abandonedWork!.reject(new Error("work failed late"));
  }

  abortOne(): void {
    const abortable = this.calls.filter((call) =>
      call.controller !== undefined && !call.controller.signal.aborted &&
      call.outcome === undefined
    );
    const call = pick(this.random, abortable);
    if (call === undefined) return;
    call.controller!.abort(new Error(`aborted ${call.id}`));
  }

  async advance(): Promise<void> {
    await this.clock.advance(Math.floor(this.random() * 30));
  }

  /** Compares the pool's gauges with the ground truth. */
  check(step: number): void {
    const where = `at step ${step}`;
    const abandoned =
      this.calls.filter((call) =>
        call.abandonedWork !== undefined && !call.workSettled
      ).length;
    const waiting = this.waiting().length;

    assert.equal(this.pool.running, this.running().length, `running ${where}`);
    assert.equal(this.pool.abandoned, abandoned, `abandoned ${where}`);
    assert.equal(this.pool.queued, waiting, `queued ${where}`);
    assert.ok(waiting <= this.config.maxQueued, `queue bound ${where}`);
    assert.ok(
      this.realConcurrency() <= this.config.maxConcurrent,
      `limit ${where}`,
    );
    assert.equal(
      this.clock.pendingTimers,
      this.config.queueTimeoutMs === undefined ? 0 : waiting,
      `timers ${where}`,
    );
  }

  /** Checks that every settled call settled the way its history says. */
  checkOutcomes(): void {
    for (const call of this.calls) {
      const { outcome } = call;
      assert.ok(outcome !== undefined, `call ${call.id} never settled`);
      if (outcome.ok) {
        assert.ok(call.started, `call ${call.id} resolved without running`);
        assert.equal(outcome.value, `value ${call.id}`);
        continue;
      }
      const error = outcome.error as Error;
      if (error instanceof BulkheadRejectedError) {
        assert.equal(
          call.started,
          false,
          `call ${call.id} ran and was rejected`,
        );
        if (error.reason === "full") assert.equal(call.queueSeq, undefined);
        else assert.notEqual(call.queueSeq, undefined);
      } else if (error.message === `aborted ${call.id}`) {
        assert.equal(
          call.started,
          false,
          `call ${call.id} aborted while running`,
        );
      } else {
        assert.ok(call.started, `call ${call.id} failed without running`);
        assert.match(
          error.message,
          new RegExp(`(sync|failed|timed out) ${call.id}$`),
        );
      }
    }
  }

  /** Finishes everything still pending, then checks that all is returned. */
  async drain(): Promise<void> {
    for (let round = 0; round < 1_000; round++) {
      for (const call of this.running()) {
        call.opSettled = true;
        call.op!.resolve(`value ${call.id}`);
      }
      for (const call of this.calls) {
        if (call.abandonedWork !== undefined && !call.workSettled) {
          call.workSettled = true;
          call.abandonedWork.resolve();
        }
      }
      await flushMicrotasks();
      if (this.running().length === 0 && this.waiting().length === 0) break;
    }
    await this.clock.runAll();
    await settle();
  }
}

async function runScenario(seed: number, steps: number): Promise<void> {
  const random = seededRandom(seed);
  const config: Config = {
    maxConcurrent: 1 + Math.floor(random() * 4),
    maxQueued: random() < 0.15 ? Infinity : Math.floor(random() * 5),
    queueTimeoutMs: random() < 0.5 ? undefined : 1 + Math.floor(random() * 50),
    holdAbandonedPermits: random() < 0.6,
  };
  const scenario = new Scenario(config, random);

  for (let step = 0; step < steps; step++) {
    const roll = random();
    if (roll < 0.4) scenario.call();
    else if (roll < 0.55) scenario.resolveOne();
    else if (roll < 0.65) scenario.rejectOne();
    else if (roll < 0.75) scenario.timeOutOne();
    else if (roll < 0.85) scenario.finishAbandonedWork();
    else if (roll < 0.95) scenario.abortOne();
    else await scenario.advance();

    await flushMicrotasks();
    scenario.check(step);
  }

  await scenario.drain();
  scenario.checkOutcomes();
  assert.equal(scenario.pool.running, 0);
  assert.equal(scenario.pool.queued, 0);
  assert.equal(scenario.pool.abandoned, 0);
  assert.equal(scenario.clock.pendingTimers, 0);

  const gate = Promise.withResolvers<void>();
  let started = 0;
  const batch = Array.from(
    { length: config.maxConcurrent },
    () =>
      scenario.pool.execute(() => {
        started++;
        return gate.promise;
      }),
  );
  assert.equal(started, config.maxConcurrent, "a permit was lost");
  gate.resolve();
  await Promise.all(batch);
}

Deno.test("random interleavings keep the limit, FIFO order and every permit", async () => {
  const seeds = 200;
  for (let seed = 1; seed <= seeds; seed++) {
    try {
      await runScenario(seed, 150);
    } catch (error) {
      throw new Error(`seed ${seed} failed`, { cause: error });
    }
  }
});
