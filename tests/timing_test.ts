import assert from "node:assert/strict";
import { Timing } from "../lib/timing.ts";
import { ManualClock } from "../lib/testing.ts";

function timed(startMs = 0) {
  const clock = new ManualClock(startMs);
  return { clock, timing: new Timing({ clock }) };
}

/** Server-Timing grammar (W3C): metric *( OWS ";" OWS param ) joined by ", ". */
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QUOTED =
  '"(?:[\\t\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t\\x20-\\x7e])*"';
const METRIC = `${TOKEN}(?:;${TOKEN}=(?:${TOKEN}|${QUOTED}))*`;
const SERVER_TIMING = new RegExp(`^(?:${METRIC}(?:, ${METRIC})*)?$`);

Deno.test("the report is a table of nested intervals and events", async () => {
  const { clock, timing } = timed(1_000);
  const request = timing.start("request");
  await clock.advance(1);
  {
    using _db = timing.start("db", { desc: "users by id" });
    await clock.advance(0.25);
    timing.record("parse", 0.125);
    await clock.advance(10);
  }
  timing.mark("cache miss", { desc: "key users:7" });
  const render = timing.start("render");
  await clock.advance(2.5);
  render.stop();
  await clock.advance(0.5);
  request.stop();
  timing.start("flush");

  assert.equal(
    timing.report(),
    [
      "name          start ms  duration ms  description",
      "request          0.000       14.250",
      "  db             1.000       10.250  users by id",
      "    parse        1.125        0.125",
      "  cache miss    11.250            -  (event) key users:7",
      "  render        11.250        2.500",
      "flush           14.250        0.000  (running)",
    ].join("\n"),
  );
});

Deno.test("the Server-Timing value lists every entry with dur and quoted desc", async () => {
  const { clock, timing } = timed();
  const request = timing.start("request");
  await clock.advance(2);
  timing.record("db", 12.3456, { desc: "primary" });
  timing.mark("miss");
  await clock.advance(1 / 3);
  request.stop();

  const value = timing.serverTiming();
  assert.equal(value, 'request;dur=2.333, db;dur=12.346;desc="primary", miss');
  assert.match(value, SERVER_TIMING);
  assert.equal(
    new Headers({ "Server-Timing": value }).get("server-timing"),
    value,
  );
});

Deno.test("Server-Timing turns names into tokens and escapes descriptions", async () => {
  const { clock, timing } = timed();
  timing.record("db query", 1, { desc: 'say "hi" \\ there' });
  await clock.advance(2);
  timing.record("ünïcode/name", 1, { desc: "tab\there, line\nbreak, ✓" });
  await clock.advance(2);
  timing.record("ok!#$%&'*+-.^_`|~9", 1);

  const value = timing.serverTiming();
  assert.equal(
    value,
    [
      'db_query;dur=1;desc="say \\"hi\\" \\\\ there"',
      '_n_code_name;dur=1;desc="tab\there, line?break, ?"',
      "ok!#$%&'*+-.^_`|~9;dur=1",
    ].join(", "),
  );
  assert.match(value, SERVER_TIMING);
  assert.doesNotThrow(() => new Headers({ "Server-Timing": value }));
});

Deno.test("an empty timing gives an empty header value and a header-only report", () => {
  const { timing } = timed();

  assert.equal(timing.serverTiming(), "");
  assert.equal(timing.report(), "name  start ms  duration ms  description");
  assert.deepEqual(timing.entries(), []);
});

Deno.test("using stops an interval at the end of its scope, even on throw", async () => {
  const { clock, timing } = timed();
  assert.throws(() => {
    using _ = timing.start("work");
    throw new Error("failed");
  });
  await clock.advance(5);

  const [entry] = timing.entries();
  assert.equal(entry.running, false);
  assert.equal(entry.durationMs, 0);
});

Deno.test("an interval nests in the innermost running one, out-of-order stops included", async () => {
  const { clock, timing } = timed();
  const outer = timing.start("outer");
  const first = timing.start("first");
  const inner = timing.start("inner");
  first.stop();
  const second = timing.start("second");
  inner.stop();
  second.stop();
  outer.stop();
  timing.start("after").stop();
  await clock.advance(1);

  assert.deepEqual(
    timing.entries().map((entry) => `${"  ".repeat(entry.depth)}${entry.name}`),
    ["outer", "  first", "    inner", "      second", "after"],
  );
});

Deno.test("children started from a parent nest under it whatever else runs", async () => {
  const { clock, timing } = timed();
  const a = timing.start("a");
  const b = timing.start("b");
  const underA = a.start("under a");
  await clock.advance(1);
  underA.stop();
  b.stop();
  a.stop();

  assert.deepEqual(
    timing.entries().map((entry) => [entry.name, entry.depth]),
    [["a", 0], ["b", 1], ["under a", 1]],
  );
});

