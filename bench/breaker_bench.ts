/**
 * The closed breaker's success path against a raw async call and its peers:
 * cockatiel 4 (with a SamplingBreaker, its failure-rate breaker and the
 * closest to dyno's, and with a ConsecutiveBreaker) and opossum 10 (with its
 * per-call timeout turned off, as dyno's breaker has none).
 */

import { Breaker } from "../lib/breaker.ts";
import {
  circuitBreaker,
  ConsecutiveBreaker,
  handleAll,
  SamplingBreaker,
} from "npm:cockatiel@4";
import CircuitBreaker from "npm:opossum@10";

// The baseline every dyno benchmark shares: a raw async call.
// deno-lint-ignore require-await
const operation = async () => 1;

const dyno = new Breaker({ name: "bench" });
const cockatielSampling = circuitBreaker(handleAll, {
  halfOpenAfter: 5_000,
  breaker: new SamplingBreaker({ threshold: 0.5, duration: 10_000 }),
});
const cockatielConsecutive = circuitBreaker(handleAll, {
  halfOpenAfter: 5_000,
  breaker: new ConsecutiveBreaker(5),
});
const opossum = new CircuitBreaker(operation, { timeout: false });

// opossum rotates its rolling statistics on an interval; stop it so that no
// timer outlives the benchmarks.
globalThis.addEventListener("unload", () => opossum.shutdown());

Deno.bench({
  name: "raw async call",
  group: "breaker",
  baseline: true,
  async fn() {
    await operation();
  },
});

Deno.bench({
  name: "dyno breaker (closed)",
  group: "breaker",
  async fn() {
    await dyno.execute(operation);
  },
});

Deno.bench({
  name: "cockatiel circuitBreaker (SamplingBreaker)",
  group: "breaker",
  async fn() {
    await cockatielSampling.execute(operation);
  },
});

Deno.bench({
  name: "cockatiel circuitBreaker (ConsecutiveBreaker)",
  group: "breaker",
  async fn() {
    await cockatielConsecutive.execute(operation);
  },
});

Deno.bench({
  name: "opossum (timeout: false)",
  group: "breaker",
  async fn() {
    await opossum.fire();
  },
});
