import assert from "node:assert/strict";
import {
  Fuse,
  FuseBlownError,
  FuseBox,
  type FuseOptions,
  type FuseSnapshot,
  type FuseTripOptions,
} from "../lib/fuse.ts";
import type { Clock } from "../lib/clock.ts";
import { ManualClock } from "../lib/testing.ts";

function countingClock(clock: ManualClock): Clock & { reads: number } {
  return {
    reads: 0,
    now() {
      this.reads++;
      return clock.now();
    },
    setTimer: (callback, delayMs) => clock.setTimer(callback, delayMs),
    clearTimer: (handle) => clock.clearTimer(handle),
  };
}

const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

Deno.test("Fuse trips and resets, and reports whether a reset did anything", () => {
  const fuse = new Fuse({ name: "f", clock: new ManualClock() });
  assert.equal(fuse.state, "intact");
  assert.equal(fuse.reason, undefined);

  fuse.trip({ reason: "maintenance" });
  assert.equal(fuse.state, "blown");
  assert.equal(fuse.reason, "maintenance");
  assert.equal(fuse.allows(), false);
  assert.equal(fuse.allows("any-key"), false);

  assert.equal(fuse.reset(), true);
  assert.equal(fuse.state, "intact");
  assert.equal(fuse.reason, undefined);
  assert.equal(fuse.reset(), false);
});

Deno.test("Fuse.execute stops calls with FuseBlownError and never runs them", async () => {
  const fuse = new Fuse({ name: "reports", clock: new ManualClock() });
  assert.equal(await fuse.execute(() => "ran"), "ran");
  fuse.trip({ reason: "overload" });

  let ran = false;
  const error = await fuse.execute(() => (ran = true)).catch((e) => e);
  assert.equal(ran, false);
  assert.ok(error instanceof FuseBlownError);
  assert.equal(error.name, "FuseBlownError");
  assert.equal(error.fuseName, "reports");
  assert.equal(error.reason, "overload");
  assert.equal(error.retryAfterMs, undefined);
  assert.equal(error.message, 'Fuse "reports" is blown: overload');
});

Deno.test("Fuse.execute passes the signal and rejects an aborted one at once", async () => {
  const fuse = new Fuse({ clock: new ManualClock() });
  const controller = new AbortController();
  assert.equal(
    await fuse.execute(({ signal }) => signal, controller.signal),
    controller.signal,
  );
  controller.abort(new Error("gone"));
  await assert.rejects(fuse.execute(() => 1, controller.signal), {
    message: "gone",
  });
  await assert.rejects(
    fuse.execute(() => {
      throw new Error("sync");
    }),
    { message: "sync" },
  );
});

Deno.test("Fuse trip expires by itself, lazily, with no timer", async () => {
  const clock = new ManualClock();
  const fuse = new Fuse({ name: "exports", clock });
  const resets: string[] = [];
  fuse.on("reset", (event) => resets.push(`${event.cause}: ${event.reason}`));
  fuse.trip({ reason: "deploy", expiresInMs: 1_000 });
  assert.equal(clock.pendingTimers, 0);

  await clock.advance(400);
  const error = await fuse.execute(() => 1).catch((e) => e);
  assert.equal(error.retryAfterMs, 600);
  assert.equal(
    error.message,
    'Fuse "exports" is blown: deploy (expires in 600 ms)',
  );

  await clock.advance(600);
  assert.deepEqual(resets, [], "nothing happens until the fuse is used");
  assert.equal(await fuse.execute(() => "back"), "back");
  assert.deepEqual(resets, ["expired: deploy"]);
  assert.equal(fuse.state, "intact");
});

Deno.test("Fuse reads no clock while intact", async () => {
  const manual = new ManualClock();
  const clock = countingClock(manual);
  const fuse = new Fuse({ clock });
  for (let i = 0; i < 100; i++) await fuse.execute(() => i);
  fuse.check("k");
  assert.equal(fuse.state, "intact");
  assert.equal(clock.reads, 0);
});

