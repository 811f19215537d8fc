/**
 * Checks of `fuse`: tripping, expiry, partial trips and the FuseBox.
 *
 * @module
 */

import { Fuse, FuseBlownError, FuseBox } from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  checkJson,
  HandClock,
  rejection,
  thrown,
} from "./_check.ts";

export const fuseChecks: Check[] = [
  [
    "fuse: a trip stops calls with FuseBlownError until it expires",
    async () => {
      const clock = new HandClock();
      const fuse = new Fuse({ name: "reports", clock });
      const heard: string[] = [];
      fuse.on("trip", (event) => heard.push(`trip: ${event.reason}`));
      fuse.on("reset", (event) => heard.push(`reset: ${event.cause}`));
      fuse.on("rejected", (event) => heard.push(`rejected: ${event.key}`));
      let calls = 0;

      checkEqual(await fuse.execute(() => "report"), "report", "intact call");
      fuse.trip({ reason: "database overloaded", expiresInMs: 600 });
      const error = await rejection(fuse.execute(() => calls++));
      const checked = thrown(() => fuse.check("tenant-a"));
      await clock.advance(599);
      const stateBefore = fuse.state;
      await clock.advance(1);

      check(error instanceof FuseBlownError, "not a FuseBlownError");
      checkEqual(error.name, "FuseBlownError", "name");
      checkEqual(error.fuseName, "reports", "fuseName");
      checkEqual(error.reason, "database overloaded", "reason");
      checkEqual(error.retryAfterMs, 600, "retryAfterMs");
      checkEqual(
        error.message,
        'Fuse "reports" is blown: database overloaded (expires in 600 ms)',
        "message",
      );
      check(checked instanceof FuseBlownError, "check() did not throw");
      checkEqual(calls, 0, "calls while blown");
      checkEqual(stateBefore, "blown", "state 1 ms before expiry");
      checkEqual(fuse.state, "intact", "state at expiry");
      checkEqual(
        await fuse.execute(() => "again"),
        "again",
        "call after expiry",
      );
      checkEqual(
        heard.join(", "),
        "trip: database overloaded, rejected: undefined, rejected: tenant-a, reset: expired",
        "events",
      );
      checkEqual(clock.pendingTimers, 0, "timers the fuse set");
    },
  ],
  [
    "fuse: a partial trip passes one keyless call in N and the same keys each time",
    () => {
      const fuse = new Fuse({ name: "new-search" });
      const users = Array.from({ length: 400 }, (_, i) => `user-${i}`);

      fuse.trip({ reason: "rollout", passRatio: 0.25 });
      const keyless = Array.from({ length: 8 }, () => fuse.allows());
      const lucky = users.filter((user) => fuse.allows(user));
      const luckyAgain = users.filter((user) => fuse.allows(user));
      fuse.trip({ reason: "wider rollout", passRatio: 0.5 });
      const wider = new Set(users.filter((user) => fuse.allows(user)));

      checkEqual(keyless.filter(Boolean).length, 2, "keyless calls passed");
      check(
        lucky.length > 50 && lucky.length < 150,
        `${lucky.length} of 400 keys passed at 0.25`,
      );
      checkJson(luckyAgain, lucky, "keys that passed the second time");
      check(
        lucky.every((user) => wider.has(user)),
        "raising passRatio dropped a key",
      );
      checkEqual(fuse.reset(), true, "reset() of a blown fuse");
      checkEqual(fuse.reset(), false, "reset() of an intact fuse");
      checkEqual(fuse.allows("user-1"), true, "allows() after reset");
    },
  ],
  ["fuse: a FuseBox's state survives JSON", async () => {
    const box = new FuseBox({ clock: new HandClock() });
    const trips: string[] = [];
    box.on("trip", (event) => trips.push(event.fuseName));
    box.fuse("exports").trip({ reason: "slow queries", expiresInMs: 1_000 });
    box.fuse("search");

    const clock = new HandClock(50_000);
    const restored = new FuseBox({
      clock,
      initialState: JSON.parse(JSON.stringify(box)),
    });
    const error = thrown(() => restored.fuse("exports").check());

    checkEqual(box.fuse("exports"), box.get("exports"), "fuse() and get()");
    checkEqual(trips.join(","), "exports", "trips heard by the box");
    checkJson(restored.names(), ["exports", "search"], "restored names");
    checkEqual(restored.fuse("search").state, "intact", "search state");
    check(error instanceof FuseBlownError, "restored fuse is not blown");
    checkEqual(error.reason, "slow queries", "restored reason");
    checkEqual(error.retryAfterMs, 1_000, "restored retryAfterMs");
    await clock.advance(1_000);
    checkEqual(restored.fuse("exports").state, "intact", "state at expiry");
  }],
];
