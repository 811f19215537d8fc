/**
 * Dependencies declared next to a function instead of built in its body.
 * Each dependency has a provider; the providers of a call run in parallel
 * before it, and their values are handed to the function as one typed object.
 * No decorators and no reflection metadata: it runs wherever JavaScript does.
 *
 * @module
 */

import { describe } from "./_describe.ts";
import { disposerOf } from "./_dispose.ts";

/**
 * How long a provided value lives: `"call"` builds one for every call and
 * disposes it after the call; `"shared"` builds one on first use and keeps it
 * for every later call.
 */
export type Lifetime = "call" | "shared";

/** What a provider receives. */
export interface ProvideContext {
  /** The dependency's name, as declared. */
  readonly name: string;
  /**
   * The caller's signal (see {@linkcode InjectOptions.signalFrom}); undefined
   * when the caller gave none, and always for `"shared"` builds, whose value
   * outlives any one call.
   */
  readonly signal?: AbortSignal;
}

/** A function that builds a dependency's value, at once or asynchronously. */
export type Provide<T> = (context: ProvideContext) => T | PromiseLike<T>;

/**
 * A value on loan: `release()` gives it back once the call is done. Registry
 * leases (`@dyno/dyno/registry`) have this shape.
 */
export interface Lease<T> {
  /** The value lent. */
  readonly value: T;
  /** Gives the value back; called once, after the call. */
  release(): void | PromiseLike<void>;
}

/** A dependency built by a provider. */
export interface ProvidedDependency<T = unknown> {
  /** Builds the value. */
  provide: Provide<T>;
  /**
   * How long a built value lives. A `"call"` value that has
   * `Symbol.asyncDispose` or `Symbol.dispose` is disposed after the call.
   *
   * @default {"call"}
   */
  lifetime?: Lifetime;
  /**
   * The value to use when the provider fails. Without this property the
   * dependency is required, and its failure fails the call. `undefined` is a
   * fallback too when the property is present.
   */
  fallback?: unknown;
}

/** A dependency acquired as a {@linkcode Lease} for each call. */
export interface AcquiredDependency<T = unknown> {
  /** Acquires a lease; it is released after the call. */
  acquire(context: ProvideContext): Lease<T> | PromiseLike<Lease<T>>;
  /** The value to use when acquiring fails; as for a provided dependency. */
  fallback?: unknown;
}

/**
 * One dependency: a provider function (shorthand for `{ provide }`), a
 * {@linkcode ProvidedDependency} or an {@linkcode AcquiredDependency}.
 */
export type Dependency<T = unknown> =
  | Provide<T>
  | ProvidedDependency<T>
  | AcquiredDependency<T>;

/** The dependencies of a function, by name. */
export type Dependencies = Readonly<Record<string, Dependency>>;

/** The value a dependency gives the function: built, acquired or fallback. */
export type DependencyValue<D> =
  | (D extends (context: ProvideContext) => infer R ? Awaited<R>
    : D extends { provide(context: ProvideContext): infer R } ? Awaited<R>
    : D extends { acquire(context: ProvideContext): infer L }
      ? Awaited<L> extends Lease<infer T> ? T : never
    : never)
  | (D extends { fallback: infer F } ? F : never);

/** The object of values that an injected function receives first. */
export type InjectedDependencies<D extends Dependencies> = {
  -readonly [K in keyof D]: DependencyValue<D[K]>;
};

/** Options for {@linkcode inject}. */
export interface InjectOptions<A extends unknown[] = unknown[]> {
  /**
   * Picks the caller's `AbortSignal` out of a call's arguments (given as one
   * array). Providers of `"call"` and acquired dependencies receive it; an
   * aborted signal rejects the call with `signal.reason`, at once or while
   * its dependencies are being built.
   *
   * @default {no signal}
   */
  signalFrom?: (args: A) => AbortSignal | undefined;
  /**
   * Called when a dependency with a fallback failed and its fallback stands
   * in. A hook that throws is ignored.
   */
  onFallback?: (error: unknown, name: string) => void;
  /**
   * Called with every error from disposing or releasing a dependency after a
   * call. A hook that throws is ignored.
   */
  onDisposeError?: (error: unknown, name: string) => void;
}

/**
 * Thrown when required dependencies failed to build. It names every one that
 * failed, not only the first: `failures` maps each name to its error, and
 * `errors` lists the same errors in declaration order.
 *
 * @example Seeing which dependencies failed
 * ```ts
 * import { DependencyError, inject } from "@dyno/dyno/inject";
 * import assert from "node:assert/strict";
 *
 * const handler = inject({
 *   db: () => Promise.reject(new Error("connection refused")),
 *   queue: () => {
 *     throw new Error("no credentials");
 *   },
 * }, ({ db, queue }) => [db, queue]);
 *
 * const error = await handler().catch((error) => error);
 * assert.ok(error instanceof DependencyError);
 * assert.ok(error instanceof AggregateError);
 * assert.deepEqual([...error.failures.keys()], ["db", "queue"]);
 * assert.equal(
 *   error.message,
 *   "2 dependencies failed: db (Error: connection refused), queue (Error: no credentials)",
 * );
 * ```
 */
