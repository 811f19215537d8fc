/**
 * dyno's cross-runtime proof: bundles the conformance script with
 * `deno bundle --minify` and runs the same bundle in Deno, Node, Bun, workerd
 * and headless Chromium (driven by `conformance/chromium.ts`). Each runtime
 * must pass every check, except the checks it is expected to skip because it
 * lacks what they need ({@linkcode EXPECTED_SKIPS}): no more, no fewer.
 *
 * Bun, workerd and Chromium come from `.ci/install-runtimes.sh`; a missing one
 * fails its test with a message saying so.
 */

import assert from "node:assert/strict";
import {
  checks,
  type ConformanceResult,
  RESULT_PREFIX,
} from "./conformance/conformance.ts";

const ROOT = new URL("../", import.meta.url);
const CONFORMANCE = new URL("tests/conformance/", ROOT);
const NPM_BIN = new URL(".ci/cache/node_modules/.bin/", ROOT);
const CHROMIUM = "/usr/bin/chromium";
const INSTALL = "run .ci/install-runtimes.sh to install it";

/** How long one runtime may take, start to finish. */
const RUNTIME_LIMIT_MS = 15_000;
const WORKERD_START_LIMIT_MS = 10_000;
const PORT_PLACEHOLDER = "127.0.0.1:PORT";

/** The directory `workerd.capnp`'s cache service keeps entries in. */
const WORKERD_CACHE_DIR = "cache";

/** The checks that need the runtime's own Web Cache API. */
const RUNTIME_CACHES_CHECKS = [
  "cache_stores: WebCacheStore over the runtime's own caches (where globalThis.caches exists)",
  "cache_stores: WebCacheStore.clear() on the runtime's own caches empties it, or rejects with a TypeError where it cannot list keys (where globalThis.caches exists)",
];

/**
 * The checks each runtime skips. Node and Bun have no Web Cache API
 * (`globalThis.caches`); Deno, workerd and Chromium have one and must run
 * those checks, so losing it there fails the test.
 */
const EXPECTED_SKIPS: Readonly<Record<string, readonly string[]>> = {
  Deno: [],
  Node: RUNTIME_CACHES_CHECKS,
  Bun: RUNTIME_CACHES_CHECKS,
  workerd: [],
  Chromium: [],
};

interface Bundle {
  dir: string;
  /** For Deno, Node and Bun: an ES module that prints the result. */
  cli: string;
  /** A module Worker for workerd. */
  worker: string;
  /** A module script for the browser page. */
  browser: string;
}

async function withBundle(use: (bundle: Bundle) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "dyno-conformance-" });
  try {
    const entries = ["cli", "worker", "browser"].map((name) =>
      new URL(`${name}.ts`, CONFORMANCE).pathname
    );
    await run(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--minify",
      "--platform=browser",
      `--outdir=${dir}`,
      ...entries,
    ], "deno bundle");
    await Deno.rename(`${dir}/cli.js`, `${dir}/cli.mjs`);

    await use({
      dir,
      cli: `${dir}/cli.mjs`,
      worker: `${dir}/worker.js`,
      browser: `${dir}/browser.js`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function requireFile(path: string, runtime: string): Promise<void> {
  try {
    await Deno.stat(path);
  } catch {
    throw new Error(`${runtime} is missing: ${path} not found; ${INSTALL}`);
  }
}

function npmBinary(name: string): string {
  return new URL(name, NPM_BIN).pathname;
}

/** Runs a command to its end within the limit; throws on a non-zero exit. */
async function run(
  command: string,
  args: string[],
  label: string,
): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), RUNTIME_LIMIT_MS);
  try {
    const output = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output().catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new Error(`${label} is missing: ${command} not found on PATH`);
    });
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);

    if (controller.signal.aborted) {
      throw new Error(
        `${label} did not exit within ${RUNTIME_LIMIT_MS} ms (a hung check or a timer left behind)\n${stdout}${stderr}`,
      );
    }
    if (!output.success) {
      throw new Error(
        `${label} exited with ${output.code}\n${stdout}${stderr}`,
      );
    }

    return stdout;
  } finally {
    clearTimeout(timer);
  }
}

function parseCliResult(stdout: string, runtime: string): ConformanceResult {
  const line = stdout.split("\n").find((text) =>
    text.startsWith(RESULT_PREFIX)
  );
  if (line === undefined) {
    throw new Error(`${runtime} printed no result line:\n${stdout}`);
  }

  return JSON.parse(line.slice(RESULT_PREFIX.length));
}

