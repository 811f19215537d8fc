/**
 * A harness: catches the errors of calls on their way out, records and
 * reports them, and lets them go on unchanged, so that whoever is further up
 * still catches the very same error. Made for hunting transient failures:
 * counts per kind of error, a ring of the most recent ones with when and
 * where they happened, and sampling to keep a busy service's cost down.
 *
 * @example Finding out what a flaky call throws
 * ```ts
 * import { harness } from "@dyno/dyno/harness";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const lookup = harness(function lookup(id: number) {
 *   if (++calls % 3 === 0) throw new RangeError(`no user ${id}`);
 *   return `user ${id}`;
 * });
 *
 * for (let id = 1; id <= 6; id++) {
 *   try {
 *     lookup(id);
 *   } catch {
 *     // The caller still sees every error.
 *   }
 * }
 *
 * const { counts, recent } = lookup.harness.snapshot();
 * assert.deepEqual(counts, { RangeError: 2 });
 * assert.deepEqual(recent.map((record) => record.message), [
 *   "no user 3",
 *   "no user 6",
 * ]);
 * ```
 *
 * @module
 */

import { show } from "./_show.ts";

/** How an error left the call: thrown, or as the rejection of its promise. */
export type ErrorVia = "throw" | "rejection";

/** One recorded error. Records are frozen. */
export interface ErrorRecord {
  /** The thrown value itself, not a copy. */
  readonly error: unknown;
  /**
   * The kind of error: its `name`, or its constructor's name when `name` is
   * just `"Error"`; for a thrown non-object, its `typeof` (or `"null"`).
   */
  readonly kind: string;
  /** The error's `message`; for a thrown primitive, the value as a string. */
  readonly message: string;
  /** Which call failed: the name given to `wrap`, else the function's name. */
  readonly where: string;
  /** When, in milliseconds of the harness's clock (epoch ms by default). */
  readonly atMs: number;
  /** Whether the call threw or its promise rejected. */
  readonly via: ErrorVia;
  /** The arguments' summary, when the `recordArgs` option asks for one. */
  readonly args: unknown;
}

/** An {@linkcode ErrorRecord} as JSON: the error object gives way to its stack. */
export interface ErrorRecordJSON {
  /** See {@linkcode ErrorRecord.kind}. */
  readonly kind: string;
  /** See {@linkcode ErrorRecord.message}. */
  readonly message: string;
  /** The error's `stack`, if it has one. */
  readonly stack?: string;
  /** See {@linkcode ErrorRecord.where}. */
  readonly where: string;
  /** See {@linkcode ErrorRecord.atMs}. */
  readonly atMs: number;
  /** See {@linkcode ErrorRecord.via}. */
  readonly via: ErrorVia;
  /** See {@linkcode ErrorRecord.args}. */
  readonly args?: unknown;
}

/**
 * Where a harness reads the time. Any dyno `Clock` fits, as does
 * `{ now: Date.now }`.
 */
export interface HarnessClock {
  /** The current time in milliseconds. */
  now(): number;
}

/**
 * Something that logs like `console`: `console` itself will do.
 *
 * @example Collecting log lines
 * ```ts
 * import { Harness, type HarnessLogger } from "@dyno/dyno/harness";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger: HarnessLogger = { error: (line) => lines.push(line) };
 * new Harness({ name: "jobs", logger }).record(new Error("late"), "nightly");
 * assert.deepEqual(lines, ["jobs: nightly threw Error: late"]);
 * ```
 */
export interface HarnessLogger {
  /** Gets a one-line description and the record. */
  error(message: string, record: ErrorRecord): void;
}

