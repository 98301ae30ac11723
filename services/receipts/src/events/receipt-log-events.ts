/**
 * The receipt log's events, through the receipts outbox: provenance.log.checkpoint in the transaction that signs the
 * checkpoint (so NATS keeps every checkpoint the database committed, a witness outside it), and
 * provenance.receipt.tampered for what the auditor finds.
 */
import type { EntityManager } from "typeorm";
import { LOG_CHECKPOINT, LogCheckpointSignedSchema, RECEIPT_TAMPERED, ReceiptTamperedSchema, enqueueEvents } from "@provenance/shared";
import { hashToHex } from "@provenance/shared/receipt-log";
import type { LogFinding } from "../domain/receipt-log.js";
import { RECEIPTS_SCHEMA } from "../persistence/schema.js";

/** One provenance.log.checkpoint for a checkpoint just signed. */
export async function enqueueCheckpointSigned(m: EntityManager, c: { treeSize: number; rootHash: Uint8Array; note: string }): Promise<void> {
  await enqueueEvents(m, {
    schema: RECEIPTS_SCHEMA,
    subject: LOG_CHECKPOINT,
    eventSchema: LogCheckpointSignedSchema,
    events: [{ checkpoint: c.note, treeSize: BigInt(c.treeSize), rootHash: hashToHex(c.rootHash) }],
  });
}

/** One provenance.receipt.tampered per finding, in order. */
export async function enqueueTampered(m: EntityManager, findings: readonly LogFinding[]): Promise<void> {
  if (findings.length === 0) return;
  await enqueueEvents(m, {
    schema: RECEIPTS_SCHEMA,
    subject: RECEIPT_TAMPERED,
    eventSchema: ReceiptTamperedSchema,
    events: findings.map((f) => ({ receiptId: f.receiptId, projectId: f.projectId, reason: f.reason, leafIndex: BigInt(f.leafIndex ?? 0) })),
  });
}
