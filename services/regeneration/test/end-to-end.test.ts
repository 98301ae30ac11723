/** The story, end to end: 60 segments, one LoRA updated, exactly its 12 segments regenerated, the project fresh again. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { AssetKind, GenerationJobRequestedSchema, JobStatus, RegenerationService, subjectFor, type AssetRef, type PlannedJob, type Receipt } from "@provenance/shared";
import { DEFAULT_TEST_GRANTS } from "@provenance/shared/testing";
import { inputsHashOf, inputsOfReceipt } from "../src/domain/planned-job.js";
import { eventually, recordGeneration, registerAsset, startLoop, type LoopHarness } from "./regeneration-harness.js";

const PROJECT = "p-pier";
const SCENES = ["scene-1", "scene-2", "scene-3", "scene-4", "scene-5"];
let h: LoopHarness;
let loraV1: AssetRef;
let loraV2: AssetRef;
/** Segment id → its original receipt. */
const originals = new Map<string, Receipt>();
/** The 12 segments that used the LoRA (4 in each of the first 3 scenes). */
const usingLora = new Set<string>();

beforeAll(async () => {
  h = await startLoop();
  const [source] = await registerAsset(h, "src-anna", AssetKind.SOURCE_IMAGE, "anna.png", ["anna"]);
  const [variant] = await registerAsset(h, "clothed-anna", AssetKind.VARIANT_IMAGE, "clothed_v1.png", ["clothed v1"]);
  const [workflow] = await registerAsset(h, "wf-i2v", AssetKind.WORKFLOW, "i2v.json", ["wf"]);
  const [model] = await registerAsset(h, "model-wan", AssetKind.MODEL, "wan2.safetensors", ["wan"]);
  const [style] = await registerAsset(h, "lora-style", AssetKind.LORA, "film_grain.safetensors", ["grain"]);
  [loraV1, loraV2] = await registerAsset(h, "lora-anna", AssetKind.LORA, "anna_face.safetensors", ["anna face v1", "anna face v2"]);

  let seq = 0;
  for (const [s, sceneId] of SCENES.entries()) {
    for (let i = 0; i < 12; i++) {
      seq += 1;
      const segmentId = `${sceneId}-seg-${String(i).padStart(2, "0")}`;
      const withLora = s < 3 && i < 4;
      if (withLora) usingLora.add(segmentId);
      const receipt = await recordGeneration(
        h,
        { projectId: PROJECT, sceneId, segmentId, sequenceIndex: seq },
        {
          source: source!,
          variant: variant!,
          workflow: workflow!,
          model: model!,
          // The LoRA sits between two others, so order and weights must survive the swap.
          loras: withLora
            ? [
                { asset: style!, weight: 0.3 },
                { asset: loraV1!, weight: 0.85 },
                { asset: { ...style!, assetId: "lora-untracked", contentHash: "ab".repeat(32), version: 0 }, weight: 0.1 },
              ]
            : [{ asset: style!, weight: 0.3 }],
        },
      );
      originals.set(segmentId, receipt);
    }
  }
  await h.settle();
  await h.assets.setCurrentVersion({ assetId: "lora-anna", version: loraV2!.version });
  await eventually(async () => (await h.report.getStalenessReport({ projectId: PROJECT })).totalStaleSegments === 12, 10_000, "12 stale segments");
});
afterAll(async () => {
  await h?.close();
});

/** The old receipt's inputs with only the LoRA swapped to v2. */
function expectedInputs(segmentId: string) {
  const inputs = inputsOfReceipt(originals.get(segmentId)!);
  inputs.loras[1]!.asset = { ...loraV2!, $typeName: "provenance.v1.AssetRef" };
  return inputs;
}