/** Options for {@linkcode Harness} and {@linkcode harness}. */
export interface HarnessOptions {
  /**
   * The harness's name, in snapshots and log lines. For `harness(fn)` the
   * default is `fn`'s name.
   *
   * @default {"harness"}
   */
  name?: string;
  /**
   * How many of the most recent recorded errors to keep, an integer >= 1.
   *
   * @default {20}
   */
  ringSize?: number;
  /**
   * The ratio (0..1) of errors to record and report. Counts always include
   * every error; sampling only thins out the ring and the reports.
   *
   * @default {1}
   */
  sampleRatio?: number;
  /**
   * Where sampling draws its numbers in [0, 1) from; inject a seeded one in
   * tests. Not called when `sampleRatio` is 0 or 1.
   *
   * @default {Math.random}
   */
  random?: () => number;
  /**
   * The clock that dates each record. The default reads `Date.now()`, epoch
   * milliseconds, to line records up with logs; any dyno `Clock` will do.
   *
   * @default {{ now: Date.now }}
   */
  clock?: HarnessClock;
  /**
   * Whether records keep a summary of the call's arguments: `true` for a
   * short built-in one (strings cut to 32 characters, numbers and other
   * primitives as they are, objects by constructor name only, never their
   * contents), or a function that makes the summary.
   *
   * @default {false}
   */
  recordArgs?: boolean | ((args: readonly unknown[]) => unknown);
  /** Called with each recorded error. Its throw is counted and ignored. */
  onError?: (record: ErrorRecord) => void;
  /** Gets a line for each recorded error. Its throw is counted and ignored. */
  logger?: HarnessLogger;
}

/** What a harness has seen, from {@linkcode Harness.snapshot}. */
export interface HarnessSnapshot {
  /** The harness's name. */
  readonly name: string;
  /** Calls made through the harness. */
  readonly calls: number;
  /** Errors seen, sampled or not. */
  readonly errors: number;
  /** Errors recorded in the ring and reported (the sampled ones). */
  readonly sampled: number;
  /** Throws from `onError`, `logger`, `recordArgs`, `random` or `clock`. */
  readonly hookFailures: number;
  /** Errors seen per kind (see {@linkcode ErrorRecord.kind}). */
  readonly counts: Readonly<Record<string, number>>;
  /** The most recent recorded errors, oldest first. */
  readonly recent: readonly ErrorRecord[];
}

/** A {@linkcode HarnessSnapshot} as JSON, from {@linkcode Harness.toJSON}. */
export interface HarnessJSON extends Omit<HarnessSnapshot, "recent"> {
  /** The most recent recorded errors, oldest first. */
  readonly recent: readonly ErrorRecordJSON[];
}

/** What {@linkcode Harness.execute} hands to the operation it runs. */
export interface HarnessContext {
  /** The caller's signal, passed through unchanged. */
  readonly signal?: AbortSignal;
}

/**
 * A function wrapped by {@linkcode harness}, with its harness at hand.
 *
 * @example Reaching the harness of a wrapped function
 * ```ts
 * import { harness, type Harnessed } from "@dyno/dyno/harness";
 * import assert from "node:assert/strict";
 *
 * const half: Harnessed<[number], number> = harness((n: number) => n / 2);
 * assert.equal(half(4), 2);
 * assert.equal(half.harness.snapshot().calls, 1);
 * ```
 */
export type Harnessed<A extends unknown[], R, T = unknown> =
  & ((this: T, ...args: A) => R)
  & { readonly harness: Harness };

/** How many distinct kinds are counted; the rest count as `"(other)"`. */
const MAX_KINDS = 100;

const wallClock: HarnessClock = { now: () => Date.now() };

/**
 * Records and reports the errors of the calls it wraps, then lets them go on
 * unchanged: a synchronous throw is rethrown synchronously and a rejection
 * rejects the returned promise, both with the same object and stack. One
 * harness can wrap many functions that then share its counts and ring.
 *
 * Nothing the harness calls (reporters, `recordArgs`, `random`, `clock`) can
 * change what the caller sees: their throws are counted in `hookFailures`.
 * The ring holds the error objects themselves, so up to `ringSize` errors
 * (and what they reference) stay in memory until they leave the ring or
 * {@linkcode Harness.reset} runs.
 *
 * @example One harness around two functions
 * ```ts
 * import { Harness } from "@dyno/dyno/harness";
 * import { ManualClock } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const clock = new ManualClock(1_000);
 * const errors = new Harness({
 *   name: "storage",
 *   clock,
 *   onError: (record) => seen.push(`${record.where}: ${record.message}`),
 * });
 * const read = errors.wrap(async (key: string): Promise<string> => {
 *   throw new Error(`cannot read ${key}`);
 * }, "read");
 * const write = errors.wrap((key: string) => {
 *   throw new TypeError(`cannot write ${key}`);
 * }, "write");
 *
 * await assert.rejects(read("a"), { message: "cannot read a" });
 * assert.throws(() => write("b"), TypeError);
 *
 * assert.deepEqual(seen, ["read: cannot read a", "write: cannot write b"]);
 * const snapshot = errors.snapshot();
 * assert.deepEqual(snapshot.counts, { Error: 1, TypeError: 1 });
 * assert.equal(snapshot.recent[1].atMs, 1_000);
 * assert.equal(snapshot.recent[1].via, "throw");
 * ```
 */
