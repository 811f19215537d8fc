/**
 * The breaker's health windows: the calls of the last `windowMs` cut into
 * buckets, or the last `size` calls. Both keep running totals, so recording a
 * call and reading the rates cost O(1).
 *
 * @module
 */

import type { BreakerBucketCounts } from "./breaker.ts";

/** An outcome as two bits: bit 0 set for a failure, bit 1 for a slow call. */
export type Outcome = 0 | 1 | 2 | 3;

/** The outcome bit of a failure. */
export const FAILED = 1;
/** The outcome bit of a slow call. */
export const SLOW = 2;

/** What both windows offer the breaker. */
export interface HealthWindow {
  /** Calls in the window. */
  readonly calls: number;
  /** Failed calls in the window. */
  readonly failures: number;
  /** Slow calls in the window. */
  readonly slowCalls: number;
  /** Adds one call's outcome. */
  record(outcome: Outcome): void;
  /** Moves the window to `nowMs`, dropping what fell out of it. */
  advance(nowMs: number): void;
  /** Forgets every call. */
  clear(): void;
}

/**
 * The calls of the last `buckets * bucketMs` milliseconds. Buckets are aligned
 * to multiples of `bucketMs` on the clock; a call lands in the bucket of the
 * last `advance`, and the window covers the current bucket and the
 * `buckets - 1` before it.
 */
export class TimeWindow implements HealthWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  readonly bucketMs: number;
  readonly size: number;
  #calls: Float64Array;
  #failures: Float64Array;
  #slowCalls: Float64Array;
  #index = Number.NaN;
  #position = 0;

  constructor(windowMs: number, buckets: number) {
    this.bucketMs = windowMs / buckets;
    this.size = buckets;
    this.#calls = new Float64Array(buckets);
    this.#failures = new Float64Array(buckets);
    this.#slowCalls = new Float64Array(buckets);
  }

  record(outcome: Outcome): void {
    const position = this.#position;
    this.#calls[position]++;
    this.calls++;
    if (outcome === 0) return;

    if (outcome & FAILED) {
      this.#failures[position]++;
      this.failures++;
    }
    if (outcome & SLOW) {
      this.#slowCalls[position]++;
      this.slowCalls++;
    }
  }

  advance(nowMs: number): void {
    const index = Math.floor(nowMs / this.bucketMs);
    if (index <= this.#index) return;

    const steps = index - this.#index;
    if (!(steps < this.size)) {
      this.clear();
    } else {
      for (let step = 1; step <= steps; step++) {
        this.#drop(this.#positionOf(this.#index + step));
      }
    }
    this.#index = index;
    this.#position = this.#positionOf(index);
  }

  clear(): void {
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.#slowCalls.fill(0);
    this.calls = 0;
    this.failures = 0;
    this.slowCalls = 0;
  }

  /** The buckets' counts, newest (the current bucket) first. */
  toJSON(): BreakerBucketCounts[] {
    const buckets: BreakerBucketCounts[] = [];
    for (let age = 0; age < this.size; age++) {
      const position = this.#positionOf(this.#index - age);
      buckets.push({
        calls: this.#calls[position],
        failures: this.#failures[position],
        slowCalls: this.#slowCalls[position],
      });
    }

    return buckets;
  }

  /** Loads counts from {@linkcode TimeWindow.toJSON}, age 0 at `nowMs`. */
  restore(nowMs: number, buckets: readonly BreakerBucketCounts[]): void {
    this.clear();
    this.advance(nowMs);
    buckets.slice(0, this.size).forEach((bucket, age) => {
      const position = this.#positionOf(this.#index - age);
      this.#calls[position] = bucket.calls;
      this.#failures[position] = bucket.failures;
      this.#slowCalls[position] = bucket.slowCalls;
      this.calls += bucket.calls;
      this.failures += bucket.failures;
      this.slowCalls += bucket.slowCalls;
    });
  }

  #positionOf(index: number): number {
    const position = index % this.size;
    return position < 0 ? position + this.size : position;
  }

  #drop(position: number): void {
    this.calls -= this.#calls[position];
    this.failures -= this.#failures[position];
    this.slowCalls -= this.#slowCalls[position];
    this.#calls[position] = 0;
    this.#failures[position] = 0;
    this.#slowCalls[position] = 0;
  }
}

/** The outcomes of the last `size` calls, in a ring. */
export class CountWindow implements HealthWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  readonly size: number;
  #outcomes: Uint8Array;
  #next = 0;

  constructor(size: number) {
    this.size = size;
    this.#outcomes = new Uint8Array(size);
  }

  record(outcome: Outcome): void {
    const position = this.#next;
    if (this.calls === this.size) {
      const old = this.#outcomes[position];
      this.failures -= old & FAILED;
      this.slowCalls -= old >> 1;
    } else {
      this.calls++;
    }
    this.#outcomes[position] = outcome;
    this.failures += outcome & FAILED;
    this.slowCalls += outcome >> 1;
    this.#next = position + 1 === this.size ? 0 : position + 1;
  }

  advance(): void {}

  clear(): void {
    this.calls = 0;
    this.failures = 0;
    this.slowCalls = 0;
    this.#next = 0;
  }

  /** The outcomes in the window, oldest first. */
  toJSON(): Outcome[] {
    const outcomes: Outcome[] = [];
    const first = this.calls === this.size ? this.#next : 0;
    for (let offset = 0; offset < this.calls; offset++) {
      outcomes.push(this.#outcomes[(first + offset) % this.size] as Outcome);
    }

    return outcomes;
  }

  /** Loads outcomes from {@linkcode CountWindow.toJSON}, keeping the newest. */
  restore(outcomes: readonly Outcome[]): void {
    this.clear();
    for (const outcome of outcomes.slice(-this.size)) this.record(outcome);
  }
}
