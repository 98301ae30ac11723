/**
 * ReproduceSegment, GetReproduction, ListReproductions: a reproduction is one job re-running a receipt with exactly
 * its inputs, written with its `generation.jobs.requested` (outbox) in one transaction, idempotent per key.
 */
import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import { alreadyExists, decodeSeqToken, encodePageToken, notFound, pageSizeOf } from "@provenance/shared";
import type { Caller } from "@provenance/shared/auth";
import type { ReceiptReads } from "../clients/receipt-reads.js";
import { newReproduction, reproducibleReceipt, sameTarget, type FoundReceipt, type ReproductionRecord, type ReproductionTarget } from "../domain/reproduction.js";
import { enqueueReproductionRequested } from "../events/job-requested-publisher.js";
import { ReproductionRepository, type ReproductionFilter } from "../persistence/reproduction-repository.js";
import type { EstimateGpuTime } from "./estimate-gpu-time.js";

/** What a ReproduceSegment asks for. */
export interface ReproduceCommand {
  target: ReproductionTarget;
  idempotencyKey: string;
  /** The decided caller: who requested it (its `sub`); reads are made as it. */
  caller: Caller;
  requestId?: string;
}

/** A reproduction, and whether this call started it (false for a retry of its key). */
export interface StartedReproduction {
  reproduction: ReproductionRecord;
  created: boolean;
}

/** A page of reproductions, and the token of the next ("" after the last). */
export interface ReproductionPage {
  reproductions: ReproductionRecord[];
  nextPageToken: string;
}

/** The reproduction use cases. */
export class Reproductions {
  constructor(
    private readonly dataSource: DataSource,
    private readonly receipts: ReceiptReads,
    private readonly estimator: EstimateGpuTime,
  ) {}

  /**
   * Starts the reproduction of `cmd.target` (created=true). A known key returns its reproduction (created=false) without
   * asking any dependency; the same key with another target is ALREADY_EXISTS.
   */
  async reproduce(cmd: ReproduceCommand): Promise<StartedReproduction> {
    const repo = new ReproductionRepository(this.dataSource);
    const known = await repo.byKey(cmd.idempotencyKey);
    if (known) return this.replay(known, cmd);

    const receipt = reproducibleReceipt(cmd.target, await this.find(cmd.target, cmd.caller));
    const jobId = randomUUID();
    const [estimate] = await this.estimator.estimate([newReproduction(cmd.target, receipt, jobId, "", "", undefined).inputs], cmd.caller);
    const fresh = newReproduction(cmd.target, receipt, jobId, cmd.caller.principal.subject, cmd.idempotencyKey, estimate);
    const inserted = await this.dataSource.transaction(async (m) => {
      if (!(await new ReproductionRepository(m).insert(fresh))) return false;
      await enqueueReproductionRequested(m, fresh, cmd.requestId);
      return true;
    });
    if (!inserted) {
      // A concurrent call with the same key committed first: answer with its reproduction.
      const winner = await repo.byKey(cmd.idempotencyKey);
      if (!winner) throw new Error(`reproduction of idempotency key ${cmd.idempotencyKey} vanished`);
      return this.replay(winner, cmd);
    }
    return { reproduction: (await repo.byId(jobId))!, created: true };
  }

  /** GetReproduction: NOT_FOUND when there is none. */
  async get(jobId: string): Promise<ReproductionRecord> {
    const found = await new ReproductionRepository(this.dataSource).byId(jobId);
    if (!found) throw notFound("reproduction", jobId);
    return found;
  }

  /** ListReproductions: newest first, keyset-paged (`pageSize` 0 = the default). */
  async list(filter: ReproductionFilter, pageSize: number, pageToken: string): Promise<ReproductionPage> {
    const limit = pageSizeOf(pageSize);
    const reproductions = await new ReproductionRepository(this.dataSource).list(filter, limit, decodeSeqToken(pageToken));
    const last = reproductions.at(-1);
    return { reproductions, nextPageToken: reproductions.length === limit && last ? encodePageToken(last.seq.toString()) : "" };
  }

  /** The receipt of a target with its project, read as the caller; undefined when it cannot see it. */
  private async find(target: ReproductionTarget, caller: Caller): Promise<FoundReceipt | undefined> {
    if (target.receiptId !== "") {
      const receipt = await this.receipts.receipt(target.receiptId, caller);
      return receipt && { projectId: receipt.projectId, receipt };
    }
    const provenance = await this.receipts.segmentProvenance(target.segmentId, caller);
    return provenance?.segment && { projectId: provenance.segment.projectId, receipt: provenance.currentReceipt };
  }

  private replay(known: ReproductionRecord, cmd: ReproduceCommand): StartedReproduction {
    if (!sameTarget(known.target, cmd.target)) {
      const which = cmd.caller.canView(known.projectId) ? `reproduction ${known.jobId}` : "a reproduction";
      throw alreadyExists(`idempotency_key "${cmd.idempotencyKey}" already started ${which} of another receipt or segment; use a new key`);
    }
    return { reproduction: known, created: false };
  }
}