export class Harness {
  readonly #recorder: Recorder;

  /**
   * Makes a harness; nothing is recorded until a call fails.
   *
   * @throws {RangeError} If `ringSize` is not an integer >= 1 or
   * `sampleRatio` is not in [0, 1].
   * @throws {TypeError} If another option has the wrong type.
   */
  constructor(options: HarnessOptions = {}) {
    this.#recorder = new Recorder(checkOptions(options));
  }

  /** The harness's name. */
  get name(): string {
    return this.#recorder.settings.name;
  }

  /**
   * Returns a function of the same signature as `fn` (`this` and `length`
   * included) whose errors this harness records. `name` says where in the
   * records; it defaults to `fn`'s name.
   *
   * A result with a `then` method is treated as a promise: the caller gets
   * the promise that its `then` returns, which settles like it.
   *
   * @example Wrapping a method
   * ```ts
   * import { Harness } from "@dyno/dyno/harness";
   * import assert from "node:assert/strict";
   *
   * const errors = new Harness();
   * const account = {
   *   balance: 10,
   *   withdraw(amount: number) {
   *     if (amount > this.balance) throw new RangeError("insufficient funds");
   *     return (this.balance -= amount);
   *   },
   * };
   * account.withdraw = errors.wrap(account.withdraw);
   *
   * assert.equal(account.withdraw(3), 7);
   * assert.throws(() => account.withdraw(50), RangeError);
   * assert.equal(errors.snapshot().recent[0].where, "withdraw");
   * ```
   */
  wrap<A extends unknown[], R, T = unknown>(
    fn: (this: T, ...args: A) => R,
    name?: string,
  ): (this: T, ...args: A) => R {
    if (typeof fn !== "function") {
      throw new TypeError(
        `Harness.wrap: fn must be a function, got ${show(fn)}`,
      );
    }
    if (name !== undefined && typeof name !== "string") {
      throw new TypeError(
        `Harness.wrap: name must be a string, got ${show(name)}`,
      );
    }
    const where = name ?? (fn.name || "anonymous");
    const recorder = this.#recorder;

    const harnessed = function harnessed(this: T, ...args: A): R {
      recorder.calls++;
      let result: R;
      try {
        result = fn.apply(this, args);
      } catch (error) {
        recorder.capture(error, where, args, "throw");
        throw error;
      }

      if (!isPromiseLike(result)) return result;
      return result.then(undefined, (error: unknown) => {
        recorder.capture(error, where, args, "rejection");
        throw error;
      }) as R;
    };
    return Object.defineProperty(harnessed, "length", { value: fn.length });
  }

  /**
   * Runs `operation` with `{ signal }` and records its error, sync or async,
   * before the returned promise rejects with it. An already-aborted `signal`
   * rejects at once with `signal.reason`, and records nothing. The record's
   * `where` is the operation's name, else `"execute"`.
   *
   * @example Recording the error of one operation
   * ```ts
   * import { Harness } from "@dyno/dyno/harness";
   * import assert from "node:assert/strict";
   *
   * const errors = new Harness();
   * const failure = new Error("disk full");
   * const caught = await errors.execute(() => {
   *   throw failure;
   * }).catch((error) => error);
   *
   * assert.equal(caught, failure);
   * assert.equal(errors.snapshot().errors, 1);
   * ```
   */
  execute<T>(
    operation: (context: HarnessContext) => T | PromiseLike<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const where = operation.name || "execute";
    const recorder = this.#recorder;

    recorder.calls++;
    let result: T | PromiseLike<T>;
    try {
      result = operation({ signal });
    } catch (error) {
      recorder.capture(error, where, [], "throw");
      return Promise.reject(error);
    }

    return Promise.resolve(result).then(undefined, (error: unknown) => {
      recorder.capture(error, where, [], "rejection");
      throw error;
    });
  }

