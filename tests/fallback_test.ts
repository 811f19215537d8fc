import assert from "node:assert/strict";
import {
  Fallback,
  fallback,
  FallbackError,
  type FallbackOptions,
} from "../lib/fallback.ts";

const down = new Error("down");
const failing = () => Promise.reject(down);

Deno.test("Fallback passes results through untouched", async () => {
  const policy = new Fallback({ value: "fallback" });
  assert.equal(await policy.execute(() => "real"), "real");
  assert.equal(await policy.execute(() => Promise.resolve("async")), "async");
});

Deno.test("Fallback answers a failure with its value, undefined included", async () => {
  assert.equal(await new Fallback({ value: 0 }).execute(failing), 0);
  assert.equal(
    await new Fallback({ value: undefined }).execute(failing),
    undefined,
  );
});

Deno.test("Fallback answers a synchronous throw too", async () => {
  const policy = new Fallback({ value: "safe" });
  assert.equal(
    await policy.execute(() => {
      throw down;
    }),
    "safe",
  );
});

Deno.test("Fallback handler receives the original error and the context", async () => {
  const seen: unknown[] = [];
  const controller = new AbortController();
  const policy = new Fallback({
    handler: (error, context) => {
      seen.push(error, context.signal);
      return "handled";
    },
  });
  assert.equal(await policy.execute(failing, controller.signal), "handled");
  assert.deepEqual(seen, [down, controller.signal]);
});

Deno.test("Fallback waits for an async handler", async () => {
  const policy = new Fallback({
    handler: (error) =>
      Promise.resolve(`recovered from ${(error as Error).message}`),
  });
  assert.equal(await policy.execute(failing), "recovered from down");
});

Deno.test("Fallback leaves errors that when does not select untouched", async () => {
  class Transient extends Error {}
  let handled = 0;
  const policy = new Fallback({
    handler: () => ++handled,
    when: (error) => error instanceof Transient,
  });
  assert.equal(await policy.execute(() => Promise.reject(new Transient())), 1);
  assert.equal(await policy.execute(failing).catch((e) => e), down);
  assert.equal(handled, 1);
});

Deno.test("Fallback handler failure throws FallbackError with the original as cause", async (t) => {
  const handlerError = new Error("cache down");
  const cases: [string, FallbackOptions<string>][] = [
    ["throwing handler", {
      handler: () => {
        throw handlerError;
      },
    }],
    ["rejecting handler", { handler: () => Promise.reject(handlerError) }],
  ];
  for (const [name, options] of cases) {
    await t.step(name, async () => {
      const error = await new Fallback(options).execute(failing).catch((e) =>
        e
      );
      assert.ok(error instanceof FallbackError);
      assert.equal(error.name, "FallbackError");
      assert.equal(error.cause, down);
      assert.equal(error.fallbackError, handlerError);
      assert.equal(error.message, "Fallback failed: cache down");
    });
  }
});

Deno.test("Fallback wraps a throwing when in FallbackError too", async () => {
  const bug = new TypeError("predicate bug");
  const policy = new Fallback({
    value: 1,
    when: () => {
      throw bug;
    },
  });
  const error = await policy.execute(failing).catch((e) => e);
  assert.ok(error instanceof FallbackError);
  assert.equal(error.cause, down);
  assert.equal(error.fallbackError, bug);
});

Deno.test("Fallback never answers the caller's own abort", async () => {
  const controller = new AbortController();
  const reason = new Error("user left");
  let handled = false;
  const policy = new Fallback({ handler: () => (handled = true) });

  const call = policy.execute(
    ({ signal }) =>
      new Promise((_, reject) =>
        signal!.addEventListener("abort", () => reject(signal!.reason))
      ),
    controller.signal,
  );
  controller.abort(reason);
  assert.equal(await call.catch((e) => e), reason);

  let ran = false;
  const late = policy.execute(() => (ran = true), controller.signal);
  assert.equal(await late.catch((e) => e), reason);
  assert.equal(ran, false);
  assert.equal(handled, false);
});

Deno.test("fallback() wraps a function, keeping arguments and this", async () => {
  const api = {
    base: "https://example.test",
    get: fallback(
      function (this: { base: string }, path: string): Promise<string> {
        return Promise.reject(new Error(`${this.base}${path} failed`));
      },
      { handler: (error) => (error as Error).message },
    ),
  };
  assert.equal(await api.get("/users"), "https://example.test/users failed");

  const add = fallback((a: number, b: number) => a + b, { value: -1 });
  assert.equal(await add(2, 3), 5);
});

Deno.test("Fallback rejects bad options, naming the option and the value", () => {
  const cases: [unknown, string][] = [
    [{}, "Fallback: options must have value or handler, got neither"],
    [
      { value: 1, handler: () => 2 },
      "Fallback: options must have value or handler, got both",
    ],
    [{ handler: "x" }, 'Fallback: handler must be a function, got "x"'],
    [
      { value: 1, when: true },
      "Fallback: when must be a function, got true",
    ],
    [undefined, "Fallback: options must have value or handler, got neither"],
    [5, "Fallback: options must be an object, got 5"],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new Fallback(options as FallbackOptions<unknown>),
      (error: unknown) => {
        assert.ok(error instanceof TypeError, message);
        assert.equal(error.message, message);
        return true;
      },
    );
  }
});
