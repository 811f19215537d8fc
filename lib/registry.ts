/**
 * Services found by key at run time. A registry builds each service from its
 * provider on first use, lends it out with leases, and lets a provider be
 * swapped while calls run: they finish on the old service, which is disposed
 * once the last of them is done. Child registries inherit and override, one
 * per tenant or host; there is no global instance.
 *
 * @module
 */

import { describe } from "./_describe.ts";
import { disposerOf } from "./_dispose.ts";
import type {
  AcquiredDependency,
  Lease,
  Lifetime,
  Provide,
  ProvideContext,
} from "./inject.ts";

/**
 * A typed name for a service. Keys are compared by name: two keys with the
 * same name, or a key and its name as a string, find the same service.
 *
 * @example A key carries the service's type
 * ```ts
 * import { ServiceKey } from "@dyno/dyno/registry";
 * import assert from "node:assert/strict";
 *
 * const PORT = new ServiceKey<number>("port");
 * assert.equal(PORT.name, "port");
 * assert.equal(`${PORT}`, "port");
 * ```
 */
export class ServiceKey<T> {
  /** The name the service is registered under. */
  readonly name: string;
  /** Never set; it makes `ServiceKey<A>` and `ServiceKey<B>` differ. */
  #type?: T;

  /**
   * Makes a key named `name`.
   *
   * @throws {TypeError} When `name` is not a non-empty string.
   */
  constructor(name: string) {
    if (typeof name !== "string" || name.trim() === "") {
      throw new TypeError(
        `ServiceKey: name must be a non-empty string, got ${describe(name)}`,
      );
    }
    this.name = name;
  }

  /** The key's name. */
  toString(): string {
    return this.name;
  }
}

/**
 * Makes a typed {@linkcode ServiceKey}.
 *
 * @example Declaring keys once, beside the types they stand for
 * ```ts
 * import { key, Registry } from "@dyno/dyno/registry";
 * import assert from "node:assert/strict";
 *
 * interface Config {
 *   region: string;
 * }
 * const CONFIG = key<Config>("config");
 *
 * const registry = new Registry().register(CONFIG, {
 *   value: { region: "eu-west-1" },
 * });
 * const config = await registry.resolve(CONFIG);
 * assert.equal(config.region, "eu-west-1");
 * ```
 */
export function key<T>(name: string): ServiceKey<T> {
  return new ServiceKey<T>(name);
}

/** A {@linkcode ServiceKey} or the bare name of one. */
export type KeyLike<T> = ServiceKey<T> | string;

/** A service built by a provider. */
export interface ProvidedService<T> {
  /** Builds the service. Shared builds receive no signal. */
  readonly provide: Provide<T>;
  /**
   * `"shared"`: one instance, built on first use and disposed when replaced,
   * removed or the registry is disposed, once no lease holds it. `"call"`: a
   * new instance for each acquire, disposed when its lease is released.
   *
   * @default {"shared"}
   */
  readonly lifetime?: Lifetime;
}

/**
 * A ready-made service. The registry never disposes values: whoever made
 * them owns them.
 */
export interface ValueService<T> {
  /** The service itself. */
  readonly value: T;
}

/**
 * How to get a service: a provider function (shorthand for a shared
 * `{ provide }`), a {@linkcode ProvidedService} or a {@linkcode ValueService}.
 * A function that is itself the service must be wrapped as `{ value: fn }`.
 */
export type ServiceDefinition<T> =
  | Provide<T>
  | ProvidedService<T>
  | ValueService<T>;

/**
 * A service on loan from a registry. Releasing it (or leaving a `using`
 * block) lets a replaced service be disposed once its last lease is
 * released. Releasing twice does nothing.
 */
export interface ServiceLease<T> extends Lease<T>, Disposable, AsyncDisposable {
  /**
   * Gives the service back. Resolves when any disposal this release started
   * is done; never rejects (disposal errors become `disposeerror` events).
   */
  release(): Promise<void>;
}