Deno.test("stop returns the duration, and the same one when called again", async () => {
  const { clock, timing } = timed();
  const interval = timing.start("once");
  await clock.advance(7);
  assert.equal(interval.running, true);
  assert.equal(interval.stop(), 7);
  await clock.advance(3);

  assert.equal(interval.stop(), 7);
  assert.equal(interval.running, false);
  interval[Symbol.dispose]();
  assert.equal(timing.entries()[0].durationMs, 7);
});

Deno.test("time stops its interval when fn returns, throws, resolves or rejects", async () => {
  const { clock, timing } = timed();
  assert.equal(timing.time("sync", () => 1), 1);
  assert.throws(() =>
    timing.time("throws", () => {
      throw new Error("sync failure");
    }), { message: "sync failure" });

  const resolving = timing.time("resolves", async () => {
    await clock.advance(4);
    return "value";
  });
  assert.equal(await resolving, "value");
  const rejecting = timing.time("rejects", async (interval) => {
    interval.start("child").stop();
    await clock.advance(2);
    throw new Error("async failure");
  });
  await assert.rejects(rejecting, { message: "async failure" });

  assert.deepEqual(
    timing.entries().map((
      entry,
    ) => [entry.name, entry.durationMs, entry.running]),
    [
      ["sync", 0, false],
      ["throws", 0, false],
      ["resolves", 4, false],
      ["rejects", 2, false],
      ["child", 0, false],
    ],
  );
});

Deno.test("entries are relative to when the timing was made", async () => {
  const { clock, timing } = timed(50_000);
  await clock.advance(3);
  timing.mark("late");

  assert.deepEqual(timing.entries(), [{
    name: "late",
    kind: "event",
    startMs: 3,
    durationMs: 0,
    running: false,
    depth: 0,
    desc: undefined,
  }]);
  assert.equal(timing.elapsedMs(), 3);
});

Deno.test("record rejects negative, NaN and infinite durations", () => {
  const { timing } = timed();
  for (const durationMs of [-1, -0.5, NaN, Infinity, -Infinity]) {
    assert.throws(() => timing.record("bad", durationMs), {
      name: "RangeError",
      message:
        `Timing.record: durationMs must be a finite number >= 0, got ${durationMs}`,
    });
  }

  assert.deepEqual(timing.entries(), []);
});

Deno.test("empty and non-string names and non-string descriptions are rejected", () => {
  const { timing } = timed();
  const cases: [() => unknown, string][] = [
    [() => timing.mark(""), 'Timing: name must be a non-empty string, got ""'],
    [
      () => timing.start(undefined as unknown as string),
      "Timing: name must be a non-empty string, got undefined",
    ],
    [
      () => timing.record(5 as unknown as string, 1),
      "Timing: name must be a non-empty string, got number",
    ],
    [
      () => timing.mark("x", { desc: 5 as unknown as string }),
      "Timing: desc must be a string, got number",
    ],
  ];
  for (const [call, message] of cases) {
    assert.throws(call, { name: "TypeError", message });
  }

  assert.deepEqual(timing.entries(), []);
});

Deno.test("maxEntries keeps the first entries and counts the rest", async () => {
  const clock = new ManualClock();
  const timing = new Timing({ clock, maxEntries: 2 });
  timing.mark("one");
  await clock.advance(1);
  timing.record("two", 1);
  timing.mark("three");
  const dropped = timing.start("four");
  await clock.advance(5);

  assert.equal(dropped.stop(), 5);
  assert.equal(timing.dropped, 2);
  assert.equal(timing.serverTiming(), "one, two;dur=1");
  assert.match(timing.report(), /\(2 more entries not kept\)$/);
});

Deno.test("bad maxEntries are rejected", () => {
  for (const maxEntries of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => new Timing({ maxEntries }), {
      name: "RangeError",
      message:
        `Timing: maxEntries must be a positive integer, got ${maxEntries}`,
    });
  }
});

Deno.test("User Timing marks and measures are written only when asked", () => {
  const name = `dyno-timing-test-${crypto.randomUUID()}`;
  try {
    const quiet = new Timing();
    quiet.mark(name);
    quiet.start(name).stop();
    assert.equal(performance.getEntriesByName(name).length, 0);

    const loud = new Timing({ userTiming: true });
    loud.mark(name, { desc: "an instant" });
    loud.start(name).stop();
    loud.record(name, 1);
    const kinds = performance.getEntriesByName(name).map((entry) =>
      entry.entryType
    );
    assert.deepEqual(kinds.sort(), ["mark", "measure", "measure"]);
  } finally {
    performance.clearMarks(name);
    performance.clearMeasures(name);
  }
});

Deno.test("a User Timing failure does not break the timing", () => {
  const clock = new ManualClock(-100);
  const timing = new Timing({ clock, userTiming: true });
  timing.mark("before-origin");
  timing.start("negative").stop();

  assert.equal(timing.entries().length, 2);
});

Deno.test("a timing sets no timer", async () => {
  const { clock, timing } = timed();
  await timing.time("work", () => clock.advance(1));
  timing.report();
  timing.serverTiming();

  assert.equal(clock.pendingTimers, 0);
});
