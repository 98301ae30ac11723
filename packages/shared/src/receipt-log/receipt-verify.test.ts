/**
 * verifyReceiptInLog over the project's published vectors (docs/spec/receipt-log-vectors.json): the receipts as served,
 * a tree of their seven leaves built here, proofs taken from it, and the published checkpoints opened with their key.
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ReceiptSchema, type Receipt } from "../gen/provenance/v1/common_pb.js";
import { DomainError } from "../errors/domain-error.js";
import { readSpecJson } from "../testing/spec-files.js";
import { openCheckpoint, type Checkpoint } from "./checkpoint.js";
import { receiptFromServedJson, verifyReceiptInLog, type ServedLogEntry } from "./receipt-verify.js";
import { parseVerifierKey } from "./signed-note.js";
import { hashLeaf, hashToHex } from "./tree-hash.js";
import { MemoryTreeStore, appendToStore, inclusionProof } from "./tree-store.js";

interface Vectors {
  receipts: { receipt: JsonValue; recorded_by: string; completed_by: string | null }[];
  tree: { leaves: { receipt_id: string; event: string; leaf: string }[] };
  checkpoint_key: { verifier_key: string };
  checkpoints: { tree_size: number; note: string }[];
}

const vectors = readSpecJson<Vectors>("receipt-log-vectors.json");
const verifier = parseVerifierKey(vectors.checkpoint_key.verifier_key);
const checkpointAt = (size: number): Checkpoint =>
  openCheckpoint(vectors.checkpoints.find((c) => c.tree_size === size)!.note, verifier).checkpoint;

function servedReceipt(i: number): Receipt {
  const v = vectors.receipts[i]!;
  const receipt = fromJson(ReceiptSchema, v.receipt);
  receipt.recordedBy = v.recorded_by;
  receipt.completedBy = v.completed_by ?? "";
  return receipt;
}

async function store(): Promise<MemoryTreeStore> {
  const s = new MemoryTreeStore();
  await appendToStore(s, 0, vectors.tree.leaves.map((l) => hashLeaf(l.leaf)));
  return s;
}

/** The entries GetReceiptProof would serve for a receipt at `size`. */
async function entriesOf(s: MemoryTreeStore, receiptId: string, size: number): Promise<ServedLogEntry[]> {
  const out: ServedLogEntry[] = [];
  for (const [index, l] of vectors.tree.leaves.entries()) {
    if (l.receipt_id !== receiptId || index >= size) continue;
    const path = await inclusionProof(s, index, size);
    out.push({ event: l.event, leafIndex: BigInt(index), leaf: l.leaf, inclusionPath: path.map(hashToHex) });
  }
  return out;
}

describe("verifyReceiptInLog", () => {
  it("holds for every published receipt at the published checkpoint of 7 leaves", async () => {
    const s = await store();
    const checkpoint = checkpointAt(7);
    for (const i of vectors.receipts.keys()) {
      const receipt = servedReceipt(i);
      const result = verifyReceiptInLog({ receipt, entries: await entriesOf(s, receipt.receiptId, 7), checkpoint });
      expect(result.findings).toEqual([]);
      expect(result.holds).toBe(true);
      const expectedIndexes = vectors.tree.leaves.flatMap((l, index) => (l.receipt_id === receipt.receiptId ? [[l.event, index]] : []));
      expect(Object.entries(result.leafIndexes).sort()).toEqual(expectedIndexes.sort());
    }
  });

  it("names the inputs hash when a served input was changed after logging", async () => {
    const s = await store();
    const receipt = servedReceipt(0);
    const entries = await entriesOf(s, receipt.receiptId, 7);
    receipt.promptText = "tampered prompt";
    const result = verifyReceiptInLog({ receipt, entries, checkpoint: checkpointAt(7) });
    expect(result.holds).toBe(false);
    expect(result.findings.map((f) => f.check)).toEqual(["inputs_hash"]);
    expect(result.findings[0]!.reason).toContain(receipt.inputsHash);
  });

  it("names the leaf when a logged field of the receipt was changed, and when the log misses a leaf", async () => {
    const s = await store();
    const receipt = servedReceipt(1);
    const entries = await entriesOf(s, receipt.receiptId, 7);
    receipt.generationDurationMs += 1n;
    const changed = verifyReceiptInLog({ receipt, entries, checkpoint: checkpointAt(7) });
    expect(changed.findings).toEqual([
      expect.objectContaining({ check: "leaf", event: "receipt.completed", reason: expect.stringContaining("generation_duration_ms") }),
    ]);
    expect(changed.leafIndexes["receipt.created"]).toBeDefined();

    const missing = verifyReceiptInLog({ receipt: servedReceipt(1), entries: entries.slice(0, 1), checkpoint: checkpointAt(7) });
    expect(missing.findings).toEqual([expect.objectContaining({ check: "leaf", event: "receipt.completed", reason: "no receipt.completed leaf in the log at size 7" })]);
  });

  it("names the inclusion when a path or the checkpoint does not match", async () => {
    const s = await store();
    const receipt = servedReceipt(0);
    const entries = await entriesOf(s, receipt.receiptId, 7);
    // Proofs at 7 against the checkpoint of 4: the paths lead elsewhere.
    const other = verifyReceiptInLog({ receipt, entries, checkpoint: checkpointAt(4) });
    expect(other.findings.map((f) => f.check)).toEqual(["inclusion", "inclusion"]);
    const flipped = entries.map((e, j) => (j === 0 ? { ...e, inclusionPath: [...e.inclusionPath].reverse() } : e));
    const bad = verifyReceiptInLog({ receipt, entries: flipped, checkpoint: checkpointAt(7) });
    expect(bad.findings).toEqual([expect.objectContaining({ check: "inclusion", event: "receipt.created" })]);
    const notHex = entries.map((e) => ({ ...e, inclusionPath: ["zz"] }));
    expect(verifyReceiptInLog({ receipt, entries: notHex, checkpoint: checkpointAt(7) }).findings).toHaveLength(2);
  });

  it("names a completed leaf the served receipt does not account for, and a receipt that cannot be rebuilt", async () => {
    const s = await store();
    const receipt = servedReceipt(0);
    const entries = await entriesOf(s, receipt.receiptId, 7);
    const running = servedReceipt(3);
    const result = verifyReceiptInLog({ receipt: running, entries: [...(await entriesOf(s, running.receiptId, 7)), entries[1]!], checkpoint: checkpointAt(7) });
    expect(result.findings).toEqual([expect.objectContaining({ check: "leaf", event: "receipt.completed", reason: expect.stringContaining("RUNNING") })]);

    receipt.recordedBy = "";
    const unknown = verifyReceiptInLog({ receipt, entries, checkpoint: checkpointAt(7) });
    expect(unknown.findings).toEqual([expect.objectContaining({ check: "leaf", event: "receipt.created", reason: expect.stringContaining("recorded_by") })]);
  });

  it("reads a receipt from its served proto JSON, ignoring fields it does not know, refusing what is not one", () => {
    const json = vectors.receipts[0]!.receipt as { [k: string]: JsonValue };
    expect(receiptFromServedJson({ ...json, aFieldOfALaterVersion: 1 })).toEqual(fromJson(ReceiptSchema, json));
    const err = (() => {
      try {
        receiptFromServedJson({ seed: "not a number" });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).field).toBe("receipt");
  });
});