Deno.test("Fuse partial trip: each key gets a stable answer", () => {
  const fuse = new Fuse({ name: "beta" });
  fuse.trip({ passRatio: 0.3 });
  const first = keys.map((key) => fuse.allows(key));
  const second = keys.map((key) => fuse.allows(key));
  assert.deepEqual(first, second);

  const again = new Fuse({ name: "beta" });
  again.trip({ passRatio: 0.3 });
  assert.deepEqual(keys.map((key) => again.allows(key)), first);
});

Deno.test("Fuse partial trip lets about passRatio of keys through", () => {
  for (const passRatio of [0.01, 0.1, 0.3, 0.5, 0.9]) {
    const fuse = new Fuse({ name: `ratio-${passRatio}` });
    fuse.trip({ passRatio });
    const passed = keys.filter((key) => fuse.allows(key)).length;
    const share = passed / keys.length;
    assert.ok(
      Math.abs(share - passRatio) < 0.02,
      `passRatio ${passRatio}: ${share}`,
    );
  }
});

Deno.test("Fuse partial trip spreads sequential and similar keys evenly", () => {
  const fuse = new Fuse({ name: "ids" });
  fuse.trip({ passRatio: 0.5 });
  const numeric = Array.from({ length: 4_000 }, (_, i) => String(i));
  const share = numeric.filter((key) => fuse.allows(key)).length / 4_000;
  assert.ok(Math.abs(share - 0.5) < 0.03, `${share}`);

  for (let start = 0; start < 4_000; start += 1_000) {
    const slice = numeric.slice(start, start + 1_000);
    const sliceShare = slice.filter((key) => fuse.allows(key)).length / 1_000;
    assert.ok(Math.abs(sliceShare - 0.5) < 0.06, `${start}: ${sliceShare}`);
  }
});

Deno.test("Fuse partial trip: raising passRatio only adds keys", () => {
  const fuse = new Fuse({ name: "rollout" });
  fuse.trip({ passRatio: 0.1 });
  const small = keys.filter((key) => fuse.allows(key));
  fuse.trip({ passRatio: 0.4 });
  const large = new Set(keys.filter((key) => fuse.allows(key)));
  assert.ok(small.every((key) => large.has(key)));
  assert.ok(large.size > small.length);
});

Deno.test("Fuse partial trip picks independent cohorts for differently named fuses", () => {
  const a = new Fuse({ name: "experiment-a" });
  const b = new Fuse({ name: "experiment-b" });
  a.trip({ passRatio: 0.5 });
  b.trip({ passRatio: 0.5 });
  const both = keys.filter((key) => a.allows(key) && b.allows(key)).length;
  const share = both / keys.length;
  assert.ok(Math.abs(share - 0.25) < 0.02, `overlap ${share}`);
});

Deno.test("Fuse partial trip lets exactly one keyless call in 1 / passRatio through", async () => {
  const fuse = new Fuse({ clock: new ManualClock() });
  fuse.trip({ passRatio: 0.25 });
  const results = await Promise.allSettled(
    Array.from({ length: 100 }, () => fuse.execute(() => "ran")),
  );
  const passed = results.filter((r) => r.status === "fulfilled").length;
  assert.equal(passed, 25);
  const pattern = results.slice(0, 8).map((r) => r.status === "fulfilled");
  assert.deepEqual(pattern, [
    false,
    false,
    false,
    true,
    false,
    false,
    false,
    true,
  ]);
});

