/**
 * Checks of `harness`: recording errors on their way out, unchanged.
 *
 * @module
 */

import { Harness, harness } from "../../../mod.ts";
import {
  type Check,
  check,
  checkEqual,
  checkJson,
  rejection,
  thrown,
} from "./_check.ts";

export const harnessChecks: Check[] = [
  ["harness: records errors and rethrows the very same object", async () => {
    const lines: string[] = [];
    const seen: string[] = [];
    const errors = new Harness({
      name: "storage",
      ringSize: 2,
      clock: { now: () => 1_000 },
      logger: { error: (line) => lines.push(line) },
      onError: (record) => seen.push(`${record.where} ${record.via}`),
    });
    const readFailure = new Error("cannot read a");
    const read = errors.wrap(
      (_key: string): Promise<string> => Promise.reject(readFailure),
      "read",
    );
    const write = errors.wrap((key: string): string => {
      throw new TypeError(`cannot write ${key}`);
    }, "write");

    const rejected = await rejection(read("a"));
    const writeError = thrown(() => write("b"));
    errors.record(new RangeError("out of range"), "manual");
    const snapshot = errors.snapshot();
    const json = JSON.parse(JSON.stringify(errors));

    checkEqual(rejected, readFailure, "the rejection");
    check(writeError instanceof TypeError, "the synchronous throw");
    checkEqual(snapshot.name, "storage", "name");
    checkEqual(snapshot.calls, 2, "calls");
    checkEqual(snapshot.errors, 3, "errors");
    checkJson(
      snapshot.counts,
      { Error: 1, TypeError: 1, RangeError: 1 },
      "counts",
    );
    checkJson(
      snapshot.recent.map((record) => [record.where, record.kind, record.atMs]),
      [["write", "TypeError", 1_000], ["manual", "RangeError", 1_000]],
      "the ring, oldest first",
    );
    checkEqual(snapshot.recent[0].error, writeError, "the error object kept");
    checkJson(
      seen,
      ["read rejection", "write throw", "manual throw"],
      "onError",
    );
    checkEqual(
      lines[0],
      "storage: read rejected with Error: cannot read a",
      "log line",
    );
    check(
      String(json.recent[0].stack).includes("cannot write b"),
      "toJSON() keeps the stack",
    );
  }],
  [
    "harness: sampling thins the ring; counts and callers see everything",
    () => {
      const draws = [0.1, 0.9, 0.2, 0.8];
      const errors = new Harness({
        sampleRatio: 0.5,
        random: () => draws.shift()!,
        onError: () => {
          throw new Error("hook bug");
        },
      });

      for (let i = 0; i < 4; i++) errors.record(new Error(`e${i}`), "job");
      const snapshot = errors.snapshot();
      errors.reset();

      checkEqual(snapshot.errors, 4, "errors");
      checkEqual(snapshot.sampled, 2, "sampled");
      checkJson(
        snapshot.recent.map((record) => record.message),
        ["e0", "e2"],
        "recorded messages",
      );
      checkEqual(snapshot.hookFailures, 2, "hook failures");
      checkEqual(errors.snapshot().errors, 0, "errors after reset");
    },
  ],
  ["harness: harness() keeps the function's this and length", () => {
    const account = {
      balance: 10,
      withdraw(amount: number): number {
        if (amount > this.balance) throw new RangeError("insufficient funds");
        return (this.balance -= amount);
      },
    };
    const withdraw = harness(account.withdraw, { recordArgs: true });
    account.withdraw = withdraw;

    const left = account.withdraw(3);
    const error = thrown(() => account.withdraw(50));
    const [record] = withdraw.harness.snapshot().recent;

    checkEqual(left, 7, "result with this");
    checkEqual(withdraw.length, 1, "length");
    check(error instanceof RangeError, "the error");
    checkEqual(record.where, "withdraw", "where");
    checkJson(record.args, ["50"], "recorded arguments");
  }],
];
