import assert from "node:assert/strict";

/** "About 2 KB" for a core module is 2 KiB with 5 % to spare; 3 KiB for the cache. */
const CORE_BUDGET_BYTES = 2_150;
const BUDGETS_BYTES: Record<string, number> = {
  // Checking every option, the operation and the caller's signal, with
  // messages that show the value, costs retry about 200 bytes over the core
  // budget (README, known limits).
  retry: 2_350,
  timeout: CORE_BUDGET_BYTES,
  // Over the 2 KB aim: time and count windows, slow calls, probes, backoff,
  // events and snapshots weigh 3.8 KB together (README, known limits). This
  // budget only stops it from growing.
  breaker: 3_850,
  bulkhead: CORE_BUDGET_BYTES,
  cache: 3_072,
};

async function gzippedBundleBytes(module: string): Promise<number> {
  const outFile = await Deno.makeTempFile({ suffix: ".js" });
  try {
    const bundled = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--minify",
        "--platform=browser",
        "-o",
        outFile,
        new URL(`../lib/${module}.ts`, import.meta.url).pathname,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(
      bundled.code,
      0,
      new TextDecoder().decode(bundled.stderr),
    );

    const gzipped = new Blob([await Deno.readFile(outFile)]).stream()
      .pipeThrough(new CompressionStream("gzip"));
    return (await new Response(gzipped).arrayBuffer()).byteLength;
  } finally {
    await Deno.remove(outFile);
  }
}

for (const [module, budgetBytes] of Object.entries(BUDGETS_BYTES)) {
  Deno.test(`${module} bundled alone stays within ${budgetBytes} bytes min+gzip`, async () => {
    const bytes = await gzippedBundleBytes(module);

    assert.ok(
      bytes <= budgetBytes,
      `${module} is ${bytes} bytes min+gzip, over its ${budgetBytes} byte budget`,
    );
  });
}
