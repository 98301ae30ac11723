import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputRole, ReceiptStatus } from "@provenance/shared";
import { readSpecJson } from "@provenance/shared/testing";
import { countRows, enqueuedEvents, receiptRequest, sha, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

let h: ReceiptsHarness;
const versions = new Map<string, string>([
  ["lora-anna@1", sha("lora anna v1")],
  ["lora-anna@2", sha("lora anna v2")],
]);

beforeAll(async () => {
  h = await startReceiptsHarness({
    assetVersions: {
      async contentHashOf(assetId, version) {
        const hash = versions.get(`${assetId}@${version}`);
        if (!hash) throw new ConnectError(`no version ${version} of ${assetId}`, Code.NotFound);
        return hash;
      },
    },
  });
});
afterAll(async () => {
  await h?.close();
});

async function codeOf(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (err) {
    const ce = ConnectError.from(err);
    return { code: ce.code, message: ce.rawMessage };
  }
  throw new Error("expected the call to fail");
}

describe("inputs hash vectors through CreateReceipt", () => {
  const { vectors } = readSpecJson<{ vectors: { name: string; document: Record<string, any>; inputs_hash: string }[] }>(
    "inputs-hash-vectors.json",
  );
  for (const v of vectors) {
    it(`${v.name}`, async () => {
      const d = v.document;
      const res = await h.client.createReceipt(
        receiptRequest({
          sourceImage: { assetId: "src", contentHash: d.source_image, version: 0 },
          variantImage: d.variant_image === null ? undefined : { assetId: "var", contentHash: d.variant_image, version: 0 },
          workflow: { assetId: "wf", contentHash: d.workflow, version: 0 },
          model: { assetId: "model", contentHash: d.model, version: 0 },
          loras: d.loras.map((l: { hash: string; weight: number }, i: number) => ({
            asset: { assetId: `lora-${i}`, contentHash: l.hash, version: 0 },
            weight: l.weight,
          })),
          promptText: d.prompt,
          negativePrompt: d.negative_prompt,
          cfgScale: d.cfg_scale,
          seed: BigInt(d.seed),
          steps: d.steps,
          sampler: d.sampler,
          resolutionWidth: d.width,
          resolutionHeight: d.height,
          additionalParams: d.params,
        }),
      );
      expect(res.receipt!.inputsHash).toBe(v.inputs_hash);
      expect(res.receipt!.seed).toBe(BigInt(d.seed));
    });
  }
});

describe("CreateReceipt", () => {
  it("returns the same receipt for a retry with the same key, and ALREADY_EXISTS for different content", async () => {
    const req = receiptRequest();
    const first = await h.client.createReceipt(req);
    expect(first.created).toBe(true);
    const retry = await h.client.createReceipt(req);
    expect(retry.created).toBe(false);
    expect(retry.receipt!.receiptId).toBe(first.receipt!.receiptId);
    const err = await codeOf(h.client.createReceipt({ ...req, promptText: "something else" }));
    expect(err.code).toBe(Code.AlreadyExists);
    expect(err.message).toContain("idempotency_key");
  });

  it("keeps a seed of 18446744073709551615 exact", async () => {
    const res = await h.client.createReceipt(receiptRequest({ seed: 18446744073709551615n }));
    const got = await h.client.getReceipt({ receiptId: res.receipt!.receiptId });
    expect(got.receipt!.seed).toBe(18446744073709551615n);
  });

  it("refuses to move a segment to another scene or project", async () => {
    const req = receiptRequest();
    await h.client.createReceipt(req);
    const moved = await codeOf(h.client.createReceipt(receiptRequest({ segmentId: req.segmentId, sceneId: "scene-9" })));
    expect(moved.code).toBe(Code.FailedPrecondition);
    expect(moved.message).toContain("scene_id");
    const otherProject = await codeOf(h.client.createReceipt(receiptRequest({ segmentId: req.segmentId, projectId: "p-9" })));
    expect(otherProject.code).toBe(Code.FailedPrecondition);
    expect(otherProject.message).toContain("project_id");
  });

  const invalid: [string, Parameters<typeof receiptRequest>[0]][] = [
    ["segment_id", { segmentId: "" }],
    ["scene_id", { sceneId: "" }],
    ["project_id", { projectId: "" }],
    ["source_image", { sourceImage: undefined }],
    ["source_image.content_hash", { sourceImage: { assetId: "s", contentHash: "sha256:" + sha("x"), version: 0 } }],
    ["variant_image.content_hash", { variantImage: { assetId: "v", contentHash: "abc", version: 0 } }],
    ["workflow.asset_id", { workflow: { assetId: "", contentHash: sha("w"), version: 0 } }],
    ["model", { model: undefined }],
    ["loras[0].asset.content_hash", { loras: [{ asset: { assetId: "l", contentHash: "z".repeat(64), version: 0 }, weight: 1 }] }],
    ["loras[0].weight", { loras: [{ asset: { assetId: "l", contentHash: sha("l"), version: 0 }, weight: Number.NaN }] }],
    ["cfg_scale", { cfgScale: Number.POSITIVE_INFINITY }],
    ["steps", { steps: 0 }],
    ["resolution_width", { resolutionWidth: 0 }],
    ["resolution_height", { resolutionHeight: 0 }],
    ["sampler", { sampler: "" }],
    ["generation_started_at", { generationStartedAt: undefined }],
    ["idempotency_key", { idempotencyKey: "" }],
    ["prompt_text", { promptText: "x".repeat(100_001) }],
  ];
  for (const [field, overrides] of invalid) {
    it(`rejects a bad ${field} with INVALID_ARGUMENT naming it, writing nothing`, async () => {
      const before = await Promise.all([countRows(h.sql, "segments"), countRows(h.sql, "generation_receipts"), enqueuedEvents(h)]);
      const err = await codeOf(h.client.createReceipt(receiptRequest(overrides)));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.message).toContain(field);
      const after = await Promise.all([countRows(h.sql, "segments"), countRows(h.sql, "generation_receipts"), enqueuedEvents(h)]);
      expect(after).toEqual(before);
    });
  }

  it("accepts upper-case hex and stores it lower-case with the same hash", async () => {
    const lower = await h.client.createReceipt(receiptRequest());
    const upper = await h.client.createReceipt(
      receiptRequest({ model: { assetId: "model-wan", contentHash: sha("model wan").toUpperCase(), version: 1 } }),
    );
    expect(upper.receipt!.inputsHash).toBe(lower.receipt!.inputsHash);
    expect(upper.receipt!.model!.contentHash).toBe(sha("model wan"));
  });
});

