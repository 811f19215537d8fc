/**
 * Typed listener sets for the breaker and the fuse: cheap to ask "does anyone
 * listen?", and a throwing listener never reaches the code that emitted.
 *
 * @module
 */

import { fail } from "./_breaker_options.ts";

/** A listener for one event type. */
export type Listener<E> = (event: E) => void;

/**
 * Listeners grouped by event type. `active` is a plain boolean so that hot
 * paths can skip building an event when nobody listens.
 */
export class Listeners<EventMap> {
  readonly #owner: string;
  #byType = new Map<keyof EventMap, Set<Listener<never>>>();
  #count = 0;

  /** `owner` names the class in error messages, e.g. `"Breaker"`. */
  constructor(owner: string) {
    this.#owner = owner;
  }

  /** Whether at least one listener of any type is registered. */
  get active(): boolean {
    return this.#count > 0;
  }

  /** Adds `listener` for `type`; the returned function removes it again. */
  on<K extends keyof EventMap>(
    type: K,
    listener: Listener<EventMap[K]>,
  ): () => void {
    if (typeof listener !== "function") {
      fail(
        "type",
        `${this.#owner}.on(${JSON.stringify(type)})`,
        "listener must be a function",
        listener,
      );
    }
    let set = this.#byType.get(type);
    if (set === undefined) this.#byType.set(type, set = new Set());
    if (!set.has(listener)) {
      set.add(listener);
      this.#count++;
    }

    return () => {
      if (set.delete(listener)) this.#count--;
    };
  }

  /**
   * Calls every listener of `type` with `event`. A listener that throws is
   * reported through the global `reportError` (where the runtime has it) and
   * the others still run.
   */
  emit<K extends keyof EventMap>(type: K, event: EventMap[K]): void {
    const set = this.#byType.get(type);
    if (set === undefined || set.size === 0) return;

    for (const listener of [...set] as Listener<EventMap[K]>[]) {
      try {
        listener(event);
      } catch (error) {
        reportCallbackError(error);
      }
    }
  }
}

/**
 * Hands an error thrown by a user callback (a listener, a predicate) to the
 * runtime's `reportError`, as `EventTarget` does; a no-op where it is missing.
 */
export function reportCallbackError(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void })
    .reportError;
  if (typeof report === "function") report(error);
}
