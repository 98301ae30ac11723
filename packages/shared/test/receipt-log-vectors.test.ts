/**
 * Recomputes every vector the project publishes in docs/spec/receipt-log-vectors.json: each receipt's inputs hash,
 * leaves and leaf hashes from the receipt as served, the tree's roots, audit paths and consistency proofs (by the
 * log's tree and by the naive RFC 6962 implementation of the tests), and the signed checkpoints.
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ReceiptSchema, computeInputsHash } from "@provenance/shared";
import {
  MemoryTreeStore,
  appendToStore,
  consistencyProof,
  hashLeaf,
  hashToHex,
  inclusionProof,
  openCheckpoint,
  parseSigningKey,
  parseVerifierKey,
  receiptCompletedLeaf,
  receiptCreatedLeaf,
  receiptLeafHash,
  rootAtSize,
  signCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from "@provenance/shared/receipt-log";
import { readSpecJson } from "@provenance/shared/testing";
import { naiveConsistency, naivePath, naiveRoot } from "./receipt-log-naive-rfc6962.js";

interface LeafVector {
  leaf: string;
  leaf_hash: string;
}

interface Vectors {
  spec: string;
  receipts: {
    name: string;
    receipt: JsonValue;
    recorded_by: string;
    completed_by: string | null;
    created: LeafVector;
    completed: LeafVector | null;
  }[];
  tree: {
    leaves: { receipt_id: string; event: "receipt.created" | "receipt.completed"; leaf: string; leaf_hash: string }[];
    roots: { tree_size: number; root: string }[];
    inclusion: { leaf_index: number; tree_size: number; path: string[] }[];
    consistency: { first_size: number; second_size: number; path: string[] }[];
  };
  checkpoint_key: { test_only: boolean; origin: string; signing_key: string; verifier_key: string };
  checkpoints: { tree_size: number; root: string; note: string }[];
}

const vectors = readSpecJson<Vectors>("receipt-log-vectors.json");
const { tree } = vectors;
const n = tree.leaves.length;
const leafBytes = tree.leaves.map((l) => Buffer.from(l.leaf, "utf8"));
const unhex = (hashes: readonly string[]) => hashes.map((h) => Buffer.from(h, "hex"));

async function logStore(): Promise<MemoryTreeStore> {
  const store = new MemoryTreeStore();
  await appendToStore(store, 0, tree.leaves.map((l) => hashLeaf(l.leaf)));
  return store;
}

describe("published receipt-log vectors", () => {
  it("cover receipts with and without completion, a tree of every size, every proof and signed checkpoints", () => {
    expect(vectors.spec).toBe("provenance/receipt-log/v1");
    expect(vectors.receipts.length).toBeGreaterThanOrEqual(4);
    expect(vectors.receipts.some((r) => r.completed === null)).toBe(true);
    expect(tree.roots.map((r) => r.tree_size)).toEqual(Array.from({ length: n + 1 }, (_, i) => i));
    expect(tree.inclusion).toHaveLength((n * (n + 1)) / 2);
    expect(tree.consistency).toHaveLength((n * (n + 1)) / 2);
    expect(vectors.checkpoint_key.test_only).toBe(true);
    expect(vectors.checkpoints.length).toBeGreaterThanOrEqual(2);
  });

  for (const v of vectors.receipts) {
    it(`${v.name}: inputs hash, leaves and leaf hashes rebuild from the receipt as served`, () => {
      const receipt = fromJson(ReceiptSchema, v.receipt);
      expect(
        computeInputsHash({
          sourceImageHash: receipt.sourceImage!.contentHash,
          variantImageHash: receipt.variantImage?.contentHash ?? null,
          workflowHash: receipt.workflow!.contentHash,
          modelHash: receipt.model!.contentHash,
          loras: receipt.loras.map((l) => ({ hash: l.asset!.contentHash, weight: l.weight })),
          promptText: receipt.promptText,
          negativePrompt: receipt.negativePrompt,
          cfgScale: receipt.cfgScale,
          seed: receipt.seed,
          steps: receipt.steps,
          sampler: receipt.sampler,
          width: receipt.resolutionWidth,
          height: receipt.resolutionHeight,
          params: receipt.additionalParams ?? {},
        }),
      ).toBe(receipt.inputsHash);
      expect(receiptCreatedLeaf(receipt, v.recorded_by)).toBe(v.created.leaf);
      expect(hashToHex(receiptLeafHash(v.created.leaf))).toBe(v.created.leaf_hash);
      if (v.completed === null) {
        expect(v.completed_by).toBeNull();
        expect(() => receiptCompletedLeaf(receipt, "anyone")).toThrow(/^status: /);
      } else {
        expect(receiptCompletedLeaf(receipt, v.completed_by!)).toBe(v.completed.leaf);
        expect(hashToHex(receiptLeafHash(v.completed.leaf))).toBe(v.completed.leaf_hash);
      }
    });
  }

  it("the tree's leaves are the receipts' leaves, each once", () => {
    const published = new Map<string, LeafVector>();
    for (const r of vectors.receipts) {
      const id = (r.receipt as { receiptId: string }).receiptId;
      published.set(`${id}/receipt.created`, r.created);
      if (r.completed) published.set(`${id}/receipt.completed`, r.completed);
    }
    expect(new Set(tree.leaves.map((l) => `${l.receipt_id}/${l.event}`)).size).toBe(n);
    for (const l of tree.leaves) {
      expect(published.get(`${l.receipt_id}/${l.event}`)).toEqual({ leaf: l.leaf, leaf_hash: l.leaf_hash });
    }
  });

  it("roots at every size, by the log's tree and by the naive implementation", async () => {
    const store = await logStore();
    for (const { tree_size, root } of tree.roots) {
      expect(hashToHex(await rootAtSize(store, tree_size))).toBe(root);
      expect(hashToHex(naiveRoot(leafBytes.slice(0, tree_size)))).toBe(root);
    }
  });

  it("every audit path, rebuilt both ways and verified against the published root", async () => {
    const store = await logStore();
    for (const v of tree.inclusion) {
      expect((await inclusionProof(store, v.leaf_index, v.tree_size)).map(hashToHex)).toEqual(v.path);
      expect(naivePath(v.leaf_index, leafBytes.slice(0, v.tree_size)).map(hashToHex)).toEqual(v.path);
      const root = Buffer.from(tree.roots[v.tree_size]!.root, "hex");
      const leafHash = Buffer.from(tree.leaves[v.leaf_index]!.leaf_hash, "hex");
      expect(verifyInclusion({ leafHash, leafIndex: v.leaf_index, treeSize: v.tree_size, path: unhex(v.path), root })).toBe(true);
    }
  });

  it("every consistency proof, rebuilt both ways and verified between the published roots", async () => {
    const store = await logStore();
    for (const v of tree.consistency) {
      expect((await consistencyProof(store, v.first_size, v.second_size)).map(hashToHex)).toEqual(v.path);
      expect(naiveConsistency(v.first_size, leafBytes.slice(0, v.second_size)).map(hashToHex)).toEqual(v.path);
      const claim = {
        firstSize: v.first_size,
        secondSize: v.second_size,
        firstRoot: Buffer.from(tree.roots[v.first_size]!.root, "hex"),
        secondRoot: Buffer.from(tree.roots[v.second_size]!.root, "hex"),
        path: unhex(v.path),
      };
      expect(verifyConsistency(claim)).toBe(true);
    }
  });

  it("the checkpoints re-sign byte for byte with the test key and open with its verifier key", () => {
    const key = vectors.checkpoint_key;
    const signer = parseSigningKey(key.signing_key);
    expect(signer.verifier.verifierKey).toBe(key.verifier_key);
    const verifier = parseVerifierKey(key.verifier_key);
    for (const c of vectors.checkpoints) {
      expect(c.root).toBe(tree.roots[c.tree_size]!.root);
      expect(signCheckpoint({ origin: key.origin, size: c.tree_size, rootHash: Buffer.from(c.root, "hex") }, signer)).toBe(c.note);
      const { checkpoint } = openCheckpoint(c.note, verifier, { origin: key.origin });
      expect([checkpoint.size, hashToHex(checkpoint.rootHash)]).toEqual([c.tree_size, c.root]);
    }
  });
});
