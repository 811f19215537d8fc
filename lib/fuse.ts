/**
 * A resettable fuse: a named switch that an operator, or code, trips to shut
 * off calls to a function, and resets to let them through again.
 *
 * Uses: shedding an expensive function under load, keeping a feature off
 * until it is tested, or letting only a fraction of callers through (an A/B
 * rollout), sticky per caller key. A trip carries a reason and may expire by
 * itself; expiry is checked lazily, on the next use, so a fuse keeps no timer.
 * Fuses live in a {@linkcode FuseBox}, a named collection whose state exports
 * as JSON and rebuilds from it.
 *
 * @example Shedding load for ten minutes
 * ```ts
 * import { Fuse, FuseBlownError } from "@dyno/dyno/fuse";
 * import { ManualClock } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const reports = new Fuse({ name: "reports", clock });
 * reports.trip({ reason: "database overloaded", expiresInMs: 600_000 });
 *
 * const error = await reports.execute(() => "report").catch((e) => e);
 * assert.ok(error instanceof FuseBlownError);
 * assert.equal(error.reason, "database overloaded");
 * assert.equal(error.retryAfterMs, 600_000);
 *
 * await clock.advance(600_000);
 * assert.equal(await reports.execute(() => "report"), "report");
 * ```
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import { Listeners } from "./_breaker_listeners.ts";
import {
  ABOVE,
  array,
  BELOW,
  clock,
  fail,
  number,
  object,
  oneOf,
  typed,
} from "./_breaker_options.ts";

export type { Clock, TimerHandle } from "./clock.ts";

const OWNER = "Fuse";

/** `"intact"` lets calls through; `"blown"` stops all or some of them. */
export type FuseState = "intact" | "blown";

/** The structured fields of a {@linkcode FuseBlownError}. */
export interface FuseBlownDetails {
  /** The fuse's name. */
  readonly fuseName: string;
  /** The reason given when the fuse was tripped, if any. */
  readonly reason: string | undefined;
  /** Milliseconds until the trip expires; undefined when it never does. */
  readonly retryAfterMs: number | undefined;
}

/**
 * The fuse is blown for this call: the operation never ran.
 *
 * @example Fields of the error
 * ```ts
 * import { Fuse, FuseBlownError } from "@dyno/dyno/fuse";
 * import assert from "node:assert/strict";
 *
 * const fuse = new Fuse({ name: "export" });
 * fuse.trip({ reason: "not tested yet" });
 * assert.throws(() => fuse.check(), (error: unknown) => {
 *   assert.ok(error instanceof FuseBlownError);
 *   assert.equal(error.fuseName, "export");
 *   assert.equal(error.retryAfterMs, undefined);
 *   assert.equal(error.message, 'Fuse "export" is blown: not tested yet');
 *   return true;
 * });
 * ```
 */
export class FuseBlownError extends Error {
  /** The fuse's name. */
  readonly fuseName: string;
  /** The reason given when the fuse was tripped, if any. */
  readonly reason: string | undefined;
  /** Milliseconds until the trip expires; undefined when it never does. */
  readonly retryAfterMs: number | undefined;