describe("regenerating the segments of an updated LoRA", () => {
  let planned: PlannedJob[];

  it("plans exactly the 12 stale segments, each with only that LoRA swapped and the expected hash", async () => {
    const report = await h.report.getStalenessReport({ projectId: PROJECT });
    expect(report.totalStaleScenes).toBe(3);
    planned = (await h.regen.planRegeneration({ projectId: PROJECT })).jobs;
    expect(planned).toHaveLength(12);
    expect(new Set(planned.map((j) => j.oldSegmentId))).toEqual(usingLora);
    for (const job of planned) {
      const old = originals.get(job.oldSegmentId)!;
      expect(job.oldReceiptId).toBe(old.receiptId);
      expect(job.inputs).toEqual(expectedInputs(job.oldSegmentId));
      expect(job.inputs!.loras.map((l) => [l.asset!.assetId, l.weight])).toEqual([
        ["lora-style", 0.3],
        ["lora-anna", 0.85],
        ["lora-untracked", 0.1],
      ]);
      expect(job.inputs!.seed).toBe(old.seed);
      expect(job.expectedInputsHash).toBe(inputsHashOf(expectedInputs(job.oldSegmentId)));
      expect(job.expectedInputsHash).not.toBe(old.inputsHash);
      expect(job.swapped.map((s) => [s.assetId, s.receiptVersion, s.currentVersion])).toEqual([["lora-anna", 1, 2]]);
    }
  });

  it("planning writes nothing", async () => {
    const rows = await h.sql.query(
      `SELECT (SELECT count(*) FROM regeneration.batches)::int AS b, (SELECT count(*) FROM regeneration.jobs)::int AS j,
              (SELECT count(*) FROM regeneration.outbox)::int AS o`,
    );
    expect(rows.rows[0]).toEqual({ b: 0, j: 0, o: 0 });
  });

  let batchId = "";
  it("submitting twice with one key makes one batch and 12 messages, not 24", async () => {
    // Submitted by a creator of the project; the request's requested_by is ignored, the token's subject recorded.
    await h.env.setGrants([...DEFAULT_TEST_GRANTS, { subject: "creator@example.com", project: PROJECT, role: "creator" }]);
    const creator = h.env.client(RegenerationService, h.regeneration.url, { subject: "creator@example.com" });
    const req = { projectId: PROJECT, idempotencyKey: "regen-pier-1", requestedBy: "someone-else@example.com" };
    const first = await creator.submitRegeneration(req);
    const second = await creator.submitRegeneration(req);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.batch!.batchId).toBe(first.batch!.batchId);
    expect(first.batch).toMatchObject({ jobCount: 12, submitted: 12, requestedBy: "creator@example.com", projectId: PROJECT });
    expect(second.jobs.map((j) => j.jobId)).toEqual(first.jobs.map((j) => j.jobId));
    // The first answer is built from what the transaction stored, the replay read back: the same batch and jobs.
    expect(second.batch).toEqual(first.batch);
    expect(second.jobs).toEqual(first.jobs);
    batchId = first.batch!.batchId;
    for (const job of first.jobs) {
      expect(job.status).toBe(JobStatus.SUBMITTED);
      expect(job.plan!.inputs).toEqual(expectedInputs(job.plan!.oldSegmentId));
    }
    await h.settle();
    const stream = await h.nats.jsm.streams.info(`${h.nats.namespace.toUpperCase()}_GENERATION`);
    expect(stream.state.messages).toBe(12);
    expect(stream.state.last_seq).toBe(12);
  });

  it("the simulator completes every job and each new segment supersedes its old one", async () => {
    await h.startSimulator();
    await eventually(async () => (await h.regen.getRegenerationBatch({ batchId })).batch!.succeeded === 12, 30_000, "12 succeeded jobs");
    await h.settle();
    const { batch, jobs } = await h.regen.getRegenerationBatch({ batchId });
    expect(batch).toMatchObject({ jobCount: 12, submitted: 0, running: 0, succeeded: 12, failed: 0, inputsMismatch: 0 });
    for (const job of jobs) {
      expect(job.newReceiptId).not.toBe("");
      expect(job.actualInputsHash).toBe(job.plan!.expectedInputsHash);
      const fresh = await h.receiptClient.getSegmentProvenance({ segmentId: job.newSegmentId });
      expect(fresh.segment).toMatchObject({ active: true, supersedesSegmentId: job.plan!.oldSegmentId, sceneId: job.plan!.sceneId });
      expect(fresh.currentReceipt).toMatchObject({ receiptId: job.newReceiptId, regenerationJobId: job.jobId, inputsHash: job.plan!.expectedInputsHash });
      const old = await h.receiptClient.getSegmentProvenance({ segmentId: job.plan!.oldSegmentId });
      expect(old.segment).toMatchObject({ active: false, supersededBySegmentId: job.newSegmentId });
      expect(old.currentReceipt!.receiptId).toBe(originals.get(job.plan!.oldSegmentId)!.receiptId);
      expect((await h.receiptClient.getReceipt({ receiptId: job.plan!.oldReceiptId })).receipt!.inputsHash).toBe(
        originals.get(job.plan!.oldSegmentId)!.inputsHash,
      );
    }
    const stream = await h.nats.jsm.streams.info(`${h.nats.namespace.toUpperCase()}_GENERATION`);
    expect(stream.state.last_seq).toBe(12);
  });

  it("leaves the project fresh, and the 48 other segments with no job and their receipts unchanged", async () => {
    const report = await h.report.getStalenessReport({ projectId: PROJECT });
    expect(report.totalStaleSegments).toBe(0);
    expect(report.byAsset).toEqual([]);
    const { jobs } = await h.regen.listRegenerationJobs({ projectId: PROJECT, pageSize: 100 });
    expect(jobs).toHaveLength(12);
    const touched = new Set(jobs.map((j) => j.plan!.oldSegmentId));
    expect(touched).toEqual(usingLora);
    const others = [...originals.keys()].filter((id) => !usingLora.has(id));
    expect(others).toHaveLength(48);
    for (const segmentId of others) {
      const p = await h.receiptClient.getSegmentProvenance({ segmentId });
      expect(p.segment!.active).toBe(true);
      expect(p.history).toHaveLength(1);
      expect(p.currentReceipt!.receiptId).toBe(originals.get(segmentId)!.receiptId);
    }
    expect(await h.regen.planRegeneration({ projectId: PROJECT }).then((r) => r.jobs)).toEqual([]);
  });

  it("pages jobs and filters them by status", async () => {
    const first = await h.regen.listRegenerationJobs({ batchId, pageSize: 5 });
    const second = await h.regen.listRegenerationJobs({ batchId, pageSize: 5, pageToken: first.nextPageToken });
    const third = await h.regen.listRegenerationJobs({ batchId, pageSize: 5, pageToken: second.nextPageToken });
    expect([first.jobs.length, second.jobs.length, third.jobs.length]).toEqual([5, 5, 2]);
    expect(third.nextPageToken).toBe("");
    expect(new Set([...first.jobs, ...second.jobs, ...third.jobs].map((j) => j.jobId)).size).toBe(12);
    expect((await h.regen.listRegenerationJobs({ projectId: PROJECT, status: JobStatus.FAILED })).jobs).toEqual([]);
    expect((await h.regen.listRegenerationJobs({ projectId: PROJECT, status: JobStatus.SUCCEEDED, pageSize: 50 })).jobs).toHaveLength(12);
  });

  it("a job delivered again to the simulator records nothing twice", async () => {
    const { jobs } = await h.regen.getRegenerationBatch({ batchId });
    const job = jobs[0]!;
    const before = await h.receiptClient.getSegmentProvenance({ segmentId: job.newSegmentId });
    const again = create(GenerationJobRequestedSchema, {
      eventId: "redelivered-1",
      occurredAt: before.currentReceipt!.generationStartedAt,
      jobId: job.jobId,
      batchId,
      projectId: PROJECT,
      sceneId: job.plan!.sceneId,
      characterName: job.plan!.characterName,
      sequenceIndex: job.plan!.sequenceIndex,
      oldSegmentId: job.plan!.oldSegmentId,
      newSegmentId: job.newSegmentId,
      inputs: job.plan!.inputs,
      expectedInputsHash: job.plan!.expectedInputsHash,
    });
    await h.nats.js.publish(subjectFor(h.nats.namespace, "generation.jobs.requested"), toBinary(GenerationJobRequestedSchema, again), {
      msgID: "redelivered-1",
    });
    await eventually(async () => (await h.simulator!.lag()) === 0, 10_000, "the simulator to take the job");
    await h.settle();
    const after = await h.receiptClient.getSegmentProvenance({ segmentId: job.newSegmentId });
    expect(after.history.map((r) => r.receiptId)).toEqual(before.history.map((r) => r.receiptId));
    expect((await h.regen.getRegenerationBatch({ batchId })).batch!.succeeded).toBe(12);
  });
});