/** Options for {@linkcode Registry.acquire}, `use` and `resolve`. */
export interface ResolveOptions {
  /**
   * Aborting it rejects with `signal.reason`, at once or while the service
   * is being built. It is passed to `"call"` providers.
   */
  signal?: AbortSignal;
}

/** Options for {@linkcode Registry}. */
export interface RegistryOptions {
  /**
   * The registry to fall back on for keys this one does not have.
   *
   * @default {none}
   */
  parent?: Registry;
}

/** The kinds of {@linkcode RegistryEvent}. */
export type RegistryEventType =
  | "registered"
  | "replaced"
  | "removed"
  | "disposeerror";

/** The events of a {@linkcode Registry}, by type. */
export interface RegistryEventMap {
  /** A key that had no service of its own got one. */
  registered: RegistryEvent;
  /** A key's service was replaced; later resolutions get the new one. */
  replaced: RegistryEvent;
  /** A key's service was removed. */
  removed: RegistryEvent;
  /** Disposing a service this registry built failed; `error` says why. */
  disposeerror: RegistryEvent;
}

/**
 * What a {@linkcode Registry} dispatches when its own services change. A
 * child does not re-dispatch its parent's events.
 *
 * @example Listening for swaps
 * ```ts
 * import { Registry, RegistryEvent } from "@dyno/dyno/registry";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const seen: string[] = [];
 * registry.addEventListener("replaced", (event) => seen.push(event.key));
 *
 * registry.register("db", { value: "primary" });
 * registry.register("db", { value: "replica" });
 * assert.deepEqual(seen, ["db"]);
 * assert.ok(new RegistryEvent("removed", { key: "db" }) instanceof Event);
 * ```
 */
export class RegistryEvent extends Event {
  /** The name of the service concerned. */
  readonly key: string;
  /** For `disposeerror`: what disposing threw. */
  readonly error: unknown;

  /** Makes an event about the service named `init.key`. */
  constructor(type: RegistryEventType, init: { key: string; error?: unknown }) {
    super(type);
    this.key = init.key;
    this.error = init.error;
  }
}

/**
 * Thrown when no service is registered under a key, here or in a parent. The
 * message lists the keys that exist.
 *
 * @example The message says what is there
 * ```ts
 * import { MissingServiceError, Registry } from "@dyno/dyno/registry";
 * import assert from "node:assert/strict";
 *
 * const registry = Registry.from({ db: { value: 1 }, cache: { value: 2 } });
 * const error = await registry.resolve("dbb").catch((error) => error);
 *
 * assert.ok(error instanceof MissingServiceError);
 * assert.equal(error.key, "dbb");
 * assert.deepEqual(error.available, ["cache", "db"]);
 * assert.equal(
 *   error.message,
 *   'No service registered as "dbb"; registered: "cache", "db"',
 * );
 * ```
 */
export class MissingServiceError extends Error {
  /** The name that was asked for. */
  readonly key: string;
  /** Every name that resolves in that registry, sorted. */
  readonly available: readonly string[];

  /** Makes the error for `key`, given the names that do exist. */
  constructor(
    key: string,
    available: readonly string[],
    options?: ErrorOptions,
  ) {
    const known = available.length === 0
      ? "none are registered"
      : `registered: ${available.map((name) => `"${name}"`).join(", ")}`;
    super(`No service registered as "${key}"; ${known}`, options);
    this.name = "MissingServiceError";
    this.key = key;
    this.available = available;
  }
}

/** How a registry's configuration object describes its services. */
export type RegistryConfig = Readonly<
  Record<string, ServiceDefinition<unknown>>
>;

