/**
 * Checks of the platform itself: the web-standard APIs dyno relies on.
 *
 * @module
 */

import * as dyno from "../../../mod.ts";
import { type Check, check, checkEqual, later } from "./_check.ts";

export const platformChecks: Check[] = [
  ["platform: AbortController aborts its signal with a reason", () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    let heard = 0;
    controller.signal.addEventListener("abort", () => heard++);

    controller.abort(reason);

    check(controller.signal instanceof AbortSignal, "signal is an AbortSignal");
    checkEqual(controller.signal.aborted, true, "signal.aborted");
    checkEqual(controller.signal.reason, reason, "signal.reason");
    checkEqual(heard, 1, "abort events heard");
  }],
  ["platform: EventTarget dispatches Event and CustomEvent", () => {
    const target = new EventTarget();
    const heard: unknown[] = [];
    target.addEventListener("ping", (event) => heard.push(event.type));
    target.addEventListener("data", (event) => {
      heard.push((event as CustomEvent<number>).detail);
    });

    target.dispatchEvent(new Event("ping"));
    target.dispatchEvent(new CustomEvent("data", { detail: 7 }));

    checkEqual(heard.join(","), "ping,7", "events heard");
  }],
  ["platform: Symbol.dispose and Symbol.asyncDispose exist", () => {
    checkEqual(typeof Symbol.dispose, "symbol", "typeof Symbol.dispose");
    checkEqual(
      typeof Symbol.asyncDispose,
      "symbol",
      "typeof Symbol.asyncDispose",
    );
  }],
  ["platform: timers, microtasks and performance.now", async () => {
    const order: string[] = [];
    const cancelled = setTimeout(() => order.push("cancelled"), 1);
    clearTimeout(cancelled);
    queueMicrotask(() => order.push("microtask"));
    const before = performance.now();

    await later(5, undefined);

    checkEqual(order.join(","), "microtask", "callbacks that ran");
    check(performance.now() >= before, "performance.now() went backwards");
  }],
  [
    "platform: Response, ReadableStream, TextEncoder and crypto.subtle",
    async () => {
      const bytes = new TextEncoder().encode("dyno");
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes);
          controller.close();
        },
      });
      const digest = await crypto.subtle.digest("SHA-256", bytes);

      checkEqual(await new Response(stream).text(), "dyno", "response text");
      checkEqual(digest.byteLength, 32, "SHA-256 digest length");
    },
  ],
  ["mod.ts: every export is defined", () => {
    const exports = Object.entries(dyno);
    const missing = exports.filter(([, value]) => value === undefined);

    check(exports.length > 0, "mod.ts exports nothing");
    checkEqual(
      missing.map(([name]) => name).join(","),
      "",
      "undefined exports",
    );
  }],
];
