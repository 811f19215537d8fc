/**
 * The entry point for workerd: a module Worker whose `fetch` handler runs the
 * conformance script on `/conformance` (timers are allowed only inside a
 * request there) and answers anything else with "ready".
 *
 * @module
 */

import { runConformance } from "./conformance.ts";

export default {
  async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== "/conformance") {
      return new Response("ready");
    }

    return Response.json(await runConformance());
  },
};
