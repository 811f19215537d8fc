import { Timeout } from "../lib/timeout.ts";
import { timeout as cockatielTimeout, TimeoutStrategy } from "npm:cockatiel@4";

// deno-lint-ignore require-await
const work = async () => 1;
const dynoTimeout = new Timeout({ timeoutMs: 1_000 });
const cockatiel = cockatielTimeout(1_000, TimeoutStrategy.Aggressive);

Deno.bench({
  name: "raw async call",
  group: "timeout",
  baseline: true,
}, async () => {
  await work();
});

Deno.bench("dyno timeout", { group: "timeout" }, async () => {
  await dynoTimeout.execute(work);
});

Deno.bench("dyno timeout (signal read)", { group: "timeout" }, async () => {
  await dynoTimeout.execute(({ signal }) => signal.aborted ? 0 : work());
});

Deno.bench("cockatiel timeout", { group: "timeout" }, async () => {
  await cockatiel.execute(work);
});
