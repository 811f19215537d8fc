/**
 * Where one request's time went: named instants and (nested) intervals,
 * reported as a text table or as a `Server-Timing` header value.
 *
 * A {@linkcode Timing} belongs to one request and is carried explicitly, as
 * an argument, to whatever the request calls; there is no ambient context.
 *
 * @example Timing a request handler
 * ```ts
 * import { Timing } from "@dyno/dyno/timing";
 * import { ManualClock } from "@dyno/dyno/testing";
 * import assert from "node:assert/strict";
 *
 * const clock = new ManualClock();
 * const timing = new Timing({ clock });
 * {
 *   using _db = timing.start("db", { desc: "users by id" });
 *   await clock.advance(12.5);
 * }
 * timing.mark("cache-miss");
 *
 * assert.equal(
 *   timing.serverTiming(),
 *   'db;dur=12.5;desc="users by id", cache-miss',
 * );
 * ```
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";

export type { Clock } from "./clock.ts";

/** Options for {@linkcode Timing}. */
export interface TimingOptions {
  /**
   * Where time comes from.
   *
   * @default {systemClock}
   */
  clock?: Clock;
  /**
   * Also write every instant as a User Timing mark and every finished
   * interval as a measure, where `performance.mark` exists. They then show
   * in browser and Deno profilers, and stay in the performance timeline
   * until `performance.clearMarks()` / `clearMeasures()`: leave this off
   * on servers unless you clear them.
   *
   * @default {false}
   */
  userTiming?: boolean;
  /**
   * The most entries kept; later ones are counted in
   * {@linkcode Timing.dropped} but not kept, so a loop cannot grow a
   * header without bound. A positive integer.
   *
   * @default {100}
   */
  maxEntries?: number;
}

/** Options for one instant or interval. */
export interface TimingEntryOptions {
  /** A human description, shown in the report and as Server-Timing `desc`. */
  desc?: string;
}

/** One instant or interval, as {@linkcode Timing.entries} reports it. */
export interface TimingEntry {
  /** The name it was given. */
  readonly name: string;
  /** An instant (`"event"`) or a span of time (`"interval"`). */
  readonly kind: "event" | "interval";
  /** When it started, in milliseconds since the timing was created. */
  readonly startMs: number;
  /** How long it lasted; so far when still running; 0 for an event. */
  readonly durationMs: number;
  /** Whether it is an interval that has not been stopped. */
  readonly running: boolean;
  /** How many intervals it is nested in. */
  readonly depth: number;
  /** Its description, if any. */
  readonly desc: string | undefined;
}

interface Entry {
  readonly name: string;
  readonly kind: "event" | "interval";
  readonly startMs: number;
  endMs: number | undefined;
  readonly parent: Entry | undefined;
  readonly depth: number;
  readonly desc: string | undefined;
  readonly children: Entry[];
  readonly kept: boolean;
}

/**
 * A running interval of a {@linkcode Timing}, from {@linkcode Timing.start}.
 * Stop it by hand, or declare it with `using` to stop it when the scope
 * ends.
 */
export interface TimingInterval extends Disposable {
  /** The interval's name. */
  readonly name: string;
  /** Whether it has not been stopped yet. */
  readonly running: boolean;
  /**
   * Stops the interval and returns its duration in milliseconds. Stopping
   * again changes nothing and returns the same duration.
   */
  stop(): number;
  /**
   * Starts an interval nested in this one, whichever intervals are open:
   * the way to nest work that runs concurrently.
   *
   * @throws {TypeError} If `name` is not a non-empty string or `desc` not a
   * string.
   */
  start(name: string, options?: TimingEntryOptions): TimingInterval;
}

