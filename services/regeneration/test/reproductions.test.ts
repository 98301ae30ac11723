/**
 * Reproducing a receipt, end to end on real PostgreSQL and NATS with the three services and the pipeline simulator:
 * one job with exactly the receipt's inputs, recorded as a new segment that supersedes nothing, and its verdict —
 * IDENTICAL with the deterministic simulator, OUTPUT_DIFFERS with the non-deterministic one, INPUTS_DIFFER when the
 * pipeline changes the inputs. Idempotent per key; listed newest first; bad requests write nothing.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AssetKind,
  EstimateBasis,
  GENERATION_STREAM,
  GenerationJobRequestedSchema,
  JOB_REQUESTED,
  JobStatus,
  ReceiptStatus,
  RegenerationService,
  ReproductionVerdict,
  streamName,
  subjectFor,
  type AssetRef,
  type Receipt,
  type Reproduction,
} from "@provenance/shared";
import { DEFAULT_TEST_GRANTS, failureOf } from "@provenance/shared/testing";
import { simulatedOutputHash } from "@provenance/pipeline-simulator";
import { inputsOfReceipt } from "../src/domain/planned-job.js";
import { eventually, recordGeneration, registerAsset, startLoop, type InputRefs, type LoopHarness } from "./regeneration-harness.js";

const PROJECT = "p-repro";
const OTHER = "p-repro-other";
let h: LoopHarness;
let refs: InputRefs;
/** Two SUCCEEDED receipts whose output hash is what the deterministic simulator gives for their inputs. */
const originals: Receipt[] = [];

/** A receipt's generation fields, as CreateReceipt takes them. */
function sameInputsAs(r: Receipt) {
  const { $typeName: _inputs, ...fields } = inputsOfReceipt(r);
  return { ...fields, sourceImage: r.sourceImage, variantImage: r.variantImage, workflow: r.workflow, model: r.model, loras: r.loras };
}

/** A generation recorded with the output a deterministic pipeline gives for its inputs, taking `ms`. */
async function deterministicGeneration(project: string, segmentId: string, sequenceIndex: number, ms = 60_000): Promise<Receipt> {
  const recorded = await recordGeneration(h, { projectId: project, sceneId: "scene-1", segmentId, sequenceIndex }, refs);
  // recordGeneration completed it with a label's hash; record the same inputs again, as the deterministic pipeline would.
  const { receipt } = await h.receiptClient.createReceipt({
    ...sameInputsAs(recorded),
    segmentId,
    sceneId: "scene-1",
    projectId: project,
    characterName: recorded.characterName,
    sequenceIndex,
    generationStartedAt: timestampFromDate(new Date(Date.now() - ms)),
    idempotencyKey: `det-${segmentId}`,
  });
  const { receipt: done } = await h.receiptClient.completeReceipt({
    receiptId: receipt!.receiptId,
    status: ReceiptStatus.SUCCEEDED,
    generationCompletedAt: timestampFromDate(new Date()),
    outputHash: simulatedOutputHash(receipt!.inputsHash),
  });
  return done!;
}

async function verdictOf(jobId: string, status: JobStatus): Promise<Reproduction> {
  let last: Reproduction | undefined;
  await eventually(async () => {
    last = (await h.regen.getReproduction({ jobId })).reproduction;
    return last?.status === status && last.completedAt !== undefined;
  }, 20_000, `reproduction ${jobId} ${JobStatus[status]}`);
  return last!;
}

beforeAll(async () => {
  h = await startLoop();
  await h.env.setGrants([...DEFAULT_TEST_GRANTS, { subject: "viewer@example.com", project: PROJECT, role: "viewer" }]);
  const [source] = await registerAsset(h, "src-r", AssetKind.SOURCE_IMAGE, "r.png", ["r src"]);
  const [workflow] = await registerAsset(h, "wf-r", AssetKind.WORKFLOW, "r.json", ["r wf"]);
  const [model] = await registerAsset(h, "model-r", AssetKind.MODEL, "r.safetensors", ["r model"]);
  const [lora] = await registerAsset(h, "lora-r", AssetKind.LORA, "r_lora.safetensors", ["r lora v1"]);
  refs = { source: source as AssetRef, workflow: workflow as AssetRef, model: model as AssetRef, loras: [{ asset: lora as AssetRef, weight: 0.7 }] };
  originals.push(await deterministicGeneration(PROJECT, "seg-a", 1, 60_000));
  originals.push(await deterministicGeneration(PROJECT, "seg-b", 2, 120_000));
  await h.startSimulator();
});
afterAll(async () => {
  await h?.close();
});