describe("immutability", () => {
  it("rejects UPDATE and DELETE of receipt content by direct SQL as the service role, and as the owner", async () => {
    const { receipt } = await h.client.createReceipt(receiptRequest());
    const id = receipt!.receiptId;
    for (const asServiceRole of [true, false]) {
      await h.sql.query("BEGIN");
      try {
        if (asServiceRole) await h.sql.query("SET LOCAL ROLE receipts_app");
        await expect(h.sql.query("UPDATE receipts.generation_receipts SET prompt_text = 'changed' WHERE receipt_id = $1", [id])).rejects.toThrow();
      } finally {
        await h.sql.query("ROLLBACK");
      }
      for (const stmt of [
        "DELETE FROM receipts.generation_receipts WHERE receipt_id = $1",
        "DELETE FROM receipts.receipt_inputs WHERE receipt_id = $1",
        "UPDATE receipts.receipt_inputs SET content_hash = repeat('0', 64) WHERE receipt_id = $1",
      ]) {
        await h.sql.query("BEGIN");
        try {
          if (asServiceRole) await h.sql.query("SET LOCAL ROLE receipts_app");
          await expect(h.sql.query(stmt, [id])).rejects.toThrow();
        } finally {
          await h.sql.query("ROLLBACK");
        }
      }
    }
    const still = await h.client.getReceipt({ receiptId: id });
    expect(still.receipt!.promptText).toBe(receipt!.promptText);
  });

  it("the service role cannot disable the triggers", async () => {
    await h.sql.query("BEGIN");
    try {
      await h.sql.query("SET LOCAL ROLE receipts_app");
      await expect(h.sql.query("ALTER TABLE receipts.generation_receipts DISABLE TRIGGER ALL")).rejects.toThrow();
    } finally {
      await h.sql.query("ROLLBACK");
    }
    await h.sql.query("BEGIN");
    try {
      await h.sql.query("SET LOCAL ROLE receipts_app");
      await expect(h.sql.query("SET session_replication_role = replica")).rejects.toThrow();
    } finally {
      await h.sql.query("ROLLBACK");
    }
  });

  it("completes once: duration derived, a second completion is FAILED_PRECONDITION", async () => {
    const { receipt } = await h.client.createReceipt(receiptRequest());
    const done = await h.client.completeReceipt({
      receiptId: receipt!.receiptId,
      status: ReceiptStatus.SUCCEEDED,
      generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:01:30.250Z")),
      outputHash: sha("output"),
    });
    expect(done.receipt!.status).toBe(ReceiptStatus.SUCCEEDED);
    expect(done.receipt!.generationDurationMs).toBe(90_250n);
    expect(done.receipt!.outputHash).toBe(sha("output"));
    const again = await codeOf(
      h.client.completeReceipt({
        receiptId: receipt!.receiptId,
        status: ReceiptStatus.FAILED,
        generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:02:00Z")),
      }),
    );
    expect(again.code).toBe(Code.FailedPrecondition);
    // Direct SQL cannot complete it twice either.
    await expect(
      h.sql.query("UPDATE receipts.generation_receipts SET output_hash = 'x' WHERE receipt_id = $1", [receipt!.receiptId]),
    ).rejects.toThrow(/already completed/);
  });

  it("rejects completing an unknown receipt, a completion before the start, and an unspecified status", async () => {
    expect((await codeOf(h.client.getReceipt({ receiptId: "not-a-uuid" }))).code).toBe(Code.NotFound);
    expect((await codeOf(h.client.completeReceipt({ receiptId: "not-a-uuid", status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date()) }))).code).toBe(Code.NotFound);
    expect((await codeOf(h.client.completeReceipt({ receiptId: "00000000-0000-4000-8000-000000000000", status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date()) }))).code).toBe(Code.NotFound);
    const { receipt } = await h.client.createReceipt(receiptRequest());
    const early = await codeOf(
      h.client.completeReceipt({ receiptId: receipt!.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date("2020-01-01T00:00:00Z")) }),
    );
    expect(early.code).toBe(Code.InvalidArgument);
    expect(early.message).toContain("generation_completed_at");
    const unspecified = await codeOf(
      h.client.completeReceipt({ receiptId: receipt!.receiptId, status: ReceiptStatus.UNSPECIFIED, generationCompletedAt: timestampFromDate(new Date()) }),
    );
    expect(unspecified.code).toBe(Code.InvalidArgument);
    expect(unspecified.message).toContain("status");
  });
});

