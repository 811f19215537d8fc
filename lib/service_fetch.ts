/**
 * A ready {@linkcode service} around `fetch`: responses with a failing
 * status count as failures, `Retry-After` sets the next retry's delay and the
 * breaker's open time, and the bodies of failed attempts are released.
 *
 * @module
 */

import {
  service,
  type ServiceFunction,
  type ServiceOptions,
} from "./service.ts";

/** The arguments of `fetch`. */
export type FetchArgs = [input: RequestInfo | URL, init?: RequestInit];

/** Options for {@linkcode serviceFetch}. */
export interface ServiceFetchOptions
  extends
    Omit<ServiceOptions<FetchArgs, Response>, "signalFrom" | "signalInto"> {
  /**
   * The `fetch` to call.
   *
   * @default {globalThis.fetch}
   */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /**
   * Which statuses count as a failed attempt.
   *
   * @default {status >= 500 or status === 429}
   */
  isFailureStatus?: (status: number) => boolean;
}

/**
 * A response whose status counts as a failure. The service returns the last
 * such response when attempts run out, as `fetch` would; this error is what
 * retries, the breaker and a fallback see on the way.
 *
 * @example Reading a failed response's hint
 * ```ts
 * import { HttpStatusError } from "@dyno/dyno/service";
 * import assert from "node:assert/strict";
 *
 * const response = new Response(null, { status: 503, headers: { "retry-after": "2" } });
 * const error = new HttpStatusError(response, 2_000);
 * assert.equal(error.status, 503);
 * assert.equal(error.retryAfterMs, 2_000);
 * assert.equal(error.message, "Upstream answered 503");
 * ```
 */
export class HttpStatusError extends Error {
  /** The failed response; its body is released once the service retries. */
  readonly response: Response;
  /** The status of the response. */
  readonly status: number;
  /** The `Retry-After` header in milliseconds, when it had a valid one. */
  readonly retryAfterMs: number | undefined;

  /** Makes the error for `response`. */
  constructor(response: Response, retryAfterMs?: number) {
    super(`Upstream answered ${response.status}`);
    this.name = "HttpStatusError";
    this.response = response;
    this.status = response.status;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Reads a `Retry-After` header value, delay-seconds or an HTTP date, as
 * milliseconds from `nowEpochMs`; undefined when absent or invalid.
 *
 * @example Both forms
 * ```ts
 * import { parseRetryAfter } from "@dyno/dyno/service";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseRetryAfter("120"), 120_000);
 * const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
 * assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), 30_000);
 * assert.equal(parseRetryAfter("soon"), undefined);
 * ```
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowEpochMs: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;

  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;

  const atMs = /GMT$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(atMs)) return undefined;

  return Math.max(0, atMs - nowEpochMs);
}

/**
 * Wraps `fetch` in a {@linkcode service}. Each attempt gets the attempt's
 * signal; a `Request` input is cloned per attempt so its body can be sent
 * again, and one whose body was already read rejects at once with a
 * `TypeError`, as `fetch` does, without an attempt. A stream given as
 * `init.body` cannot be sent twice: give such a body in a `Request`. When
 * attempts run out on failing statuses, the last response is returned, as
 * plain `fetch` would; an open breaker, a full pool or a timeout reject as
 * they do for any service.
 *
 * The body of every response the caller does not get is cancelled: a failed
 * attempt's before the next attempt or the fallback, and a response that
 * arrives after its attempt was aborted (by a deadline or the caller). A
 * fallback `value` that is a `Response` is cloned for each answer, and so
 * is each response when a `cache` sits in front: the cache keeps the
 * original, with its whole body in memory, and every caller gets a copy.
 * Behind a cache, a failing response is read into memory at once (its
 * connection released; `url` and `redirected` not kept), since a stale
 * value may answer instead, or many waiters may each need a copy.
 *
 * @example A fetch that retries 503s and honours Retry-After
 * ```ts
 * import { serviceFetch } from "@dyno/dyno/service";
 * import assert from "node:assert/strict";
 *
 * const statuses = [503, 200];
 * const resilientFetch = serviceFetch({
 *   name: "catalog",
 *   retry: { attempts: 3, initialDelayMs: 1 },
 *   fetch: () => {
 *     const status = statuses.shift()!;
 *     return Promise.resolve(
 *       new Response(`status ${status}`, {
 *         status,
 *         headers: { "retry-after": "0" },
 *       }),
 *     );
 *   },
 * });
 *
 * const response = await resilientFetch("https://catalog.example/items");
 * assert.equal(response.status, 200);
 * assert.equal(resilientFetch.metrics?.snapshot().cumulative.retries, 1);
 * ```
 */