  /**
   * Records an error caught elsewhere as if a wrapped call had thrown it,
   * sampling and reporting included. Never throws.
   *
   * @example Recording from a catch block
   * ```ts
   * import { Harness } from "@dyno/dyno/harness";
   * import assert from "node:assert/strict";
   *
   * const errors = new Harness();
   * try {
   *   JSON.parse("{");
   * } catch (error) {
   *   errors.record(error, "parse config");
   * }
   * assert.deepEqual(errors.snapshot().counts, { SyntaxError: 1 });
   * ```
   */
  record(error: unknown, where = "record"): void {
    this.#recorder.capture(error, where, [], "throw");
  }

  /**
   * Copies what the harness has seen: totals, counts per kind and the ring,
   * oldest first, with the error objects themselves.
   *
   * @example Reading the counts
   * ```ts
   * import { Harness } from "@dyno/dyno/harness";
   * import assert from "node:assert/strict";
   *
   * const errors = new Harness({ name: "db" });
   * errors.record(new TypeError("x"));
   * errors.record("plain string");
   *
   * const snapshot = errors.snapshot();
   * assert.equal(snapshot.name, "db");
   * assert.deepEqual(snapshot.counts, { TypeError: 1, string: 1 });
   * assert.equal(snapshot.recent[1].error, "plain string");
   * ```
   */
  snapshot(): HarnessSnapshot {
    const recorder = this.#recorder;

    return {
      name: recorder.settings.name,
      calls: recorder.calls,
      errors: recorder.errors,
      sampled: recorder.sampled,
      hookFailures: recorder.hookFailures,
      counts: Object.fromEntries(recorder.counts),
      recent: recorder.recent(),
    };
  }

  /**
   * The snapshot as JSON-ready data: each record's error object gives way to
   * its `stack`, so `JSON.stringify(harness)` gives something worth reading.
   *
   * @example Serialising a harness
   * ```ts
   * import { Harness } from "@dyno/dyno/harness";
   * import assert from "node:assert/strict";
   *
   * const errors = new Harness();
   * errors.record(new Error("boom"), "job");
   *
   * const json = JSON.parse(JSON.stringify(errors));
   * assert.equal(json.recent[0].message, "boom");
   * assert.match(json.recent[0].stack, /boom/);
   * ```
   */
  toJSON(): HarnessJSON {
    const { recent, ...totals } = this.snapshot();

    return { ...totals, recent: recent.map(recordToJSON) };
  }

  /**
   * Forgets everything: totals, counts and the ring.
   *
   * @example Starting over
   * ```ts
   * import { Harness } from "@dyno/dyno/harness";
   * import assert from "node:assert/strict";
   *
   * const errors = new Harness();
   * errors.record(new Error("old"));
   * errors.reset();
   * assert.equal(errors.snapshot().errors, 0);
   * assert.deepEqual(errors.snapshot().recent, []);
   * ```
   */
  reset(): void {
    this.#recorder.reset();
  }
}

/**
 * Wraps `fn` in a new {@linkcode Harness} of its own; the returned function
 * has the signature of `fn` and carries the harness as `.harness`.
 *
 * @throws {RangeError} If `ringSize` is not an integer >= 1 or
 * `sampleRatio` is not in [0, 1].
 * @throws {TypeError} If `fn` is not a function or an option has the wrong
 * type.
 *
 * @example Watching an async call, sampled, with a logger
 * ```ts
 * import { harness } from "@dyno/dyno/harness";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const fetchScore = harness(async (player: string): Promise<number> => {
 *   throw new Error(`no score for ${player}`);
 * }, {
 *   name: "scores",
 *   sampleRatio: 1,
 *   recordArgs: true,
 *   logger: { error: (line) => lines.push(line) },
 * });
 *
 * await assert.rejects(fetchScore("ada"), { message: "no score for ada" });
 * assert.deepEqual(lines, [
 *   "scores: anonymous rejected with Error: no score for ada",
 * ]);
 * assert.deepEqual(fetchScore.harness.snapshot().recent[0].args, ['"ada"']);
 * ```
 */