describe("forward and reverse queries", () => {
  const project = "project-queries";

  it("segment provenance: current = latest SUCCEEDED; RUNNING and FAILED never replace it; history newest first", async () => {
    const seg = "seg-history";
    const base = { segmentId: seg, projectId: project, sceneId: "scene-h" };
    const r1 = await h.client.createReceipt(receiptRequest(base));
    await h.client.completeReceipt({ receiptId: r1.receipt!.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:05:00Z")) });
    const r2 = await h.client.createReceipt(receiptRequest({ ...base, seed: 7n }));
    await h.client.completeReceipt({ receiptId: r2.receipt!.receiptId, status: ReceiptStatus.FAILED, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:06:00Z")) });
    const r3 = await h.client.createReceipt(receiptRequest({ ...base, seed: 8n }));
    const prov = await h.client.getSegmentProvenance({ segmentId: seg });
    expect(prov.currentReceipt!.receiptId).toBe(r1.receipt!.receiptId);
    expect(prov.history.map((r) => r.receiptId)).toEqual([r3.receipt!.receiptId, r2.receipt!.receiptId, r1.receipt!.receiptId]);
    expect(prov.segment!.active).toBe(true);
    expect((await codeOf(h.client.getSegmentProvenance({ segmentId: "nope" }))).code).toBe(Code.NotFound);
  });

  it("reverse usage finds a LoRA inside a stack, filters by version, and pages", async () => {
    const stack = (i: number, loraVersion: 1 | 2) =>
      receiptRequest({
        segmentId: `seg-stack-${i}`,
        projectId: project,
        sceneId: `scene-${i % 3}`,
        loras: [
          { asset: { assetId: "lora-style", contentHash: sha("lora style"), version: 1 }, weight: 0.5 },
          // Version label deliberately left out on some: the filter must match by content hash.
          { asset: { assetId: "lora-anna", contentHash: sha(`lora anna v${loraVersion}`), version: i % 2 === 0 ? loraVersion : 0 }, weight: 0.8 },
        ],
      });
    for (let i = 0; i < 7; i++) await h.client.createReceipt(stack(i, i < 5 ? 1 : 2));

    const all = await h.client.getAssetUsage({ assetId: "lora-anna", pageSize: 1000 });
    const stackUses = all.usages.filter((u) => u.segmentId.startsWith("seg-stack-"));
    expect(stackUses).toHaveLength(7);
    expect(stackUses.every((u) => u.role === InputRole.LORA && u.position === 1 && u.weight === 0.8)).toBe(true);

    const v2 = await h.client.getAssetUsage({ assetId: "lora-anna", version: 2 });
    expect(v2.usages.map((u) => u.segmentId).sort()).toEqual(["seg-stack-5", "seg-stack-6"]);
    const v1 = await h.client.getAssetUsage({ assetId: "lora-anna", version: 1, pageSize: 1000 });
    expect(v1.usages.filter((u) => u.segmentId.startsWith("seg-stack-")).map((u) => u.segmentId).sort()).toEqual(
      ["seg-stack-0", "seg-stack-1", "seg-stack-2", "seg-stack-3", "seg-stack-4"],
    );
    expect(v1.usages.every((u) => u.contentHash === sha("lora anna v1"))).toBe(true);

    const seen: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const page = await h.client.getAssetUsage({ assetId: "lora-style", pageSize: 3, pageToken: token });
      seen.push(...page.usages.map((u) => u.receiptId));
      token = page.nextPageToken;
      pages += 1;
    } while (token !== "" && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(7);
    expect(seen).toHaveLength(7);

    expect((await codeOf(h.client.getAssetUsage({ assetId: "lora-anna", version: 9 }))).code).toBe(Code.NotFound);
    const badToken = await codeOf(h.client.getAssetUsage({ assetId: "lora-anna", pageToken: "garbage" }));
    expect(badToken.code).toBe(Code.InvalidArgument);
    expect(badToken.message).toContain("page_token");
  });

  it("finds receipts by inputs hash", async () => {
    const a = await h.client.createReceipt(receiptRequest({ seed: 123456789n }));
    const b = await h.client.createReceipt(receiptRequest({ seed: 123456789n, sceneId: "scene-other" }));
    expect(a.receipt!.inputsHash).toBe(b.receipt!.inputsHash);
    const found = await h.client.findReceiptsByInputsHash({ inputsHash: a.receipt!.inputsHash });
    expect(found.receipts.map((r) => r.receiptId)).toEqual([b.receipt!.receiptId, a.receipt!.receiptId]);
  });

  it("a successful regeneration supersedes the old segment in the same transaction; a failed one does not", async () => {
    const old = await h.client.createReceipt(receiptRequest({ segmentId: "seg-old", projectId: project }));
    await h.client.completeReceipt({ receiptId: old.receipt!.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:05:00Z")) });
    const failed = await h.client.createReceipt(receiptRequest({ segmentId: "seg-new-failed", projectId: project, supersedesSegmentId: "seg-old", regenerationJobId: "job-1" }));
    await h.client.completeReceipt({ receiptId: failed.receipt!.receiptId, status: ReceiptStatus.FAILED, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:06:00Z")) });
    expect((await h.client.getSegmentProvenance({ segmentId: "seg-old" })).segment!.active).toBe(true);

    const ok = await h.client.createReceipt(receiptRequest({ segmentId: "seg-new", projectId: project, supersedesSegmentId: "seg-old", regenerationJobId: "job-2" }));
    await h.client.completeReceipt({ receiptId: ok.receipt!.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:07:00Z")) });
    const oldProv = await h.client.getSegmentProvenance({ segmentId: "seg-old" });
    expect(oldProv.segment!.active).toBe(false);
    expect(oldProv.segment!.supersededBySegmentId).toBe("seg-new");
    expect(oldProv.currentReceipt!.receiptId).toBe(old.receipt!.receiptId);
    const newProv = await h.client.getSegmentProvenance({ segmentId: "seg-new" });
    expect(newProv.segment!.supersedesSegmentId).toBe("seg-old");

    const unknown = await codeOf(h.client.createReceipt(receiptRequest({ supersedesSegmentId: "seg-missing" })));
    expect(unknown.code).toBe(Code.InvalidArgument);
    expect(unknown.message).toContain("supersedes_segment_id");
  });
});
