import assert from "node:assert/strict";
import parse from "npm:parse-prometheus-text-format@1.1.1";
import { dashboard, prometheusText } from "../lib/dashboard.ts";
import { Metrics } from "../lib/metrics.ts";
import { ManualClock } from "../lib/testing.ts";
import { counts, snapshot } from "./_snapshots.ts";

const busy = snapshot({
  name: "users",
  group: "api",
  rolling: counts({ successes: 5, failures: 1 }),
  cumulative: counts({
    successes: 120,
    failures: 7,
    timeouts: 3,
    shortCircuited: 11,
    rejected: 2,
    fallbackSuccesses: 9,
    fallbackFailures: 1,
    retries: 4,
  }),
  requests: 6,
  errorPercentage: 16.5,
  inFlight: 2,
  inFlightMax: 5,
  queued: 1,
  latency: {
    count: 6,
    meanMs: 12.5,
    p50Ms: 10,
    p90Ms: 20.25,
    p99Ms: 30,
    p999Ms: 31,
    maxMs: 32,
  },
  circuit: "half-open",
});

interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }[];
}

function parsed(text: string): Map<string, ParsedFamily> {
  const families = parse(text) as ParsedFamily[];

  return new Map(families.map((family) => [family.name, family]));
}

function value(
  family: ParsedFamily | undefined,
  labels: Record<string, string>,
): string | undefined {
  const metric = family?.metrics.find((candidate) =>
    Object.entries(labels).every(([name, wanted]) =>
      candidate.labels?.[name] === wanted
    )
  );

  return metric?.value;
}

/** Checks each line against the text format 0.0.4 grammar, strictly. */
function assertWellFormed(text: string): void {
  const name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const labelValue = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
  const label = `[a-zA-Z_][a-zA-Z0-9_]*=${labelValue}`;
  const number = "(?:NaN|[+-]Inf|-?\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?)";
  const sample = new RegExp(
    `^(${name})(?:\\{${label}(?:,${label})*\\})? ${number}$`,
  );
  const help = new RegExp(`^# HELP (${name}) (?:[^\\\\\\n]|\\\\[\\\\n])*$`);
  const type = new RegExp(
    `^# TYPE (${name}) (counter|gauge|summary|histogram|untyped)$`,
  );

  assert.ok(text.endsWith("\n"), "the exposition ends with a newline");
  const typed = new Map<string, string>();
  const finished = new Set<string>();
  let current = "";
  for (const line of text.slice(0, -1).split("\n")) {
    const helpMatch = help.exec(line);
    const typeMatch = type.exec(line);
    const sampleMatch = sample.exec(line);
    assert.ok(helpMatch || typeMatch || sampleMatch, `malformed line: ${line}`);

    const family = helpMatch?.[1] ?? typeMatch?.[1] ??
      familyOf(sampleMatch![1], typed);
    if (family !== current) {
      assert.ok(!finished.has(family), `family ${family} is split`);
      if (current) finished.add(current);
      current = family;
    }
    if (typeMatch) typed.set(family, typeMatch[2]);
    if (sampleMatch) assert.ok(typed.has(family), `${family} has no TYPE`);
  }
}

function familyOf(sampleName: string, typed: Map<string, string>): string {
  const base = sampleName.replace(/_(sum|count)$/, "");

  return typed.get(base) === "summary" ? base : sampleName;
}

Deno.test("prometheusText() parses with a Prometheus text parser, one family per metric", () => {
  const text = prometheusText([busy, snapshot({ name: "orders" })]);
  const families = parsed(text);

  assert.deepEqual([...families.keys()], [
    "dyno_requests_total",
    "dyno_fallbacks_total",
    "dyno_retries_total",
    "dyno_in_flight",
    "dyno_in_flight_max",
    "dyno_queued",
    "dyno_error_ratio",
    "dyno_circuit_state",
    "dyno_latency_ms",
  ]);
  assert.equal(families.get("dyno_requests_total")!.type, "COUNTER");
  assert.equal(families.get("dyno_in_flight")!.type, "GAUGE");
  assert.equal(families.get("dyno_latency_ms")!.type, "SUMMARY");
  for (const family of families.values()) {
    assert.ok(family.help.length > 0, `${family.name} has HELP`);
  }
  assertWellFormed(text);
});

Deno.test("prometheusText() takes counters from the cumulative totals", () => {
  const families = parsed(prometheusText([busy]));
  const requests = families.get("dyno_requests_total");
  const service = { service: "users", group: "api" };

  assert.equal(value(requests, { ...service, outcome: "success" }), "120");
  assert.equal(value(requests, { ...service, outcome: "failure" }), "7");
  assert.equal(value(requests, { ...service, outcome: "timeout" }), "3");
  assert.equal(
    value(requests, { ...service, outcome: "short_circuited" }),
    "11",
  );
  assert.equal(value(requests, { ...service, outcome: "rejected" }), "2");
  const fallbacks = families.get("dyno_fallbacks_total");
  assert.equal(value(fallbacks, { outcome: "success" }), "9");
  assert.equal(value(fallbacks, { outcome: "failure" }), "1");
  assert.equal(value(families.get("dyno_retries_total"), service), "4");
});

