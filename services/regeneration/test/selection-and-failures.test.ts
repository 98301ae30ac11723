/** Selection by scene, segment ids and asset; conflicting keys; failed and tampered jobs; REST; dependencies down. */
import { Code } from "@connectrpc/connect";
import { failureOf as failure } from "@provenance/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetKind, JobStatus, type AssetRef } from "@provenance/shared";
import { eventually, recordGeneration, registerAsset, startLoop, type LoopHarness } from "./regeneration-harness.js";

const PROJECT = "p-select";
let h: LoopHarness;
let clothedV2: AssetRef;
const segmentsOf = (sceneId: string) => [0, 1, 2, 3].map((i) => `${sceneId}-seg-${i}`);

beforeAll(async () => {
  h = await startLoop();
  const [source] = await registerAsset(h, "src-bo", AssetKind.SOURCE_IMAGE, "bo.png", ["bo"]);
  const [clothedV1, v2] = await registerAsset(h, "clothed-bo", AssetKind.VARIANT_IMAGE, "clothed_bo.png", ["clothed bo v1", "clothed bo v2"]);
  clothedV2 = v2!;
  const [workflow] = await registerAsset(h, "wf-bo", AssetKind.WORKFLOW, "i2v.json", ["wf bo"]);
  const [model] = await registerAsset(h, "model-bo", AssetKind.MODEL, "wan.safetensors", ["wan bo"]);
  const [loraV1] = await registerAsset(h, "lora-bo", AssetKind.LORA, "bo_face.safetensors", ["bo face v1", "bo face v2"]);
  let seq = 0;
  for (const sceneId of ["s1", "s2", "s3"]) {
    for (const segmentId of segmentsOf(sceneId)) {
      seq += 1;
      await recordGeneration(
        h,
        { projectId: PROJECT, sceneId, segmentId, sequenceIndex: seq },
        // Scene s3 also wears the clothed variant.
        { source: source!, variant: sceneId === "s3" ? clothedV1 : undefined, workflow: workflow!, model: model!, loras: [{ asset: loraV1!, weight: 0.7 }] },
      );
    }
  }
  await h.settle();
  await h.assets.setCurrentVersion({ assetId: "lora-bo", version: 2 });
  await h.assets.setCurrentVersion({ assetId: "clothed-bo", version: 2 });
  await eventually(async () => (await h.report.getStalenessReport({ projectId: PROJECT })).totalStaleSegments === 12, 10_000, "12 stale");
});
afterAll(async () => {
  await h?.close();
});

async function rowCounts() {
  const res = await h.sql.query(
    `SELECT (SELECT count(*) FROM regeneration.batches)::int AS batches, (SELECT count(*) FROM regeneration.jobs)::int AS jobs,
            (SELECT count(*) FROM regeneration.outbox)::int AS outbox`,
  );
  return res.rows[0] as { batches: number; jobs: number; outbox: number };
}

