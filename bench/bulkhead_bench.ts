import { Bulkhead } from "../lib/bulkhead.ts";
import { bulkhead as cockatielBulkhead } from "npm:cockatiel@4";

const work = async () => 1;

const dyno = new Bulkhead({ maxConcurrent: 64, maxQueued: 64 });
const cockatiel = cockatielBulkhead(64, 64);

Deno.bench({
  name: "raw async call",
  group: "bulkhead",
  baseline: true,
  async fn() {
    await work();
  },
});

Deno.bench({
  name: "dyno bulkhead (free permits)",
  group: "bulkhead",
  async fn() {
    await dyno.execute(work);
  },
});

Deno.bench({
  name: "cockatiel bulkhead",
  group: "bulkhead",
  async fn() {
    await cockatiel.execute(work);
  },
});