/**
 * Services by key, with leases, swaps, children and change events.
 *
 * Shared services are built on first use; concurrent first uses share one
 * build, and a failed build is not kept, so the next use tries again.
 * Replacing or removing a service disposes its shared instance (through
 * `Symbol.asyncDispose` or `Symbol.dispose`) once no lease holds it.
 *
 * @example Swapping a service while a call still uses the old one
 * ```ts
 * import { key, Registry } from "@dyno/dyno/registry";
 * import assert from "node:assert/strict";
 *
 * class Pool {
 *   closed = false;
 *   constructor(readonly host: string) {}
 *   async [Symbol.asyncDispose](): Promise<void> {
 *     this.closed = true;
 *   }
 * }
 * const DB = key<Pool>("db");
 * const registry = new Registry().register(DB, () => new Pool("old"));
 *
 * const lease = await registry.acquire(DB);
 * registry.register(DB, () => new Pool("new"));
 * assert.equal((await registry.resolve(DB)).host, "new");
 * assert.equal(lease.value.closed, false);
 *
 * await lease.release();
 * assert.equal(lease.value.closed, true);
 * ```
 *
 * @example One child per tenant
 * ```ts
 * import { Registry } from "@dyno/dyno/registry";
 * import assert from "node:assert/strict";
 *
 * const root = Registry.from({
 *   region: { value: "eu" },
 *   greeting: { value: "hello" },
 * });
 * const tenant = root.child().register("greeting", { value: "bonjour" });
 *
 * assert.equal(await tenant.resolve("greeting"), "bonjour");
 * assert.equal(await tenant.resolve("region"), "eu");
 * assert.equal(await root.resolve("greeting"), "hello");
 * ```
 */
export class Registry extends EventTarget implements AsyncDisposable {
  readonly #parent: Registry | undefined;
  readonly #entries = new Map<string, Entry>();

