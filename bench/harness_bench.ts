import { Harness, harness } from "../lib/harness.ts";

// deno-lint-ignore require-await
const add = async (a: number, b: number) => a + b;
const addSync = (a: number, b: number) => a + b;
const failure = new Error("boom");
const fail = () => Promise.reject(failure);

const wrapped = harness(add);
const wrappedSync = harness(addSync);
const errors = new Harness({ ringSize: 20 });
const failing = errors.wrap(fail);
const failingRaw = fail;
const sampled = new Harness({ sampleRatio: 0.01 }).wrap(fail);

Deno.bench("raw async call", { group: "harness", baseline: true }, async () => {
  await add(1, 2);
});
Deno.bench("dyno harness, success", { group: "harness" }, async () => {
  await wrapped(1, 2);
});
Deno.bench("raw sync call", { group: "harness sync", baseline: true }, () => {
  addSync(1, 2);
});
Deno.bench("dyno harness sync, success", { group: "harness sync" }, () => {
  wrappedSync(1, 2);
});
Deno.bench(
  "raw rejected call",
  { group: "harness failure", baseline: true },
  async () => {
    await failingRaw().catch(() => {});
  },
);
Deno.bench(
  "dyno harness, rejection recorded",
  { group: "harness failure" },
  async () => {
    await failing().catch(() => {});
  },
);
Deno.bench("dyno harness, rejection sampled at 1%", {
  group: "harness failure",
}, async () => {
  await sampled().catch(() => {});
});
