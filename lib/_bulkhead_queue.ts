/**
 * The bulkhead's wait queue: a doubly linked list, so that a caller who gives
 * up (abort, queue timeout) leaves it in O(1) wherever it stands.
 *
 * @module
 */

/** A caller waiting for a permit, linked into a {@linkcode WaitQueue}. */
export class Waiter {
  /** The neighbour nearer the head, while linked. */
  previous: Waiter | undefined = undefined;
  /** The neighbour nearer the tail, while linked. */
  next: Waiter | undefined = undefined;
  /** Whether the waiter is still in a queue. */
  linked = false;
  /** The queue timer, while one runs. */
  timer: unknown = undefined;
  /** The abort listener on {@linkcode Waiter.signal}, while one is added. */
  onAbort: (() => void) | undefined = undefined;

  /** Records what to run and how to settle the caller's promise. */
  constructor(
    readonly operation: (context: { signal?: AbortSignal }) => unknown,
    readonly signal: AbortSignal | undefined,
    readonly resolve: (value: unknown) => void,
    readonly reject: (reason: unknown) => void,
  ) {}
}

/** A FIFO of {@linkcode Waiter}s with O(1) push, shift and removal. */
export class WaitQueue {
  #head: Waiter | undefined = undefined;
  #tail: Waiter | undefined = undefined;
  #size = 0;

  /** How many waiters are linked. */
  get size(): number {
    return this.#size;
  }

  /** Appends `waiter` at the tail. */
  push(waiter: Waiter): void {
    waiter.previous = this.#tail;
    waiter.next = undefined;
    waiter.linked = true;
    if (this.#tail === undefined) this.#head = waiter;
    else this.#tail.next = waiter;
    this.#tail = waiter;
    this.#size++;
  }

  /** Unlinks and returns the head, or `undefined` when empty. */
  shift(): Waiter | undefined {
    const head = this.#head;
    if (head !== undefined) this.remove(head);

    return head;
  }

  /** Unlinks `waiter`; returns false when it was not linked. */
  remove(waiter: Waiter): boolean {
    if (!waiter.linked) return false;

    const { previous, next } = waiter;
    if (previous === undefined) this.#head = next;
    else previous.next = next;
    if (next === undefined) this.#tail = previous;
    else next.previous = previous;

    waiter.previous = undefined;
    waiter.next = undefined;
    waiter.linked = false;
    this.#size--;
    return true;
  }
}