/**
 * The timings of one request: instants ({@linkcode Timing.mark}) and
 * intervals ({@linkcode Timing.start}, {@linkcode Timing.time},
 * {@linkcode Timing.record}), all relative to the moment it was made.
 *
 * An interval started from the `Timing` nests in the most recently started
 * interval that is still running; for concurrent work, start children from
 * their parent ({@linkcode TimingInterval.start}) instead.
 *
 * Names may be any non-empty string. In the `Server-Timing` header each
 * character that is not a token character becomes `_` (so `db query` is sent
 * as `db_query`); descriptions are quoted and escaped, and characters that a
 * header cannot carry (controls, non-ASCII) become `?`.
 *
 * @example Setting the Server-Timing header
 * ```ts
 * import { Timing } from "@dyno/dyno/timing";
 * import assert from "node:assert/strict";
 *
 * const timing = new Timing();
 * const users = await timing.time("db", () => Promise.resolve(["ada"]));
 * const response = Response.json(users, {
 *   headers: { "Server-Timing": timing.serverTiming() },
 * });
 * assert.match(response.headers.get("server-timing")!, /^db;dur=[\d.]+$/);
 * ```
 */
export class Timing {
  #clock: Clock;
  #userTiming: boolean;
  #maxEntries: number;
  #originMs: number;
  #entries: Entry[] = [];
  #roots: Entry[] = [];
  #open: Entry[] = [];
  #dropped = 0;

  /**
   * Starts timing now: reads the clock once, starts no timer.
   *
   * @throws {RangeError} If `maxEntries` is not a positive integer.
   */
  constructor(options: TimingOptions = {}) {
    const maxEntries = options.maxEntries ?? 100;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(
        `Timing: maxEntries must be a positive integer, got ${
          String(maxEntries)
        }`,
      );
    }