  /** Makes an empty registry, optionally a child of `options.parent`. */
  constructor(options: RegistryOptions = {}) {
    super();
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        `Registry: options must be an object, got ${describe(options)}`,
      );
    }
    const { parent } = options;
    if (parent !== undefined && !(parent instanceof Registry)) {
      throw new TypeError(
        `Registry: parent must be a Registry, got ${describe(parent)}`,
      );
    }
    this.#parent = parent;
  }

  /**
   * Makes a registry from a configuration object: each property is a
   * service, named by the property, defined as for
   * {@linkcode Registry.register}.
   *
   * @example Loading services from configuration
   * ```ts
   * import { key, Registry } from "@dyno/dyno/registry";
   * import assert from "node:assert/strict";
   *
   * const registry = Registry.from({
   *   config: { value: { retries: 3 } },
   *   clock: () => ({ now: () => 42 }),
   *   requestId: { provide: () => crypto.randomUUID(), lifetime: "call" },
   * });
   *
   * const CONFIG = key<{ retries: number }>("config");
   * assert.equal(registry.resolveSync(CONFIG).retries, 3);
   * assert.deepEqual(registry.keys(), ["clock", "config", "requestId"]);
   * ```
   *
   * @throws {TypeError} When `config` is not an object, or a property is not
   * a valid definition.
   */
  static from(config: RegistryConfig, options?: RegistryOptions): Registry {
    if (
      config === null || typeof config !== "object" || Array.isArray(config)
    ) {
      throw new TypeError(
        `Registry.from: config must be an object of name: definition, got ${
          describe(config)
        }`,
      );
    }

    const registry = new Registry(options);
    for (const name of Object.keys(config)) {
      registry.register(name, config[name]);
    }
    return registry;
  }

  /** The registry this one falls back on, if any. */
  get parent(): Registry | undefined {
    return this.#parent;
  }

  /** Makes a registry that inherits this one's services and can override them. */
  child(): Registry {
    return new Registry({ parent: this });
  }

  /**
   * Registers a service under `key`, replacing this registry's own service
   * of that name if there is one. Calls that hold a lease on the replaced
   * service keep it until they release it; it is then disposed. Dispatches
   * `registered` or `replaced`.
   *
   * @throws {TypeError} When `key` or `definition` is not valid.
   */
  register<T>(key: KeyLike<T>, definition: ServiceDefinition<T>): this {
    const name = nameOf("Registry.register", key);
    const entry = makeEntry(
      name,
      definition as ServiceDefinition<unknown>,
      (error) => this.#report(name, error),
    );

    const replaced = this.#entries.get(name);
    this.#entries.set(name, entry);
    if (replaced !== undefined) retire(replaced);
    this.#dispatch(replaced === undefined ? "registered" : "replaced", name);
    return this;
  }

  /**
   * Removes this registry's own service named by `key`, disposing its shared
   * instance once no lease holds it. A parent's service of the same name
   * shows through again. Dispatches `removed`.
   *
   * @returns Whether there was such a service.
   */
  remove(key: KeyLike<unknown>): boolean {
    const name = nameOf("Registry.remove", key);
    const entry = this.#entries.get(name);
    if (entry === undefined) return false;

    this.#entries.delete(name);
    retire(entry);
    this.#dispatch("removed", name);
    return true;
  }

  /** Whether `key` resolves here, by this registry or a parent. */
  has(key: KeyLike<unknown>): boolean {
    return this.#find(nameOf("Registry.has", key)) !== undefined;
  }

  /** Every name that resolves here, this registry's and its parents', sorted. */
  keys(): string[] {
    const names = new Set(this.#parent?.keys());
    for (const name of this.#entries.keys()) names.add(name);

    return [...names].sort();
  }

  /**
   * Lends out the service named by `key`. Until the lease is released, a
   * replaced shared service is not disposed. A `"call"` service is built for
   * this lease alone and disposed on release.
   *
   * @example Holding a service for the length of a block
   * ```ts
   * import { key, Registry } from "@dyno/dyno/registry";
   * import assert from "node:assert/strict";
   *
   * const GREETER = key<(name: string) => string>("greeter");
   * const registry = new Registry().register(GREETER, {
   *   value: (name) => `hello ${name}`,
   * });
   *
   * {
   *   await using lease = await registry.acquire(GREETER);
   *   assert.equal(lease.value("ada"), "hello ada");
   * }
   * ```
   *
   * @throws {TypeError} When `key` is not valid.
   * @throws {MissingServiceError} When nothing is registered under `key`
   * (as a rejection).
   */
  acquire<T>(
    key: KeyLike<T>,
    options: ResolveOptions = {},
  ): Promise<ServiceLease<T>> {
    const name = nameOf("Registry.acquire", key);
    const { signal } = options;
    const entry = this.#find(name);
    if (entry === undefined) return Promise.reject(this.#missing(name));
    if (signal?.aborted) return Promise.reject(signal.reason);

    if (entry.kind === "value") {
      return Promise.resolve(new EntryLease(entry.value as T, noRelease));
    }
    if (entry.kind === "call") return acquireFresh<T>(entry, signal);
    return acquireShared<T>(entry, signal);
  }

  /**
   * Calls `fn` with the service named by `key`, holding a lease on it until
   * `fn` settles.
   *
   * @example A call that finishes on the service it started with
   * ```ts
   * import { Registry } from "@dyno/dyno/registry";
   * import assert from "node:assert/strict";
   *
   * const registry = Registry.from({ greeting: { value: "hello" } });
   * const text = await registry.use("greeting", (greeting) => `${greeting}!`);
   * assert.equal(text, "hello!");
   * ```
   *
   * @throws {TypeError} When `key` or `fn` is not valid.
   * @throws {MissingServiceError} When nothing is registered under `key`
   * (as a rejection).
   */
  use<T, R>(
    key: KeyLike<T>,
    fn: (service: T) => R | PromiseLike<R>,
    options?: ResolveOptions,
  ): Promise<R> {
    const name = nameOf("Registry.use", key);
    if (typeof fn !== "function") {
      throw new TypeError(
        `Registry.use: fn must be a function, got ${describe(fn)}`,
      );
    }

    return this.#use(name, fn, options);
  }

  /**
   * The service named by `key`, without a lease: a later swap may dispose a
   * shared service while you still hold it, so prefer
   * {@linkcode Registry.acquire} or {@linkcode Registry.use} for services
   * that can be swapped. A `"call"` service is built for you and is yours to
   * dispose.
   *
   * @throws {TypeError} When `key` is not valid.
   * @throws {MissingServiceError} When nothing is registered under `key`
   * (as a rejection).
   */
  resolve<T>(key: KeyLike<T>, options: ResolveOptions = {}): Promise<T> {
    const name = nameOf("Registry.resolve", key);
    const { signal } = options;
    const entry = this.#find(name);
    if (entry === undefined) return Promise.reject(this.#missing(name));
    if (signal?.aborted) return Promise.reject(signal.reason);

    if (entry.kind === "value") return Promise.resolve(entry.value as T);
    if (entry.kind === "call") {
      return withAbort(build(entry, signal), signal, entry) as Promise<T>;
    }
    return withAbort(shared(entry), signal) as Promise<T>;
  }

  /**
   * The service named by `key`, synchronously, without a lease: a value, or
   * a shared service that is built or whose provider returns synchronously.
   *
   * @example Reading configuration at once
   * ```ts
   * import { Registry } from "@dyno/dyno/registry";
   * import assert from "node:assert/strict";
   *
   * const registry = Registry.from({ port: { value: 8080 } });
   * assert.equal(registry.resolveSync<number>("port"), 8080);
   * ```
   *
   * @throws {MissingServiceError} When nothing is registered under `key`.
   * @throws {TypeError} When the service has lifetime `"call"` or is built
   * asynchronously and not built yet; an asynchronous build it starts goes
   * on, so a later `resolveSync` may succeed.
   */
  resolveSync<T>(key: KeyLike<T>): T {
    const name = nameOf("Registry.resolveSync", key);
    const entry = this.#find(name);
    if (entry === undefined) throw this.#missing(name);

    if (entry.kind === "value") return entry.value as T;
    if (entry.kind === "call") {
      throw new TypeError(
        `Registry.resolveSync: "${name}" has lifetime "call"; use acquire()`,
      );
    }
    if (!entry.built && entry.pending === undefined) buildSharedSync(entry);
    if (!entry.built) {
      throw new TypeError(
        `Registry.resolveSync: "${name}" is built asynchronously and is not ready; use resolve()`,
      );
    }
    return entry.instance as T;
  }

  /**
   * A dependency for `inject` (`@dyno/dyno/inject`) that acquires the
   * service named by `key` for each call and releases it after, so a swap
   * never disposes a service under a running call. Spread it to add a
   * fallback: `{ ...registry.provider(CACHE), fallback: null }`.
   *
   * @example Injecting a registry's service
   * ```ts
   * import { inject } from "@dyno/dyno/inject";
   * import { key, Registry } from "@dyno/dyno/registry";
   * import assert from "node:assert/strict";
   *
   * const GREETING = key<string>("greeting");
   * const registry = new Registry().register(GREETING, { value: "hello" });
   *
   * const greet = inject(
   *   { greeting: registry.provider(GREETING) },
   *   ({ greeting }, name: string) => `${greeting} ${name}`,
   * );
   * assert.equal(await greet("ada"), "hello ada");
   * ```
   *
   * @throws {TypeError} When `key` is not valid. A missing service is only
   * noticed when a call acquires it.
   */
  provider<T>(key: KeyLike<T>): AcquiredDependency<T> {
    const name = nameOf("Registry.provider", key);

    return {
      acquire: (context: ProvideContext) =>
        this.#leaseNow<T>(name) ??
          this.acquire<T>(name, { signal: context.signal }),
    };
  }

  /**
   * Removes every service of this registry (not its parent's), disposing
   * shared instances now, or when their last lease is released. Resolves
   * once those without leases are disposed. Dispatches `removed` for each.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();

    const disposals = entries.map(retire);
    for (const entry of entries) this.#dispatch("removed", entry.name);
    await Promise.all(disposals);
  }

  /** Listens for a {@linkcode RegistryEvent}. */
  override addEventListener<K extends keyof RegistryEventMap>(
    type: K,
    listener: RegistryListener<RegistryEventMap[K]> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Listens for any event. */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  /** Stops listening for a {@linkcode RegistryEvent}. */
  override removeEventListener<K extends keyof RegistryEventMap>(
    type: K,
    listener: RegistryListener<RegistryEventMap[K]> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Stops listening for any event. */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
  }

  #find(name: string): Entry | undefined {
    const entry = this.#entries.get(name);
    if (entry !== undefined || this.#parent === undefined) return entry;

    return this.#parent.#find(name);
  }

  async #use<T, R>(
    name: string,
    fn: (service: T) => R | PromiseLike<R>,
    options?: ResolveOptions,
  ): Promise<R> {
    const lease = await this.acquire<T>(name, options);
    try {
      return await fn(lease.value);
    } finally {
      await lease.release();
    }
  }

  /** A lease made at once, when the service is a value or built. */
  #leaseNow<T>(name: string): ServiceLease<T> | undefined {
    const entry = this.#find(name);
    if (entry?.kind === "value") {
      return new EntryLease(entry.value as T, noRelease);
    }
    if (entry?.kind !== "shared" || !entry.built) return undefined;

    return leaseShared(entry, entry.instance as T);
  }

  #missing(name: string): MissingServiceError {
    return new MissingServiceError(name, this.keys());
  }

  #dispatch(type: RegistryEventType, name: string): void {
    this.dispatchEvent(new RegistryEvent(type, { key: name }));
  }

  #report(name: string, error: unknown): void {
    this.dispatchEvent(new RegistryEvent("disposeerror", { key: name, error }));
  }
}