describe("selection", () => {
  it("by scene yields only that scene's segments", async () => {
    const { jobs } = await h.regen.planRegeneration({ projectId: PROJECT, sceneIds: ["s2"] });
    expect(jobs.map((j) => j.oldSegmentId)).toEqual(segmentsOf("s2"));
  });

  it("by segment ids yields only those", async () => {
    const { jobs } = await h.regen.planRegeneration({ projectId: PROJECT, segmentIds: ["s3-seg-2", "s1-seg-0", "s1-seg-0"] });
    expect(jobs.map((j) => j.oldSegmentId)).toEqual(["s1-seg-0", "s3-seg-2"]);
  });

  it("by scene and segment ids yields their intersection", async () => {
    const { jobs } = await h.regen.planRegeneration({ projectId: PROJECT, sceneIds: ["s1"], segmentIds: ["s1-seg-1", "s2-seg-1"] });
    expect(jobs.map((j) => j.oldSegmentId)).toEqual(["s1-seg-1"]);
  });

  it("by asset yields the segments stale because of it, with every stale input swapped", async () => {
    const { jobs } = await h.regen.planRegeneration({ projectId: PROJECT, assetId: "clothed-bo" });
    expect(jobs.map((j) => j.oldSegmentId)).toEqual(segmentsOf("s3"));
    for (const job of jobs) {
      expect(job.inputs!.variantImage).toMatchObject({ assetId: "clothed-bo", contentHash: clothedV2.contentHash, version: 2 });
      expect(job.inputs!.loras[0]!.asset).toMatchObject({ assetId: "lora-bo", version: 2 });
      expect(job.swapped.map((s) => s.assetId).sort()).toEqual(["clothed-bo", "lora-bo"]);
    }
  });

  it("of another project, or of nothing stale, plans nothing", async () => {
    expect((await h.regen.planRegeneration({ projectId: "p-other" })).jobs).toEqual([]);
    expect((await h.regen.planRegeneration({ projectId: PROJECT, segmentIds: ["no-such-segment"] })).jobs).toEqual([]);
  });

  it("rejects bad requests with the field named", async () => {
    const err = await failure(h.regen.submitRegeneration({ projectId: PROJECT, requestedBy: "me" }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("idempotency_key");
    expect((await failure(h.regen.planRegeneration({ projectId: "" }))).code).toBe(Code.InvalidArgument);
    expect((await failure(h.regen.listRegenerationJobs({}))).code).toBe(Code.InvalidArgument);
    expect((await failure(h.regen.getRegenerationBatch({ batchId: "nope" }))).code).toBe(Code.NotFound);
  });
});

describe("submission, failures and mismatches", () => {
  it("a failed job leaves its old segment current and stale; a tampered job is an inputs mismatch", async () => {
    await h.startSimulator({ failSegmentIds: ["s1-seg-0"], tamperSegmentIds: ["s1-seg-1"] });
    const res = await h.regen.submitRegeneration({
      projectId: PROJECT,
      segmentIds: ["s1-seg-0", "s1-seg-1", "s1-seg-2"],
      idempotencyKey: "k-fail",
      requestedBy: "qa@example.com",
    });
    expect(res.jobs).toHaveLength(3);
    const batchId = res.batch!.batchId;
    await eventually(async () => (await h.regen.getRegenerationBatch({ batchId })).batch!.running + (await h.regen.getRegenerationBatch({ batchId })).batch!.submitted === 0, 30_000, "jobs to finish");
    await h.settle();
    const { batch, jobs } = await h.regen.getRegenerationBatch({ batchId });
    expect(batch).toMatchObject({ succeeded: 1, failed: 1, inputsMismatch: 1 });
    const byOld = new Map(jobs.map((j) => [j.plan!.oldSegmentId, j]));

    const failed = byOld.get("s1-seg-0")!;
    expect(failed.status).toBe(JobStatus.FAILED);
    expect(failed.error).toContain("FAILED");
    const old = await h.receiptClient.getSegmentProvenance({ segmentId: "s1-seg-0" });
    expect(old.segment!.active).toBe(true);
    const stale = await h.report.listStaleSegments({ projectId: PROJECT });
    expect(stale.segments.map((s) => s.segmentId)).toContain("s1-seg-0");

    const tampered = byOld.get("s1-seg-1")!;
    expect(tampered.status).toBe(JobStatus.INPUTS_MISMATCH);
    expect(tampered.actualInputsHash).not.toBe(tampered.plan!.expectedInputsHash);
    expect(tampered.error).toContain(tampered.plan!.expectedInputsHash);

    expect(byOld.get("s1-seg-2")!.status).toBe(JobStatus.SUCCEEDED);
    expect(stale.segments.map((s) => s.segmentId)).not.toContain("s1-seg-2");

    // The failed segment can be submitted again; the succeeded one has nothing left to do.
    const again = await h.regen.planRegeneration({ projectId: PROJECT, segmentIds: ["s1-seg-0", "s1-seg-2"] });
    expect(again.jobs.map((j) => j.oldSegmentId)).toEqual(["s1-seg-0"]);
    await h.simulator!.stop();
    h.simulator = undefined;
  });

  it("the same key with another selection is ALREADY_EXISTS; nothing to regenerate is FAILED_PRECONDITION", async () => {
    const err = await failure(
      h.regen.submitRegeneration({ projectId: PROJECT, segmentIds: ["s2-seg-0"], idempotencyKey: "k-fail", requestedBy: "qa@example.com" }),
    );
    expect(err.code).toBe(Code.AlreadyExists);
    const before = await rowCounts();
    const none = await failure(
      h.regen.submitRegeneration({ projectId: PROJECT, segmentIds: ["s1-seg-2"], idempotencyKey: "k-none", requestedBy: "qa@example.com" }),
    );
    expect(none.code).toBe(Code.FailedPrecondition);
    expect(await rowCounts()).toEqual(before);
  });

  it("a segment with a job in flight is not submitted again under another key", async () => {
    const first = await h.regen.submitRegeneration({ projectId: PROJECT, sceneIds: ["s2"], idempotencyKey: "k-s2", requestedBy: "qa@example.com" });
    expect(first.jobs).toHaveLength(4);
    expect((await h.regen.planRegeneration({ projectId: PROJECT, sceneIds: ["s2"] })).jobs).toEqual([]);
  });

  it("REST POST /api/projects/:id/regenerate-stale submits, and replays by key", async () => {
    const authorization = `Bearer ${await h.env.token()}`;
    const post = (body: unknown) =>
      fetch(`${h.regeneration.url}/api/projects/${PROJECT}/regenerate-stale`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization },
        body: JSON.stringify(body),
      });
    const body = { scene_ids: ["s3"], idempotency_key: "k-rest", requested_by: "console@example.com" };
    const res = await post(body);
    expect(res.status).toBe(200);
    const json = (await res.json()) as { created: boolean; batch: { batchId: string; jobCount: number; projectId: string }; jobs: unknown[] };
    expect(json.created).toBe(true);
    expect(json.batch).toMatchObject({ jobCount: 4, projectId: PROJECT });
    expect(json.jobs).toHaveLength(4);
    const replay = (await (await post(body)).json()) as { created?: boolean; batch: { batchId: string } };
    expect(replay.created ?? false).toBe(false);
    expect(replay.batch.batchId).toBe(json.batch.batchId);
    const bad = await post({ scene_ids: "s3", idempotency_key: "k-bad", requested_by: "x" });
    expect(bad.status).toBe(400);
  });
});

