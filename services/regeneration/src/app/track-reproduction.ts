/**
 * Reproduction progress from the pipeline's receipts (the receipt-event consumer's use case, as for regeneration
 * jobs): each receipt carrying a reproduction's job id is applied once, in one transaction with the inbox record of its
 * event; the status is derived again from what has been seen, and the verdict with it.
 */
import type { DataSource } from "typeorm";
import { markProcessed } from "@provenance/shared";
import { applyReceipt, type ReceiptObservation } from "../domain/job-progress.js";
import { reproductionStatusOf, verdictOf, type VerdictName } from "../domain/reproduction.js";
import { ReproductionRepository } from "../persistence/reproduction-repository.js";
import { REGENERATION_SCHEMA } from "../persistence/migrations/index.js";
import { LIFECYCLE_CONSUMER } from "./track-job-progress.js";

/** What applying a receipt did to a reproduction. */
export type ReproductionApplied = "unknown_job" | "duplicate" | "unchanged" | { status: string; verdict: VerdictName | undefined };

/** The TrackReproduction use case. */
export class TrackReproduction {
  constructor(private readonly dataSource: DataSource) {}

  /** Applies a receipt (with the output hash it completed with, "" for none) to reproduction `jobId`, once per event id. */
  async apply(jobId: string, seen: ReceiptObservation, outputHash: string, eventId: string): Promise<ReproductionApplied> {
    return this.dataSource.transaction(async (m) => {
      const repo = new ReproductionRepository(m);
      const r = await repo.lock(jobId);
      if (!r) return "unknown_job";
      if (eventId && !(await markProcessed(m, REGENERATION_SCHEMA, LIFECYCLE_CONSUMER, eventId))) return "duplicate";
      const next = applyReceipt(r.progress, seen);
      if (!next) return "unchanged";
      const progress = { ...next, actualOutputHash: outputHash === "" ? null : outputHash.toLowerCase() };
      const status = reproductionStatusOf(r.expectedInputsHash, progress);
      await repo.updateProgress(jobId, progress, status);
      return { status, verdict: verdictOf({ ...r, progress }) };
    });
  }
}