/** A listener for one type of {@linkcode RegistryEvent}. */
export type RegistryListener<E extends Event = RegistryEvent> =
  | ((event: E) => void)
  | { handleEvent(event: E): void };

/** One registration: a value, or a provider and what it has built. */
interface Entry {
  readonly name: string;
  readonly kind: "value" | "shared" | "call";
  readonly value: unknown;
  readonly provide: Provide<unknown>;
  readonly report: (error: unknown) => void;
  /** Leases held and acquires waiting, on the shared instance. */
  users: number;
  built: boolean;
  instance: unknown;
  pending: Promise<unknown> | undefined;
  /** Replaced or removed: dispose the instance once nobody uses it. */
  retired: boolean;
  disposal: Promise<void> | undefined;
}

function makeEntry(
  name: string,
  definition: ServiceDefinition<unknown>,
  report: (error: unknown) => void,
): Entry {
  const entry: Entry = {
    name,
    kind: "shared",
    value: undefined,
    provide: noProvider,
    report,
    users: 0,
    built: false,
    instance: undefined,
    pending: undefined,
    retired: false,
    disposal: undefined,
  };
  if (typeof definition === "function") {
    return { ...entry, provide: definition };
  }

  const isObject = definition !== null && typeof definition === "object";
  const hasValue = isObject && "value" in definition;
  const provide = isObject
    ? (definition as ProvidedService<unknown>).provide
    : undefined;
  if (hasValue === (typeof provide === "function")) {
    throw new TypeError(
      `Registry: definition of "${name}" must be a provider function, ` +
        `{ provide } or { value }, got ${describe(definition)}`,
    );
  }
  if (hasValue) {
    return {
      ...entry,
      kind: "value",
      value: (definition as ValueService<unknown>).value,
    };
  }

  const { lifetime = "shared" } = definition as ProvidedService<unknown>;
  if (lifetime !== "shared" && lifetime !== "call") {
    throw new TypeError(
      `Registry: lifetime of "${name}" must be "shared" or "call", got ${
        describe(lifetime)
      }`,
    );
  }
  return {
    ...entry,
    kind: lifetime,
    provide: (context) => provide!.call(definition, context),
  };
}