describe("dependencies down", () => {
  it("with receipts stopped, Plan and Submit fail UNAVAILABLE naming ReceiptService and write nothing", async () => {
    await h.stopReceipts();
    const before = await rowCounts();
    const plan = await failure(h.regen.planRegeneration({ projectId: PROJECT, sceneIds: ["s1"] }));
    expect(plan.code).toBe(Code.Unavailable);
    expect(plan.rawMessage).toContain("ReceiptService at http://127.0.0.1:");
    const submit = await failure(h.regen.submitRegeneration({ projectId: PROJECT, sceneIds: ["s1"], idempotencyKey: "k-down-1", requestedBy: "qa" }));
    expect(submit.code).toBe(Code.Unavailable);
    expect(await rowCounts()).toEqual(before);
  });

  it("with staleness stopped, Plan and Submit fail UNAVAILABLE naming StalenessService and write nothing", async () => {
    await h.stopStaleness();
    const before = await rowCounts();
    const plan = await failure(h.regen.planRegeneration({ projectId: PROJECT }));
    expect(plan.code).toBe(Code.Unavailable);
    expect(plan.rawMessage).toContain("StalenessService at http://127.0.0.1:");
    const submit = await failure(h.regen.submitRegeneration({ projectId: PROJECT, idempotencyKey: "k-down-2", requestedBy: "qa" }));
    expect(submit.code).toBe(Code.Unavailable);
    expect(await rowCounts()).toEqual(before);
  });
});