describe("ReproduceSegment", () => {
  let identical: Reproduction;

  it("starts one job with exactly the receipt's inputs and an estimate, idempotent per key", async () => {
    const original = originals[0]!;
    const req = { projectId: PROJECT, receiptId: original.receiptId, idempotencyKey: "repro-1" };
    const first = await h.regen.reproduceSegment(req);
    expect(first.created).toBe(true);
    const r = first.reproduction!;
    expect(r).toMatchObject({
      projectId: PROJECT,
      sceneId: "scene-1",
      segmentId: "seg-a",
      receiptId: original.receiptId,
      expectedInputsHash: original.inputsHash,
      expectedOutputHash: original.outputHash,
      requestedBy: "test:admin",
      idempotencyKey: "repro-1",
    });
    expect(r.newSegmentId).toMatch(/^seg-a-repro-[0-9a-f]{8}$/);
    expect(r.inputs).toEqual(inputsOfReceipt(original));
    // Two past receipts with these settings (60 s and 120 s) and the first recordGeneration ones (near 0 s).
    expect(r.gpuEstimate).toMatchObject({ basis: EstimateBasis.SAME_SETTINGS, sampleSize: 4 });
    expect(r.gpuEstimate!.summary).toContain("median of 4 past receipts with the same workflow, model, 832x480 and 28 steps");

    const retry = await h.regen.reproduceSegment(req);
    expect([retry.created, retry.reproduction!.jobId]).toEqual([false, r.jobId]);
    const conflict = await failureOf(h.regen.reproduceSegment({ ...req, receiptId: originals[1]!.receiptId }));
    expect(conflict.code).toBe(Code.AlreadyExists);
    expect(conflict.rawMessage).toContain(`reproduction ${r.jobId}`);
    identical = r;
  });

  it("is IDENTICAL with the deterministic simulator; the new receipt reproduces, supersedes nothing, the original stays", async () => {
    const done = await verdictOf(identical.jobId, JobStatus.SUCCEEDED);
    expect(done.verdict).toBe(ReproductionVerdict.IDENTICAL);
    expect(done.actualOutputHash).toBe(originals[0]!.outputHash);
    expect(done.actualInputsHash).toBe(originals[0]!.inputsHash);
    expect(done.summary).toMatch(/^identical: /);
    const { receipt } = await h.receiptClient.getReceipt({ receiptId: done.newReceiptId });
    expect(receipt).toMatchObject({
      segmentId: identical.newSegmentId,
      reproductionOfReceiptId: originals[0]!.receiptId,
      supersedesSegmentId: "",
      regenerationJobId: identical.jobId,
    });
    const original = await h.receiptClient.getSegmentProvenance({ segmentId: "seg-a" });
    expect(original.segment!.supersededBySegmentId).toBe("");
    expect(original.currentReceipt!.receiptId).toBe(originals[0]!.receiptId);
  });

  it("is OUTPUT_DIFFERS with the non-deterministic simulator, reproducing a segment's current receipt", async () => {
    await h.startSimulator({ nondeterministic: true });
    const { reproduction } = await h.regen.reproduceSegment({ projectId: PROJECT, segmentId: "seg-b", idempotencyKey: "repro-2" });
    expect(reproduction!.receiptId).toBe(originals[1]!.receiptId);
    const done = await verdictOf(reproduction!.jobId, JobStatus.SUCCEEDED);
    expect(done.verdict).toBe(ReproductionVerdict.OUTPUT_DIFFERS);
    expect(done.actualInputsHash).toBe(originals[1]!.inputsHash);
    expect(done.actualOutputHash).not.toBe(originals[1]!.outputHash);
    expect(done.summary).toContain("the pipeline is not deterministic");
  });

  it("is INPUTS_DIFFER when the pipeline does not use the pinned inputs", async () => {
    await h.startSimulator({ tamperFraction: 1 });
    const { reproduction } = await h.regen.reproduceSegment({ projectId: PROJECT, receiptId: originals[1]!.receiptId, idempotencyKey: "repro-3" });
    const done = await verdictOf(reproduction!.jobId, JobStatus.INPUTS_MISMATCH);
    expect(done.verdict).toBe(ReproductionVerdict.INPUTS_DIFFER);
    expect(done.actualInputsHash).not.toBe(originals[1]!.inputsHash);
    expect(done.summary).toContain("the pipeline did not use the pinned inputs");
    await h.startSimulator();
  });

  it("asks the pipeline through generation.jobs.requested with the receipt's inputs, the reproduced receipt and segment, no batch and no old segment", async () => {
    await h.simulator?.stop();
    h.simulator = undefined;
    const { reproduction } = await h.regen.reproduceSegment({ projectId: PROJECT, receiptId: originals[0]!.receiptId, idempotencyKey: "repro-event" });
    await h.settle();
    const stream = streamName(h.nats.namespace, GENERATION_STREAM);
    const m = await h.nats.jsm.streams.getMessage(stream, { last_by_subj: subjectFor(h.nats.namespace, JOB_REQUESTED) });
    const event = fromBinary(GenerationJobRequestedSchema, m!.data);
    expect(event).toMatchObject({
      jobId: reproduction!.jobId,
      batchId: "",
      oldSegmentId: "",
      newSegmentId: reproduction!.newSegmentId,
      projectId: PROJECT,
      sceneId: "scene-1",
      reproductionOfReceiptId: originals[0]!.receiptId,
      reproductionOfSegmentId: "seg-a",
      expectedInputsHash: originals[0]!.inputsHash,
      requestedBy: "test:admin",
    });
    expect(event.inputs).toEqual(inputsOfReceipt(originals[0]!));
    await h.startSimulator();
    expect((await verdictOf(reproduction!.jobId, JobStatus.SUCCEEDED)).verdict).toBe(ReproductionVerdict.IDENTICAL);
  });

  it("lists a project's reproductions newest first, paged, by receipt or segment", async () => {
    const all = await h.regen.listReproductions({ projectId: PROJECT });
    expect(all.reproductions.map((r) => r.idempotencyKey)).toEqual(["repro-event", "repro-3", "repro-2", "repro-1"]);
    const first = await h.regen.listReproductions({ projectId: PROJECT, pageSize: 3 });
    expect(first.reproductions.map((r) => r.idempotencyKey)).toEqual(["repro-event", "repro-3", "repro-2"]);
    const second = await h.regen.listReproductions({ projectId: PROJECT, pageSize: 3, pageToken: first.nextPageToken });
    expect([second.reproductions.map((r) => r.idempotencyKey), second.nextPageToken]).toEqual([["repro-1"], ""]);
    const ofB = await h.regen.listReproductions({ projectId: PROJECT, receiptId: originals[1]!.receiptId.toUpperCase() });
    expect(ofB.reproductions.map((r) => r.idempotencyKey)).toEqual(["repro-3", "repro-2"]);
    const ofA = await h.regen.listReproductions({ projectId: PROJECT, segmentId: "seg-a" });
    expect(ofA.reproductions.map((r) => r.idempotencyKey)).toEqual(["repro-event", "repro-1"]);
    expect((await h.regen.listReproductions({ projectId: OTHER })).reproductions).toEqual([]);
    const viewer = h.env.client(RegenerationService, h.regeneration.url, { subject: "viewer@example.com" });
    expect((await viewer.getReproduction({ jobId: identical.jobId })).reproduction!.verdict).toBe(ReproductionVerdict.IDENTICAL);
    expect((await failureOf(viewer.reproduceSegment({ projectId: PROJECT, segmentId: "seg-a", idempotencyKey: "viewer" }))).code).toBe(Code.PermissionDenied);
  });

  it("refuses bad requests, unknown or other projects' receipts and segments without a SUCCEEDED receipt, writing nothing", async () => {
    const count = async () => Number((await h.sql.query(`SELECT count(*)::int AS n FROM regeneration.reproductions`)).rows[0].n);
    const before = await count();
    const both = await failureOf(h.regen.reproduceSegment({ projectId: PROJECT, receiptId: originals[0]!.receiptId, segmentId: "seg-a", idempotencyKey: "x1" }));
    const neither = await failureOf(h.regen.reproduceSegment({ projectId: PROJECT, idempotencyKey: "x2" }));
    expect([both.code, neither.code]).toEqual([Code.InvalidArgument, Code.InvalidArgument]);
    expect(both.rawMessage).toMatch(/^receipt_id: give exactly one of receipt_id and segment_id/);
    const noKey = await failureOf(h.regen.reproduceSegment({ projectId: PROJECT, segmentId: "seg-a" }));
    expect(noKey.rawMessage).toMatch(/^idempotency_key: /);

    const other = await deterministicGeneration(OTHER, "seg-other", 1);
    const cross = await failureOf(h.regen.reproduceSegment({ projectId: PROJECT, receiptId: other.receiptId, idempotencyKey: "x3" }));
    expect([cross.code, cross.rawMessage]).toEqual([Code.NotFound, `receipt "${other.receiptId}" not found`]);
    const unknown = await failureOf(h.regen.reproduceSegment({ projectId: PROJECT, segmentId: "seg-nope", idempotencyKey: "x4" }));
    expect([unknown.code, unknown.rawMessage]).toEqual([Code.NotFound, `segment "seg-nope" not found`]);

    const { receipt: running } = await h.receiptClient.createReceipt({
      ...sameInputsAs(originals[0]!),
      segmentId: "seg-running",
      sceneId: "scene-2",
      projectId: PROJECT,
      characterName: "anna",
      sequenceIndex: 1,
      generationStartedAt: timestampFromDate(new Date()),
      idempotencyKey: "running-1",
    });
    const notDone = await failureOf(h.regen.reproduceSegment({ projectId: PROJECT, receiptId: running!.receiptId, idempotencyKey: "x5" }));
    expect([notDone.code, notDone.rawMessage]).toEqual([Code.FailedPrecondition, `receipt "${running!.receiptId}" is RUNNING: only a SUCCEEDED receipt can be reproduced`]);
    const noCurrent = await failureOf(h.regen.reproduceSegment({ projectId: PROJECT, segmentId: "seg-running", idempotencyKey: "x6" }));
    expect([noCurrent.code, noCurrent.rawMessage]).toEqual([Code.FailedPrecondition, `segment "seg-running" has no SUCCEEDED receipt to reproduce`]);
    const missing = await failureOf(h.regen.getReproduction({ jobId: "no-such-job" }));
    expect([missing.code, missing.rawMessage]).toEqual([Code.NotFound, `reproduction "no-such-job" not found`]);
    expect(await count()).toBe(before);
  });
});