function noProvider(): never {
  throw new TypeError("Registry: this service has no provider");
}

/** Starts one build of `entry`; sync throws become rejections. */
function build(entry: Entry, signal?: AbortSignal): Promise<unknown> {
  return new Promise((resolve) =>
    resolve(entry.provide({ name: entry.name, signal }))
  );
}

function shared(entry: Entry): Promise<unknown> {
  if (entry.built) return Promise.resolve(entry.instance);

  return entry.pending ?? adoptShared(entry, build(entry));
}

function buildSharedSync(entry: Entry): void {
  const result = entry.provide({ name: entry.name });
  if (typeof (result as PromiseLike<unknown> | null)?.then === "function") {
    adoptShared(entry, Promise.resolve(result));
    return;
  }

  entry.instance = result;
  entry.built = true;
}

/** Makes `pending` the shared build of `entry`, shared by all who wait. */
function adoptShared(
  entry: Entry,
  pending: Promise<unknown>,
): Promise<unknown> {
  entry.pending = pending;
  pending.then((instance) => {
    entry.instance = instance;
    entry.built = true;
    entry.pending = undefined;
    disposeIfIdle(entry);
  }, () => {
    entry.pending = undefined;
  });

  return pending;
}

async function acquireShared<T>(
  entry: Entry,
  signal: AbortSignal | undefined,
): Promise<ServiceLease<T>> {
  if (entry.built) return leaseShared(entry, entry.instance as T);

  entry.users++;
  try {
    const instance = await withAbort(shared(entry), signal);
    return leaseShared(entry, instance as T);
  } finally {
    entry.users--;
    disposeIfIdle(entry);
  }
}

