/**
 * The entry point for command-line runtimes (Deno, Node, Bun): runs the
 * conformance script and prints a summary line and the result as JSON.
 *
 * @module
 */

import { RESULT_PREFIX, runConformance, summary } from "./conformance.ts";

const result = await runConformance();

// deno-lint-ignore no-console
console.log(summary(result));
for (const failure of result.failures) {
  // deno-lint-ignore no-console
  console.log(`  failed: ${failure}`);
}
for (const name of result.skipped) {
  // deno-lint-ignore no-console
  console.log(`  skipped: ${name}`);
}
// deno-lint-ignore no-console
console.log(RESULT_PREFIX + JSON.stringify(result));
