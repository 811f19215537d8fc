import assert from "node:assert/strict";
import { type DemoSummary, parseArgs, runDemo } from "../examples/demo/main.ts";

Deno.test("the demo in 8 seconds", async (t) => {
  const lines: string[] = [];
  const summary = await runDemo({
    durationSeconds: 8,
    print: (line) => lines.push(line),
  });

  await t.step("shows the breaker, the cache and the pool at work", () => {
    showsTheLayersAtWork(summary, lines);
  });

  await t.step("counts each request and attempt in one phase", () => {
    countsAddUp(summary);
  });
});

function showsTheLayersAtWork(summary: DemoSummary, lines: string[]): void {
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
}

/**
 * Requests count in the phase in which the client sent them, upstream calls
 * (and their 503s) in the phase in which the upstream received them, so per
 * phase the counts add up exactly. Before upstream calls and their 503s were
 * counted in the same phase, a call that arrived at the end of the flaky
 * phase and failed a few milliseconds into the outage made the outage's 503s
 * exceed its upstream calls.
 */
function countsAddUp(summary: DemoSummary): void {
  for (const phase of summary.phases) {
    const { name, quotes, catalog } = phase;
    const answered = phase.ok + phase.failed;
    assert.equal(
      phase.requests,
      answered + phase.unanswered,
      `${name}: requests = ok + failed + unanswered`,
    );
    assert.equal(
      quotes.live + quotes.fallback + catalog.hit + catalog.stale +
        catalog.miss + catalog.unavailable,
      answered,
      `${name}: the answers by kind add up to the responses`,
    );

    const upstream =
      `${name}: ${phase.upstreamFailures} 503s of ${phase.upstreamCalls} upstream calls`;
    if (name === "flaky") {
      assert.ok(phase.upstreamFailures <= phase.upstreamCalls, upstream);
    } else {
      const all = name === "down" ? phase.upstreamCalls : 0;
      assert.equal(phase.upstreamFailures, all, upstream);
    }
  }
}

Deno.test("a demo stopped early skips the checks of unfinished phases", async () => {
  const stop = new AbortController();
  const lines: string[] = [];
  const timer = setTimeout(() => stop.abort(), 1_000);

  const summary = await runDemo({
    durationSeconds: 8,
    print: (line) => lines.push(line),
    signal: stop.signal,
  }).finally(() => clearTimeout(timer));

  const skipped = summary.checks.filter((check) => check.skipped);
  assert.ok(summary.ranSeconds < 8);
  assert.equal(skipped.length, 4, "every check that needs a later phase");
  assert.ok(summary.checks.every((check) => check.ok));
  assert.ok(
    lines.some((line) =>
      line.startsWith("- not checked, the run stopped before the down phase")
    ),
  );
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
