/**
 * The receipt log: RFC 6962 Merkle tree hashing and proofs over a small node store, C2SP checkpoints and signed notes
 * (Ed25519), and the receipt leaves of spec `provenance/receipt-log/v1`. Storage-agnostic; see README.md here.
 */
export { EMPTY_ROOT, HASH_SIZE, hashChildren, hashFromHex, hashLeaf, hashToHex, sameHash } from "./tree-hash.js";
export {
  MAX_TREE_SIZE,
  assembleProof,
  checkTreeSize,
  consistencyProofPlan,
  foldRight,
  inclusionProofPlan,
  rootNodeIds,
  splitPoint,
} from "./tree-layout.js";
export type { NodeId, ProofPlan } from "./tree-layout.js";
export { appendLeaves, rootFromNodes } from "./tree-append.js";
export type { AppendResult, NodeBatch } from "./tree-append.js";
export { rootFromInclusionProof, verifyConsistency, verifyInclusion } from "./proof-verify.js";
export type { ConsistencyClaim, InclusionClaim } from "./proof-verify.js";
export { MemoryTreeStore, appendToStore, consistencyProof, inclusionProof, rootAtSize } from "./tree-store.js";
export type { TreeNodeStore } from "./tree-store.js";
export {
  MAX_NOTE_SIGNATURES,
  generateSigningKey,
  isValidKeyName,
  noteKeyId,
  openNote,
  openNoteAs,
  parseSigningKey,
  parseVerifierKey,
  signNote,
  signingKeyFromSeed,
} from "./signed-note.js";
export type { GeneratedNoteKey, NoteSignature, NoteSigner, NoteVerifier, OpenedNote } from "./signed-note.js";
export { formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint } from "./checkpoint.js";
export type { Checkpoint, OpenedCheckpoint } from "./checkpoint.js";
export {
  LEAF_INPUT_ROLES,
  RECEIPT_LOG_SPEC_V1,
  formatLeafTime,
  leafText,
  receiptCompletedDocument,
  receiptCompletedLeaf,
  receiptCreatedDocument,
  receiptCreatedLeaf,
  receiptLeafHash,
} from "./receipt-leaves.js";
export type { LeafInput, ReceiptCompletedDocument, ReceiptCreatedDocument, ReceiptLeafEvent } from "./receipt-leaves.js";
export { expectedLeafEvents, receiptFromServedJson, recomputeInputsHash, verifyReceiptInLog } from "./receipt-verify.js";
export type { ReceiptLogCheck, ReceiptLogClaim, ReceiptLogFinding, ReceiptLogVerification, ServedLogEntry } from "./receipt-verify.js";