export function harness<A extends unknown[], R, T = unknown>(
  fn: (this: T, ...args: A) => R,
  options: HarnessOptions = {},
): Harnessed<A, R, T> {
  if (typeof fn !== "function") {
    throw new TypeError(`harness: fn must be a function, got ${show(fn)}`);
  }
  const named = options !== null && typeof options === "object" &&
      options.name === undefined && fn.name !== ""
    ? { ...options, name: fn.name }
    : options;
  const owner = new Harness(named);
  const wrapped = owner.wrap(fn);

  return Object.defineProperty(wrapped, "harness", { value: owner }) as
    & typeof wrapped
    & { readonly harness: Harness };
}

/** The state behind a {@linkcode Harness}: totals, counts and the ring. */
class Recorder {
  readonly settings: HarnessSettings;
  calls = 0;
  errors = 0;
  sampled = 0;
  hookFailures = 0;
  counts = new Map<string, number>();
  #ring: ErrorRecord[] = [];
  #oldest = 0;

  constructor(settings: HarnessSettings) {
    this.settings = settings;
  }

  capture(
    error: unknown,
    where: string,
    args: readonly unknown[],
    via: ErrorVia,
  ): void {
    const kind = kindOf(error);
    this.errors++;
    this.#count(kind);

    const record = this.#sampleRecord(error, kind, where, args, via);
    if (record === undefined) return;

    this.sampled++;
    this.#keep(record);
    this.#report(record);
  }

  recent(): ErrorRecord[] {
    const ring = this.#ring;

    return [...ring.slice(this.#oldest), ...ring.slice(0, this.#oldest)];
  }

  reset(): void {
    this.calls = 0;
    this.errors = 0;
    this.sampled = 0;
    this.hookFailures = 0;
    this.counts = new Map();
    this.#ring = [];
    this.#oldest = 0;
  }

  #count(kind: string): void {
    const counts = this.counts;
    const key = counts.size < MAX_KINDS || counts.has(kind) ? kind : "(other)";
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  #sampleRecord(
    error: unknown,
    kind: string,
    where: string,
    args: readonly unknown[],
    via: ErrorVia,
  ): ErrorRecord | undefined {
    const { sampleRatio, random, clock, summarize } = this.settings;
    try {
      if (sampleRatio <= 0) return undefined;
      if (sampleRatio < 1 && !(random() < sampleRatio)) return undefined;

      return Object.freeze({
        error,
        kind,
        message: messageOf(error),
        where,
        atMs: clock.now(),
        via,
        args: summarize === undefined ? undefined : this.#summary(args),
      });
    } catch {
      this.hookFailures++;
      return undefined;
    }
  }

  #summary(args: readonly unknown[]): unknown {
    try {
      return this.settings.summarize!(args);
    } catch {
      this.hookFailures++;
      return undefined;
    }
  }

  #keep(record: ErrorRecord): void {
    const { ringSize } = this.settings;
    if (this.#ring.length < ringSize) {
      this.#ring.push(record);
      return;
    }

    this.#ring[this.#oldest] = record;
    this.#oldest = (this.#oldest + 1) % ringSize;
  }

  #report(record: ErrorRecord): void {
    const { onError, logger, name } = this.settings;
    if (onError !== undefined) {
      try {
        onError(record);
      } catch {
        this.hookFailures++;
      }
    }

    if (logger !== undefined) {
      const verb = record.via === "throw" ? "threw" : "rejected with";
      const line =
        `${name}: ${record.where} ${verb} ${record.kind}: ${record.message}`;
      try {
        logger.error(line, record);
      } catch {
        this.hookFailures++;
      }
    }
  }
}