export function serviceFetch(
  options: ServiceFetchOptions,
): ServiceFunction<FetchArgs, Response> {
  const {
    fetch: fetchImpl = globalThis.fetch,
    isFailureStatus = failingStatus,
    ...serviceOptions
  } = options;
  const cached = serviceOptions.cache !== undefined;

  const attempt = async (
    input: RequestInfo | URL,
    init?: RequestInit,
  ): Promise<Response> => {
    const request = input instanceof Request ? input.clone() : input;
    const response = await fetchImpl(request, init);
    const signal = init?.signal;
    if (signal?.aborted) {
      discard(response);
      throw signal.reason;
    }
    if (!isFailureStatus(response.status)) return response;

    throw new HttpStatusError(
      cached ? await buffered(response) : response,
      parseRetryAfter(response.headers.get("retry-after")),
    );
  };
  const wrapped = service<FetchArgs, Response>(attempt, {
    ...serviceOptions,
    retry: serviceOptions.retry && {
      ...serviceOptions.retry,
      onRetry: (event) => {
        release(event.error);
        serviceOptions.retry?.onRetry?.(event);
      },
    },
    fallback: releasingFallback(serviceOptions.fallback),
    signalFrom: ([input, init]) =>
      init?.signal ?? (input instanceof Request ? input.signal : undefined),
    signalInto: ([input, init], signal) => [input, { ...init, signal }],
  });

  const resilientFetch = (
    input: RequestInfo | URL,
    init?: RequestInit,
  ): Promise<Response> => {
    if (input instanceof Request && input.bodyUsed) {
      return Promise.reject(
        new TypeError("serviceFetch: the Request's body is already used"),
      );
    }

    const loaded = wrapped(input, init);
    return (cached ? loaded.then(copy) : loaded).catch((error) => {
      const failed = lastStatusError(error);
      if (failed === undefined) throw error;
      return cached ? failed.response.clone() : failed.response;
    });
  };

  return Object.assign(resilientFetch, {
    service: wrapped.service,
    breaker: wrapped.breaker,
    bulkhead: wrapped.bulkhead,
    metrics: wrapped.metrics,
  });
}

function failingStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

function lastStatusError(error: unknown): HttpStatusError | undefined {
  if (error instanceof HttpStatusError) return error;
  if (
    error instanceof AggregateError && error.cause instanceof HttpStatusError
  ) {
    return error.cause;
  }

  return undefined;
}

function release(error: unknown): void {
  const failed = lastStatusError(error);
  if (failed !== undefined) discard(failed.response);
}

function copy(response: Response): Response {
  return response.clone();
}

/**
 * A failed response read into memory, its connection released: behind a
 * cache, a failed load may be served to many waiters, or to none when a
 * stale value answers instead.
 */
async function buffered(response: Response): Promise<Response> {
  const { status, statusText, headers } = response;
  const body = await response.arrayBuffer().catch(() => new ArrayBuffer(0));
  return new Response(body, {
    status,
    statusText,
    headers,
  });
}

function discard(response: Response): void {
  if (!response.bodyUsed) response.body?.cancel().catch(() => {});
}

function releasingFallback(
  fallback: ServiceFetchOptions["fallback"],
): ServiceFetchOptions["fallback"] {
  if (fallback === undefined) return undefined;

  const { when } = fallback;
  const value = (fallback as { value?: unknown }).value;
  const answer = "handler" in fallback && fallback.handler !== undefined
    ? fallback.handler
    : () => (value instanceof Response ? value.clone() : value as Response);
  return {
    when,
    handler: (error, context) => {
      release(error);
      return answer(error, context);
    },
  };
}
