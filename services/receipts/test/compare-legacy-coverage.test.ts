/**
 * CompareReceipts, ImportLegacySegments and GetCoverage on a real receipts service (PostgreSQL, JetStream, tokens):
 * field-level differences of two stored receipts (also as REST), hidden receipts NOT_FOUND like missing ones; LEGACY
 * receipts that say what they do not know, imported all or none and once per segment content; coverage per project
 * (complete / legacy / running / running too long / failed) of what the caller may view, and its metric.
 */
import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputRole, LegacySegmentSchema, RECEIPT_CREATED, ReceiptCreatedSchema, ReceiptService, ReceiptStatus, type LegacySegment } from "@provenance/shared";
import { DEFAULT_TEST_GRANTS, collectMessages, failureOf } from "@provenance/shared/testing";
import { countRows, receiptRequest, sha, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

const A = "cmp-a";
const B = "cmp-b";
const L = "legacy-p";
const C = "cov-c";

let h: ReceiptsHarness;
let viewerA: Client<typeof ReceiptService>;

beforeAll(async () => {
  h = await startReceiptsHarness();
  await h.env.setGrants([
    ...DEFAULT_TEST_GRANTS,
    { subject: "viewer-a@example.com", project: A, role: "viewer" },
    { subject: "creator-l@example.com", project: L, role: "creator" },
    { subject: "viewer-c@example.com", project: C, role: "viewer" },
  ]);
  viewerA = h.env.client(ReceiptService, h.running.url, { subject: "viewer-a@example.com" });
});
afterAll(async () => {
  await h?.close();
});

async function bearer(subject: string) {
  return { authorization: `Bearer ${await h.env.token({ subject })}` };
}

describe("CompareReceipts", () => {
  let left = "";
  let right = "";
  let other = "";

  beforeAll(async () => {
    const first = await h.client.createReceipt(receiptRequest({ projectId: A, segmentId: "cmp-seg-1", additionalParams: { fps: 16 } }));
    left = first.receipt!.receiptId;
    await h.client.completeReceipt({
      receiptId: left,
      status: ReceiptStatus.SUCCEEDED,
      generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:05:00Z")),
      outputHash: sha("out 1"),
    });
    const second = await h.client.createReceipt(
      receiptRequest({
        projectId: A,
        segmentId: "cmp-seg-2",
        supersedesSegmentId: "cmp-seg-1",
        loras: [{ asset: { assetId: "lora-anna", contentHash: sha("lora anna v2"), version: 2 }, weight: 0.8 }],
        seed: 43n,
        additionalParams: { fps: 24, motion: "slow" },
      }),
    );
    right = second.receipt!.receiptId;
    other = (await h.client.createReceipt(receiptRequest({ projectId: B, segmentId: "cmp-seg-b" }))).receipt!.receiptId;
  });

  it("answers both receipts and every field, the changed ones counted, for a viewer of their project", async () => {
    const res = await viewerA.compareReceipts({ leftReceiptId: left, rightReceiptId: right });
    expect(res.left!.receiptId).toBe(left);
    expect(res.right!.receiptId).toBe(right);
    const changed = res.fields.filter((f) => f.changed);
    expect(changed.map((f) => f.field)).toEqual(["loras[0]", "seed", "additional_params.fps", "additional_params.motion", "inputs_hash", "output_hash"]);
    expect(res.changedFields).toBe(6);
    const lora = changed[0]!;
    expect(lora).toMatchObject({
      label: "LoRA 1",
      role: InputRole.LORA,
      position: 0,
      left: `lora-anna v1 ${sha("lora anna v1")} weight 0.8`,
      right: `lora-anna v2 ${sha("lora anna v2")} weight 0.8`,
      changedParts: ["version", "content_hash"],
    });
    expect(lora.leftAsset).toMatchObject({ assetId: "lora-anna", version: 1 });
    expect(res.fields.find((f) => f.field === "output_hash")).toMatchObject({ left: sha("out 1"), right: "" });
    expect(res.fields.find((f) => f.field === "prompt_text")).toMatchObject({ changed: false, left: res.left!.promptText });
  });

  it("is served as REST with the same answer", async () => {
    const rest = await fetch(`${h.running.url}/api/receipts/${left}/compare/${right}`, { headers: await bearer("viewer-a@example.com") });
    expect(rest.status).toBe(200);
    const body = (await rest.json()) as { changedFields: number; fields: { field: string; changed?: boolean }[] };
    expect(body.changedFields).toBe(6);
    expect(body.fields.filter((f) => f.changed).map((f) => f.field)[0]).toBe("loras[0]");
    const hidden = await fetch(`${h.running.url}/api/receipts/${left}/compare/${other}`, { headers: await bearer("viewer-a@example.com") });
    expect(hidden.status).toBe(404);
    expect(((await hidden.json()) as { message: string }).message).toBe(`receipt "${other}" not found`);
  });

  it("answers NOT_FOUND, worded as missing, when either receipt is not viewable or not stored", async () => {
    const hidden = await failureOf(viewerA.compareReceipts({ leftReceiptId: other, rightReceiptId: right }));
    expect(hidden.code).toBe(Code.NotFound);
    expect(hidden.rawMessage).toBe(`receipt "${other}" not found`);
    const hiddenRight = await failureOf(viewerA.compareReceipts({ leftReceiptId: left, rightReceiptId: other }));
    expect(hiddenRight.rawMessage).toBe(`receipt "${other}" not found`);
    const missingId = "00000000-0000-7000-8000-000000000000";
    const missing = await failureOf(viewerA.compareReceipts({ leftReceiptId: left, rightReceiptId: missingId }));
    expect([missing.code, missing.rawMessage]).toEqual([Code.NotFound, `receipt "${missingId}" not found`]);
    // The admin sees both projects: comparing across projects is allowed where both are viewable.
    expect((await h.client.compareReceipts({ leftReceiptId: left, rightReceiptId: other })).left!.projectId).toBe(A);
  });

  it("refuses an empty id as INVALID_ARGUMENT naming the field", async () => {
    const err = await failureOf(h.client.compareReceipts({ leftReceiptId: left, rightReceiptId: "" }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("right_receipt_id");
  });
});

type LegacyInit = Exclude<MessageInitShape<typeof LegacySegmentSchema>, LegacySegment>;

/** A legacy segment of project L with everything known but the output hash; override any field. */
function legacy(segmentId: string, overrides: Partial<LegacyInit> = {}): LegacyInit {
  const r = receiptRequest();
  return {
    segmentId,
    sceneId: "old-scene",
    projectId: L,
    characterName: "anna",
    sequenceIndex: 1,
    sourceImage: r.sourceImage,
    variantImage: r.variantImage,
    workflow: r.workflow,
    model: r.model,
    loras: r.loras,
    workflowVersion: r.workflowVersion,
    promptText: r.promptText,
    negativePrompt: r.negativePrompt,
    cfgScale: r.cfgScale,
    seed: r.seed,
    steps: r.steps,
    sampler: r.sampler,
    resolutionWidth: r.resolutionWidth,
    resolutionHeight: r.resolutionHeight,
    additionalParams: {},
    generatedAt: timestampFromDate(new Date("2024-03-01T12:00:00Z")),
    ...overrides,
  };
}

describe("ImportLegacySegments", () => {
  it("stores LEGACY receipts listing what is missing; a fully known one gets the inputs hash CreateReceipt would give", async () => {
    const before = await countRows(h.sql, "generation_receipts");
    const { results } = await h.client.importLegacySegments({
      segments: [
        legacy("old-1"),
        legacy("old-2", {
          sourceImage: { assetId: "src-anna", contentHash: "", version: 0 },
          variantImage: undefined,
          loras: [],
          model: undefined,
          seed: undefined,
          steps: undefined,
          resolutionWidth: undefined,
          resolutionHeight: undefined,
          additionalParams: undefined,
          workflowVersion: "",
          outputHash: sha("old 2 file").toUpperCase(),
        }),
        legacy("old-3", { noVariantImage: true, variantImage: undefined, noLoras: true, loras: [] }),
      ],
    });
    expect(results.map((r) => r.created)).toEqual([true, true, true]);
    const [full, partial, none] = results.map((r) => r.receipt!);
    expect(full!.status).toBe(ReceiptStatus.LEGACY);
    expect(full!.missingFields).toEqual(["output_hash"]);
    expect(full!.inputsHash).toBe((await h.client.createReceipt(receiptRequest({ projectId: "cmp-hash", segmentId: "cmp-hash-1" }))).receipt!.inputsHash);
    expect(full!.idempotencyKey).toBe("legacy:old-1");
    expect(full!.recordedBy).toBe("test:admin");
    expect(partial!.missingFields).toEqual([
      "source_image.content_hash", "variant_image", "model", "loras", "workflow_version", "seed", "steps",
      "resolution_width", "resolution_height", "additional_params", "inputs_hash",
    ]);
    expect(partial).toMatchObject({ inputsHash: "", steps: 0, seed: 0n, outputHash: sha("old 2 file") });
    expect([partial!.variantImage, partial!.model]).toEqual([undefined, undefined]);
    expect(partial!.sourceImage).toMatchObject({ assetId: "src-anna", contentHash: "" });
    expect(none!.missingFields).toEqual(["output_hash"]);
    expect(none!.variantImage).toBeUndefined();
    expect(full!.generationStartedAt).toEqual(timestampFromDate(new Date("2024-03-01T12:00:00Z")));
    expect(full!.generationCompletedAt).toEqual(full!.generationStartedAt);
    expect(await countRows(h.sql, "generation_receipts")).toBe(before + 4);

    // As stored: GetReceipt and GetSegmentProvenance serve the same; a LEGACY receipt is never current.
    expect((await h.client.getReceipt({ receiptId: partial!.receiptId })).receipt).toEqual(partial);
    const provenance = await h.client.getSegmentProvenance({ segmentId: "old-2" });
    expect(provenance.currentReceipt).toBeUndefined();
    expect(provenance.history.map((r) => r.receiptId)).toEqual([partial!.receiptId]);
    // Its asset still finds it, with no hash.
    const usage = await h.client.getAssetUsage({ assetId: "src-anna" });
    expect(usage.usages.find((u) => u.receiptId === partial!.receiptId)).toMatchObject({ status: ReceiptStatus.LEGACY, contentHash: "" });
    // Its receipt.created event says what it does not know.
    const nats = { js: h.nats.js, jsm: h.nats.jsm, namespace: h.nats.namespace, stream: "PROVENANCE" as const, timeoutMs: 10_000 };
    const events = (await collectMessages({ ...nats, subject: RECEIPT_CREATED, atLeast: 1 })).map((m) => fromBinary(ReceiptCreatedSchema, m.data));
    const event = events.find((e) => e.receipt!.receiptId === partial!.receiptId);
    expect(event!.receipt).toMatchObject({ status: ReceiptStatus.LEGACY, missingFields: partial!.missingFields });
    // Compared with a receipt, what it does not know reads unknown.
    const cmp = await h.client.compareReceipts({ leftReceiptId: partial!.receiptId, rightReceiptId: full!.receiptId });
    expect(cmp.fields.find((f) => f.field === "seed")).toMatchObject({ left: "unknown", changed: true });
  });

  it("returns the stored receipt for the same content again, ALREADY_EXISTS for other content, and is all or none", async () => {
    const first = (await h.client.importLegacySegments({ segments: [legacy("old-again")] })).results[0]!.receipt!;
    const before = await countRows(h.sql, "generation_receipts");
    const again = await h.client.importLegacySegments({ segments: [legacy("old-again")] });
    expect(again.results[0]).toMatchObject({ created: false });
    expect(again.results[0]!.receipt).toEqual(first);
    const other = await failureOf(h.client.importLegacySegments({ segments: [legacy("old-new"), legacy("old-again", { seed: 1n })] }));
    expect(other.code).toBe(Code.AlreadyExists);
    expect(other.rawMessage).toBe(`segments[1].segment_id: segment "old-again" was already imported as receipt ${first.receiptId} with different content`);
    expect(await countRows(h.sql, "generation_receipts")).toBe(before);
    expect((await h.sql.query(`SELECT 1 FROM receipts.segments WHERE segment_id = 'old-new'`)).rowCount).toBe(0);
  });

  it("refuses a segment the pipeline recorded receipts for, a segment moving, and completing a LEGACY receipt", async () => {
    await h.client.createReceipt(receiptRequest({ projectId: L, sceneId: "old-scene", segmentId: "recorded-1" }));
    const recorded = await failureOf(h.client.importLegacySegments({ segments: [legacy("recorded-1")] }));
    expect(recorded.code).toBe(Code.FailedPrecondition);
    expect(recorded.rawMessage).toContain(`segments[0].segment_id: segment "recorded-1" already has receipts recorded by the pipeline`);
    const moved = await failureOf(h.client.importLegacySegments({ segments: [legacy("recorded-1", { sceneId: "elsewhere" })] }));
    expect([moved.code, moved.rawMessage]).toEqual([Code.FailedPrecondition, `segments[0].scene_id: segment "recorded-1" belongs to scene "old-scene"; a segment cannot move to another scene`]);

    const receipt = (await h.client.importLegacySegments({ segments: [legacy("old-complete")] })).results[0]!.receipt!;
    const completion = await failureOf(
      h.client.completeReceipt({ receiptId: receipt.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date()) }),
    );
    expect(completion.code).toBe(Code.FailedPrecondition);
    expect(completion.rawMessage).toContain("is a LEGACY receipt");
    // The database keeps it so too, whoever writes.
    await expect(h.sql.query(`UPDATE receipts.generation_receipts SET missing_fields = '{}' WHERE receipt_id = $1`, [receipt.receiptId])).rejects.toThrow(/immutable|already completed/);
    await expect(h.sql.query(`UPDATE receipts.generation_receipts SET status = 'SUCCEEDED' WHERE receipt_id = $1`, [receipt.receiptId])).rejects.toThrow(/immutable|completed/);
    // No receipt is born complete but a LEGACY one; zero values and no inputs hash only for LEGACY.
    const insert = (status: string, steps: number, inputsHash: string | null) =>
      h.sql.query(
        `INSERT INTO receipts.generation_receipts (receipt_id, segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale, seed, steps,
           sampler, resolution_width, resolution_height, inputs_hash, status, generation_started_at, generation_completed_at, idempotency_key, request_fingerprint)
         VALUES (gen_random_uuid(), 'old-complete', '', '', '', 0, 0, $2, '', 832, 480, $3, $1, now(), CASE WHEN $1 = 'RUNNING' THEN NULL ELSE now() END, gen_random_uuid()::text, repeat('0', 64))`,
        [status, steps, inputsHash],
      );
    await expect(insert("SUCCEEDED", 30, sha("x"))).rejects.toThrow(/RUNNING with no completion, or LEGACY/);
    await expect(insert("RUNNING", 0, sha("x"))).rejects.toThrow(/generation_receipts_steps_check/);
    await expect(insert("RUNNING", 30, null)).rejects.toThrow(/generation_receipts_inputs_hash_known/);
  });

  it("names the field of bad input and writes nothing; needs admin", async () => {
    const before = await countRows(h.sql, "generation_receipts");
    const cases: [LegacyInit[], string][] = [
      [[legacy("bad-1", { generatedAt: undefined })], "segments[0].generated_at"],
      [[legacy("bad-1"), legacy("bad-2", { noLoras: true })], "segments[1].no_loras"],
      [[legacy("bad-1", { noVariantImage: true })], "segments[0].no_variant_image"],
      [[legacy("bad-1"), legacy("bad-1")], "segments[1].segment_id"],
      [[legacy("bad-1", { steps: 0 })], "segments[0].steps"],
      [[legacy("bad-1", { sampler: "" })], "segments[0].sampler"],
      [[legacy("bad-1", { model: { assetId: "m", contentHash: "nothex", version: 0 } })], "segments[0].model.content_hash"],
      [[], "segments"],
    ];
    for (const [segments, field] of cases) {
      const err = await failureOf(h.client.importLegacySegments({ segments: segments.map((s) => create(LegacySegmentSchema, s)) }));
      expect([err.code, err.rawMessage.split(":")[0]]).toEqual([Code.InvalidArgument, field]);
    }
    const creator = h.env.client(ReceiptService, h.running.url, { subject: "creator-l@example.com" });
    expect((await failureOf(creator.importLegacySegments({ segments: [legacy("bad-1")] }))).code).toBe(Code.PermissionDenied);
    expect(await countRows(h.sql, "generation_receipts")).toBe(before);
  });
});

describe("GetCoverage", () => {
  beforeAll(async () => {
    const done = async (segmentId: string, status: ReceiptStatus, extra: Parameters<typeof receiptRequest>[0] = {}) => {
      const { receipt } = await h.client.createReceipt(receiptRequest({ projectId: C, segmentId, ...extra }));
      await h.client.completeReceipt({ receiptId: receipt!.receiptId, status, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:05:00Z")) });
      return receipt!;
    };
    const complete = await done("cov-complete", ReceiptStatus.SUCCEEDED);
    // A reproduction checks its original and is no segment of the project's cut: not counted.
    await done("cov-reproduction", ReceiptStatus.SUCCEEDED, { reproductionOfReceiptId: complete.receiptId });
    await done("cov-failed", ReceiptStatus.FAILED);
    // A failed try, then one that succeeded: complete.
    await done("cov-retried", ReceiptStatus.FAILED);
    await done("cov-retried", ReceiptStatus.SUCCEEDED);
    await h.client.createReceipt(receiptRequest({ projectId: C, segmentId: "cov-running", generationStartedAt: timestampFromDate(new Date()) }));
    // Started on 2026-11-21 (the fixture's start), never completed: running too long.
    await h.client.createReceipt(receiptRequest({ projectId: C, segmentId: "cov-stuck" }));
    await h.client.importLegacySegments({ segments: [legacy("cov-legacy", { projectId: C })] });
    // A superseded segment is not counted; its replacement is.
    await done("cov-old", ReceiptStatus.SUCCEEDED);
    await done("cov-new", ReceiptStatus.SUCCEEDED, { supersedesSegmentId: "cov-old" });
  });

  const expected = { projectId: C, segments: 7, complete: 3, legacy: 1, running: 1, runningTooLong: 1, failed: 1 };

  it("counts each active segment once per project, with the percentage, for a viewer of only that project", async () => {
    const viewerC = h.env.client(ReceiptService, h.running.url, { subject: "viewer-c@example.com" });
    const res = await viewerC.getCoverage({});
    expect(res.runningLimitSeconds).toBe(3600);
    expect(res.projects).toHaveLength(1);
    expect(res.projects[0]).toMatchObject(expected);
    expect(res.projects[0]!.completePercent).toBeCloseTo((3 / 7) * 100, 9);
    expect(res.total).toMatchObject({ ...expected, projectId: "" });
    expect((await viewerC.getCoverage({ projectId: C })).projects).toEqual(res.projects);
    const denied = await failureOf(viewerC.getCoverage({ projectId: A }));
    expect(denied.code).toBe(Code.PermissionDenied);
  });

  it("adds up every project for the admin, and answers an empty project with 100%", async () => {
    const all = await h.client.getCoverage({});
    const ids = all.projects.map((p) => p.projectId);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toContain(C);
    expect(all.total!.segments).toBe(all.projects.reduce((n, p) => n + p.segments, 0));
    expect(all.total!.complete).toBe(all.projects.reduce((n, p) => n + p.complete, 0));
    const empty = await h.client.getCoverage({ projectId: "no-such-project" });
    expect(empty.projects).toEqual([]);
    expect(empty.total).toMatchObject({ segments: 0, completePercent: 100 });
  });

  it("is served on both REST routes and as a metric", async () => {
    const headers = await bearer("viewer-c@example.com");
    for (const path of ["/api/coverage", `/api/coverage?project_id=${C}`, `/api/projects/${C}/coverage`]) {
      const res = await fetch(`${h.running.url}${path}`, { headers });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { projects: { projectId: string; runningTooLong: number }[] };
      expect(body.projects).toEqual([expect.objectContaining({ projectId: C, runningTooLong: 1 })]);
    }
    expect((await fetch(`${h.running.url}/api/projects/${A}/coverage`, { headers })).status).toBe(403);
    await h.client.getCoverage({});
    const metrics = await (await fetch(`${h.running.url}/metrics`)).text();
    const line = metrics.split("\n").find((l) => l.startsWith("provenance_receipt_coverage_percent{") && l.includes(`project_id="${C}"`));
    expect(Number(line!.split(" ").at(-1))).toBeCloseTo((3 / 7) * 100, 6);
    expect(metrics).toMatch(/provenance_receipt_coverage_percent\{[^}]*project_id=""[^}]*\} \d/);
  });
});
