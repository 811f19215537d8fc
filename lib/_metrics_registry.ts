/**
 * The registry that exporters read `Metrics` from.
 *
 * @module
 */

import type { Metrics, MetricsSnapshot } from "./metrics.ts";

/**
 * Emitted by {@linkcode MetricsRegistry} as `"register"` and
 * `"unregister"` events; `detail` is the metrics concerned.
 */
export type MetricsRegistryEvent = CustomEvent<Metrics>;

/**
 * A set of {@linkcode Metrics} by name, which exporters read. An instance,
 * not a global: make one per application (or per test). It is an
 * `EventTarget` that dispatches `"register"` and `"unregister"` events.
 *
 * @example Registering and reading
 * ```ts
 * import { Metrics, MetricsRegistry } from "@dyno/dyno/metrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * new Metrics({ name: "users", registry });
 * registry.register(new Metrics({ name: "orders" }));
 *
 * assert.deepEqual(registry.list().map((metrics) => metrics.name), ["users", "orders"]);
 * assert.equal(registry.get("users")?.name, "users");
 * assert.equal(registry.snapshot().length, 2);
 * ```
 */
export class MetricsRegistry extends EventTarget {
  #byName = new Map<string, Metrics>();

  /**
   * Adds `metrics` and returns it. Registering the same instance twice is a
   * no-op.
   *
   * @throws {TypeError} If `metrics` is not a `Metrics`.
   * @throws {RangeError} If other metrics already have its name.
   */
  register(metrics: Metrics): Metrics {
    if (!isMetrics(metrics)) {
      throw new TypeError(
        `MetricsRegistry.register: expected a Metrics, got ${
          typeName(metrics)
        }`,
      );
    }
    const existing = this.#byName.get(metrics.name);
    if (existing === metrics) return metrics;
    if (existing) {
      throw new RangeError(
        `MetricsRegistry.register: metrics named "${metrics.name}" are ` +
          "already registered; give each service its own name, or " +
          `unregister("${metrics.name}") first to replace them`,
      );
    }

    this.#byName.set(metrics.name, metrics);
    this.dispatchEvent(new CustomEvent("register", { detail: metrics }));
    return metrics;
  }

  /** Removes the metrics named `name`; returns whether there were any. */
  unregister(name: string): boolean {
    const metrics = this.#byName.get(name);
    if (!metrics) return false;

    this.#byName.delete(name);
    this.dispatchEvent(new CustomEvent("unregister", { detail: metrics }));
    return true;
  }

  /** The metrics named `name`, if registered. */
  get(name: string): Metrics | undefined {
    return this.#byName.get(name);
  }

  /** Every registered metrics, in registration order. */
  list(): Metrics[] {
    return [...this.#byName.values()];
  }

  /** A snapshot of every registered metrics, in registration order. */
  snapshot(): MetricsSnapshot[] {
    return this.list().map((metrics) => metrics.snapshot());
  }
}

function isMetrics(value: unknown): value is Metrics {
  return typeof value === "object" && value !== null &&
    typeof (value as Partial<Metrics>).name === "string" &&
    typeof (value as Partial<Metrics>).snapshot === "function";
}

function typeName(value: unknown): string {
  return value === null ? "null" : typeof value;
}
