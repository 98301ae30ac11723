/**
 * Issue 15's fuzz suite, the REST routes: every route of REST_ROUTE_PROCEDURES (so a route added there is fuzzed too)
 * gets fast-check requests — ids and percent-encoding that do not decode in the path, query parameters of any type,
 * JSON bodies of the RPC's request type with hostile fields and unknown keys, wrong content types, methods and tokens —
 * and every answer must be JSON (a success that decodes as the RPC's response, or `{code, message}` with the status of
 * its code, never internal or unknown), a refused token UNAUTHENTICATED, and a rejected request must write nothing.
 */
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REST_ROUTE_PROCEDURES } from "@provenance/shared/auth";
import { startFuzzSystem, type FuzzSystem } from "./fuzz-system.js";
import { FUZZ_SEED, Judge, assertAliveAndBounded } from "./judge.js";
import { restCases, readRestAnswer, restTargets } from "./rest-cases.js";
import { seedWorld } from "./seeds.js";
import { closeConnections, send } from "./wire.js";

const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 40) * 2;

let sys: FuzzSystem;
let judge: Judge;
beforeAll(async () => {
  sys = await startFuzzSystem();
  await seedWorld(sys);
  judge = new Judge(sys);
});
afterAll(async () => {
  closeConnections();
  await sys?.close();
});

describe(`every REST route, fuzzed (seed ${FUZZ_SEED}, ${RUNS_PER_ROUTE} cases each)`, () => {
  it.each(Object.keys(REST_ROUTE_PROCEDURES))("%s", async (route) => {
    const target = restTargets(sys).find((t) => t.route === route)!;
    await fc.assert(
      fc.asyncProperty(restCases(target, sys.tokens, { field: 0.1, unknownField: 0.08, huge: true }), async (c) => {
        await judge.run({ what: route, writes: target.method === "POST", refusedToken: c.refusedToken }, async () =>
          readRestAnswer(target, c.request.method, await send(target.url, c.request)),
        );
      }),
      { seed: FUZZ_SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
    );
    await assertAliveAndBounded(sys);
  });

  it("answers a body past MAX_REQUEST_BYTES 413 RESOURCE_EXHAUSTED", async () => {
    const target = restTargets(sys).find((t) => t.method === "POST")!;
    const path = target.path.replace(":id", "p1");
    const body = Buffer.from(JSON.stringify({ segment_ids: ["x".repeat(9 * 1024 * 1024)] }));
    const big = await send(target.url, { method: "POST", path, headers: { authorization: sys.tokens.admin, "content-type": "application/json" }, body, http: "1.1" });
    const refused = readRestAnswer(target, "POST", big);
    expect(refused.malformed).toBeUndefined();
    expect([refused.httpStatus, refused.code]).toEqual([413, Code.ResourceExhausted]);
  });

  afterAll(() => {
    console.log(`REST fuzz answers by code: ${JSON.stringify(Object.fromEntries(judge.codes))}`);
  });
});
