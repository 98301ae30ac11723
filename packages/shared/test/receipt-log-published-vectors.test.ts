/** The receipt log against vectors other implementations published (see the fixture's `about` for where from). */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  EMPTY_ROOT,
  MemoryTreeStore,
  appendToStore,
  consistencyProof,
  hashLeaf,
  hashToHex,
  inclusionProof,
  openCheckpoint,
  openNote,
  parseSigningKey,
  parseVerifierKey,
  rootAtSize,
  signNote,
  verifyConsistency,
  verifyInclusion,
} from "@provenance/shared/receipt-log";
import { naiveConsistency, naivePath, naiveRoot } from "./receipt-log-naive-rfc6962.js";

interface Published {
  rfc6962: {
    leaves_hex: string[];
    roots_hex: string[];
    node_hashes_by_level: string[][];
    inclusion: { leaf_index: number; tree_size: number; path_hex: string[] }[];
    consistency: { first_size: number; second_size: number; path_hex: string[] }[];
  };
  signed_note: {
    signing_key: string;
    verifier_key: string;
    text: string;
    note: string;
    second_verifier_key: string;
    second_signature_line: string;
  };
  checkpoint: { verifier_key: string; note: string; origin: string; tree_size: number; root_base64: string };
}

const published = JSON.parse(
  readFileSync(new URL("./receipt-log-published-vectors.json", import.meta.url), "utf8"),
) as Published;
const { rfc6962 } = published;
const leaves = rfc6962.leaves_hex.map((h) => Buffer.from(h, "hex"));
const hex = (hashes: readonly Uint8Array[]) => hashes.map(hashToHex);
const unhex = (hashes: readonly string[]) => hashes.map((h) => Buffer.from(h, "hex"));

async function storeOfAll(): Promise<MemoryTreeStore> {
  const store = new MemoryTreeStore();
  await appendToStore(store, 0, leaves.map((l) => hashLeaf(l)));
  return store;
}

