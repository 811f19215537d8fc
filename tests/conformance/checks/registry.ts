/**
 * Checks of `registry`: keys, leases, swaps with disposal, children.
 *
 * @module
 */

import {
  inject,
  key,
  MissingServiceError,
  Registry,
  type RegistryEvent,
} from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  checkJson,
  rejection,
  thrown,
} from "./_check.ts";

class Pool {
  closed = false;

  constructor(readonly host: string) {}

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.resolve();
    this.closed = true;
  }
}

interface Config {
  region: string;
}

const CONFIG = key<Config>("config");
const DB = key<Pool>("db");

export const registryChecks: Check[] = [
  [
    "registry: register, resolve, resolveSync and MissingServiceError",
    async () => {
      const registry = new Registry()
        .register(CONFIG, { value: { region: "eu-west-1" } })
        .register("clock", () => ({ now: () => 42 }));

      const config = await registry.resolve(CONFIG);
      const clock = registry.resolveSync<{ now(): number }>("clock");
      const missing = await rejection(registry.resolve("confg"));
      const missingSync = thrown(() => registry.resolveSync("confg"));

      checkEqual(config.region, "eu-west-1", "resolved value");
      checkEqual(clock.now(), 42, "resolveSync()");
      checkEqual(registry.has(CONFIG), true, "has()");
      checkJson(registry.keys(), ["clock", "config"], "keys()");
      check(
        missing instanceof MissingServiceError,
        "not a MissingServiceError",
      );
      checkEqual(missing.key, "confg", "missing key");
      checkJson(missing.available, ["clock", "config"], "available");
      check(missingSync instanceof MissingServiceError, "resolveSync() threw");
    },
  ],
  [
    "registry: a swap disposes the old service once its last lease is released",
    async () => {
      const registry = new Registry().register(DB, () => new Pool("old"));
      const events: string[] = [];
      const note = (event: RegistryEvent) =>
        events.push(`${event.type} ${event.key}`);
      registry.addEventListener("replaced", note);
      registry.addEventListener("removed", note);

      const lease = await registry.acquire(DB);
      registry.register(DB, () => new Pool("new"));
      const current = await registry.resolve(DB);
      const closedWhileLeased = lease.value.closed;
      await lease.release();
      await lease.release();
      const host = await registry.use(DB, (pool) => pool.host);
      const again = await registry.acquire(DB);
      await again[Symbol.asyncDispose]();
      const closedAfterRelease = current.closed;
      await registry[Symbol.asyncDispose]();

      checkEqual(lease.value.host, "old", "leased service");
      checkEqual(current.host, "new", "service after the swap");
      checkEqual(closedWhileLeased, false, "old closed while leased");
      checkEqual(lease.value.closed, true, "old closed after release");
      checkEqual(host, "new", "use()");
      checkEqual(closedAfterRelease, false, "current closed by a release");
      checkEqual(current.closed, true, "current closed with the registry");
      checkJson(events, ["replaced db", "removed db"], "events");
      checkJson(registry.keys(), [], "keys after dispose");
    },
  ],
  [
    "registry: a call-lifetime service is new per lease and disposed on release",
    async () => {
      let made = 0;
      const registry = new Registry().register("session", {
        provide: () => new Pool(`session ${++made}`),
        lifetime: "call",
      });

      const first = await registry.acquire<Pool>("session");
      const second = await registry.acquire<Pool>("session");
      await first.release();

      checkEqual(first.value.host, "session 1", "first");
      checkEqual(second.value.host, "session 2", "second");
      checkEqual(first.value.closed, true, "first closed on release");
      checkEqual(second.value.closed, false, "second still open");
      await second.release();
    },
  ],
  ["registry: a child inherits and overrides its parent", async () => {
    const root = Registry.from({
      region: { value: "eu" },
      greeting: { value: "hello" },
    });
    const tenant = root.child().register("greeting", { value: "bonjour" });

    const tenantGreeting = await tenant.resolve("greeting");
    const tenantRegion = await tenant.resolve("region");
    const rootGreeting = await root.resolve("greeting");
    const removed = tenant.remove("greeting");

    checkEqual(tenant.parent, root, "parent");
    checkEqual(tenantGreeting, "bonjour", "child's own service");
    checkEqual(tenantRegion, "eu", "inherited service");
    checkEqual(rootGreeting, "hello", "parent's service");
    checkEqual(removed, true, "remove()");
    checkEqual(await tenant.resolve("greeting"), "hello", "after remove");
  }],
  ["registry: provider() lends a service to inject for each call", async () => {
    const registry = new Registry().register(DB, () => new Pool("primary"));
    const query = inject(
      { db: registry.provider(DB) },
      ({ db }, sql: string) => `${db.host}: ${sql}`,
    );

    const first = await query("select 1");
    const old = await registry.resolve(DB);
    registry.register(DB, () => new Pool("replica"));
    const second = await query("select 2");

    checkEqual(first, "primary: select 1", "first call");
    checkEqual(second, "replica: select 2", "call after the swap");
    checkEqual(old.closed, true, "old service disposed after the swap");
  }],
];