export class DependencyError extends AggregateError {
  /** Each failed dependency's name and error, in declaration order. */
  readonly failures: ReadonlyMap<string, unknown>;

  /** Makes the error from `[name, error]` pairs. */
  constructor(
    failures: Iterable<readonly [string, unknown]>,
    options?: ErrorOptions,
  ) {
    const map = new Map(failures);
    const list = [...map].map(([name, error]) =>
      `${name} (${describeError(error)})`
    );
    super(
      [...map.values()],
      `${map.size} ${map.size === 1 ? "dependency" : "dependencies"} failed: ${
        list.join(", ")
      }`,
      options,
    );
    this.name = "DependencyError";
    this.failures = map;
  }
}

/**
 * Declares `fn`'s dependencies beside it. Each call of the returned function
 * builds them in parallel, waits for all of them, and calls
 * `fn(values, ...args)`; its return value is always a promise.
 *
 * - A required dependency that fails fails the call with one
 *   {@linkcode DependencyError} naming every failed dependency; `fn` does not
 *   run. A dependency with a `fallback` gets its fallback instead.
 * - `"shared"` values are built once. Concurrent first calls share one build;
 *   a failed build is not kept, so the next call after it tries again.
 *   Shared values are never disposed by `inject`: give them to a `Registry`
 *   when they must be closed.
 * - `"call"` values that are disposable, and leases, are disposed or released
 *   after the call, in reverse declaration order, whatever happened: when
 *   `fn` returned or threw, and when another dependency failed (only those
 *   that were built).
 * - Disposal errors never hide the call's error: when the call failed, it
 *   rejects with that error unchanged and disposal errors go only to
 *   `onDisposeError`. When the call succeeded, it rejects with the disposal
 *   error (an `AggregateError` if several failed), so that a resource that
 *   failed to close is not lost in silence.
 *
 * @example A handler with a database and an optional cache
 * ```ts
 * import { inject } from "@dyno/dyno/inject";
 * import assert from "node:assert/strict";
 *
 * class Connection {
 *   closed = false;
 *   query(sql: string): string {
 *     return `rows for ${sql}`;
 *   }
 *   [Symbol.dispose](): void {
 *     this.closed = true;
 *   }
 * }
 * const opened: Connection[] = [];
 *
 * const getUser = inject({
 *   db: { provide: () => {
 *     const connection = new Connection();
 *     opened.push(connection);
 *     return connection;
 *   } },
 *   cache: {
 *     provide: (): Map<string, string> => {
 *       throw new Error("cache is down");
 *     },
 *     lifetime: "shared",
 *     fallback: null,
 *   },
 * }, ({ db, cache }, id: string) => cache?.get(id) ?? db.query(id));
 *
 * assert.equal(await getUser("ada"), "rows for ada");
 * assert.equal(opened[0].closed, true);
 * ```
 *
 * @example Passing the caller's signal to the providers
 * ```ts
 * import { inject } from "@dyno/dyno/inject";
 * import assert from "node:assert/strict";
 *
 * const handle = inject(
 *   { session: ({ signal }) => ({ aborted: signal?.aborted ?? "no signal" }) },
 *   ({ session }, request: Request) => Response.json(session),
 *   { signalFrom: ([request]) => request.signal },
 * );
 *
 * const response = await handle(new Request("https://example.com/"));
 * assert.deepEqual(await response.json(), { aborted: false });
 * ```
 */
export function inject<D extends Dependencies, A extends unknown[], R>(
  dependencies: D,
  fn: (dependencies: InjectedDependencies<D>, ...args: A) => R | PromiseLike<R>,
  options: InjectOptions<A> = {},
): (...args: A) => Promise<R> {
  const slots = compile(dependencies);
  if (typeof fn !== "function") {
    throw new TypeError(`inject: fn must be a function, got ${describe(fn)}`);
  }
  const hooks = checkOptions(options);
  const signalFrom = options.signalFrom;

  return async function injected(...args: A): Promise<R> {
    const signal = signalFrom?.(args);
    if (signal?.aborted) throw signal.reason;

    const building = buildAll(slots, signal, hooks);
    const built = building instanceof Promise ? await building : building;
    const values = built.values as InjectedDependencies<D>;
    if (built.cleanups.length === 0) return fn(values, ...args);

    let result: R;
    try {
      result = await fn(values, ...args);
    } catch (error) {
      await cleanUp(built.cleanups, hooks);
      throw error;
    }

    const disposalErrors = await cleanUp(built.cleanups, hooks);
    if (disposalErrors.length === 1) throw disposalErrors[0];
    if (disposalErrors.length > 1) {
      throw new AggregateError(
        disposalErrors,
        `${disposalErrors.length} dependencies failed to dispose`,
      );
    }
    return result;
  };
}