    this.#clock = options.clock ?? systemClock;
    this.#userTiming = options.userTiming === true &&
      typeof performance !== "undefined" &&
      typeof performance.mark === "function" &&
      typeof performance.measure === "function";
    this.#maxEntries = maxEntries;
    this.#originMs = this.#clock.now();
  }

  /** How many entries were not kept because of `maxEntries`. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Milliseconds since the timing was made. */
  elapsedMs(): number {
    return this.#clock.now() - this.#originMs;
  }

  /**
   * Notes an instant, such as a cache miss.
   *
   * @throws {TypeError} If `name` is not a non-empty string or `desc` not a
   * string.
   */
  mark(name: string, options?: TimingEntryOptions): void {
    const nowMs = this.#clock.now();
    const entry = this.#add(name, "event", nowMs, options, this.#innermost());
    if (entry) entry.endMs = nowMs;
    if (entry && this.#userTiming) writeMark(entry, nowMs);
  }

  /**
   * Starts an interval, nested in the innermost running one. Stop it with
   * {@linkcode TimingInterval.stop} or a `using` declaration.
   *
   * @example Stopping by hand and by scope
   * ```ts
   * import { Timing } from "@dyno/dyno/timing";
   * import { ManualClock } from "@dyno/dyno/testing";
   * import assert from "node:assert/strict";
   *
   * const clock = new ManualClock();
   * const timing = new Timing({ clock });
   * const render = timing.start("render");
   * {
   *   using _ = render.start("template");
   *   await clock.advance(3);
   * }
   * await clock.advance(1);
   * assert.equal(render.stop(), 4);
   * assert.deepEqual(
   *   timing.entries().map((entry) => [entry.name, entry.depth, entry.durationMs]),
   *   [["render", 0, 4], ["template", 1, 3]],
   * );
   * ```
   *
   * @throws {TypeError} If `name` is not a non-empty string or `desc` not a
   * string.
   */
  start(name: string, options?: TimingEntryOptions): TimingInterval {
    return this.#startUnder(name, options, this.#innermost());
  }

  /**
   * Runs `fn` inside an interval named `name`, which stops when `fn`
   * returns or throws, or, when it returns a promise, when that settles.
   * Returns what `fn` returns.
   *
   * @throws {TypeError} If `name` is not a non-empty string or `desc` not a
   * string.
   */
  time<T>(
    name: string,
    fn: (interval: TimingInterval) => T,
    options?: TimingEntryOptions,
  ): T {
    const interval = this.start(name, options);
    let result: T;
    try {
      result = fn(interval);
    } catch (error) {
      interval.stop();
      throw error;
    }
    if (!isPromiseLike(result)) {
      interval.stop();
      return result;
    }

    return Promise.resolve(result).finally(() => interval.stop()) as T;
  }

  /**
   * Adds an interval measured elsewhere, lasting `durationMs` and ending
   * now, nested in the innermost running interval.
   *
   * @throws {RangeError} If `durationMs` is not a number, or is negative,
   * NaN or infinite; nothing is recorded then.
   * @throws {TypeError} If `name` is not a non-empty string or `desc` not a
   * string.
   */
  record(name: string, durationMs: number, options?: TimingEntryOptions): void {
    if (
      !(typeof durationMs === "number" && durationMs >= 0 &&
        durationMs < Infinity)
    ) {
      throw new RangeError(
        `Timing.record: durationMs must be a finite number >= 0, got ${
          String(durationMs)
        }`,
      );
    }

    const endMs = this.#clock.now();
    const startMs = endMs - durationMs;
    const entry = this.#add(
      name,
      "interval",
      startMs,
      options,
      this.#innermost(),
    );
    if (entry) this.#finish(entry, endMs);
  }

  /**
   * Every kept entry in tree order: each interval followed by what is
   * nested in it, siblings by start.
   */
  entries(): TimingEntry[] {
    const nowMs = this.#clock.now();

    return this.#ordered().map((entry) => ({
      name: entry.name,
      kind: entry.kind,
      startMs: entry.startMs - this.#originMs,
      durationMs: (entry.endMs ?? nowMs) - entry.startMs,
      running: entry.endMs === undefined,
      depth: entry.depth,
      desc: entry.desc,
    }));
  }

  /**
   * A text table of the entries, one line each, nested names indented,
   * times in milliseconds with three decimals. Events show `-` for their
   * duration; running intervals show their duration so far and
   * `(running)`.
   *
   * @example A report
   * ```ts
   * import { Timing } from "@dyno/dyno/timing";
   * import { ManualClock } from "@dyno/dyno/testing";
   * import assert from "node:assert/strict";
   *
   * const clock = new ManualClock();
   * const timing = new Timing({ clock });
   * const request = timing.start("request");
   * await clock.advance(2);
   * timing.record("db", 1.5, { desc: "primary" });
   * timing.mark("cache miss");
   * await clock.advance(1);
   * request.stop();
   *
   * assert.equal(
   *   timing.report(),
   *   [
   *     "name          start ms  duration ms  description",
   *     "request          0.000        3.000",
   *     "  db             0.500        1.500  primary",
   *     "  cache miss     2.000            -  (event)",
   *   ].join("\n"),
   * );
   * ```
   */
  report(): string {
    const rows = this.entries().map((entry) => [
      "  ".repeat(entry.depth) + entry.name,
      entry.startMs.toFixed(3),
      entry.kind === "event" ? "-" : entry.durationMs.toFixed(3),
      noteFor(entry),
    ]);
    const header = ["name", "start ms", "duration ms", "description"];
    const widths = header.map((title, column) =>
      Math.max(title.length, ...rows.map((row) => row[column].length))
    );
    const lines = [header, ...rows].map((row) =>
      [
        row[0].padEnd(widths[0]),
        row[1].padStart(widths[1]),
        row[2].padStart(widths[2]),
        row[3],
      ].join("  ").trimEnd()
    );
    if (this.#dropped > 0) {
      lines.push(`(${this.#dropped} more entries not kept)`);
    }

    return lines.join("\n");
  }

  /**
   * The entries as a `Server-Timing` header value (W3C Server Timing):
   * `name;dur=12.5;desc="..."` per entry, comma-separated, in tree order.
   * Events carry no `dur`; running intervals carry their duration so far.
   * Durations have at most three decimals. An empty timing gives `""`.
   *
   * Server-Timing is readable by any script of the page, and by anyone
   * with CORS access when `Timing-Allow-Origin` allows: it can reveal how
   * long private work took, so send it only to whom you trust.
   */
  serverTiming(): string {
    return this.entries().map((entry) => {
      let metric = toToken(entry.name);
      if (entry.kind === "interval") {
        metric += `;dur=${formatDuration(entry.durationMs)}`;
      }
      if (entry.desc !== undefined) metric += `;desc=${quote(entry.desc)}`;

      return metric;
    }).join(", ");
  }

  #startUnder(
    name: string,
    options: TimingEntryOptions | undefined,
    parent: Entry | undefined,
  ): TimingInterval {
    const nowMs = this.#clock.now();
    const entry = this.#add(name, "interval", nowMs, options, parent) ??
      detached(name, nowMs);
    if (entry.kept) this.#open.push(entry);

    return {
      name,
      get running() {
        return entry.endMs === undefined;
      },
      stop: () => this.#stop(entry),
      start: (childName, childOptions) =>
        this.#startUnder(childName, childOptions, entry),
      [Symbol.dispose]: () => {
        this.#stop(entry);
      },
    };
  }

  #stop(entry: Entry): number {
    if (entry.endMs === undefined) this.#finish(entry, this.#clock.now());

    return entry.endMs! - entry.startMs;
  }

  #finish(entry: Entry, endMs: number): void {
    entry.endMs = endMs;
    const index = this.#open.lastIndexOf(entry);
    if (index !== -1) this.#open.splice(index, 1);
    if (this.#userTiming && entry.kept) writeMeasure(entry);
  }

  #add(
    name: string,
    kind: "event" | "interval",
    startMs: number,
    options: TimingEntryOptions | undefined,
    parent: Entry | undefined,
  ): Entry | undefined {
    checkName(name);
    const desc = options?.desc;
    if (desc !== undefined && typeof desc !== "string") {
      throw new TypeError(
        `Timing: desc must be a string, got ${typeof desc}`,
      );
    }
    if (this.#entries.length >= this.#maxEntries) {
      this.#dropped++;
      return undefined;
    }

    const entry: Entry = {
      name,
      kind,
      startMs,
      endMs: undefined,
      parent,
      depth: parent ? parent.depth + 1 : 0,
      desc,
      children: [],
      kept: true,
    };
    this.#entries.push(entry);
    (parent ? parent.children : this.#roots).push(entry);

    return entry;
  }

  #innermost(): Entry | undefined {
    return this.#open[this.#open.length - 1];
  }

  #ordered(): Entry[] {
    const ordered: Entry[] = [];
    const visit = (entries: Entry[]) => {
      const byStart = [...entries].sort((a, b) => a.startMs - b.startMs);
      for (const entry of byStart) {
        ordered.push(entry);
        visit(entry.children);
      }
    };
    visit(this.#roots);

    return ordered;
  }
}