  /** Builds the message from `details`; `options.cause` is kept as usual. */
  constructor(details: FuseBlownDetails, options?: ErrorOptions) {
    const why = details.reason === undefined ? "" : `: ${details.reason}`;
    const until = details.retryAfterMs === undefined
      ? ""
      : ` (expires in ${Math.ceil(details.retryAfterMs)} ms)`;
    const who = `Fuse ${JSON.stringify(details.fuseName)}`;
    super(`${who} is blown${why}${until}`, options);
    this.name = "FuseBlownError";
    this.fuseName = details.fuseName;
    this.reason = details.reason;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** Options for {@linkcode Fuse.trip}. */
export interface FuseTripOptions {
  /**
   * Why the fuse was tripped; carried by errors, events and JSON.
   *
   * @default {undefined}
   */
  reason?: string;
  /**
   * Resets the fuse by itself after this many milliseconds (checked lazily,
   * on the next use). Unset, the trip lasts until {@linkcode Fuse.reset}.
   *
   * @default {undefined}
   */
  expiresInMs?: number;
  /**
   * The fraction of callers still let through, a ratio in [0, 1). A keyed
   * caller passes when a hash of the fuse name and its key falls below it,
   * so each key gets a stable answer and raising the ratio only adds keys.
   * Calls without a key pass in turn: exactly one in `1 / passRatio`.
   *
   * @default {0}
   */
  passRatio?: number;
}

/** A fuse's state as plain JSON, from {@linkcode Fuse.toJSON}. */
export interface FuseSnapshot {
  /** The snapshot format. */
  version: 1;
  /** The fuse's name. */
  name: string;
  /** Intact or blown. */
  state: FuseState;
  /** The trip's reason, if blown with one. */
  reason?: string;
  /** The fraction let through while blown. */
  passRatio?: number;
  /** Milliseconds until an expiring trip resets itself. */
  remainingMs?: number;
}

/** Options for {@linkcode Fuse}. */
export interface FuseOptions {
  /**
   * The fuse's name, carried by errors, events and JSON; it also salts the
   * hash that picks which keys pass while partly blown.
   *
   * @default {"fuse", or initialState's name}
   */
  name?: string;
  /**
   * The clock that times expiring trips.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * A snapshot from {@linkcode Fuse.toJSON} to start from.
   *
   * @default {undefined}
   */
  initialState?: FuseSnapshot;
}

/** What a fuse hands to the operation it runs. */
export interface FuseContext {
  /** The caller's signal, passed through unchanged. */
  readonly signal?: AbortSignal;
}

/** The `"trip"` event. */
export interface FuseTripEvent {
  /** The fuse's name. */
  readonly fuseName: string;
  /** The trip's reason. */
  readonly reason: string | undefined;
  /** The trip's expiry in milliseconds, if any. */
  readonly expiresInMs: number | undefined;
  /** The fraction let through. */
  readonly passRatio: number;
}

/** The `"reset"` event. */
export interface FuseResetEvent {
  /** The fuse's name. */
  readonly fuseName: string;
  /** The reason of the trip that ended. */
  readonly reason: string | undefined;
  /** `"manual"` for {@linkcode Fuse.reset}, `"expired"` for an expiry. */
  readonly cause: "manual" | "expired";
}

/** The `"rejected"` event. */
export interface FuseRejectedEvent {
  /** The fuse's name. */
  readonly fuseName: string;
  /** The error the caller receives. */
  readonly error: FuseBlownError;
  /** The caller's key, if it gave one. */
  readonly key: string | undefined;
}

/** Every event a fuse emits, by type. */
export interface FuseEventMap {
  /** The fuse was tripped (again). */
  trip: FuseTripEvent;
  /** The fuse was reset, by hand or by expiry. */
  reset: FuseResetEvent;
  /** A call was stopped. */
  rejected: FuseRejectedEvent;
}

/** Options for {@linkcode Fuse.wrap}. */
export interface FuseWrapOptions<A extends unknown[]> {
  /**
   * Derives the caller's key from the arguments, for sticky partial trips.
   *
   * @default {undefined}
   */
  keyOf?: (...args: A) => string;
}

const NO_SIGNAL: FuseContext = Object.freeze({});

/**
 * One keyless pass in the units of 2^-32 that the rotation counts in:
 * `passRatio` rounded up to whole units adds up exactly, where `0.1` added
 * ten times in floating point falls short of 1 and would let the eleventh
 * call through, not the tenth.
 */
const CREDIT_UNIT = 2 ** 32;

/**
 * A hash of `text` to [0, 1): FNV-1a over its UTF-16 code units, then the
 * murmur3 finalizer to spread nearby strings apart. Stable across runtimes.
 */
function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;

  return (hash >>> 0) / 4294967296;
}

function checkPassRatio(value: unknown): number {
  return number(OWNER, "passRatio", value, 0, 0, BELOW, 1);
}

function checkFuseSnapshot(value: unknown): FuseSnapshot {
  const raw = object(OWNER, "initialState", value);
  oneOf(OWNER, "initialState.version", raw.version, [1], true);
  const state = oneOf<FuseState>(
    OWNER,
    "initialState.state",
    raw.state,
    ["intact", "blown"],
    true,
  );

  return {
    version: 1,
    name: typed<string>(OWNER, "initialState.name", raw.name, "string") ??
      "fuse",
    state,
    reason: typed(OWNER, "initialState.reason", raw.reason, "string"),
    passRatio: checkPassRatio(raw.passRatio),
    remainingMs: raw.remainingMs === undefined
      ? undefined
      : number(OWNER, "initialState.remainingMs", raw.remainingMs, 0, 0),
  };
}

/**
 * A named switch in front of calls. Intact, it lets every call through and
 * reads no clock; blown, it stops calls with a {@linkcode FuseBlownError},
 * all of them or all but a `passRatio` share.
 *
 * @example A sticky 10% rollout
 * ```ts
 * import { Fuse } from "@dyno/dyno/fuse";
 * import assert from "node:assert/strict";
 *
 * const newSearch = new Fuse({ name: "new-search" });
 * newSearch.trip({ reason: "rollout", passRatio: 0.1 });
 *
 * const users = Array.from({ length: 1_000 }, (_, i) => `user-${i}`);
 * const lucky = users.filter((user) => newSearch.allows(user));
 * assert.ok(lucky.length > 60 && lucky.length < 140);
 * assert.deepEqual(users.filter((user) => newSearch.allows(user)), lucky);
 * ```
 */
export class Fuse {
  readonly #name: string;
  readonly #clock: Clock;
  readonly #events = new Listeners<FuseEventMap>("Fuse");
  #blown = false;
  #reason: string | undefined;
  #passRatio = 0;
  #expiresAtMs: number | undefined;
  #keylessCredit = 0;

