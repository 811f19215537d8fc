/**
 * Checks of `filter`: the order of the chains, sync and async functions.
 *
 * @module
 */

import {
  combineFilters,
  filter,
  type FilterOptions,
  type Middleware,
} from "../../../mod.ts";
import { type Check, check, checkEqual, checkJson } from "./_check.ts";

export const filterChecks: Check[] = [
  [
    "filter: around, before and after run in their documented order, synchronously",
    () => {
      const log: string[] = [];
      const add = (a: number, b: number) => {
        log.push(`fn ${a},${b}`);
        return a + b;
      };
      const filtered = filter(add, {
        around: [(args, next) => {
          log.push("around in");
          const result = next(args);
          log.push("around out");
          return result;
        }],
        before: [([a, b]) => {
          log.push("before");
          return [Math.abs(a), Math.abs(b)];
        }],
        after: [(sum, [a]) => {
          log.push(`after ${a}`);
          return sum * 10;
        }],
      });

      const result = filtered(-2, 3);

      checkEqual(result, 50, "result, returned synchronously");
      checkEqual(filtered.length, 2, "length");
      checkJson(
        log,
        ["around in", "before", "fn 2,3", "after 2", "around out"],
        "order",
      );
    },
  ],
  [
    "filter: async middleware may answer without calling the function",
    async () => {
      const cache = new Map<number, number>();
      const remember: Middleware<[number], Promise<number>> = async (
        args,
        next,
      ) => {
        const [key] = args;
        if (!cache.has(key)) cache.set(key, await next(args));
        return cache.get(key)!;
      };
      let calls = 0;
      const square = filter(async (n: number) => {
        calls++;
        return await Promise.resolve(n * n);
      }, {
        around: [remember],
        after: [async (result) => await Promise.resolve(result + 1)],
      });

      const first = square(4);

      check(first instanceof Promise, "an async function's result");
      checkEqual(await first, 17, "first call");
      checkEqual(await square(4), 17, "second call");
      checkEqual(calls, 1, "calls");
    },
  ],
  ["filter: combineFilters(outer, inner) nests like filtering twice", () => {
    const log: string[] = [];
    const layer = (name: string): FilterOptions<[string], string> => ({
      before: [(args) => (log.push(`${name} before`), args)],
      after: [(result) => (log.push(`${name} after`), `${result}+${name}`)],
    });
    const echo = (text: string) => text;

    const combined = filter(
      echo,
      combineFilters(layer("outer"), layer("inner")),
    );
    const inner = filter(echo, layer("inner"));
    const nested = filter(inner, layer("outer"));
    const combinedResult = combined("hi");
    const combinedLog = log.splice(0);
    const nestedResult = nested("hi");

    checkEqual(combinedResult, "hi+inner+outer", "combined result");
    checkEqual(nestedResult, combinedResult, "nested result");
    checkJson(
      combinedLog,
      ["outer before", "inner before", "inner after", "outer after"],
      "order",
    );
    checkJson(log, combinedLog, "nested order");
  }],
];
