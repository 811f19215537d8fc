import { filter } from "../lib/filter.ts";

// deno-lint-ignore require-await
const add = async (a: number, b: number) => a + b;
const addSync = (a: number, b: number) => a + b;

const empty = filter(add, {});
const oneBefore = filter(add, { before: [(args) => args] });
const oneAfter = filter(add, { after: [(result) => result] });
const oneAround = filter(add, { around: [(args, next) => next(args)] });
const all = filter(add, {
  around: [(args, next) => next(args), (args, next) => next(args)],
  before: [(args) => args, (args) => args],
  after: [(result) => result, (result) => result],
});
const asyncFilters = filter(add, {
  before: [async (args) => await args],
  after: [async (result) => await result],
});
const syncAll = filter(addSync, {
  around: [(args, next) => next(args)],
  before: [(args) => args],
  after: [(result) => result],
});

Deno.bench("raw async call", { group: "filter", baseline: true }, async () => {
  await add(1, 2);
});
Deno.bench("dyno filter, no filters", { group: "filter" }, async () => {
  await empty(1, 2);
});
Deno.bench("dyno filter, one before", { group: "filter" }, async () => {
  await oneBefore(1, 2);
});
Deno.bench("dyno filter, one after", { group: "filter" }, async () => {
  await oneAfter(1, 2);
});
Deno.bench("dyno filter, one around", { group: "filter" }, async () => {
  await oneAround(1, 2);
});
Deno.bench(
  "dyno filter, 2 around + 2 before + 2 after",
  { group: "filter" },
  async () => {
    await all(1, 2);
  },
);
Deno.bench(
  "dyno filter, async before + async after",
  { group: "filter" },
  async () => {
    await asyncFilters(1, 2);
  },
);

Deno.bench("raw sync call", { group: "filter sync", baseline: true }, () => {
  addSync(1, 2);
});
Deno.bench("dyno filter sync, around + before + after", {
  group: "filter sync",
}, () => {
  syncAll(1, 2);
});