interface HarnessSettings {
  name: string;
  ringSize: number;
  sampleRatio: number;
  random: () => number;
  clock: HarnessClock;
  summarize: ((args: readonly unknown[]) => unknown) | undefined;
  onError: ((record: ErrorRecord) => void) | undefined;
  logger: HarnessLogger | undefined;
}

function checkOptions(options: HarnessOptions): HarnessSettings {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Harness: options must be an object, got ${show(options)}`,
    );
  }
  const {
    name = "harness",
    ringSize = 20,
    sampleRatio = 1,
    random = Math.random,
    clock = wallClock,
    recordArgs = false,
    onError,
    logger,
  } = options;

  if (typeof name !== "string") fail("name must be a string", name);
  if (!Number.isInteger(ringSize) || ringSize < 1) {
    fail("ringSize must be an integer >= 1", ringSize, rangeOrType(ringSize));
  }
  if (
    typeof sampleRatio !== "number" || !(sampleRatio >= 0 && sampleRatio <= 1)
  ) {
    fail(
      "sampleRatio must be a ratio in [0, 1]",
      sampleRatio,
      rangeOrType(sampleRatio),
    );
  }
  if (typeof random !== "function") fail("random must be a function", random);
  if (typeof clock?.now !== "function") {
    fail("clock must have a now() method", clock);
  }
  if (typeof recordArgs !== "boolean" && typeof recordArgs !== "function") {
    fail("recordArgs must be a boolean or a function", recordArgs);
  }
  if (onError !== undefined && typeof onError !== "function") {
    fail("onError must be a function", onError);
  }
  if (logger !== undefined && typeof logger?.error !== "function") {
    fail("logger must have an error() method", logger);
  }

  const summarize = recordArgs === true
    ? summarizeArgs
    : recordArgs === false
    ? undefined
    : recordArgs;
  return {
    name,
    ringSize,
    sampleRatio,
    random,
    clock,
    summarize,
    onError,
    logger,
  };
}

function rangeOrType(value: unknown): typeof RangeError | typeof TypeError {
  return typeof value === "number" ? RangeError : TypeError;
}

function fail(
  problem: string,
  value: unknown,
  ErrorClass: typeof TypeError | typeof RangeError = TypeError,
): never {
  throw new ErrorClass(`Harness: ${problem}, got ${show(value)}`);
}

function summarizeArgs(args: readonly unknown[]): string[] {
  return args.map(summarizeValue);
}

function summarizeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(
        value.length > 32 ? `${value.slice(0, 32)}…` : value,
      );
    case "bigint":
      return `${value}n`;
    case "function":
      return `[Function ${value.name || "anonymous"}]`;
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return `Array(${value.length})`;
      return constructorName(value) ?? "Object";
    default:
      return String(value);
  }
}

function kindOf(error: unknown): string {
  if (error === null) return "null";
  if (typeof error !== "object") return typeof error;

  try {
    const name = (error as { name?: unknown }).name;
    if (typeof name === "string" && name !== "" && name !== "Error") {
      return name;
    }
    return constructorName(error) ?? (name === "Error" ? name : "Object");
  } catch {
    return "Object";
  }
}

function messageOf(error: unknown): string {
  if (typeof error !== "object" || error === null) return String(error);

  try {
    const message = (error as { message?: unknown }).message;
    return typeof message === "string" ? message : "";
  } catch {
    return "";
  }
}

function constructorName(value: object): string | undefined {
  try {
    const name = (value as { constructor?: { name?: unknown } }).constructor
      ?.name;
    return typeof name === "string" && name !== "" ? name : undefined;
  } catch {
    return undefined;
  }
}

function recordToJSON(record: ErrorRecord): ErrorRecordJSON {
  const { error: _error, ...fields } = record;

  return { ...fields, stack: stackOf(record.error) };
}

function stackOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;

  try {
    const stack = (error as { stack?: unknown }).stack;
    return typeof stack === "string" ? stack : undefined;
  } catch {
    return undefined;
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function";
}
