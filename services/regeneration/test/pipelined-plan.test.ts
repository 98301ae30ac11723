/**
 * Planning reads page by page (app/plan-regeneration.ts): each page of stale segments has its holders, assets and
 * current receipts read while the next page is listed. On the regeneration service alone (real PostgreSQL, NATS and
 * gRPC) with stand-in planning sources that answer in several pages, some of them slowly: the plan is the one reading
 * everything in turn would give (scene order, a segment seen on two pages once, unknown and inactive segments left
 * out), each asset is read once, at most two receipt reads of a plan run at once, every read is made as the caller,
 * and a failing dependency on any page fails the plan with UNAVAILABLE without reading further.
 */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AssetKind,
  AssetSchema,
  InputRole,
  ReceiptSchema,
  ReceiptStatus,
  RegenerationService,
  SegmentCurrentReceiptSchema,
  StaleSegmentSchema,
  unavailable,
  type Asset,
  type SegmentCurrentReceipt,
  type StaleSegment,
} from "@provenance/shared";
import type { Caller } from "@provenance/shared/auth";
import { createTestEnvironment, type TestEnvironment, failureOf as failure } from "@provenance/shared/testing";
import type { PlanSources } from "../src/clients/plan-sources.js";
import { startRegeneration, type RunningRegeneration } from "../src/start.js";

const PROJECT = "p-pages";
const sha = (label: string) => createHash("sha256").update(label).digest("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Segment `n`: scene `scene-(n % 3)`, position n in it; its receipt used LoRA v1 (v2 is current). */
function staleSegment(n: number): StaleSegment {
  return create(StaleSegmentSchema, {
    segmentId: `seg-${String(n).padStart(3, "0")}`,
    sceneId: `scene-${n % 3}`,
    projectId: PROJECT,
    receiptId: `r-${n}`,
    reasons: [{ kind: AssetKind.LORA, role: InputRole.LORA, assetId: `lora-${n % 2}`, assetName: "lora", receiptVersion: 1, currentVersion: 2 }],
  });
}

function currentReceipt(segmentId: string): SegmentCurrentReceipt {
  const n = Number(segmentId.slice(4));
  const lora = `lora-${n % 2}`;
  return create(SegmentCurrentReceiptSchema, {
    segment: { segmentId, sceneId: `scene-${n % 3}`, projectId: PROJECT, characterName: "eve", sequenceIndex: n, active: n !== INACTIVE },
    currentReceipt: create(ReceiptSchema, {
      receiptId: `r-${n}`,
      segmentId,
      sceneId: `scene-${n % 3}`,
      projectId: PROJECT,
      characterName: "eve",
      sequenceIndex: n,
      sourceImage: { assetId: "src-eve", contentHash: sha("src eve"), version: 1 },
      workflow: { assetId: "wf-eve", contentHash: sha("wf eve"), version: 1 },
      model: { assetId: "model-eve", contentHash: sha("model eve"), version: 1 },
      loras: [{ asset: { assetId: lora, contentHash: sha(`${lora} v1`), version: 1 }, weight: 0.5 }],
      promptText: `eve, shot ${n}`,
      seed: BigInt(n),
      steps: 20,
      resolutionWidth: 640,
      resolutionHeight: 360,
      status: ReceiptStatus.SUCCEEDED,
    }),
  });
}

/** A segment the receipts service does not know, and one no longer active: both listed stale, neither planned. */
const UNKNOWN = 7;
const INACTIVE = 8;

/** Pages of segments 0..11 (segment 4 listed on two pages), in segment id order. */
const PAGES = [
  [0, 1, 2, 3],
  [4, 5, 6],
  [4, 7, 8, 9],
  [10, 11],
];

/** Stand-in sources answering PAGES; the first page's receipts come slowest, so pages complete out of order. */
class PagedSources implements PlanSources {
  pagesAsked = 0;
  assetReads: string[][] = [];
  receiptCalls = 0;
  inFlight = 0;
  maxInFlight = 0;
  callers: (Caller | undefined)[] = [];
  /** Page (0-based) whose listing fails, or whose receipts read fails; none when undefined. */
  failListing: number | undefined;
  failReceipts: number | undefined;

  reset(): void {
    Object.assign(this, { pagesAsked: 0, assetReads: [], receiptCalls: 0, inFlight: 0, maxInFlight: 0, callers: [] });
    this.failListing = undefined;
    this.failReceipts = undefined;
  }

  async *staleSegmentPages(projectId: string, _assetId: string, caller?: Caller): AsyncGenerator<StaleSegment[]> {
    if (projectId !== PROJECT) return;
    for (const [i, page] of PAGES.entries()) {
      this.pagesAsked += 1;
      this.callers.push(caller);
      await sleep(5);
      if (i === this.failListing) throw unavailable(`StalenessService is unavailable (page ${i})`);
      yield page.map(staleSegment);
    }
  }

  async currentReceipts(segmentIds: readonly string[], caller?: Caller): Promise<(SegmentCurrentReceipt | undefined)[]> {
    const call = this.receiptCalls++;
    this.callers.push(caller);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await sleep(call === 0 ? 150 : 20);
      if (call === this.failReceipts) throw unavailable(`ReceiptService is unavailable (call ${call})`);
      return segmentIds.map((id) => (id === `seg-00${UNKNOWN}` ? undefined : currentReceipt(id)));
    } finally {
      this.inFlight -= 1;
    }
  }

  async assets(assetIds: readonly string[], caller?: Caller): Promise<(Asset | undefined)[]> {
    this.assetReads.push([...assetIds]);
    this.callers.push(caller);
    await sleep(10);
    return assetIds.map((assetId) =>
      create(AssetSchema, { assetId, kind: AssetKind.LORA, name: "lora", currentVersion: 2, currentContentHash: sha(`${assetId} v2`) }),
    );
  }
}