function assertConformance(
  result: ConformanceResult,
  runtime: string,
  startedAtMs: number,
): void {
  const seconds = ((performance.now() - startedAtMs) / 1000).toFixed(2);
  const skips = EXPECTED_SKIPS[runtime];
  // deno-lint-ignore no-console
  console.log(
    `conformance in ${runtime}: ${result.passed} of ${checks.length} checks passed, ${result.failed} failed, ${result.skipped.length} skipped (${seconds} s)`,
  );

  const names = new Set(checks.map(([name]) => name));
  for (const name of skips) {
    assert.ok(names.has(name), `expected skip is not a check: ${name}`);
  }
  assert.deepEqual(result.failures, [], `failures in ${runtime}`);
  assert.equal(result.failed, 0, `failed checks in ${runtime}`);
  assert.deepEqual(result.skipped, skips, `skipped checks in ${runtime}`);
  assert.equal(
    result.passed,
    checks.length - skips.length,
    `passed checks in ${runtime}`,
  );
}

async function runCli(
  runtime: string,
  command: string,
  args: (bundle: Bundle) => string[],
): Promise<void> {
  const startedAtMs = performance.now();

  await withBundle(async (bundle) => {
    const stdout = await run(command, args(bundle), runtime);

    assertConformance(parseCliResult(stdout, runtime), runtime, startedAtMs);
  });
}

Deno.test("conformance script passes in Deno", async () => {
  await runCli(
    "Deno",
    Deno.execPath(),
    (bundle) => ["run", "--no-prompt", "--no-config", bundle.cli],
  );
});

Deno.test("conformance script passes in Node", async () => {
  await runCli("Node", "node", (bundle) => [bundle.cli]);
});

Deno.test("conformance script passes in Bun", async () => {
  const bun = npmBinary("bun");
  await requireFile(bun, "Bun");

  await runCli("Bun", bun, (bundle) => [bundle.cli]);
});

function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();

  return port;
}

async function fetchText(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url);
    const text = await response.text();

    return response.ok ? text : undefined;
  } catch {
    return undefined;
  }
}

async function waitUntilReady(
  url: string,
  exited: Promise<Deno.CommandStatus>,
): Promise<void> {
  let hasExited = false;
  exited.then(() => (hasExited = true));
  const deadlineMs = performance.now() + WORKERD_START_LIMIT_MS;

  while (performance.now() < deadlineMs) {
    if (await fetchText(url) === "ready") return;
    if (hasExited) throw new Error("workerd exited before it answered");

    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`workerd did not answer within ${WORKERD_START_LIMIT_MS} ms`);
}

async function askWorker(url: string): Promise<ConformanceResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), RUNTIME_LIMIT_MS);
  try {
    const response = await fetch(url, { signal: controller.signal });
    const body = await response.text();
    assert.equal(response.status, 200, `workerd answered: ${body}`);

    return JSON.parse(body);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("conformance script passes in workerd", async () => {
  const workerd = npmBinary("workerd");
  await requireFile(workerd, "workerd");
  const startedAtMs = performance.now();

  await withBundle(async (bundle) => {
    const port = freeLoopbackPort();
    const template = await Deno.readTextFile(
      new URL("workerd.capnp", CONFORMANCE),
    );
    assert.ok(template.includes(PORT_PLACEHOLDER), "workerd.capnp's address");
    await Deno.writeTextFile(
      `${bundle.dir}/config.capnp`,
      template.replace(PORT_PLACEHOLDER, `127.0.0.1:${port}`),
    );
    await Deno.mkdir(`${bundle.dir}/${WORKERD_CACHE_DIR}`);

    const child = new Deno.Command(workerd, {
      args: ["serve", "--experimental", "config.capnp"],
      cwd: bundle.dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    let result: ConformanceResult | undefined;
    let failure: unknown;
    try {
      await waitUntilReady(`http://127.0.0.1:${port}/`, child.status);
      result = await askWorker(`http://127.0.0.1:${port}/conformance`);
    } catch (error) {
      failure = error;
    } finally {
      try {
        child.kill("SIGTERM");
      } catch {
        // It has already exited; its output says why.
      }
    }
    const { stderr } = await output;

    if (failure !== undefined) {
      const log = new TextDecoder().decode(stderr);
      throw new Error(`${failure}\nworkerd's stderr:\n${log}`, {
        cause: failure,
      });
    }
    assertConformance(result!, "workerd", startedAtMs);
  });
});

Deno.test("conformance script passes in Chromium", async () => {
  await requireFile(CHROMIUM, "Chromium");

  await runCli("Chromium", Deno.execPath(), (bundle) => [
    "run",
    "--allow-all",
    "--no-prompt",
    new URL("chromium.ts", CONFORMANCE).pathname,
    bundle.browser,
  ]);
});
