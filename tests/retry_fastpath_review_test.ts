// An independent review of retry's first-attempt fast path: each attempt's
// context, records, odd thenables, concurrency and signals.

import assert from "node:assert/strict";
import {
  type AttemptContext,
  type AttemptRecord,
  Retry,
  retry,
  RetryError,
  type RetryEvent,
} from "../lib/retry.ts";
import { Service } from "../lib/service.ts";
import { ManualClock } from "../lib/testing.ts";
import type { Clock } from "../lib/clock.ts";

/** A promise that rejects with `error` once `clock` has moved `ms`. */
function rejectAfter(clock: ManualClock, ms: number, error: unknown) {
  return new Promise<never>((_, reject) => {
    clock.setTimer(() => reject(error), ms);
  });
}

Deno.test("records, events and shouldRetry numbers when attempts fail asynchronously, synchronously, then asynchronously", async () => {
  const clock = new ManualClock(1_000);
  const events: RetryEvent[] = [];
  const asked: [unknown, number][] = [];
  const [e1, e2, e3] = [new Error("e1"), new Error("e2"), new Error("e3")];
  const policy = new Retry({
    attempts: 3,
    backoff: "constant",
    initialDelayMs: 100,
    clock,
    onRetry: (event) => events.push(event),
    shouldRetry: (error, attempt) => {
      asked.push([error, attempt]);
      return true;
    },
  });

  const outcome = policy.execute(({ attempt }) => {
    if (attempt === 1) return rejectAfter(clock, 30, e1);
    if (attempt === 2) throw e2;
    return rejectAfter(clock, 20, e3);
  }).catch((error) => error);
  await clock.advance(500);
  const error = await outcome;

  assert.ok(error instanceof RetryError);
  assert.deepEqual(error.errors, [e1, e2, e3]);
  assert.equal(error.cause, e3);
  assert.equal(error.message, "All 3 attempts failed; the last with: e3");
  assert.deepEqual(
    error.attempts,
    [
      {
        attempt: 1,
        error: e1,
        startedAtMs: undefined,
        endedAtMs: 1_030,
        durationMs: undefined,
        delayMs: 100,
      },
      {
        attempt: 2,
        error: e2,
        startedAtMs: 1_130,
        endedAtMs: 1_130,
        durationMs: 0,
        delayMs: 100,
      },
      {
        attempt: 3,
        error: e3,
        startedAtMs: 1_230,
        endedAtMs: 1_250,
        durationMs: 20,
        delayMs: 0,
      },
    ] satisfies AttemptRecord[],
  );
  assert.deepEqual(events, [
    { attempt: 1, delayMs: 100, error: e1 },
    { attempt: 2, delayMs: 100, error: e2 },
  ]);
  assert.deepEqual(asked, [[e1, 1], [e2, 2]]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("a first error that is not retryable, or attempts: 1, rejects with the error itself", async (t) => {
  const cases: [string, () => unknown][] = [
    ["sync Error", () => new Error("boom")],
    ["undefined", () => undefined],
    ["null", () => null],
  ];
  for (const [name, make] of cases) {
    const thrown = make();
    for (
      const [label, options] of [
        ["attempts: 1", { attempts: 1 }],
        ["shouldRetry false", { shouldRetry: () => false }],
      ] as const
    ) {
      await t.step(`${name}, ${label}, thrown`, async () => {
        const clock = new ManualClock();
        const reason = await new Retry({ ...options, clock }).execute(() => {
          throw thrown;
        }).then(() => "resolved", (error) => ({ error }));
        assert.deepEqual(reason, { error: thrown });
        assert.equal(clock.pendingTimers, 0);
      });
      await t.step(`${name}, ${label}, rejected`, async () => {
        const reason = await new Retry(options).execute(() =>
          Promise.reject(thrown)
        ).then(() => "resolved", (error) => ({ error }));
        assert.deepEqual(reason, { error: thrown });
      });
    }
  }
});

Deno.test("non-Error values thrown on every attempt end in a RetryError", async () => {
  const clock = new ManualClock();
  const thrown = [undefined, null];
  const outcome = new Retry({ attempts: 2, initialDelayMs: 5, clock })
    .execute(({ attempt }) => {
      throw thrown[attempt - 1];
    }).catch((error) => error);
  await clock.advance(10);
  const error = await outcome;

  assert.ok(error instanceof RetryError);
  assert.deepEqual(error.errors, [undefined, null]);
  assert.equal(error.cause, null);
  assert.equal(error.message, "All 2 attempts failed; the last with: null");
});

Deno.test("synchronous results resolve without a clock read or a timer, with and without a signal", async () => {
  let reads = 0;
  const manual = new ManualClock();
  const clock: Clock = {
    now: () => (reads++, manual.now()),
    setTimer: (callback, delayMs) => manual.setTimer(callback, delayMs),
    clearTimer: (handle) => manual.clearTimer(handle),
  };
  const policy = new Retry({ clock });
  const signal = new AbortController().signal;

  assert.equal(await policy.execute(() => 42), 42);
  assert.equal(await policy.execute(() => undefined), undefined);
  assert.equal(await policy.execute(() => 7, signal), 7);
  assert.equal(
    await new Retry({ clock, shouldRetryResult: () => false }).execute(
      () => "r",
    ),
    "r",
  );
  assert.equal(reads, 0);
  assert.equal(manual.pendingTimers, 0);
});

Deno.test("odd thenables are retried or adopted like promises", async (t) => {
  const clock = new ManualClock();
  const policy = new Retry({ attempts: 2, initialDelayMs: 1, clock });
  const run = async (first: () => PromiseLike<string>) => {
    const outcome = policy.execute(({ attempt }) =>
      attempt === 1 ? first() : Promise.resolve("second")
    );
    await clock.advance(5);
    return await outcome;
  };

  await t.step("rejects synchronously inside then", async () => {
    const thenable: PromiseLike<string> = {
      then: (_, no) => {
        no!(new Error("x"));
        return undefined as never;
      },
    };
    assert.equal(await run(() => thenable), "second");
  });
  await t.step("throws inside then", async () => {
    const thenable = {
      then: () => {
        throw new Error("then threw");
      },
    } as unknown as PromiseLike<string>;
    assert.equal(await run(() => thenable), "second");
  });
  await t.step("a then getter that throws", async () => {
    const thenable = {
      get then(): never {
        throw new Error("getter threw");
      },
    } as unknown as PromiseLike<string>;
    assert.equal(await run(() => thenable), "second");
  });
  await t.step("resolves, then rejects: the first call wins", async () => {
    const thenable: PromiseLike<string> = {
      then: (yes, no) => {
        yes!("first" as never);
        no!(new Error("late"));
        return undefined as never;
      },
    };
    assert.equal(await run(() => thenable), "first");
  });
  await t.step("rejects, then resolves: retried once", async () => {
    const thenable: PromiseLike<string> = {
      then: (yes, no) => {
        no!(new Error("early"));
        yes!("ignored" as never);
        return undefined as never;
      },
    };
    assert.equal(await run(() => thenable), "second");
  });
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("a retryAfterMs hint on the first error sets the first wait, capped by maxDelayMs", async () => {
  const clock = new ManualClock();
  const delays: number[] = [];
  const policy = new Retry({
    attempts: 3,
    backoff: "constant",
    initialDelayMs: 1,
    maxDelayMs: 400,
    clock,
    onRetry: ({ delayMs }) => delays.push(delayMs),
  });
  let calls = 0;

  const outcome = policy.execute(() => {
    calls++;
    if (calls === 1) {
      throw Object.assign(new Error("429"), { retryAfterMs: 250 });
    }
    if (calls === 2) {
      throw Object.assign(new Error("429"), { retryAfterMs: 900 });
    }
    return "ok";
  });
  await clock.advance(249);
  assert.equal(calls, 1);
  await clock.advance(1);
  assert.equal(calls, 2);
  await clock.advance(400);

  assert.equal(await outcome, "ok");
  assert.deepEqual(delays, [250, 400]);
});

Deno.test("many concurrent calls on one policy keep their own attempts and outcomes", async () => {
  const clock = new ManualClock();
  const policy = new Retry({
    attempts: 3,
    backoff: "constant",
    initialDelayMs: 10,
    clock,
  });
  const seen = new Map<number, number[]>();

  const calls = Array.from(
    { length: 40 },
    (_, id) =>
      policy.execute(({ attempt }) => {
        seen.set(id, [...(seen.get(id) ?? []), attempt]);
        const failUntil = id % 3; // 0, 1 or 2 failures before success
        if (attempt > failUntil) return `${id}@${attempt}`;
        if (id % 2 === 0) throw new Error(`${id} sync ${attempt}`);
        return Promise.reject(new Error(`${id} async ${attempt}`));
      }),
  );
  await clock.advance(100);
  const results = await Promise.all(calls);

  results.forEach((result, id) => {
    const attempts = id % 3 + 1;
    assert.equal(result, `${id}@${attempts}`);
    assert.deepEqual(
      seen.get(id),
      Array.from({ length: attempts }, (_, i) => i + 1),
    );
  });
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("retry() and Service number attempts the same with and without a signal", async (t) => {
  await t.step("retry() wrapper", async () => {
    const clock = new ManualClock();
    let calls = 0;
    const add = retry((a: number, b: number) => {
      if (++calls < 3) throw new Error("flaky");
      return a + b;
    }, { attempts: 3, initialDelayMs: 5, backoff: "constant", clock });

    const outcome = add(2, 3);
    await clock.advance(10);
    assert.equal(await outcome, 5);
    assert.equal(calls, 3);
    assert.equal(add.length, 2);
  });

  for (const withSignal of [false, true]) {
    await t.step(`Service, signal: ${withSignal}`, async () => {
      const clock = new ManualClock();
      const service = new Service<string>({
        name: `review-${withSignal}`,
        clock,
        metrics: false,
        retry: { attempts: 3, backoff: "constant", initialDelayMs: 5 },
      });
      const attempts: number[] = [];
      const signals: (AbortSignal | undefined)[] = [];

      const outcome = service.execute(({ attempt, signal }) => {
        attempts.push(attempt);
        signals.push(signal);
        if (attempt < 3) return Promise.reject(new Error(`fail ${attempt}`));
        return "done";
      }, withSignal ? new AbortController().signal : undefined);
      await clock.advance(20);

      assert.equal(await outcome, "done");
      assert.deepEqual(attempts, [1, 2, 3]);
      assert.ok(signals.every((signal) => signal?.aborted !== true));
    });
  }
});

Deno.test("the first attempt's signal without a caller's signal works with fetch on loopback", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("pong"),
  );
  const url = `http://127.0.0.1:${server.addr.port}/`;
  try {
    const body = await new Retry({ attempts: 2 }).execute(
      async ({ attempt, signal }) => {
        assert.equal(attempt, 1);
        assert.equal(signal.aborted, false);
        const combined = AbortSignal.any([signal]);
        const response = await fetch(url, { signal: combined });
        return await response.text();
      },
    );
    assert.equal(body, "pong");
  } finally {
    await server.shutdown();
  }
});

Deno.test("a caller's signal aborted during an attempt rejects with its reason, for sync and async results alike", async () => {
  for (const async of [false, true]) {
    const controller = new AbortController();
    const reason = new Error("stop");
    const outcome = new Retry().execute(() => {
      controller.abort(reason);
      return async ? Promise.resolve("value") : "value";
    }, controller.signal).then((value) => ({ value }), (error) => ({ error }));

    assert.deepEqual(await outcome, { error: reason }, `async: ${async}`);
  }
});

Deno.test("a null signal (as RequestInit.signal may be) counts as none", async () => {
  const nullSignal = null as unknown as AbortSignal;

  for (const async of [false, true]) {
    const outcome = await new Retry().execute(
      () => async ? Promise.resolve("value") : "value",
      nullSignal,
    ).then((value) => ({ value }), (error) => ({ error: String(error) }));

    assert.deepEqual(outcome, { value: "value" }, `async: ${async}`);
  }
});

Deno.test("each call gets its own first-attempt context, open to writes", async () => {
  const notes: unknown[] = [];

  const outcome = await new Retry({ attempts: 1 }).execute((context) => {
    const open = context as AttemptContext & { note?: string };
    open.note = `attempt ${context.attempt}`;
    notes.push(open.note);
    return open.note;
  }).then((value) => ({ value }), (error) => ({ error: String(error) }));

  assert.deepEqual(outcome, { value: "attempt 1" });
  assert.deepEqual(notes, ["attempt 1"]);
});

Deno.test("a context kept past its attempt still reports its own attempt number", async () => {
  const contexts: AttemptContext[] = [];

  await new Retry({ attempts: 3, initialDelayMs: 0 }).execute((context) => {
    contexts.push(context);
    if (context.attempt < 3) throw new Error("again");
    return "done";
  });

  assert.deepEqual(contexts.map((context) => context.attempt), [1, 2, 3]);
});