function detached(name: string, startMs: number): Entry {
  return {
    name,
    kind: "interval",
    startMs,
    endMs: undefined,
    parent: undefined,
    depth: 0,
    desc: undefined,
    children: [],
    kept: false,
  };
}

function checkName(name: unknown): void {
  if (typeof name === "string" && name.length > 0) return;

  throw new TypeError(
    `Timing: name must be a non-empty string, got ${
      typeof name === "string" ? '""' : typeof name
    }`,
  );
}

function noteFor(entry: TimingEntry): string {
  const notes = [];
  if (entry.kind === "event") notes.push("(event)");
  if (entry.running) notes.push("(running)");
  if (entry.desc !== undefined) notes.push(entry.desc);

  return notes.join(" ");
}

const NOT_TOKEN = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/gu;
const NOT_QUOTABLE = /[^\t\x20-\x7e]/gu;

function toToken(name: string): string {
  return name.replace(NOT_TOKEN, "_");
}

function quote(text: string): string {
  const printable = text.replace(NOT_QUOTABLE, "?");

  return `"${printable.replace(/["\\]/g, "\\$&")}"`;
}

function formatDuration(durationMs: number): string {
  return String(Number(durationMs.toFixed(3)));
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

function writeMark(entry: Entry, atMs: number): void {
  try {
    performance.mark(entry.name, { startTime: atMs, detail: entry.desc });
  } catch {
    // User Timing is a best-effort mirror: a rejected mark changes nothing.
  }
}

function writeMeasure(entry: Entry): void {
  try {
    performance.measure(entry.name, {
      start: entry.startMs,
      end: entry.endMs,
      detail: entry.desc,
    });
  } catch {
    // User Timing is a best-effort mirror: a rejected measure changes nothing.
  }
}
