/**
 * C2SP tlog-checkpoint notes (c2sp.org/tlog-checkpoint): the body is the origin line, the tree size in decimal and the
 * base64 root hash, each ending in a newline (then optional extension lines); signed as a C2SP signed note.
 */
import { invalidArgument } from "../errors/domain-error.js";
import { openNoteAs, signNote, type NoteSignature, type NoteSigner, type NoteVerifier } from "./signed-note.js";
import { decodeBase64Strict } from "./strict-base64.js";
import { HASH_SIZE } from "./tree-hash.js";
import { checkTreeSize } from "./tree-layout.js";

/** A tree head: which log, how many leaves, and the RFC 6962 root of that many. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** Lines after the root hash, opaque (this log writes none). */
  readonly extensions?: readonly string[];
}

/** A checkpoint whose note verified: the checkpoint, the signed text, and which signatures verified. */
export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
  readonly unverified: readonly NoteSignature[];
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function checkLine(field: string, line: string, what: string): void {
  if (typeof line !== "string" || line.length === 0 || line.includes("\n")) {
    throw invalidArgument(field, `${what} must be one non-empty line`);
  }
}

/** The checkpoint body (the note text): `origin\nsize\nbase64(root)\n`, then any extension lines. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  checkLine("origin", checkpoint.origin, "the origin");
  checkTreeSize("tree_size", checkpoint.size);
  if (!(checkpoint.rootHash instanceof Uint8Array) || checkpoint.rootHash.length !== HASH_SIZE) {
    throw invalidArgument("root_hash", `must be ${HASH_SIZE} bytes`);
  }
  const extensions = checkpoint.extensions ?? [];
  extensions.forEach((line, j) => checkLine(`extensions[${j}]`, line, "an extension line"));
  const root = Buffer.from(checkpoint.rootHash.buffer, checkpoint.rootHash.byteOffset, HASH_SIZE).toString("base64");
  return [checkpoint.origin, String(checkpoint.size), root, ...extensions].map((line) => `${line}\n`).join("");
}

/**
 * Parses a checkpoint body (the text of its note, not the signed note) strictly: INVALID_ARGUMENT naming `field`
 * unless it is an origin line, a decimal size without leading zeros, the canonical base64 of 32 bytes, and non-empty
 * extension lines, each ending in a newline.
 */
export function parseCheckpoint(text: string, field = "checkpoint"): Checkpoint {
  if (typeof text !== "string" || !text.endsWith("\n")) throw invalidArgument(field, "must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw invalidArgument(field, "must have an origin, a tree size and a root hash line");
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw invalidArgument(field, "has an empty origin line");
  if (!DECIMAL.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw invalidArgument(field, `has a tree size that is not a decimal number without leading zeros: "${sizeText.slice(0, 40)}"`);
  }
  const rootHash = decodeBase64Strict(rootText);
  if (rootHash === undefined || rootHash.length !== HASH_SIZE) {
    throw invalidArgument(field, "has a root hash that is not the base64 of 32 bytes");
  }
  if (extensions.some((line) => line.length === 0)) throw invalidArgument(field, "has an empty extension line");
  return extensions.length === 0 ? { origin, size: Number(sizeText), rootHash } : { origin, size: Number(sizeText), rootHash, extensions };
}

/** The signed checkpoint note: {@link formatCheckpoint} signed by `signer` (the log's key, named like its origin). */
export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner | readonly NoteSigner[]): string {
  return signNote(formatCheckpoint(checkpoint), signer);
}

/**
 * Verifies a signed checkpoint note against the log's verifier key(s) and parses its body; with `origin`, also checks
 * its origin line. Every failure is INVALID_ARGUMENT naming `checkpoint` (see {@link openNoteAs} for the note rules).
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: NoteVerifier | readonly NoteVerifier[],
  options: { origin?: string } = {},
): OpenedCheckpoint {
  const opened = openNoteAs("checkpoint", note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw invalidArgument("checkpoint", `is for origin "${checkpoint.origin.slice(0, 200)}", not "${options.origin}"`);
  }
  return { checkpoint, text: opened.text, signatures: opened.signatures, unverified: opened.unverified };
}
