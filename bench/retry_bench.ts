import { Retry } from "../lib/retry.ts";
import pRetry from "npm:p-retry@9";
import { handleAll, retry as cockatielRetry } from "npm:cockatiel@4";

// deno-lint-ignore require-await
const work = async () => 1;
const dynoRetry = new Retry({ attempts: 3 });
const cockatiel = cockatielRetry(handleAll, { maxAttempts: 2 });

Deno.bench({
  name: "raw async call",
  group: "retry",
  baseline: true,
}, async () => {
  await work();
});

// The least any retry adds: one reaction to catch a rejection.
const rethrow = (error: unknown) => {
  throw error;
};
Deno.bench("one promise reaction (floor)", { group: "retry" }, async () => {
  await work().then(undefined, rethrow);
});

Deno.bench("dyno retry", { group: "retry" }, async () => {
  await dynoRetry.execute(work);
});

Deno.bench("cockatiel retry", { group: "retry" }, async () => {
  await cockatiel.execute(work);
});

Deno.bench("p-retry", { group: "retry" }, async () => {
  await pRetry(work, { retries: 2 });
});