describe("RFC 6962 published tree vectors", () => {
  it("has the 8 leaves and 9 roots", () => {
    expect(leaves).toHaveLength(8);
    expect(rfc6962.roots_hex).toHaveLength(9);
    expect(hashToHex(EMPTY_ROOT)).toBe(rfc6962.roots_hex[0]);
  });

  it("reaches the published root of every prefix, appending one by one", async () => {
    const store = new MemoryTreeStore();
    const roots = [hashToHex(await rootAtSize(store, 0))];
    for (let n = 0; n < leaves.length; n++) {
      const result = await appendToStore(store, n, [hashLeaf(leaves[n]!)]);
      roots.push(hashToHex(result.root));
    }
    expect(roots).toEqual(rfc6962.roots_hex);
  });

  it("stores exactly the published node of every complete subtree, and serves every past root from them", async () => {
    const store = await storeOfAll();
    const nodes = rfc6962.node_hashes_by_level.flatMap((hashes, level) => hashes.map((h, index) => ({ level, index, h })));
    expect(store.nodeCount).toBe(nodes.length);
    const read = await store.getNodes(nodes.map(({ level, index }) => ({ level, index })));
    expect(hex(read)).toEqual(nodes.map((n) => n.h));
    for (let size = 0; size <= leaves.length; size++) {
      expect(hashToHex(await rootAtSize(store, size))).toBe(rfc6962.roots_hex[size]);
    }
  });

  it("agrees with the naive implementation on the published roots", () => {
    for (let size = 0; size <= leaves.length; size++) {
      expect(hashToHex(naiveRoot(leaves.slice(0, size)))).toBe(rfc6962.roots_hex[size]);
    }
  });

  for (const v of rfc6962.inclusion) {
    it(`builds and verifies the published inclusion proof of leaf ${v.leaf_index} at size ${v.tree_size}`, async () => {
      const store = await storeOfAll();
      const path = await inclusionProof(store, v.leaf_index, v.tree_size);
      expect(hex(path)).toEqual(v.path_hex);
      expect(hex(naivePath(v.leaf_index, leaves.slice(0, v.tree_size)))).toEqual(v.path_hex);
      const claim = {
        leafHash: hashLeaf(leaves[v.leaf_index]!),
        leafIndex: v.leaf_index,
        treeSize: v.tree_size,
        path: unhex(v.path_hex),
        root: Buffer.from(rfc6962.roots_hex[v.tree_size]!, "hex"),
      };
      expect(verifyInclusion(claim)).toBe(true);
      // The published verifier's probes, restated: none of these may verify.
      const p = claim.path;
      const someHash = Buffer.alloc(32, 0xab);
      const probes = [
        { ...claim, leafIndex: claim.leafIndex - 1 },
        { ...claim, leafIndex: claim.leafIndex + 1 },
        { ...claim, leafIndex: claim.leafIndex ^ 2 },
        { ...claim, treeSize: claim.treeSize * 2 },
        { ...claim, treeSize: Math.floor(claim.treeSize / 2) },
        { ...claim, leafHash: Buffer.from("WrongLeaf") },
        { ...claim, root: EMPTY_ROOT },
        { ...claim, root: someHash },
        { ...claim, path: [...p, Buffer.alloc(0)] },
        { ...claim, path: [...p, claim.root] },
        { ...claim, path: [Buffer.alloc(0), ...p] },
        { ...claim, path: [claim.root, ...p] },
        ...p.map((_, i) => ({ ...claim, path: p.map((h, j) => (j === i ? Buffer.from(h.map((b, k) => (k === 0 ? b ^ 8 : b))) : h)) })),
        ...(p.length > 0 ? [{ ...claim, path: p.slice(0, -1) }] : []),
        ...(p.length > 1 ? [{ ...claim, path: [p[0]!, someHash, ...p.slice(1)] }] : []),
      ];
      for (const probe of probes) expect(verifyInclusion(probe)).toBe(false);
    });
  }

  for (const v of rfc6962.consistency) {
    it(`builds and verifies the published consistency proof from ${v.first_size} to ${v.second_size}`, async () => {
      const store = await storeOfAll();
      const path = await consistencyProof(store, v.first_size, v.second_size);
      expect(hex(path)).toEqual(v.path_hex);
      expect(hex(naiveConsistency(v.first_size, leaves.slice(0, v.second_size)))).toEqual(v.path_hex);
      const claim = {
        firstSize: v.first_size,
        secondSize: v.second_size,
        firstRoot: Buffer.from(rfc6962.roots_hex[v.first_size]!, "hex"),
        secondRoot: Buffer.from(rfc6962.roots_hex[v.second_size]!, "hex"),
        path: unhex(v.path_hex),
      };
      expect(verifyConsistency(claim)).toBe(true);
      const p = claim.path;
      if (p.length === 0) return;
      const probes = [
        { ...claim, firstSize: claim.firstSize - 1 },
        { ...claim, firstSize: claim.firstSize + 1 },
        { ...claim, firstSize: claim.firstSize ^ 2 },
        { ...claim, secondSize: claim.secondSize * 2 },
        { ...claim, secondSize: Math.floor(claim.secondSize / 2) },
        { ...claim, firstRoot: Buffer.from("WrongRoot") },
        { ...claim, secondRoot: Buffer.from("WrongRoot") },
        { ...claim, firstRoot: claim.secondRoot, secondRoot: claim.firstRoot },
        { ...claim, path: [] },
        { ...claim, path: [...p, Buffer.alloc(0)] },
        { ...claim, path: [...p, claim.firstRoot] },
        { ...claim, path: [...p, claim.secondRoot] },
        { ...claim, path: [Buffer.alloc(0), ...p] },
        { ...claim, path: [claim.firstRoot, ...p] },
        { ...claim, path: [claim.secondRoot, ...p] },
        { ...claim, path: [p[0]!, ...p] },
        { ...claim, path: p.slice(0, -1) },
        ...p.map((_, i) => ({ ...claim, path: p.map((h, j) => (j === i ? Buffer.from(h.map((b, k) => (k === 0 ? b ^ 16 : b))) : h)) })),
      ];
      for (const probe of probes) expect(verifyConsistency(probe)).toBe(false);
    });
  }
});