type Kind = "call" | "shared" | "lease";

interface Slot {
  readonly name: string;
  readonly kind: Kind;
  readonly build: (context: ProvideContext) => unknown;
  /** Turns what `build` gave into an outcome: a value and its cleanup. */
  readonly settle: (built: unknown) => Outcome;
  /** The context of calls without a signal, made once. */
  readonly context: ProvideContext;
  readonly hasFallback: boolean;
  readonly fallback: unknown;
  /** The shared value's outcome, once built. */
  outcome: Outcome | undefined;
  /** The shared build in progress, shared by the calls that wait for it. */
  pending: Promise<unknown> | undefined;
}

interface Hooks {
  readonly onFallback: ((error: unknown, name: string) => void) | undefined;
  readonly onDisposeError:
    | ((error: unknown, name: string) => void)
    | undefined;
}

interface Cleanup {
  readonly name: string;
  readonly run: () => unknown;
}

interface Built {
  readonly values: Record<string, unknown>;
  readonly cleanups: Cleanup[];
}

type Outcome =
  | { readonly ok: true; readonly value: unknown; readonly cleanup?: Cleanup }
  | { readonly ok: false; readonly error: unknown };

function compile(dependencies: Dependencies): Slot[] {
  if (
    dependencies === null || typeof dependencies !== "object" ||
    Array.isArray(dependencies)
  ) {
    throw new TypeError(
      `inject: dependencies must be an object of name: provider, got ${
        describe(dependencies)
      }`,
    );
  }

  return Object.keys(dependencies).map((name) =>
    compileOne(name, dependencies[name])
  );
}

function compileOne(name: string, dependency: Dependency): Slot {
  const slot = {
    name,
    context: Object.freeze({ name }),
    hasFallback: false,
    fallback: undefined,
    outcome: undefined,
    pending: undefined,
  };
  const provided = (value: unknown) => providedOutcome(name, value);
  if (typeof dependency === "function") {
    return { ...slot, kind: "call", build: dependency, settle: provided };
  }

  const provide = (dependency as ProvidedDependency | null)?.provide;
  const acquire = (dependency as AcquiredDependency | null)?.acquire;
  if (
    (typeof provide === "function") === (typeof acquire === "function")
  ) {
    throw new TypeError(
      `inject: dependency "${name}" must be a function or an object ` +
        `with either provide() or acquire(), got ${describe(dependency)}`,
    );
  }

  const hasFallback = "fallback" in dependency;
  const fallback = dependency.fallback;
  if (typeof acquire === "function") {
    return {
      ...slot,
      kind: "lease",
      build: (context) => acquire.call(dependency, context),
      settle: (lease) => leasedOutcome(name, lease),
      hasFallback,
      fallback,
    };
  }

  const { lifetime = "call" } = dependency as ProvidedDependency;
  if (lifetime !== "call" && lifetime !== "shared") {
    throw new TypeError(
      `inject: lifetime of "${name}" must be "call" or "shared", got ${
        describe(lifetime)
      }`,
    );
  }
  return {
    ...slot,
    kind: lifetime,
    build: (context) => provide!.call(dependency, context),
    settle: provided,
    hasFallback,
    fallback,
  };
}

function checkOptions(options: InjectOptions<never>): Hooks {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `inject: options must be an object, got ${describe(options)}`,
    );
  }
  for (const hook of ["signalFrom", "onFallback", "onDisposeError"] as const) {
    const value = options[hook];
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(
        `inject: ${hook} must be a function, got ${describe(value)}`,
      );
    }
  }

  return {
    onFallback: options.onFallback,
    onDisposeError: options.onDisposeError,
  };
}

/**
 * Builds every slot for one call. When every provider returns at once (and
 * shared values are built), so does this; otherwise it waits for them all.
 */
function buildAll(
  slots: readonly Slot[],
  signal: AbortSignal | undefined,
  hooks: Hooks,
): Built | Promise<Built> {
  const outcomes = new Array<Outcome>(slots.length);
  let waiting: Promise<void>[] | undefined;
  for (let index = 0; index < slots.length; index++) {
    const outcome = start(slots[index], signal);
    if (outcome instanceof Promise) {
      (waiting ??= []).push(outcome.then((settled) => {
        outcomes[index] = settled;
      }));
    } else {
      outcomes[index] = outcome;
    }
  }
  if (waiting === undefined) return collect(slots, outcomes, hooks);

  const settling = Promise.all(waiting).then(() => outcomes);
  return (signal === undefined ? settling : raceAbort(settling, signal, hooks))
    .then((settled) => collect(slots, settled, hooks));
}

