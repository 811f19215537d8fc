import assert from "node:assert/strict";
import {
  combineFilters,
  filter,
  type FilterOptions,
  type Middleware,
} from "../lib/filter.ts";

Deno.test("filter() returns fn itself when there are no filters", () => {
  const fn = (value: number) => value + 1;

  assert.equal(filter(fn, {}), fn);
  assert.equal(filter(fn, { before: [], after: [], around: [] }), fn);
});

Deno.test("filter() runs before filters in order on the arguments", () => {
  const seen: unknown[] = [];
  const join = filter((a: string, b: string) => `${a}-${b}`, {
    before: [
      ([a, b]) => (seen.push([a, b]), [a.trim(), b.trim()]),
      ([a, b]) => (seen.push([a, b]), [a.toUpperCase(), b]),
    ],
  });

  assert.equal(join(" x ", " y "), "X-y");
  assert.deepEqual(seen, [[" x ", " y "], ["x", "y"]]);
});

Deno.test("filter() runs after filters in order with the arguments fn got", () => {
  const seen: unknown[] = [];
  const double = filter((value: number) => value * 2, {
    before: [([value]) => [value + 1]],
    after: [
      (result, args) => (seen.push([result, args]), result + 1),
      (result, args) => (seen.push([result, args]), result * 10),
    ],
  });

  assert.equal(double(1), 50);
  assert.deepEqual(seen, [[4, [2]], [5, [2]]]);
});

Deno.test("filter() nests around, before, fn and after in the documented order", () => {
  const log: string[] = [];
  const step = (name: string): Middleware<[string], string> => (args, next) => {
    log.push(`${name} in`);
    const result = next(args);
    log.push(`${name} out`);
    return result;
  };
  const echo = filter((text: string) => (log.push("fn"), text), {
    around: [step("m1"), step("m2")],
    before: [
      (args) => (log.push("b1"), args),
      (args) => (log.push("b2"), args),
    ],
    after: [(r) => (log.push("a1"), r), (r) => (log.push("a2"), r)],
  });

  echo("x");

  assert.deepEqual(log, [
    "m1 in",
    "m2 in",
    "b1",
    "b2",
    "fn",
    "a1",
    "a2",
    "m2 out",
    "m1 out",
  ]);
});

Deno.test("filter() middleware short-circuits without running the rest", () => {
  const log: string[] = [];
  const guarded = filter((value: number) => (log.push("fn"), value), {
    around: [
      (args, next) => (args[0] < 0 ? 0 : next(args)),
      (args, next) => (log.push("inner middleware"), next(args)),
    ],
    before: [(args) => (log.push("before"), args)],
    after: [(result) => (log.push("after"), result)],
  });

  assert.equal(guarded(-5), 0);
  assert.deepEqual(log, []);
  assert.equal(guarded(5), 5);
  assert.deepEqual(log, ["inner middleware", "before", "fn", "after"]);
});

Deno.test("filter() middleware may change the arguments and call next again", () => {
  let calls = 0;
  const flaky = filter((attempt: number) => {
    calls++;
    if (attempt < 3) throw new Error(`attempt ${attempt} failed`);
    return attempt;
  }, {
    around: [(args, next) => {
      for (let attempt = args[0];; attempt++) {
        try {
          return next([attempt]);
        } catch (error) {
          if (attempt >= 5) throw error;
        }
      }
    }],
  });

  assert.equal(flaky(1), 3);
  assert.equal(calls, 3);
});

Deno.test("filter() keeps a synchronous function synchronous", () => {
  const filtered = filter((value: number) => value, {
    around: [(args, next) => next(args)],
    before: [(args) => args],
    after: [(result) => result],
  });

  assert.equal(filtered(7), 7);
});