Deno.test("Fuse.wrap keys calls with keyOf and keeps this and arguments", async () => {
  const fuse = new Fuse({ name: "w", clock: new ManualClock() });
  const service = {
    prefix: "hi",
    greet: fuse.wrap(function (this: { prefix: string }, user: string) {
      return `${this.prefix} ${user}`;
    }, { keyOf: (user) => user }),
  };
  assert.equal(await service.greet("ann"), "hi ann");

  fuse.trip({ passRatio: 0.5 });
  const passing = keys.find((key) => fuse.allows(key))!;
  const blocked = keys.find((key) => !fuse.allows(key))!;
  assert.equal(await service.greet(passing), `hi ${passing}`);
  const error = await service.greet(blocked).catch((e) => e);
  assert.ok(error instanceof FuseBlownError);

  assert.throws(
    () => fuse.wrap(() => 1, { keyOf: "id" as never }),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message === 'Fuse: keyOf must be a function, got "id"',
  );
});

Deno.test("Fuse emits trip, reset and rejected events", async () => {
  const fuse = new Fuse({ name: "ev", clock: new ManualClock() });
  const log: unknown[] = [];
  fuse.on("trip", (event) => log.push(["trip", event]));
  fuse.on("reset", (event) => log.push(["reset", event]));
  fuse.on("rejected", (event) => log.push(["rejected", event.key]));

  fuse.trip({ reason: "r1", expiresInMs: 50, passRatio: 0.2 });
  fuse.trip({ reason: "r2" });
  assert.throws(() => fuse.check("k1"), FuseBlownError);
  await fuse.execute(() => 1).catch(() => {});
  fuse.reset();
  fuse.reset();

  assert.deepEqual(log, [
    [
      "trip",
      { fuseName: "ev", reason: "r1", expiresInMs: 50, passRatio: 0.2 },
    ],
    [
      "trip",
      {
        fuseName: "ev",
        reason: "r2",
        expiresInMs: undefined,
        passRatio: 0,
      },
    ],
    ["rejected", "k1"],
    ["rejected", undefined],
    ["reset", { fuseName: "ev", reason: "r2", cause: "manual" }],
  ]);
});

