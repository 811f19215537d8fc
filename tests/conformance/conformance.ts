/**
 * The runtime-neutral conformance script: small named checks of dyno's real
 * behaviour, one list per module under `checks/`. Time-based behaviour runs
 * on a clock moved by hand, with a few checks on the real clock with short
 * real delays. The checks import only from `mod.ts` and use only
 * web-standard APIs, so the same bundle runs in Deno, Node, Bun, workerd and
 * browsers; `tests/runtimes_test.ts` runs it in each.
 *
 * To cover a module, add `checks/<module>.ts` exporting a `<module>Checks`
 * list and spread it into {@linkcode checks}. A check that needs something a
 * runtime lacks calls `skip(reason)`; `tests/runtimes_test.ts` lists the
 * checks each runtime is expected to skip.
 *
 * @module
 */

import { type Check, SkippedCheck } from "./checks/_check.ts";
import { breakerChecks } from "./checks/breaker.ts";
import { bulkheadChecks } from "./checks/bulkhead.ts";
import { cacheChecks } from "./checks/cache.ts";
import { cacheStoreChecks } from "./checks/cache_stores.ts";
import { clockChecks } from "./checks/clock.ts";
import { compositionChecks } from "./checks/composition.ts";
import { dashboardChecks } from "./checks/dashboard.ts";
import { fallbackChecks } from "./checks/fallback.ts";
import { filterChecks } from "./checks/filter.ts";
import { fuseChecks } from "./checks/fuse.ts";
import { harnessChecks } from "./checks/harness.ts";
import { injectChecks } from "./checks/inject.ts";
import { metricsChecks } from "./checks/metrics.ts";
import { platformChecks } from "./checks/platform.ts";
import { registryChecks } from "./checks/registry.ts";
import { retryChecks } from "./checks/retry.ts";
import { serviceChecks } from "./checks/service.ts";
import { statsChecks } from "./checks/stats.ts";
import { timeoutChecks } from "./checks/timeout.ts";
import { timingChecks } from "./checks/timing.ts";

export type { Check };

/** What {@linkcode runConformance} found. */
export interface ConformanceResult {
  /** How many checks passed. */
  passed: number;
  /** How many checks failed. */
  failed: number;
  /** One line per failed check: its name and what went wrong. */
  failures: string[];
  /** The names of the checks skipped because the runtime lacks what they need. */
  skipped: string[];
}

/** Marks the line on which a command-line runtime prints the result. */
export const RESULT_PREFIX = "conformance-result ";

/** How long one check may take before it counts as hung. */
const CHECK_LIMIT_MS = 5_000;

/** Every check, in the order they run. */
export const checks: readonly Check[] = [
  ...platformChecks,
  ...clockChecks,
  ...retryChecks,
  ...timeoutChecks,
  ...compositionChecks,
  ...breakerChecks,
  ...fuseChecks,
  ...fallbackChecks,
  ...bulkheadChecks,
  ...cacheChecks,
  ...cacheStoreChecks,
  ...metricsChecks,
  ...statsChecks,
  ...timingChecks,
  ...dashboardChecks,
  ...filterChecks,
  ...harnessChecks,
  ...injectChecks,
  ...registryChecks,
  ...serviceChecks,
];

/** The one-line summary every entry point prints or shows. */
export function summary(result: ConformanceResult): string {
  return `conformance: ${result.passed} checks passed, ${result.failed} failed, ${result.skipped.length} skipped`;
}

async function runCheck(run: Check[1]): Promise<void> {
  let guard: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    guard = setTimeout(
      () => reject(new Error(`hung for ${CHECK_LIMIT_MS} ms`)),
      CHECK_LIMIT_MS,
    );
  });

  try {
    await Promise.race([Promise.resolve().then(run), hung]);
  } finally {
    clearTimeout(guard);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;

  return String(error);
}

/**
 * Runs every check in turn and counts the outcomes; a failure names the check
 * and what went wrong.
 */
export async function runConformance(): Promise<ConformanceResult> {
  const result: ConformanceResult = {
    passed: 0,
    failed: 0,
    failures: [],
    skipped: [],
  };

  for (const [name, run] of checks) {
    try {
      await runCheck(run);
      result.passed++;
    } catch (error) {
      if (error instanceof SkippedCheck) {
        result.skipped.push(name);
        continue;
      }
      result.failed++;
      result.failures.push(`${name}: ${describe(error)}`);
    }
  }

  return result;
}
