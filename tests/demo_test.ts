import assert from "node:assert/strict";
import { parseArgs, runDemo } from "../examples/demo/main.ts";

Deno.test("the demo shows the breaker, the cache and the pool at work in 8 seconds", async () => {
  const lines: string[] = [];
  const summary = await runDemo({
    durationSeconds: 8,
    print: (line) => lines.push(line),
  });

  const down = summary.phases.find((phase) => phase.name === "down")!;
  const quotes = summary.breakers.quotes;
  const opened = quotes.openedInOutageAtSeconds;
  const closed = quotes.closedAfterOutageAtSeconds;
  assert.ok(
    opened !== undefined,
    "the quotes breaker opened during the outage",
  );
  assert.ok(opened >= down.startSeconds && opened < down.endSeconds);
  assert.ok(closed !== undefined, "the quotes breaker closed after the outage");
  assert.ok(closed >= down.endSeconds);
  assert.ok(down.quotesBreakerStates.includes("open"));

  assert.ok(down.catalog.hit + down.catalog.stale > 0, "the cache served");
  for (const queue of Object.values(summary.queues)) {
    assert.ok(queue.max <= queue.bound, `${queue.max} <= ${queue.bound}`);
  }

  const { totals } = summary;
  assert.ok(totals.requests > 0);
  assert.ok(totals.upstreamCalls < totals.requests, "upstream calls saved");
  assert.equal(totals.withServerTiming, totals.responses);

  const text = lines.join("\n");
  assert.match(text, /http:\/\/127\.0\.0\.1:\d+\/dyno\//);
  assert.match(text, /✔ quotes breaker opened during the outage/);
  assert.match(text, /upstream calls saved: /);
});

Deno.test("runDemo() rejects a duration outside 5..3600 seconds", async () => {
  for (const durationSeconds of [0, 4.9, 3_601, Number.NaN]) {
    await assert.rejects(runDemo({ durationSeconds, print: () => {} }), {
      name: "RangeError",
      message:
        `runDemo: durationSeconds must be a number in 5..3600, got ${durationSeconds}`,
    });
  }
});

Deno.test("parseArgs() reads --duration in both spellings", () => {
  assert.deepEqual(parseArgs([]), { durationSeconds: 60 });
  assert.deepEqual(parseArgs(["--duration", "20"]), { durationSeconds: 20 });
  assert.deepEqual(parseArgs(["--duration=7.5"]), { durationSeconds: 7.5 });
  assert.throws(() => parseArgs(["--duration"]), {
    name: "TypeError",
    message: "--duration needs a number of seconds, got undefined",
  });
  assert.throws(() => parseArgs(["--duration", "soon"]), {
    name: "TypeError",
    message: '--duration needs a number of seconds, got "soon"',
  });
  assert.throws(() => parseArgs(["--fast"]), {
    name: "TypeError",
    message: 'unknown argument "--fast"',
  });
});
