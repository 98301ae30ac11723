/**
 * CompareReceipts, ImportLegacySegments and GetCoverage on a real receipts service (PostgreSQL, JetStream, tokens):
 * field-level differences of two stored receipts (also as REST), hidden receipts NOT_FOUND like missing ones.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputRole, ReceiptService, ReceiptStatus } from "@provenance/shared";
import { DEFAULT_TEST_GRANTS, failureOf } from "@provenance/shared/testing";
import { receiptRequest, sha, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

const A = "cmp-a";
const B = "cmp-b";

let h: ReceiptsHarness;
let viewerA: Client<typeof ReceiptService>;

beforeAll(async () => {
  h = await startReceiptsHarness();
  await h.env.setGrants([...DEFAULT_TEST_GRANTS, { subject: "viewer-a@example.com", project: A, role: "viewer" }]);
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