/** Builds one slot's value for one call; never throws nor rejects. */
function start(
  slot: Slot,
  signal: AbortSignal | undefined,
): Outcome | Promise<Outcome> {
  if (slot.kind === "shared") {
    if (slot.outcome !== undefined) return slot.outcome;

    return (slot.pending ?? buildShared(slot)).then(succeeded, failed);
  }

  let built: unknown;
  try {
    built = slot.build(
      signal === undefined ? slot.context : { name: slot.name, signal },
    );
  } catch (error) {
    return failed(error);
  }
  if (!isThenable(built)) return slot.settle(built);

  return Promise.resolve(built).then(slot.settle, failed);
}

/** The values of one call, or its DependencyError once cleaned up. */
function collect(
  slots: readonly Slot[],
  outcomes: readonly Outcome[],
  hooks: Hooks,
): Built | Promise<never> {
  const values: Record<string, unknown> = {};
  const cleanups: Cleanup[] = [];
  let failures: [string, unknown][] | undefined;
  for (let index = 0; index < slots.length; index++) {
    const slot = slots[index];
    const outcome = outcomes[index];
    if (outcome.ok) {
      values[slot.name] = outcome.value;
      if (outcome.cleanup) cleanups.push(outcome.cleanup);
    } else if (slot.hasFallback) {
      values[slot.name] = slot.fallback;
      callHook(hooks.onFallback, outcome.error, slot.name);
    } else {
      (failures ??= []).push([slot.name, outcome.error]);
    }
  }

  if (failures === undefined) return { values, cleanups };
  return cleanUp(cleanups, hooks).then(() => {
    throw new DependencyError(failures);
  });
}

function buildShared(slot: Slot): Promise<unknown> {
  const pending = new Promise((resolve) => resolve(slot.build(slot.context)));
  slot.pending = pending;
  pending.then((value) => {
    slot.outcome = { ok: true, value };
    slot.pending = undefined;
  }, () => {
    slot.pending = undefined;
  });

  return pending;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

function succeeded(value: unknown): Outcome {
  return { ok: true, value };
}

function failed(error: unknown): Outcome {
  return { ok: false, error };
}

function providedOutcome(name: string, value: unknown): Outcome {
  return { ok: true, value, cleanup: cleanupOf(name, value) };
}

function leasedOutcome(name: string, lease: unknown): Outcome {
  const release = (lease as Lease<unknown> | null)?.release;
  if (typeof release !== "function") {
    return {
      ok: false,
      error: new TypeError(
        `inject: acquire() of "${name}" must give an object with value and release(), got ${
          describe(lease)
        }`,
      ),
    };
  }

  return {
    ok: true,
    value: (lease as Lease<unknown>).value,
    cleanup: { name, run: () => release.call(lease) },
  };
}

/** A cleanup for `value` if it is disposable, else undefined. */
function cleanupOf(name: string, value: unknown): Cleanup | undefined {
  const run = disposerOf(value);

  return run === undefined ? undefined : { name, run };
}

/** Runs cleanups in reverse order; returns their errors, in that order. */
async function cleanUp(
  cleanups: readonly Cleanup[],
  hooks: Hooks,
): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (let index = cleanups.length - 1; index >= 0; index--) {
    const cleanup = cleanups[index];
    try {
      const running = cleanup.run();
      if (isThenable(running)) await running;
    } catch (error) {
      errors.push(error);
      callHook(hooks.onDisposeError, error, cleanup.name);
    }
  }

  return errors;
}

/**
 * Settles with `settling`, or rejects with `signal.reason` once it aborts;
 * values that are built after the abort are then cleaned up when they arrive.
 */
function raceAbort(
  settling: Promise<Outcome[]>,
  signal: AbortSignal,
  hooks: Hooks,
): Promise<Outcome[]> {
  return new Promise((resolve, reject) => {
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });

    settling.then((outcomes) => {
      signal.removeEventListener("abort", onAbort);
      if (!aborted) return resolve(outcomes);

      const cleanups = outcomes.flatMap((outcome) =>
        outcome.ok && outcome.cleanup ? [outcome.cleanup] : []
      );
      cleanUp(cleanups, hooks);
    });
  });
}

function callHook(
  hook: ((error: unknown, name: string) => void) | undefined,
  error: unknown,
  name: string,
): void {
  try {
    hook?.(error, name);
  } catch {
    // A hook cannot change the outcome of the call.
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;

  return describe(error);
}