Deno.test("Fuse survives a throwing listener", () => {
  const reported: unknown[] = [];
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    reported.push(event.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    const fuse = new Fuse();
    fuse.on("trip", () => {
      throw new Error("listener bug");
    });
    fuse.trip({ reason: "x" });
    assert.equal(fuse.state, "blown");
    assert.equal(reported.length, 1);
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});

Deno.test("Fuse JSON round trip keeps reason, ratio and the time left", async () => {
  const first = new ManualClock(1_000_000);
  const fuse = new Fuse({ name: "j", clock: first });
  fuse.trip({ reason: "why", expiresInMs: 5_000, passRatio: 0.5 });
  await first.advance(2_000);

  const snapshot: FuseSnapshot = JSON.parse(JSON.stringify(fuse));
  assert.deepEqual(snapshot, {
    version: 1,
    name: "j",
    state: "blown",
    reason: "why",
    passRatio: 0.5,
    remainingMs: 3_000,
  });

  const second = new ManualClock(-50);
  const copy = new Fuse({ clock: second, initialState: snapshot });
  assert.equal(copy.name, "j");
  assert.deepEqual(
    keys.slice(0, 200).map((key) => copy.allows(key)),
    keys.slice(0, 200).map((key) => fuse.allows(key)),
  );
  await second.advance(3_000);
  assert.equal(copy.state, "intact");
  assert.deepEqual(copy.toJSON(), { version: 1, name: "j", state: "intact" });
});

Deno.test("FuseBox creates fuses by name, forwards their events and round-trips as JSON", async () => {
  const clock = new ManualClock();
  const box = new FuseBox({ clock });
  const events: string[] = [];
  box.on("trip", (event) => events.push(`trip ${event.fuseName}`));
  box.on("reset", (event) => events.push(`reset ${event.fuseName}`));
  box.on("rejected", (event) => events.push(`rejected ${event.fuseName}`));

  const a = box.fuse("a");
  assert.equal(box.fuse("a"), a);
  assert.equal(box.get("b"), undefined);
  a.trip({ reason: "1", expiresInMs: 100 });
  box.fuse("b").trip({ reason: "2" });
  await box.fuse("b").execute(() => 1).catch(() => {});
  box.fuse("c");
  assert.deepEqual(box.names(), ["a", "b", "c"]);
  assert.deepEqual([...box].map((fuse) => fuse.state), [
    "blown",
    "blown",
    "intact",
  ]);

  const restoredClock = new ManualClock(42);
  const restored = new FuseBox({
    clock: restoredClock,
    initialState: JSON.parse(JSON.stringify(box)),
  });
  assert.deepEqual(restored.toJSON(), box.toJSON());
  await restoredClock.advance(100);
  assert.equal(restored.fuse("a").state, "intact");
  assert.equal(restored.fuse("b").reason, "2");

  await clock.advance(100);
  assert.equal(a.state, "intact");
  assert.deepEqual(events, ["trip a", "trip b", "rejected b", "reset a"]);
});

Deno.test("Two FuseBoxes share nothing", () => {
  const one = new FuseBox();
  const two = new FuseBox();
  one.fuse("x").trip();
  assert.equal(two.fuse("x").state, "intact");
});

Deno.test("Fuse rejects bad options and trips, naming the option and the value", () => {
  const tripCases: [FuseTripOptions | unknown, ErrorConstructor, string][] = [
    [{ passRatio: 1 }, RangeError, "Fuse: passRatio must be in [0, 1), got 1"],
    [
      { passRatio: -0.1 },
      RangeError,
      "Fuse: passRatio must be in [0, 1), got -0.1",
    ],
    [
      { passRatio: "0.5" },
      TypeError,
      'Fuse: passRatio must be a number, got "0.5"',
    ],
    [
      { expiresInMs: 0 },
      RangeError,
      "Fuse: expiresInMs must be a finite number > 0, got 0",
    ],
    [
      { expiresInMs: Infinity },
      RangeError,
      "Fuse: expiresInMs must be a finite number > 0, got Infinity",
    ],
    [{ reason: 42 }, TypeError, "Fuse: reason must be a string, got 42"],
    ["now", TypeError, 'Fuse: trip options must be an object, got "now"'],
  ];
  for (const [options, errorClass, message] of tripCases) {
    const fuse = new Fuse();
    assert.throws(
      () => fuse.trip(options as FuseTripOptions),
      (error: unknown) => {
        assert.ok(error instanceof errorClass, message);
        assert.equal((error as Error).message, message);
        return true;
      },
    );
    assert.equal(fuse.state, "intact", "a bad trip leaves the fuse as it was");
  }

  const optionCases: [FuseOptions | unknown, ErrorConstructor, string][] = [
    [{ name: 1 }, TypeError, "Fuse: name must be a string, got 1"],
    [
      { clock: Date },
      TypeError,
      "Fuse: clock must be a Clock with a now() method, got a function",
    ],
    [
      { initialState: { version: 1, state: "melted" } },
      RangeError,
      'Fuse: initialState.state must be "intact" or "blown", got "melted"',
    ],
    [
      { initialState: { version: 0, state: "blown" } },
      RangeError,
      "Fuse: initialState.version must be 1, got 0",
    ],
    [
      { initialState: { version: 1, state: "blown", remainingMs: -1 } },
      RangeError,
      "Fuse: initialState.remainingMs must be a finite number >= 0, got -1",
    ],
  ];
  for (const [options, errorClass, message] of optionCases) {
    assert.throws(
      () => new Fuse(options as FuseOptions),
      (error: unknown) => {
        assert.ok(error instanceof errorClass, message);
        assert.equal((error as Error).message, message);
        return true;
      },
    );
  }

  const box = new FuseBox();
  assert.throws(() => box.fuse(""), {
    name: "RangeError",
    message: 'FuseBox: name must not be empty, got ""',
  });
  assert.throws(
    () => new FuseBox({ initialState: { version: 1, fuses: {} as never } }),
    {
      name: "TypeError",
      message: "FuseBox: initialState.fuses must be an array, got an object",
    },
  );
});
