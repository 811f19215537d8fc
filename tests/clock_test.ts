import assert from "node:assert/strict";
import { clampDelay, MAX_DELAY_MS, sleep, systemClock } from "../lib/clock.ts";
import { ManualClock, settle } from "../lib/testing.ts";

Deno.test("clampDelay() keeps delays within what setTimeout honours", () => {
  const cases: [number, number][] = [
    [Number.NaN, 0],
    [-1, 0],
    [0, 0],
    [12.5, 12.5],
    [MAX_DELAY_MS, MAX_DELAY_MS],
    [MAX_DELAY_MS + 1, MAX_DELAY_MS],
    [Infinity, MAX_DELAY_MS],
  ];
  for (const [input, expected] of cases) {
    assert.equal(clampDelay(input), expected);
  }
});

Deno.test("systemClock.now() never goes backwards", () => {
  let previous = systemClock.now();
  for (let i = 0; i < 1_000; i++) {
    const now = systemClock.now();
    assert.ok(now >= previous);
    previous = now;
  }
});

Deno.test("sleep() on the system clock resolves and leaves no timer", async () => {
  await sleep(1);
});

Deno.test("sleep() rejects at once with the signal's reason and clears its timer", async () => {
  const clock = new ManualClock();
  const controller = new AbortController();

  const waiting = sleep(10_000, { clock, signal: controller.signal });
  assert.equal(clock.pendingTimers, 1);
  controller.abort(new Error("stop"));

  await assert.rejects(waiting, { message: "stop" });
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("sleep() with an aborted signal starts no timer", async () => {
  const clock = new ManualClock();

  await assert.rejects(
    sleep(5, { clock, signal: AbortSignal.abort(new Error("early")) }),
    { message: "early" },
  );
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("ManualClock fires due timers in order of due time, then creation", async () => {
  const clock = new ManualClock(100);
  const fired: string[] = [];
  clock.setTimer(() => fired.push(`b@${clock.now()}`), 20);
  clock.setTimer(() => fired.push(`a@${clock.now()}`), 10);
  clock.setTimer(() => fired.push(`c@${clock.now()}`), 20);
  clock.setTimer(() => fired.push(`late@${clock.now()}`), 50);

  await clock.advance(30);

  assert.deepEqual(fired, ["a@110", "b@120", "c@120"]);
  assert.equal(clock.now(), 130);
  assert.equal(clock.pendingTimers, 1);
});

Deno.test("ManualClock runs promise jobs between timers", async () => {
  const clock = new ManualClock();
  const seen: number[] = [];
  const chain = sleep(10, { clock })
    .then(() => seen.push(clock.now()))
    .then(() => sleep(10, { clock }))
    .then(() => seen.push(clock.now()));

  await clock.advance(20);
  await chain;

  assert.deepEqual(seen, [10, 20]);
});

Deno.test("ManualClock clearTimer cancels, next() and runAll() step through", async () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  const handle = clock.setTimer(() => fired.push(1), 5);
  clock.setTimer(() => fired.push(2), 7);
  clock.setTimer(() => fired.push(3), 9);
  clock.clearTimer(handle);

  assert.equal(await clock.next(), true);
  assert.deepEqual(fired, [2]);
  assert.equal(clock.now(), 7);
  assert.equal(await clock.runAll(), 1);
  assert.equal(await clock.next(), false);
  assert.deepEqual(fired, [2, 3]);
});

Deno.test("ManualClock rejects bad input", async () => {
  assert.throws(() => new ManualClock(Number.NaN), RangeError);
  await assert.rejects(new ManualClock().advance(-1), {
    name: "RangeError",
    message: "ManualClock.advance: ms must be a finite number >= 0, got -1",
  });
});

Deno.test("settle() lets chained promise jobs finish", async () => {
  let depth = 0;
  const step = (): Promise<void> =>
    depth < 50
      ? Promise.resolve().then(() => (depth++, step()))
      : Promise.resolve();
  step();
  await settle();
  assert.equal(depth, 50);
});
