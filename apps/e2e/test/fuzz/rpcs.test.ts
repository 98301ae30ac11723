/**
 * Issue 15's fuzz suite, the RPCs: for EVERY method of every provenance.v1 service (found by walking the generated
 * descriptors, so a new RPC is fuzzed without anyone remembering), fast-check draws requests — valid-shaped and
 * hostile messages as Connect JSON (POST, and GET where the RPC allows it), Connect binary, gRPC and gRPC-Web, with the
 * admin's token or one that must be refused, and framing that may be wrong — and every answer must be a well-formed
 * success or error with no server-fault code, a refused token must get UNAUTHENTICATED, a rejected request must write
 * nothing, and after each method's run every service still answers health checks within its memory bound.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rpcCases } from "./case-arbitraries.js";
import { provenanceServices, startFuzzSystem, type FuzzSystem } from "./fuzz-system.js";
import { FUZZ_SEED, Judge, assertAliveAndBounded } from "./judge.js";
import { seedWorld, type Bases } from "./seeds.js";
import { closeConnections } from "./wire.js";

/** Cases per RPC: ~25 RPCs × this stays within the suite's time on two cores. */
const RUNS_PER_RPC = Number(process.env.FUZZ_RUNS ?? 40);

const methods = provenanceServices().flatMap((s) => s.methods.map((m) => ({ name: `${s.name}.${m.name}`, service: s, method: m })));

let sys: FuzzSystem;
let judge: Judge;
let bases: Bases;
beforeAll(async () => {
  sys = await startFuzzSystem();
  bases = await seedWorld(sys);
  judge = new Judge(sys);
});
afterAll(async () => {
  closeConnections();
  await sys?.close();
});

describe(`every RPC, fuzzed (seed ${FUZZ_SEED}, ${RUNS_PER_RPC} cases each; FUZZ_SEED / FUZZ_RUNS to change)`, () => {
  it("walks every service the services serve: ReceiptService, AssetService, StalenessService, RegenerationService", () => {
    const names = methods.map((m) => m.name);
    // The RPCs ARCHITECTURE.md names; the walk finds these and whatever else the protos declare.
    for (const rpc of [
      "ReceiptService.CreateReceipt", "ReceiptService.CompleteReceipt", "ReceiptService.GetReceipt", "ReceiptService.GetSegmentProvenance",
      "ReceiptService.GetAssetUsage", "ReceiptService.FindReceiptsByInputsHash", "AssetService.RegisterAsset", "AssetService.PublishVersion",
      "AssetService.SetCurrentVersion", "AssetService.GetAsset", "AssetService.ListAssets", "AssetService.ListVersions",
      "StalenessService.GetStalenessReport", "StalenessService.ListStaleSegments", "StalenessService.WatchStaleness",
      "RegenerationService.PlanRegeneration", "RegenerationService.SubmitRegeneration", "RegenerationService.GetRegenerationBatch",
      "RegenerationService.ListRegenerationJobs",
    ]) {
      expect(names).toContain(rpc);
    }
    expect(sys.rpcs.map((r) => `${r.service.name}.${r.method.name}`)).toEqual(names);
  });

  it.each(methods)("$name", async ({ service, method }) => {
    const rpc = sys.rpcs.find((r) => r.service.typeName === service.typeName && r.method.name === method.name)!;
    expect(rpc).toBeDefined();
    await fc.assert(
      fc.asyncProperty(rpcCases(rpc, sys.tokens, bases), async (c) => {
        await judge.check(c);
      }),
      // A stream that is accepted stays open, and is read for STREAM_OPEN_AFTER_MS: fewer cases keep its time in line.
      { seed: FUZZ_SEED, numRuns: method.methodKind === "unary" ? RUNS_PER_RPC : Math.ceil(RUNS_PER_RPC / 2), endOnFailure: true },
    );
    await assertAliveAndBounded(sys);
  });

  afterAll(() => {
    // What the answers were, so a run that only ever saw one code shows it.
    console.log(`fuzz answers by code: ${JSON.stringify(Object.fromEntries(judge.codes))}; time: ${JSON.stringify(judge.spent, (_, v: unknown) => (typeof v === "number" ? Math.round(v) : v))}`);
  });
});