Deno.test("prometheusText() reports gauges for now and the rolling window", () => {
  const families = parsed(prometheusText([busy]));

  assert.equal(value(families.get("dyno_in_flight"), {}), "2");
  assert.equal(value(families.get("dyno_in_flight_max"), {}), "5");
  assert.equal(value(families.get("dyno_queued"), {}), "1");
  assert.equal(value(families.get("dyno_error_ratio"), {}), "0.165");
});

Deno.test("prometheusText() marks the circuit's state with 1 and the others with 0", () => {
  const family = parsed(prometheusText([busy])).get("dyno_circuit_state")!;
  const states = Object.fromEntries(
    family.metrics.map((metric) => [metric.labels!.state, metric.value]),
  );

  assert.deepEqual(states, {
    "closed": "0",
    "open": "0",
    "half-open": "1",
    "forced-open": "0",
    "forced-closed": "0",
    "disabled": "0",
  });
});

Deno.test("prometheusText() leaves out the circuit state of services without a breaker", () => {
  const text = prometheusText([snapshot({ circuit: undefined })]);

  assert.equal(text.includes("dyno_circuit_state"), false);
  assertWellFormed(text);
});

Deno.test("prometheusText() summarises latency with quantile labels, _sum and _count", () => {
  const text = prometheusText([busy]);
  const family = parsed(text).get("dyno_latency_ms")!;

  assert.deepEqual(family.metrics[0].quantiles, {
    "0.5": "10",
    "0.9": "20.25",
    "0.99": "30",
    "0.999": "31",
    "1": "32",
  });
  assert.match(
    text,
    /^dyno_latency_ms_sum\{service="users",group="api"\} 75$/m,
  );
  assert.match(
    text,
    /^dyno_latency_ms_count\{service="users",group="api"\} 6$/m,
  );
});

Deno.test("prometheusText() reports NaN quantiles when nothing was measured", () => {
  const text = prometheusText([snapshot()]);

  assert.match(
    text,
    /^dyno_latency_ms\{service="users",group="api",quantile="0.99"\} NaN$/m,
  );
  assert.match(
    text,
    /^dyno_latency_ms_count\{service="users",group="api"\} 0$/m,
  );
  assertWellFormed(text);
});

Deno.test("prometheusText() escapes backslashes, quotes and newlines in label values", () => {
  const name = 'say "hi"\\now\nplease';
  const text = prometheusText([snapshot({ name, group: "a\\b" })]);
  const family = parsed(text).get("dyno_in_flight")!;

  assert.ok(text.includes('service="say \\"hi\\"\\\\now\\nplease"'));
  assert.deepEqual(family.metrics[0].labels, { service: name, group: "a\\b" });
  assertWellFormed(text);
});

Deno.test("prometheusText() writes non-finite values as Prometheus spells them", () => {
  const text = prometheusText([
    snapshot({ inFlight: Infinity, queued: -Infinity, inFlightMax: NaN }),
  ]);

  assert.match(text, /^dyno_in_flight\{[^}]*\} \+Inf$/m);
  assert.match(text, /^dyno_queued\{[^}]*\} -Inf$/m);
  assert.match(text, /^dyno_in_flight_max\{[^}]*\} NaN$/m);
  assertWellFormed(text);
});

Deno.test("prometheusText() keeps each family's samples together across services", () => {
  const services = ["a", "b", "c"].map((name) =>
    snapshot({ name, circuit: "closed" })
  );
  const text = prometheusText(services);

  assertWellFormed(text);
  const inFlight = parsed(text).get("dyno_in_flight")!;
  assert.deepEqual(
    inFlight.metrics.map((metric) => metric.labels!.service),
    ["a", "b", "c"],
  );
});

Deno.test("prometheusText() is empty without snapshots", () => {
  assert.equal(prometheusText([]), "");
});

Deno.test("GET /metrics serves the exposition with its content type", async () => {
  const handler = dashboard({ snapshot: () => [busy] });
  const response = handler(new Request("http://localhost/metrics"));

  assert.equal(response.status, 200);
  assert.equal(
    response.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  const text = await response.text();
  assert.equal(text, prometheusText([busy]));
  assertWellFormed(text);
});

Deno.test("the latency summary's _sum and _count count since start, not the rolling window", async () => {
  const clock = new ManualClock();
  const metrics = new Metrics({
    name: "api",
    clock,
    maxRecordsPerClockRead: 1,
  });
  metrics.recordSuccess(10);
  metrics.recordSuccess(20);
  await clock.advance(120_000);

  const text = prometheusText([metrics.snapshot()]);
  assert.match(text, /^dyno_latency_ms_count\{service="api",group="api"\} 2$/m);
  assert.match(text, /^dyno_latency_ms_sum\{service="api",group="api"\} 30$/m);
});
