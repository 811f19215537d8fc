/**
 * Checks of `timing`: intervals and marks, the text report, the
 * `Server-Timing` header, and scopes ended through `Symbol.dispose`.
 *
 * The checks call `[Symbol.dispose]()` themselves where code would write
 * `using`: Node 20 cannot parse `using` declarations, and one syntax error
 * would stop the whole bundle there. The method is what `using` calls.
 *
 * @module
 */

import { Timing } from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  checkJson,
  HandClock,
  later,
  rejection,
  thrown,
} from "./_check.ts";

export const timingChecks: Check[] = [
  ["timing: nested intervals and marks in the text report", async () => {
    const clock = new HandClock();
    const timing = new Timing({ clock });

    const request = timing.start("request");
    await clock.advance(2);
    timing.record("db", 1.5, { desc: "primary" });
    timing.mark("cache miss");
    await clock.advance(1);
    const durationMs = request.stop();

    checkEqual(durationMs, 3, "request duration");
    checkEqual(request.stop(), 3, "stopping again");
    checkEqual(
      timing.report(),
      [
        "name          start ms  duration ms  description",
        "request          0.000        3.000",
        "  db             0.500        1.500  primary",
        "  cache miss     2.000            -  (event)",
      ].join("\n"),
      "report",
    );
  }],
  [
    "timing: a scope ended by Symbol.dispose, sent as a Server-Timing header",
    async () => {
      const clock = new HandClock();
      const timing = new Timing({ clock });

      const db = timing.start("db", { desc: 'users "by id"' });
      try {
        await clock.advance(12.5);
      } finally {
        db[Symbol.dispose]();
      }
      timing.mark("cache miss");
      const header = timing.serverTiming();
      const response = new Response("ok", {
        headers: { "Server-Timing": header },
      });

      checkEqual(db.running, false, "running after dispose");
      checkEqual(
        header,
        'db;dur=12.5;desc="users \\"by id\\"", cache_miss',
        "Server-Timing",
      );
      checkEqual(response.headers.get("server-timing"), header, "header sent");
      checkEqual(new Timing().serverTiming(), "", "an empty timing");
    },
  ],
  [
    "timing: time() stops its interval when the work settles; children nest",
    async () => {
      const clock = new HandClock();
      const timing = new Timing({ clock });
      const failure = new Error("render failed");

      const answer = await timing.time("fetch", async () => {
        await clock.advance(4);
        return "body";
      });
      const render = timing.start("render");
      const template = render.start("template");
      await clock.advance(3);
      template[Symbol.dispose]();
      render.stop();
      const error = await rejection(
        timing.time("render again", () => Promise.reject(failure)),
      );
      const badName = thrown(() => timing.mark(""));

      checkEqual(answer, "body", "result of time()");
      checkEqual(error, failure, "error of time()");
      checkJson(
        timing.entries().map((entry) => [
          entry.name,
          entry.depth,
          entry.durationMs,
          entry.running,
        ]),
        [
          ["fetch", 0, 4, false],
          ["render", 0, 3, false],
          ["template", 1, 3, false],
          ["render again", 0, 0, false],
        ],
        "entries",
      );
      check(badName instanceof TypeError, "an empty name was accepted");
    },
  ],
  [
    "timing: userTiming mirrors marks and intervals into User Timing where the runtime has it",
    async () => {
      const name = `dyno-conformance-${crypto.randomUUID()}`;
      const timing = new Timing({ userTiming: true });
      const beforeMs = performance.now();

      await timing.time(name, () => later(5, undefined));
      timing.mark(`${name} mark`);
      const [interval] = timing.entries();
      const timeline = performance as Partial<Performance>;
      if (typeof timeline.getEntriesByName !== "function") return;

      try {
        const [measure] = timeline.getEntriesByName(name, "measure");
        const marks = timeline.getEntriesByName(`${name} mark`, "mark");

        check(measure !== undefined, "no User Timing measure");
        check(
          Math.abs(measure.duration - interval.durationMs) < 0.001,
          `measure lasted ${measure.duration} ms, the interval ${interval.durationMs} ms`,
        );
        check(
          measure.startTime >= beforeMs - 1,
          `measure started at ${measure.startTime}, before ${beforeMs}`,
        );
        checkEqual(marks.length, 1, "User Timing marks");
      } finally {
        timeline.clearMeasures?.(name);
        timeline.clearMarks?.(`${name} mark`);
      }
    },
  ],
  ["timing: on the real clock, durations are real", async () => {
    const timing = new Timing();

    await timing.time("db", () => new Promise((r) => setTimeout(r, 5)));
    const [entry] = timing.entries();

    check(entry.durationMs >= 3, `db took ${entry.durationMs} ms`);
    check(
      /^db;dur=\d+(\.\d{1,3})?$/.test(timing.serverTiming()),
      `Server-Timing: ${timing.serverTiming()}`,
    );
  }],
];
