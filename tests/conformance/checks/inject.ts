/**
 * Checks of `inject`: building, sharing and disposing dependencies.
 *
 * @module
 */

import { DependencyError, inject } from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  checkJson,
  Flaky,
  later,
  rejection,
} from "./_check.ts";

class Resource {
  constructor(readonly name: string, readonly log: string[]) {}

  [Symbol.dispose](): void {
    this.log.push(`dispose ${this.name}`);
  }
}

class AsyncResource {
  constructor(readonly name: string, readonly log: string[]) {}

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.resolve();
    this.log.push(`dispose ${this.name}`);
  }
}

export const injectChecks: Check[] = [
  [
    "inject: call-scoped values are disposed after the call, last first",
    async () => {
      const log: string[] = [];
      const failure = new Flaky("handler failed");
      const handler = inject({
        db: () => new Resource("db", log),
        queue: {
          provide: () => Promise.resolve(new AsyncResource("queue", log)),
        },
      }, ({ db, queue }, id: string) => {
        log.push(`call ${id}`);
        if (id === "bad") throw failure;
        return `${db.name}+${queue.name}:${id}`;
      });

      const answer = await handler("7");
      const error = await rejection(handler("bad"));

      checkEqual(answer, "db+queue:7", "answer");
      checkEqual(error, failure, "the call's own error");
      checkJson(
        log,
        [
          "call 7",
          "dispose queue",
          "dispose db",
          "call bad",
          "dispose queue",
          "dispose db",
        ],
        "calls and disposals",
      );
    },
  ],
  [
    "inject: shared values are built once; failures name every dependency",
    async () => {
      let builds = 0;
      let ran = 0;
      const fallbacks: string[] = [];
      const config = {
        provide: async () => {
          builds++;
          await later(1, undefined);
          return { region: "eu" };
        },
        lifetime: "shared",
      } as const;
      const region = inject({ config }, ({ config }) => config.region);
      const broken = inject(
        {
          db: () => Promise.reject(new Error("connection refused")),
          queue: (): string => {
            throw new Error("no credentials");
          },
          cache: {
            provide: (): Map<string, string> => {
              throw new Error("cache down");
            },
            fallback: null,
          },
        },
        () => ran++,
        { onFallback: (_, name) => fallbacks.push(name) },
      );

      const regions = await Promise.all([region(), region(), region()]);
      const error = await rejection(broken());

      checkJson(regions, ["eu", "eu", "eu"], "values");
      checkEqual(builds, 1, "builds");
      check(error instanceof DependencyError, "not a DependencyError");
      check(error instanceof AggregateError, "not an AggregateError");
      checkJson([...error.failures.keys()], ["db", "queue"], "failures");
      checkEqual(
        error.message,
        "2 dependencies failed: db (Error: connection refused), queue (Error: no credentials)",
        "message",
      );
      checkEqual(ran, 0, "function runs");
      checkJson(fallbacks, ["cache"], "fallbacks");
    },
  ],
  [
    "inject: signalFrom hands the caller's signal to providers; an aborted one rejects",
    async () => {
      const handle = inject(
        { session: ({ signal }) => ({ aborted: signal?.aborted }) },
        ({ session }, request: Request) =>
          Response.json({ ...session, url: request.url }),
        { signalFrom: ([request]) => request.signal },
      );
      const controller = new AbortController();
      const reason = new Error("client left");
      controller.abort(reason);

      const response = await handle(new Request("https://example.com/"));
      const body = await response.json();
      const error = await rejection(
        handle(
          new Request("https://example.com/", { signal: controller.signal }),
        ),
      );

      checkJson(
        body,
        { aborted: false, url: "https://example.com/" },
        "the provider saw a live signal",
      );
      checkEqual(error, reason, "rejection of an aborted call");
    },
  ],
];
