/**
 * Runs `deno bench --json` on the given bench files several times and prints,
 * for every entry, the median of its per-run ratio to its group's baseline,
 * with the lowest and highest. Each ratio comes from one run, so the noise of
 * this shared machine moves the spread, not the method.
 *
 *     deno run --allow-run --allow-read bench/ratios.ts [--runs 9] bench/retry_bench.ts …
 *
 * @module
 */

interface BenchEntry {
  group: string | null;
  name: string;
  baseline: boolean;
  results: { ok?: { avg: number } }[];
}

function parseArgs(args: string[]): { runs: number; files: string[] } {
  const runsAt = args.indexOf("--runs");
  const runs = runsAt === -1 ? 9 : Number(args[runsAt + 1]);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError(`--runs must be a whole number >= 1, got ${runs}`);
  }

  const files = args.filter((_, i) => i !== runsAt && i !== runsAt + 1);
  return { runs, files: files.length > 0 ? files : ["bench/"] };
}

async function benchOnce(files: string[]): Promise<BenchEntry[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["bench", "--json", "--allow-read", "--allow-env", "--allow-sys"]
      .concat(files),
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`deno bench failed (${output.code})`);

  return JSON.parse(new TextDecoder().decode(output.stdout)).benches;
}

/** Each entry's time over its group's baseline time, in one run. */
function ratiosOf(entries: BenchEntry[]): Map<string, number> {
  const baselines = new Map<string | null, number>();
  for (const entry of entries) {
    const avg = entry.results[0]?.ok?.avg;
    if (entry.baseline && avg !== undefined) baselines.set(entry.group, avg);
  }

  const ratios = new Map<string, number>();
  for (const entry of entries) {
    const avg = entry.results[0]?.ok?.avg;
    const baseline = baselines.get(entry.group);
    if (avg === undefined || baseline === undefined || entry.baseline) continue;
    ratios.set(`${entry.group} | ${entry.name}`, avg / baseline);
  }
  return ratios;
}

const { runs, files } = parseArgs(Deno.args);
const samples = new Map<string, number[]>();
for (let run = 0; run < runs; run++) {
  for (const [key, ratio] of ratiosOf(await benchOnce(files))) {
    samples.set(key, [...samples.get(key) ?? [], ratio]);
  }
}

for (const [key, ratios] of samples) {
  const sorted = ratios.toSorted((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const range = `${sorted[0].toFixed(2)}x to ${sorted.at(-1)!.toFixed(2)}x`;
  // deno-lint-ignore no-console
  console.log(`${key}: median ${median.toFixed(2)}x (${range}, ${runs} runs)`);
}
