/** RFC 6962 §2.1 hashing with SHA-256: leaf and interior node hashes, the empty tree, hashes as hex. */
import { createHash } from "node:crypto";
import { invalidArgument } from "../errors/domain-error.js";

/** The size of every hash of the log, in bytes (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** The Merkle Tree Hash of the empty tree: SHA-256 of no bytes. */
export const EMPTY_ROOT: Buffer = createHash("sha256").digest();

/** The leaf hash H(0x00 ‖ leaf) of a leaf given as bytes or as a string (hashed as its UTF-8 encoding). */
export function hashLeaf(leaf: Uint8Array | string): Buffer {
  const h = createHash("sha256").update(LEAF_PREFIX);
  // A string is hashed without first building its encoded copy.
  return (typeof leaf === "string" ? h.update(leaf, "utf8") : h.update(leaf)).digest();
}

/** The interior node hash H(0x01 ‖ left ‖ right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(NODE_PREFIX).update(left).update(right).digest();
}

/** Whether two hashes hold the same bytes (false when either is not a hash of {@link HASH_SIZE} bytes). */
export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === HASH_SIZE && b.length === HASH_SIZE && Buffer.compare(a, b) === 0;
}

const HEX_HASH = /^[0-9a-f]{64}$/;

/** A hash as the API writes it: 64 lower-case hex digits. */
export function hashToHex(hash: Uint8Array): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString("hex");
}

/** Parses 64 hex digits (either case) into a hash; anything else is INVALID_ARGUMENT naming `field`. */
export function hashFromHex(field: string, hex: string): Buffer {
  if (typeof hex !== "string" || !HEX_HASH.test(hex.toLowerCase())) {
    throw invalidArgument(field, `must be a SHA-256 hash of 64 hex digits, got "${String(hex).slice(0, 80)}"`);
  }
  return Buffer.from(hex, "hex");
}
