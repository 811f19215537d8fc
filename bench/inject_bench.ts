import { inject } from "/work/main/lib/inject.ts";
import { Registry } from "/work/main/lib/registry.ts";

// deno-lint-ignore require-await
const raw = async () => 1;

const registry = new Registry().register("db", () => ({ q: 1 }));
await registry.resolve("db");
const none = inject({}, (_d, n: number) => n);
const oneCall = inject({ a: () => 1 }, ({ a }, n: number) => a + n);
const oneShared = inject(
  { a: { provide: () => 1, lifetime: "shared" } },
  ({ a }, n: number) => a + n,
);
await oneShared(1);
const threeCall = inject({
  a: () => 1,
  b: () => 2,
  c: () => Promise.resolve(3),
}, ({ a, b, c }, n: number) => a + b + c + n);
const leased = inject(
  { db: registry.provider<{ q: number }>("db") },
  ({ db }, n: number) => db.q + n,
);
const disposable = inject(
  { r: () => ({ [Symbol.dispose]() {} }) },
  (_d, n: number) => n,
);

Deno.bench({
  name: "raw async call",
  group: "inject",
  baseline: true,
  fn: async () => {
    await raw();
  },
});
Deno.bench({
  name: "dyno inject, no dependencies",
  group: "inject",
  fn: async () => {
    await none(1);
  },
});
Deno.bench({
  name: "dyno inject, 1 call dependency",
  group: "inject",
  fn: async () => {
    await oneCall(1);
  },
});
Deno.bench({
  name: "dyno inject, 1 shared dependency (built)",
  group: "inject",
  fn: async () => {
    await oneShared(1);
  },
});
Deno.bench({
  name: "dyno inject, 3 call dependencies",
  group: "inject",
  fn: async () => {
    await threeCall(1);
  },
});
Deno.bench({
  name: "dyno inject, 1 disposable call dependency",
  group: "inject",
  fn: async () => {
    await disposable(1);
  },
});
Deno.bench({
  name: "dyno inject, 1 registry lease",
  group: "inject",
  fn: async () => {
    await leased(1);
  },
});

Deno.bench({
  name: "raw async call",
  group: "registry",
  baseline: true,
  fn: async () => {
    await raw();
  },
});
Deno.bench({
  name: "dyno registry.resolve (shared, built)",
  group: "registry",
  fn: async () => {
    await registry.resolve("db");
  },
});
Deno.bench({
  name: "dyno registry.resolveSync (shared, built)",
  group: "registry",
  fn: () => {
    registry.resolveSync("db");
  },
});
Deno.bench({
  name: "dyno registry.acquire + release",
  group: "registry",
  fn: async () => {
    const l = await registry.acquire("db");
    await l.release();
  },
});
Deno.bench({
  name: "dyno registry.use",
  group: "registry",
  fn: async () => {
    await registry.use("db", (s) => s);
  },
});