Deno.test("filter() awaits async filters around an async function", async () => {
  const log: string[] = [];
  const fetchName = filter(async (id: number) => {
    await Promise.resolve();
    log.push(`fn ${id}`);
    return `user ${id}`;
  }, {
    around: [async (args, next) => `[${await next(args)}]`],
    before: [
      async ([id]) => (await Promise.resolve(), log.push("b1"), [id + 1]),
      ([id]) => (log.push("b2"), [id * 10]),
    ],
    after: [
      async (name) => (await Promise.resolve(), log.push("a1"), `${name}!`),
      (name) => (log.push("a2"), name.toUpperCase()),
    ],
  });

  const pending = fetchName(1);

  assert.ok(pending instanceof Promise);
  assert.equal(await pending, "[USER 20!]");
  assert.deepEqual(log, ["b1", "b2", "fn 20", "a1", "a2"]);
});

Deno.test("filter() accepts synchronous filters on an async function", async () => {
  const filtered = filter((value: number) => Promise.resolve(value), {
    before: [([value]) => [value + 1]],
    after: [(result) => result * 2],
  });

  assert.equal(await filtered(1), 4);
});

Deno.test("filter() propagates a synchronous filter's error unchanged and synchronously", () => {
  const failure = new Error("bad argument");
  let called = false;
  const filtered = filter((value: number) => (called = true, value), {
    before: [() => {
      throw failure;
    }],
  });

  let caught: unknown;
  try {
    filtered(1);
  } catch (error) {
    caught = error;
  }

  assert.equal(caught, failure);
  assert.equal(called, false);
});

Deno.test("filter() propagates an async filter's rejection unchanged", async () => {
  const failure = new TypeError("bad result");
  const filtered = filter((value: number) => Promise.resolve(value), {
    after: [() => Promise.reject(failure)],
  });

  const caught = await filtered(1).catch((error) => error);

  assert.equal(caught, failure);
});

Deno.test("filter() passes fn's error through the middleware unchanged", async () => {
  const failure = new RangeError("out of range");
  const stack = failure.stack;
  const filtered = filter(
    (_value: number): Promise<number> => Promise.reject(failure),
    {
      around: [(args, next) => next(args)],
      after: [(result) => result],
    },
  );

  const caught = await filtered(1).catch((error) => error);

  assert.equal(caught, failure);
  assert.equal(caught.stack, stack);
});

Deno.test("filter() nests a second filter outside the first", () => {
  const log: string[] = [];
  const inner = filter((text: string) => text, {
    before: [(args) => (log.push("inner before"), args)],
    after: [(result) => (log.push("inner after"), result)],
  });
  const outer = filter(inner, {
    around: [(args, next) => (log.push("outer around"), next(args))],
    before: [(args) => (log.push("outer before"), args)],
    after: [(result) => (log.push("outer after"), result)],
  });

  outer("x");

  assert.deepEqual(log, [
    "outer around",
    "outer before",
    "inner before",
    "inner after",
    "outer after",
  ]);
});

Deno.test("combineFilters() behaves as nested filter() calls", async () => {
  const run = async (
    build: (
      fn: (text: string) => Promise<string>,
      outer: FilterOptions<[string], Promise<string>>,
      inner: FilterOptions<[string], Promise<string>>,
    ) => (text: string) => Promise<string>,
  ) => {
    const log: string[] = [];
    const layer = (name: string): FilterOptions<[string], Promise<string>> => ({
      around: [async (args, next) => {
        log.push(`${name} around in`);
        const result = await next(args);
        log.push(`${name} around out`);
        return result;
      }],
      before: [([text]) => (log.push(`${name} before`), [`${text}<${name}`])],
      after: [
        (result) => (log.push(`${name} after`), `${result}>${name}`),
      ],
    });
    const fn = (text: string) => (log.push("fn"), Promise.resolve(text));
    const result = await build(fn, layer("outer"), layer("inner"))("x");

    return { result, log };
  };

  const nested = await run((fn, outer, inner) =>
    filter(filter(fn, inner), outer)
  );
  const combined = await run((fn, outer, inner) =>
    filter(fn, combineFilters(outer, inner))
  );

  assert.deepEqual(combined, nested);
  assert.equal(combined.result, "x<outer<inner>inner>outer");
});