  /**
   * Checks `options`, throwing a `TypeError` for a wrong type and a
   * `RangeError` for a value out of range. Reads the clock only when
   * `initialState` has an expiring trip.
   */
  constructor(options?: FuseOptions) {
    const raw = object(OWNER, "options", options);
    const snapshot = raw.initialState === undefined
      ? undefined
      : checkFuseSnapshot(raw.initialState);
    this.#name = typed<string>(OWNER, "name", raw.name, "string") ??
      snapshot?.name ?? "fuse";
    this.#clock = clock(OWNER, raw.clock, systemClock);

    if (snapshot?.state === "blown") {
      this.#blown = true;
      this.#reason = snapshot.reason;
      this.#passRatio = snapshot.passRatio ?? 0;
      if (snapshot.remainingMs !== undefined) {
        this.#expiresAtMs = this.#clock.now() + snapshot.remainingMs;
      }
    }
  }

  /** The fuse's name. */
  get name(): string {
    return this.#name;
  }

  /** Intact or blown, after applying an expiry that is due. */
  get state(): FuseState {
    this.#expire();
    return this.#blown ? "blown" : "intact";
  }

  /** The reason of the current trip, if blown with one. */
  get reason(): string | undefined {
    this.#expire();
    return this.#reason;
  }

  /**
   * Blows the fuse, or replaces the current trip with a new one.
   *
   * @example Tripping and resetting by hand
   * ```ts
   * import { Fuse } from "@dyno/dyno/fuse";
   * import assert from "node:assert/strict";
   *
   * const fuse = new Fuse({ name: "checkout" });
   * fuse.trip({ reason: "incident 42" });
   * assert.equal(fuse.state, "blown");
   * assert.equal(fuse.reset(), true);
   * assert.equal(fuse.state, "intact");
   * ```
   */
  trip(options?: FuseTripOptions): void {
    const raw = object(OWNER, "trip options", options);
    const reason = typed<string>(OWNER, "reason", raw.reason, "string");
    const expiresInMs = raw.expiresInMs === undefined
      ? undefined
      : number(OWNER, "expiresInMs", raw.expiresInMs, 0, 0, ABOVE);
    const passRatio = checkPassRatio(raw.passRatio);

    this.#blown = true;
    this.#reason = reason;
    this.#passRatio = passRatio;
    this.#keylessCredit = 0;
    this.#expiresAtMs = expiresInMs === undefined
      ? undefined
      : this.#clock.now() + expiresInMs;
    if (this.#events.active) {
      this.#events.emit("trip", {
        fuseName: this.#name,
        reason,
        expiresInMs,
        passRatio,
      });
    }
  }

  /**
   * Makes the fuse intact again. Returns whether it was blown; resetting an
   * intact fuse does nothing and emits nothing.
   *
   * @example Resetting twice
   * ```ts
   * import { Fuse } from "@dyno/dyno/fuse";
   * import assert from "node:assert/strict";
   *
   * const fuse = new Fuse();
   * fuse.trip();
   * assert.equal(fuse.reset(), true);
   * assert.equal(fuse.reset(), false);
   * ```
   */
  reset(): boolean {
    this.#expire();
    if (!this.#blown) return false;

    this.#mend("manual");
    return true;
  }

  /**
   * Whether a call with `key` (or without one) would pass now. A keyless
   * query on a partly blown fuse takes its turn in the rotation.
   *
   * @example Asking before doing optional work
   * ```ts
   * import { Fuse } from "@dyno/dyno/fuse";
   * import assert from "node:assert/strict";
   *
   * const recommendations = new Fuse({ name: "recommendations" });
   * assert.equal(recommendations.allows(), true);
   * recommendations.trip({ reason: "shedding load" });
   * assert.equal(recommendations.allows("user-1"), false);
   * ```
   */
  allows(key?: string): boolean {
    if (!this.#blown) return true;

    this.#expire();
    if (!this.#blown) return true;
    if (this.#passRatio === 0) return false;
    if (key !== undefined) {
      return unitHash(`${this.#name}\u0000${key}`) < this.#passRatio;
    }

    this.#keylessCredit += Math.ceil(this.#passRatio * CREDIT_UNIT);
    if (this.#keylessCredit < CREDIT_UNIT) return false;
    this.#keylessCredit -= CREDIT_UNIT;
    return true;
  }

  /**
   * Throws a {@linkcode FuseBlownError} unless a call with `key` may pass.
   *
   * @example Guarding a request handler
   * ```ts
   * import { Fuse, FuseBlownError } from "@dyno/dyno/fuse";
   * import assert from "node:assert/strict";
   *
   * const uploads = new Fuse({ name: "uploads" });
   * uploads.check("tenant-a");
   * uploads.trip({ reason: "storage full" });
   * assert.throws(() => uploads.check("tenant-a"), FuseBlownError);
   * ```
   */
  check(key?: string): void {
    if (this.allows(key)) return;

    throw this.#rejection(key);
  }

  /**
   * Runs `operation` if the fuse lets a keyless call through, and rejects
   * with a {@linkcode FuseBlownError} if not. An already-aborted `signal`
   * rejects at once with its reason; the signal is passed to the operation.
   *
   * @example Running a call
   * ```ts
   * import { Fuse } from "@dyno/dyno/fuse";
   * import assert from "node:assert/strict";
   *
   * const fuse = new Fuse();
   * assert.equal(await fuse.execute(() => 7), 7);
   * ```
   */
  execute<T>(
    operation: (context: FuseContext) => T | PromiseLike<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal !== undefined && signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (!this.allows()) return Promise.reject(this.#rejection(undefined));

    try {
      return Promise.resolve(
        operation(signal === undefined ? NO_SIGNAL : { signal }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Returns a function with `fn`'s parameters that runs `fn` only while the
   * fuse lets the call through; `keyOf` names the caller for sticky partial
   * trips.
   *
   * @example Keyed by user
   * ```ts
   * import { Fuse, FuseBlownError } from "@dyno/dyno/fuse";
   * import assert from "node:assert/strict";
   *
   * const beta = new Fuse({ name: "beta" });
   * const render = beta.wrap((user: string) => `new page for ${user}`, {
   *   keyOf: (user) => user,
   * });
   * assert.equal(await render("ann"), "new page for ann");
   * beta.trip({ reason: "bug found" });
   * await assert.rejects(render("ann"), FuseBlownError);
   * ```
   */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R,
    options?: FuseWrapOptions<A>,
  ): (...args: A) => Promise<Awaited<R>> {
    const keyOf = options?.keyOf;
    typed(OWNER, "keyOf", keyOf, "function");
    const run = (self: unknown, args: A): Promise<Awaited<R>> => {
      try {
        const key = keyOf?.apply(self, args);
        if (!this.allows(key)) return Promise.reject(this.#rejection(key));

        return Promise.resolve(fn.apply(self, args) as Awaited<R>);
      } catch (error) {
        return Promise.reject(error);
      }
    };

    return function fuseWrapped(this: unknown, ...args: A) {
      return run(this, args);
    };
  }

  /**
   * Listens to `type`; returns a function that stops listening.
   *
   * @example Auditing trips
   * ```ts
   * import { Fuse } from "@dyno/dyno/fuse";
   * import assert from "node:assert/strict";
   *
   * const fuse = new Fuse({ name: "mail" });
   * const audit: string[] = [];
   * fuse.on("trip", (event) => audit.push(`trip: ${event.reason}`));
   * fuse.on("reset", (event) => audit.push(`reset: ${event.cause}`));
   * fuse.trip({ reason: "spam wave" });
   * fuse.reset();
   * assert.deepEqual(audit, ["trip: spam wave", "reset: manual"]);
   * ```
   */
  on<K extends keyof FuseEventMap>(
    type: K,
    listener: (event: FuseEventMap[K]) => void,
  ): () => void {
    return this.#events.on(type, listener);
  }

  /**
   * The state as JSON, for {@linkcode FuseOptions.initialState}; an expiry is
   * stored as the milliseconds left.
   *
   * @example Saving a blown fuse
   * ```ts
   * import { Fuse } from "@dyno/dyno/fuse";
   * import assert from "node:assert/strict";
   *
   * const fuse = new Fuse({ name: "pdf" });
   * fuse.trip({ reason: "renderer leak" });
   * const copy = new Fuse({ initialState: JSON.parse(JSON.stringify(fuse)) });
   * assert.equal(copy.name, "pdf");
   * assert.equal(copy.reason, "renderer leak");
   * ```
   */
  toJSON(): FuseSnapshot {
    this.#expire();
    if (!this.#blown) return { version: 1, name: this.#name, state: "intact" };

    const snapshot: FuseSnapshot = {
      version: 1,
      name: this.#name,
      state: "blown",
      passRatio: this.#passRatio,
    };
    if (this.#reason !== undefined) snapshot.reason = this.#reason;
    const remainingMs = this.#remainingMs();
    if (remainingMs !== undefined) snapshot.remainingMs = remainingMs;

    return snapshot;
  }

  #rejection(key: string | undefined): FuseBlownError {
    const error = new FuseBlownError({
      fuseName: this.#name,
      reason: this.#reason,
      retryAfterMs: this.#remainingMs(),
    });
    if (this.#events.active) {
      this.#events.emit("rejected", { fuseName: this.#name, error, key });
    }

    return error;
  }

  #remainingMs(): number | undefined {
    if (this.#expiresAtMs === undefined) return undefined;

    return Math.max(0, this.#expiresAtMs - this.#clock.now());
  }

  #expire(): void {
    if (
      this.#blown && this.#expiresAtMs !== undefined &&
      this.#clock.now() >= this.#expiresAtMs
    ) {
      this.#mend("expired");
    }
  }

  #mend(cause: "manual" | "expired"): void {
    const reason = this.#reason;
    this.#blown = false;
    this.#reason = undefined;
    this.#passRatio = 0;
    this.#expiresAtMs = undefined;
    if (this.#events.active) {
      this.#events.emit("reset", { fuseName: this.#name, reason, cause });
    }
  }
}

/** A {@linkcode FuseBox}'s state as plain JSON. */
export interface FuseBoxSnapshot {
  /** The snapshot format. */
  version: 1;
  /** Every fuse's snapshot. */
  fuses: FuseSnapshot[];
}

/** Options for {@linkcode FuseBox}. */
export interface FuseBoxOptions {
  /**
   * The clock handed to every fuse of the box.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * A snapshot from {@linkcode FuseBox.toJSON} to start from.
   *
   * @default {undefined}
   */
  initialState?: FuseBoxSnapshot;
}

/**
 * A named collection of fuses: the operator's panel. It is an ordinary
 * instance, never a global; listeners on the box hear every fuse in it.
 *
 * @example A panel that survives a restart
 * ```ts
 * import { FuseBox } from "@dyno/dyno/fuse";
 * import assert from "node:assert/strict";
 *
 * const box = new FuseBox();
 * box.fuse("exports").trip({ reason: "slow queries" });
 * box.fuse("search");
 * const saved = JSON.stringify(box);
 *
 * const restored = new FuseBox({ initialState: JSON.parse(saved) });
 * assert.deepEqual(restored.names(), ["exports", "search"]);
 * assert.equal(restored.fuse("exports").state, "blown");
 * assert.equal(restored.fuse("search").state, "intact");
 * ```
 */
export class FuseBox {
  readonly #clock: Clock;
  readonly #fuses = new Map<string, Fuse>();
  readonly #events = new Listeners<FuseEventMap>("FuseBox");

  /** Checks `options` and rebuilds the fuses of `initialState`. */
  constructor(options?: FuseBoxOptions) {
    const raw = object("FuseBox", "options", options);
    this.#clock = clock("FuseBox", raw.clock, systemClock);
    if (raw.initialState === undefined) return;

    const state = object("FuseBox", "initialState", raw.initialState);
    oneOf("FuseBox", "initialState.version", state.version, [1], true);
    for (
      const snapshot of array("FuseBox", "initialState.fuses", state.fuses)
    ) {
      const fuse = new Fuse({
        clock: this.#clock,
        initialState: snapshot as FuseSnapshot,
      });
      this.#adopt(fuse);
    }
  }

  /**
   * The fuse named `name`, created intact on first use.
   *
   * @example Getting a fuse
   * ```ts
   * import { FuseBox } from "@dyno/dyno/fuse";
   * import assert from "node:assert/strict";
   *
   * const box = new FuseBox();
   * assert.equal(box.fuse("a"), box.fuse("a"));
   * ```
   */
  fuse(name: string): Fuse {
    if (typeof name !== "string") fail("FuseBox", "name", "a string", name);
    if (name === "") {
      throw new RangeError('FuseBox: name must not be empty, got ""');
    }

    return this.#fuses.get(name) ??
      this.#adopt(new Fuse({ name, clock: this.#clock }));
  }

  /** The fuse named `name`, if the box has one. */
  get(name: string): Fuse | undefined {
    return this.#fuses.get(name);
  }

  /** The names of the box's fuses, in creation order. */
  names(): string[] {
    return [...this.#fuses.keys()];
  }

  /** Iterates over the box's fuses, in creation order. */
  [Symbol.iterator](): IterableIterator<Fuse> {
    return this.#fuses.values();
  }

  /**
   * Listens to `type` on every fuse of the box; returns a function that stops
   * listening.
   *
   * @example One audit log for all fuses
   * ```ts
   * import { FuseBox } from "@dyno/dyno/fuse";
   * import assert from "node:assert/strict";
   *
   * const box = new FuseBox();
   * const log: string[] = [];
   * box.on("trip", (event) => log.push(event.fuseName));
   * box.fuse("a").trip();
   * box.fuse("b").trip();
   * assert.deepEqual(log, ["a", "b"]);
   * ```
   */
  on<K extends keyof FuseEventMap>(
    type: K,
    listener: (event: FuseEventMap[K]) => void,
  ): () => void {
    return this.#events.on(type, listener);
  }

  /** Every fuse's state as JSON, for {@linkcode FuseBoxOptions.initialState}. */
  toJSON(): FuseBoxSnapshot {
    return {
      version: 1,
      fuses: [...this.#fuses.values()].map((fuse) => fuse.toJSON()),
    };
  }

  #adopt(fuse: Fuse): Fuse {
    this.#fuses.set(fuse.name, fuse);
    fuse.on("trip", (event) => this.#events.emit("trip", event));
    fuse.on("reset", (event) => this.#events.emit("reset", event));
    fuse.on("rejected", (event) => this.#events.emit("rejected", event));

    return fuse;
  }
}