function leaseShared<T>(entry: Entry, instance: T): ServiceLease<T> {
  entry.users++;

  return new EntryLease(instance, () => {
    entry.users--;
    return disposeIfIdle(entry);
  });
}

async function acquireFresh<T>(
  entry: Entry,
  signal: AbortSignal | undefined,
): Promise<ServiceLease<T>> {
  const instance = await withAbort(build(entry, signal), signal, entry);

  return new EntryLease(
    instance as T,
    () => disposeInstance(instance, entry.report),
  );
}

/** Marks `entry` replaced or removed; disposes its instance if idle. */
function retire(entry: Entry): Promise<void> {
  entry.retired = true;

  return disposeIfIdle(entry);
}

function disposeIfIdle(entry: Entry): Promise<void> {
  if (
    entry.retired && entry.users === 0 && entry.built &&
    entry.disposal === undefined
  ) {
    entry.disposal = disposeInstance(entry.instance, entry.report);
  }

  return entry.disposal ?? RESOLVED;
}

const RESOLVED: Promise<void> = Promise.resolve();

function noRelease(): Promise<void> {
  return RESOLVED;
}

/** Disposes `instance` if it is disposable; reports errors, never rejects. */
async function disposeInstance(
  instance: unknown,
  report: (error: unknown) => void,
): Promise<void> {
  const dispose = disposerOf(instance);
  if (dispose === undefined) return;

  try {
    await dispose();
  } catch (error) {
    report(error);
  }
}

/**
 * Settles with `work`, or rejects with `signal.reason` once it aborts. A
 * `"call"` instance that arrives after the abort is disposed.
 */
function withAbort(
  work: Promise<unknown>,
  signal: AbortSignal | undefined,
  owner?: Entry,
): Promise<unknown> {
  if (signal === undefined) return work;

  return new Promise((resolve, reject) => {
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });

    work.then((value) => {
      signal.removeEventListener("abort", onAbort);
      if (!aborted) resolve(value);
      else if (owner !== undefined) disposeInstance(value, owner.report);
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
  });
}

class EntryLease<T> implements ServiceLease<T> {
  readonly value: T;
  #release: (() => Promise<void>) | undefined;

  constructor(value: T, release: () => Promise<void>) {
    this.value = value;
    this.#release = release;
  }

  release(): Promise<void> {
    const release = this.#release;
    if (release === undefined) return RESOLVED;

    this.#release = undefined;
    return release();
  }

  [Symbol.dispose](): void {
    this.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

function nameOf(where: string, key: unknown): string {
  if (key instanceof ServiceKey) return key.name;
  if (typeof key !== "string" || key.trim() === "") {
    throw new TypeError(
      `${where}: key must be a ServiceKey or a non-empty string, got ${
        describe(key)
      }`,
    );
  }

  return key;
}