let env: TestEnvironment;
let service: RunningRegeneration;
let regen: Client<typeof RegenerationService>;
const sources = new PagedSources();

beforeAll(async () => {
  env = await createTestEnvironment({ name: "regeneration_pages" });
  service = await env.start("regeneration", (config, logger) => startRegeneration(config, logger, { sources }));
  regen = env.client(RegenerationService, service.url);
});
afterAll(async () => {
  await env?.close();
});
beforeEach(() => sources.reset());

describe("a plan read page by page", () => {
  it("is the plan of every page read in turn: scene order, each segment once, unknown and inactive segments left out", async () => {
    const { jobs } = await regen.planRegeneration({ projectId: PROJECT });
    const planned = [0, 1, 2, 3, 4, 5, 6, 9, 10, 11];
    const expected = planned
      .map((n) => ({ scene: `scene-${n % 3}`, n }))
      .sort((a, b) => (a.scene < b.scene ? -1 : a.scene > b.scene ? 1 : a.n - b.n))
      .map(({ n }) => `seg-${String(n).padStart(3, "0")}`);
    expect(jobs.map((j) => j.oldSegmentId)).toEqual(expected);
    for (const job of jobs) {
      const n = Number(job.oldSegmentId.slice(4));
      expect(job.inputs?.loras[0]?.asset).toMatchObject({ assetId: `lora-${n % 2}`, contentHash: sha(`lora-${n % 2} v2`), version: 2 });
      expect(job.swapped.map((s) => s.assetId)).toEqual([`lora-${n % 2}`]);
    }
  });

  it("reads each asset once, one receipts call per page, at most two at once, all as the caller", async () => {
    await regen.planRegeneration({ projectId: PROJECT });
    expect(sources.assetReads.flat().sort()).toEqual(["lora-0", "lora-1"]);
    expect(sources.receiptCalls).toBe(PAGES.length);
    expect(sources.maxInFlight).toBeGreaterThan(1);
    expect(sources.maxInFlight).toBeLessThanOrEqual(2);
    expect(sources.callers.length).toBeGreaterThan(0);
    expect(sources.callers.every((c) => c !== undefined && c.principal.subject === sources.callers[0]!.principal.subject)).toBe(true);
  });

  it("fails with UNAVAILABLE when a later page cannot be listed, after the reads under way settle", async () => {
    sources.failListing = 2;
    const err = await failure(regen.planRegeneration({ projectId: PROJECT }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toContain("StalenessService is unavailable (page 2)");
    expect(sources.inFlight).toBe(0);
  });

  it("fails with UNAVAILABLE when a page's current receipts cannot be read, and lists no further page", async () => {
    sources.failReceipts = 1;
    const err = await failure(regen.planRegeneration({ projectId: PROJECT }));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toContain("ReceiptService is unavailable (call 1)");
    expect(sources.inFlight).toBe(0);
    expect(sources.pagesAsked).toBeLessThanOrEqual(PAGES.length);
    // The call after the failed one is not made.
    expect(sources.receiptCalls).toBeLessThan(PAGES.length);
  });

  it("submits the same jobs it plans", async () => {
    const { jobs: planned } = await regen.planRegeneration({ projectId: PROJECT });
    const submitted = await regen.submitRegeneration({ projectId: PROJECT, idempotencyKey: "k-pages" });
    expect(submitted.jobs.map((j) => j.plan?.oldSegmentId)).toEqual(planned.map((j) => j.oldSegmentId));
    expect(submitted.jobs.map((j) => j.plan?.expectedInputsHash)).toEqual(planned.map((j) => j.expectedInputsHash));
    // Every segment is held now: nothing to plan, and the held segments are named.
    expect((await regen.planRegeneration({ projectId: PROJECT })).jobs).toEqual([]);
    const err = await failure(regen.submitRegeneration({ projectId: PROJECT, idempotencyKey: "k-pages-again" }));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain(`segment "${planned[0]!.oldSegmentId}"`);
  });
});
