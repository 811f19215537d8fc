/**
 * The dashboard in headless Chromium, driven by playwright-core.
 *
 * playwright-core reads files under /proc/sys, which Deno grants only with
 * `--allow-all`, and `deno task test` runs with narrower permissions. So the
 * test runs this same file as its own `deno run --allow-all` process, in which
 * `import.meta.main` is true and `Deno.test` is a no-op: that process serves
 * the dashboard over a real `MetricsRegistry`, drives the page, asserts, and
 * exits non-zero with the failure on stderr.
 *
 * Set DYNO_SCREENSHOT=path.png to keep the screenshot it takes.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1";
import { dashboard } from "../lib/dashboard.ts";
import { type CircuitState, Metrics, MetricsRegistry } from "../lib/metrics.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

async function requireChromium(): Promise<void> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (CI's .ci/run does)`,
    );
  }
}

/** Where the screenshot goes: $DYNO_SCREENSHOT, or a temp file removed after. */
async function screenshotPath(): Promise<{ path: string; keep: boolean }> {
  const wanted = Deno.env.get("DYNO_SCREENSHOT");
  if (wanted) return { path: wanted, keep: true };

  return { path: await Deno.makeTempFile({ suffix: ".png" }), keep: false };
}

/** Waits until the element at `selector` shows exactly `wanted`. */
async function waitForText(
  page: Page,
  selector: string,
  wanted: string,
): Promise<void> {
  const exactly = new RegExp(
    `^${wanted.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`,
  );
  await page.locator(selector, { hasText: exactly }).waitFor({
    timeout: 10_000,
  });
}

Deno.test("the dashboard page shows a live tile per service in Chromium", async () => {
  await requireChromium();

  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", import.meta.filename!],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(
    code,
    0,
    `the browser run failed:\n${decoder.decode(stdout)}${
      decoder.decode(stderr)
    }`,
  );
});

if (import.meta.main) await showLiveTiles();

/** The scenario, run in the `--allow-all` process. */
async function showLiveTiles(): Promise<void> {
  await requireChromium();
  const { chromium } = await import("npm:playwright-core@1");

  let paymentsCircuit: CircuitState = "closed";
  const registry = new MetricsRegistry();
  const windowMs = 60_000;
  const users = new Metrics({
    name: "users",
    group: "accounts",
    registry,
    windowMs,
    circuitState: () => "closed",
  });
  const payments = new Metrics({
    name: "payments",
    group: "checkout",
    registry,
    windowMs,
    circuitState: () => paymentsCircuit,
  });
  new Metrics({ name: "search", group: "catalog", registry, windowMs });

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    dashboard(registry, {
      basePath: "/dyno",
      streamIntervalMs: 200,
      title: "Shop services",
    }),
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
  const pageErrors: string[] = [];

  try {
    const page = await browser.newPage({
      viewport: { width: 1100, height: 620 },
    });
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    await page.goto(`http://127.0.0.1:${server.addr.port}/dyno`);

    const usersTile = '[data-command="users"]';
    const paymentsTile = '[data-command="payments"]';
    await page.waitForSelector(`${usersTile} [data-field="success"]`);
    await page.waitForSelector(paymentsTile);
    assert.equal(await page.textContent("#status-text"), "Live");
    assert.equal(
      await page.getAttribute("#link-metrics", "href"),
      "/dyno/metrics",
    );
    assert.deepEqual(
      await page.$$eval(
        "[data-command]",
        (tiles) => tiles.map((tile) => tile.getAttribute("data-command")),
      ),
      ["payments", "search", "users"],
    );
    assert.equal(
      await page.textContent(`${usersTile} [data-field="success"]`),
      "0",
    );
    assert.equal(
      await page.textContent(`${usersTile} [data-field="rate"]`),
      "0.0",
    );

    let successes = 0;
    for (let round = 0; round < 6; round++) {
      for (let call = 0; call < 4 + 3 * round; call++) {
        users.callStarted();
        users.recordSuccess(2 + (call % 10) * 1.5 + round);
        users.callEnded();
        successes++;
      }
      payments.recordSuccess(30 + round);
      payments.recordSuccess(45 + round * 3);
      await waitForText(
        page,
        `${usersTile} [data-field="success"]`,
        String(successes),
      );
    }
    users.recordFailure(80);
    users.recordRetry();
    users.callStarted();
    for (let call = 0; call < 8; call++) payments.recordFailure(250);
    payments.recordShortCircuited();
    paymentsCircuit = "open";

    await waitForText(page, `${usersTile} [data-field="failure"]`, "1");
    assert.equal(successes, 69);
    assert.equal(
      await page.textContent(`${usersTile} [data-field="rate"]`),
      "1.2",
    );
    assert.equal(
      await page.textContent(`${usersTile} [data-field="errors"]`),
      "1.4%",
    );
    assert.equal(
      await page.textContent(`${usersTile} [data-field="inFlight"]`),
      "1",
    );
    assert.equal(
      await page.textContent(`${usersTile} [data-field="max"]`),
      "80 ms",
    );
    assert.equal(
      await page.textContent(`${usersTile} [data-field="circuit"]`),
      "closed",
    );

    await waitForText(page, `${paymentsTile} [data-field="circuit"]`, "open");
    assert.equal(
      await page.getAttribute(paymentsTile, "data-health"),
      "bad",
    );
    assert.equal(
      await page.textContent(`${paymentsTile} [data-field="errors"]`),
      "43%",
    );
    assert.equal(
      await page.textContent(`${paymentsTile} [data-field="shortCircuited"]`),
      "1",
    );
    assert.equal(
      await page.textContent('[data-command="search"] [data-field="circuit"]'),
      "no breaker",
    );
    const sparkline = await page.getAttribute(
      `${usersTile} svg.spark path.line`,
      "d",
    );
    assert.match(sparkline ?? "", /^M[\d.]+ [\d.]+ L/);

    const { path, keep } = await screenshotPath();
    await page.screenshot({ path, fullPage: true });
    const png = await Deno.readFile(path);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    if (!keep) await Deno.remove(path);

    await page.close();
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await server.shutdown();
  }
}