describe("sumdb/note published signed-note vectors", () => {
  const v = published.signed_note;

  it("derives the published verifier key from the published signing key", () => {
    const signer = parseSigningKey(v.signing_key);
    expect(signer.name).toBe("PeterNeumann");
    expect(signer.keyId).toBe(0xc74f20a3);
    expect(signer.verifier.verifierKey).toBe(v.verifier_key);
    expect(parseVerifierKey(v.verifier_key).publicKey).toEqual(signer.verifier.publicKey);
  });

  it("signs the published text into the published note, byte for byte", () => {
    expect(signNote(v.text, parseSigningKey(v.signing_key))).toBe(v.note);
  });

  it("opens the published note with its key", () => {
    const opened = openNote(v.note, parseVerifierKey(v.verifier_key));
    expect(opened.text).toBe(v.text);
    expect(opened.signatures.map((s) => s.name)).toEqual(["PeterNeumann"]);
    expect(opened.unverified).toEqual([]);
  });

  it("checks the second published signature when its key is given, and ignores it otherwise", () => {
    const both = v.note + v.second_signature_line;
    const peter = parseVerifierKey(v.verifier_key);
    const enoch = parseVerifierKey(v.second_verifier_key);
    expect(openNote(both, peter).unverified.map((s) => s.name)).toEqual(["EnochRoot"]);
    expect(openNote(both, [peter, enoch]).signatures.map((s) => s.name)).toEqual(["PeterNeumann", "EnochRoot"]);
    expect(() => openNote(v.text + "\n" + v.second_signature_line, peter)).toThrow(/^note: is not signed by PeterNeumann\+c74f20a3/);
  });

  it("rejects the published note altered, truncated, garbled or signed by another key", () => {
    const peter = parseVerifierKey(v.verifier_key);
    const sigLine = v.note.slice(v.text.length + 1);
    const bad: [string, RegExp][] = [
      [v.text, /blank line/],
      [v.text + "\n", /no signature lines/],
      [v.text + "\n" + sigLine.slice(0, -1), /does not end with a newline/],
      ["\x01" + v.note, /control character/],
      [v.text + "\n\u2014 Bad Name " + sigLine.split(" ")[2], /signature line 1/],
      [v.note + "Unexpected line.\n", /signature line 2/],
      [v.note.replace("cryptography", "cryptografy"), /does not verify/],
      [v.text + "\n" + sigLine.slice(0, 60) + "ABCD" + sigLine.slice(60), /does not verify|signature line 1/],
      [v.text + "\n" + sigLine.repeat(101), /more than 100/],
    ];
    for (const [note, reason] of bad) expect(() => openNote(note, peter)).toThrow(reason);
    expect(() => openNote(Buffer.from([...Buffer.from(v.note), 0xff]), peter)).toThrow(/UTF-8/);
  });
});

describe("published sum.golang.org checkpoint", () => {
  const v = published.checkpoint;

  it("verifies with the sum.golang.org verifier key and parses", () => {
    const { checkpoint, signatures } = openCheckpoint(v.note, parseVerifierKey(v.verifier_key), { origin: v.origin });
    expect(checkpoint.origin).toBe(v.origin);
    expect(checkpoint.size).toBe(v.tree_size);
    expect(Buffer.from(checkpoint.rootHash).toString("base64")).toBe(v.root_base64);
    expect(signatures.map((s) => s.name)).toEqual(["sum.golang.org"]);
  });

  it("rejects it with another size, another origin expected, or another key", () => {
    const key = parseVerifierKey(v.verifier_key);
    expect(() => openCheckpoint(v.note.replace("6476701", "6476702"), key)).toThrow(/^checkpoint: the signature .* does not verify/);
    expect(() => openCheckpoint(v.note, key, { origin: "example.com/log" })).toThrow(/^checkpoint: is for origin/);
    expect(() => openCheckpoint(v.note, parseVerifierKey(published.signed_note.verifier_key))).toThrow(/^checkpoint: is not signed by/);
  });
});
