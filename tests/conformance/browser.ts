/**
 * The entry point for browsers: runs the conformance script and leaves the
 * result on `globalThis.dynoConformance` (and as text on the page).
 *
 * @module
 */

import {
  type ConformanceResult,
  runConformance,
  summary,
} from "./conformance.ts";

const page = globalThis as typeof globalThis & {
  dynoConformance?: ConformanceResult;
  document?: { body: { textContent: string | null } };
};

const result = await runConformance();

page.dynoConformance = result;
if (page.document) {
  page.document.body.textContent = summary(result);
}
