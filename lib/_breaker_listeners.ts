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
 * Listeners grouped by event type. `active` is cheap, so that hot paths can
 * skip building an event when nobody listens.
 */
export class Listeners<EventMap> {
  readonly #owner: string;
  readonly #byType = new Map<keyof EventMap, Set<Listener<never>>>();
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
      fail(this.#owner, "listener", "a function", listener);
    }
    let set = this.#byType.get(type);
    if (!set) this.#byType.set(type, set = new Set());
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
   * reported through the global `reportError` and the others still run.
   */
  emit<K extends keyof EventMap>(type: K, event: EventMap[K]): void {
    for (const listener of [...this.#byType.get(type) ?? []]) {
      guarded(listener as Listener<EventMap[K]>, event, undefined);
    }
  }
}

/**
 * Calls a user callback (a listener, a predicate) with `argument`. If it
 * throws, hands the error to the runtime's `reportError`, as `EventTarget`
 * does (a no-op where it is missing), and returns `fallback`.
 */
export function guarded<A, R, F>(
  callback: (argument: A) => R,
  argument: A,
  fallback: F,
): R | F {
  try {
    return callback(argument);
  } catch (error) {
    (globalThis as { reportError?: (error: unknown) => void }).reportError?.(
      error,
    );
    return fallback;
  }
}