Deno.test("filter() keeps the function's length", () => {
  const filtered = filter((a: number, b: number) => a + b, {
    before: [(args) => args],
  });

  assert.equal(filtered.length, 2);
});

Deno.test("filter() copies the lists it was given", () => {
  const before = [([value]: [number]): [number] => [value + 1]];
  const filtered = filter((value: number) => value, { before });

  before.push(([value]) => [value * 100]);

  assert.equal(filtered(1), 2);
});

Deno.test("filter() rejects bad input with a TypeError naming it", () => {
  const fn = (value: number) => value;
  const cases: [unknown, unknown, string][] = [
    [42, {}, "filter: fn must be a function, got 42"],
    [fn, null, "filter: options must be an object, got null"],
    [fn, "x", 'filter: options must be an object, got "x"'],
    [fn, { before: () => {} }, "filter: before must be an array, got"],
    [fn, { after: {} }, "filter: after must be an array, got an object"],
    [fn, { around: [null] }, "filter: around[0] must be a function, got null"],
    [
      fn,
      { before: [fn, "x"] },
      'filter: before[1] must be a function, got "x"',
    ],
  ];

  for (const [badFn, options, message] of cases) {
    assert.throws(
      () =>
        filter(badFn as typeof fn, options as FilterOptions<[number], number>),
      (error: unknown) =>
        error instanceof TypeError && error.message.startsWith(message),
      message,
    );
  }
  assert.throws(
    () => combineFilters({ after: [1 as never] }),
    new TypeError("combineFilters: after[0] must be a function, got 1"),
  );
});

Deno.test("filter() types keep a synchronous function's filters synchronous", () => {
  const add = (a: number, b: number) => a + b;

  // @ts-expect-error an async argument filter would make add() async
  filter(add, { before: [(args) => Promise.resolve(args)] });
  // @ts-expect-error an async result filter would make add() async
  filter(add, { after: [(sum) => Promise.resolve(sum)] });
  // @ts-expect-error a result filter must return the function's result type
  filter(add, { after: [(sum) => String(sum)] });

  const sync: (a: number, b: number) => number = filter(add, {
    before: [([a, b]) => [b, a]],
  });
  assert.equal(sync(1, 2), 3);
});

// The README's example: ETags and If-None-Match around a fetch handler.

interface EtagOptions {
  algorithm?: "SHA-1" | "SHA-256";
}

function etag(
  options: EtagOptions = {},
): Middleware<[Request], Promise<Response>> {
  const { algorithm = "SHA-256" } = options;

  return async function etagMiddleware(args, next) {
    const [request] = args;
    const response = await next(args);
    if (request.method !== "GET" || response.status !== 200) return response;

    const headers = new Headers(response.headers);
    const body = await response.arrayBuffer();
    const tag = headers.get("ETag") ?? await digestTag(algorithm, body);
    headers.set("ETag", tag);

    if (matches(request.headers.get("If-None-Match"), tag)) {
      headers.delete("Content-Length");
      return new Response(null, { status: 304, headers });
    }
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  };
}

async function digestTag(
  algorithm: string,
  body: ArrayBuffer,
): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest(algorithm, body));
  const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0"));

  return `"${hex.join("")}"`;
}

function matches(ifNoneMatch: string | null, tag: string): boolean {
  if (ifNoneMatch === null) return false;
  if (ifNoneMatch.trim() === "*") return true;

  const opaque = (value: string) => value.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((candidate) =>
    opaque(candidate) === opaque(tag)
  );
}

function pageHandler() {
  const state = { runs: 0, body: "<h1>hello</h1>" };
  const handler = async (_request: Request): Promise<Response> => {
    state.runs++;
    await Promise.resolve();
    return new Response(state.body, {
      headers: { "Content-Type": "text/html", "Cache-Control": "no-cache" },
    });
  };

  return { state, handler };
}

