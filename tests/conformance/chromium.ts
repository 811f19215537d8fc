/**
 * The Chromium driver, run by `tests/runtimes_test.ts` as its own Deno
 * process with `--allow-all` (playwright-core reads files under /proc/sys,
 * which only `--allow-all` grants): serves the bundled `browser.js` and a
 * page on a loopback port, opens it in headless Chromium, and prints the
 * result line as the command-line entry does.
 *
 * Usage: `deno run --allow-all tests/conformance/chromium.ts <browser.js>`
 *
 * @module
 */

import { chromium } from "npm:playwright-core@1";
import {
  type ConformanceResult,
  RESULT_PREFIX,
  summary,
} from "./conformance.ts";

/** Debian's Chromium, from `.ci/install-runtimes.sh`. */
const CHROMIUM = "/usr/bin/chromium";

const LIMIT_MS = 20_000;

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>dyno conformance</title></head>
<body>running</body>
<script type="module" src="/browser.js"></script>
</html>`;

async function runInChromium(scriptPath: string): Promise<ConformanceResult> {
  const script = await Deno.readTextFile(scriptPath);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/browser.js") {
      return new Response(script, {
        headers: { "content-type": "text/javascript" },
      });
    }
    if (pathname === "/") {
      return new Response(PAGE, { headers: { "content-type": "text/html" } });
    }
    return new Response("not found", { status: 404 });
  });

  try {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: LIMIT_MS,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    });
    try {
      return await readResult(browser, server.addr.port);
    } finally {
      await browser.close();
    }
  } finally {
    await server.shutdown();
  }
}

async function readResult(
  browser: Awaited<ReturnType<typeof chromium.launch>>,
  port: number,
): Promise<ConformanceResult> {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.goto(`http://127.0.0.1:${port}/`);

  try {
    const handle = await page.waitForFunction(
      () => (globalThis as { dynoConformance?: unknown }).dynoConformance,
      undefined,
      { timeout: LIMIT_MS },
    );
    const result = await handle.jsonValue() as ConformanceResult;
    for (const error of pageErrors) {
      result.failed++;
      result.failures.push(`page error: ${error}`);
    }
    return result;
  } catch (error) {
    throw new Error(`${error}\npage errors: ${pageErrors.join("\n")}`);
  }
}

if (import.meta.main) {
  const [scriptPath] = Deno.args;
  if (scriptPath === undefined) {
    throw new Error("usage: chromium.ts <path to the bundled browser.js>");
  }

  const result = await runInChromium(scriptPath);

  // deno-lint-ignore no-console
  console.log(summary(result));
  // deno-lint-ignore no-console
  console.log(RESULT_PREFIX + JSON.stringify(result));
}
