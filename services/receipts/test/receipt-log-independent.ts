/**
 * An independent check of what the receipt log serves, written for the tests from RFC 6962 §2.1 and C2SP
 * signed-note alone (node:crypto, no code of the service or of @provenance/shared/receipt-log): the recursive
 * definitions MTH, PATH and PROOF over the whole list of leaves, and Ed25519 verification of a checkpoint note.
 */
import { createHash, createPublicKey, verify } from "node:crypto";

const sha256 = (...parts: Buffer[]): Buffer => createHash("sha256").update(Buffer.concat(parts)).digest();
const leafHash = (leaf: Buffer): Buffer => sha256(Buffer.from([0]), leaf);
const nodeHash = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.from([1]), l, r);

/** The largest power of two smaller than n (n > 1). */
function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

/** MTH(D[n]) of RFC 6962 §2.1. */
export function mth(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leafHash(leaves[0]!);
  const split = k(leaves.length);
  return nodeHash(mth(leaves.slice(0, split)), mth(leaves.slice(split)));
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1. */
export function path(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const split = k(leaves.length);
  return m < split
    ? [...path(m, leaves.slice(0, split)), mth(leaves.slice(split))]
    : [...path(m - split, leaves.slice(split)), mth(leaves.slice(0, split))];
}

function subproof(m: number, leaves: readonly Buffer[], whole: boolean): Buffer[] {
  const n = leaves.length;
  if (m === n) return whole ? [] : [mth(leaves)];
  const split = k(n);
  return m <= split
    ? [...subproof(m, leaves.slice(0, split), whole), mth(leaves.slice(split))]
    : [...subproof(m - split, leaves.slice(split), false), mth(leaves.slice(0, split))];
}

/** PROOF(m, D[n]) of RFC 6962 §2.1.2 (empty for m = 0 and m = n). */
export function proof(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (m === 0 || m === leaves.length) return [];
  return subproof(m, leaves, true);
}

/** A checkpoint note opened by hand: its body lines, and whether its one signature verifies with the vkey. */
export function openNoteByHand(note: string, vkey: string): { origin: string; size: number; root: Buffer; signatureValid: boolean } {
  // <name>+<8 hex>+<base64>: the name has no "+", the base64 may.
  const [, name, keyIdHex, keyB64] = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey) ?? [];
  const keyData = Buffer.from(keyB64!, "base64");
  if (keyData[0] !== 1 || keyData.length !== 33) throw new Error("not an Ed25519 vkey");
  const publicKey = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), keyData.subarray(1)]), format: "der", type: "spki" });
  const split = note.indexOf("\n\n");
  const body = note.slice(0, split + 1);
  const [origin, size, root] = body.split("\n");
  const signatureLines = note.slice(split + 2).split("\n").filter((l) => l !== "");
  let signatureValid = false;
  for (const line of signatureLines) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const sig = Buffer.from(m[2]!, "base64");
    if (sig.subarray(0, 4).toString("hex") !== keyIdHex) continue;
    signatureValid = verify(null, Buffer.from(body, "utf8"), publicKey, sig.subarray(4));
  }
  return { origin: origin!, size: Number(size), root: Buffer.from(root!, "base64"), signatureValid };
}

export const hex = (b: Buffer): string => b.toString("hex");