const url = "https://example.com/page";

Deno.test("etag example answers 200 with an ETag computed from the body", async () => {
  const { state, handler } = pageHandler();
  const serve = filter(handler, { around: [etag()] });

  const response = await serve(new Request(url));

  assert.equal(response.status, 200);
  assert.equal(await response.text(), "<h1>hello</h1>");
  const expected = await digestTag(
    "SHA-256",
    new TextEncoder().encode("<h1>hello</h1>").buffer,
  );
  assert.equal(response.headers.get("ETag"), expected);
  assert.equal(response.headers.get("Content-Type"), "text/html");
  assert.equal(state.runs, 1);
});

Deno.test("etag example answers 304 with no body, running the handler once", async () => {
  const { state, handler } = pageHandler();
  const serve = filter(handler, { around: [etag({ algorithm: "SHA-1" })] });
  const first = await serve(new Request(url));
  const tag = first.headers.get("ETag")!;
  await first.body?.cancel();

  const second = await serve(
    new Request(url, { headers: { "If-None-Match": `"other", W/${tag}` } }),
  );

  assert.equal(tag.length, 2 + 40);
  assert.equal(second.status, 304);
  assert.equal(second.body, null);
  assert.equal(second.headers.get("ETag"), tag);
  assert.equal(second.headers.get("Cache-Control"), "no-cache");
  assert.equal(state.runs, 2);
});

Deno.test("etag example answers 200 again once the body changes", async () => {
  const { state, handler } = pageHandler();
  const serve = filter(handler, { around: [etag()] });
  const first = await serve(new Request(url));
  const tag = first.headers.get("ETag")!;
  await first.body?.cancel();

  state.body = "<h1>changed</h1>";
  const second = await serve(
    new Request(url, { headers: { "If-None-Match": tag } }),
  );

  assert.equal(second.status, 200);
  assert.equal(await second.text(), "<h1>changed</h1>");
  assert.notEqual(second.headers.get("ETag"), tag);
});

Deno.test("etag example keeps the handler's own ETag and honours *", async () => {
  const serve = filter(
    (_request: Request) =>
      Promise.resolve(new Response("v1", { headers: { ETag: '"v1"' } })),
    { around: [etag()] },
  );

  const tagged = await serve(
    new Request(url, { headers: { "If-None-Match": '"v1"' } }),
  );
  const star = await serve(
    new Request(url, { headers: { "If-None-Match": "*" } }),
  );

  assert.equal(tagged.status, 304);
  assert.equal(tagged.headers.get("ETag"), '"v1"');
  assert.equal(star.status, 304);
});

Deno.test("etag example passes POST and error responses through untouched", async () => {
  const posted = new Response("created", { status: 201 });
  const missing = new Response("missing", { status: 404 });
  const serve = filter(
    (request: Request) =>
      Promise.resolve(request.method === "POST" ? posted : missing),
    { around: [etag()] },
  );

  assert.equal(await serve(new Request(url, { method: "POST" })), posted);
  assert.equal(await serve(new Request(url)), missing);
  await posted.body?.cancel();
  await missing.body?.cancel();
});

Deno.test("etag example sends no body for a 304 over real HTTP", async () => {
  const { state, handler } = pageHandler();
  const serve = filter(handler, { around: [etag()] });
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    serve,
  );
  const address = `http://127.0.0.1:${server.addr.port}/page`;

  const first = await fetch(address);
  const body = await first.text();
  const second = await fetch(address, {
    headers: { "If-None-Match": first.headers.get("ETag")! },
  });
  const secondBody = await second.text();

  assert.equal(first.status, 200);
  assert.equal(body, "<h1>hello</h1>");
  assert.equal(second.status, 304);
  assert.equal(secondBody, "");
  assert.equal(state.runs, 2);
});
