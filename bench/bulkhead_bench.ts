import { Bulkhead } from "../lib/bulkhead.ts";
import { bulkhead as cockatielBulkhead } from "npm:cockatiel@4";

// deno-lint-ignore require-await
const work = async () => 1;
const dynoBulkhead = new Bulkhead({ maxConcurrent: 64, maxQueued: 64 });
const dynoWrapped = dynoBulkhead.wrap(work);
const cockatiel = cockatielBulkhead(64, 64);

Deno.bench({
  name: "raw async call",
  group: "bulkhead",
  baseline: true,
}, async () => {
  await work();
});

Deno.bench("dyno bulkhead (free permits)", { group: "bulkhead" }, async () => {
  await dynoBulkhead.execute(work);
});

Deno.bench("dyno bulkhead.wrap (free permits)", {
  group: "bulkhead",
}, async () => {
  await dynoWrapped();
});

Deno.bench("cockatiel bulkhead", { group: "bulkhead" }, async () => {
  await cockatiel.execute(work);
});
