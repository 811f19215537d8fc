import { Service } from "../lib/service.ts";
import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
} from "npm:cockatiel@4";

// deno-lint-ignore require-await
const work = async () => 1;

const dyno = new Service<number>({
  name: "bench",
  bulkhead: { maxConcurrent: 100, maxQueued: 100 },
  timeoutMs: 1_000,
  retry: { attempts: 3 },
  breaker: {},
});
const dynoNoMetrics = new Service<number>({
  name: "bench",
  bulkhead: { maxConcurrent: 100, maxQueued: 100 },
  timeoutMs: 1_000,
  retry: { attempts: 3 },
  breaker: {},
  metrics: false,
});
const cockatiel = wrap(
  bulkhead(100, 100),
  timeout(1_000, TimeoutStrategy.Aggressive),
  retry(handleAll, { maxAttempts: 2 }),
  circuitBreaker(handleAll, {
    halfOpenAfter: 5_000,
    breaker: new ConsecutiveBreaker(5),
  }),
);

Deno.bench({
  name: "raw async call",
  group: "service",
  baseline: true,
}, async () => {
  await work();
});

Deno.bench("dyno service (bulkhead, timeout, retry, breaker, metrics)", {
  group: "service",
}, async () => {
  await dyno.execute(work);
});

Deno.bench("dyno service without metrics", { group: "service" }, async () => {
  await dynoNoMetrics.execute(work);
});

Deno.bench("cockatiel wrap(bulkhead, timeout, retry, circuitBreaker)", {
  group: "service",
}, async () => {
  await cockatiel.execute(work);
});
