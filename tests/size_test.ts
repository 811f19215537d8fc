import assert from "node:assert/strict";

const BUDGETS_BYTES: Record<string, number> = {
  retry: 2_048,
  timeout: 2_048,
  breaker: 2_048,
  bulkhead: 2_048,
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
