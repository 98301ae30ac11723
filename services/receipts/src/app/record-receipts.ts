/**
 * CreateReceipt / CreateReceipts: records receipts (and their segments on first sight) in one transaction, idempotent
 * per key, and enqueues one provenance.receipt.created per new receipt in the same transaction.
 */
import type { DataSource, EntityManager } from "typeorm";
import { currentRequestId, useKeyedPlans } from "@provenance/shared";
import { batchEntry, requireDistinct, singleCall, type EntryName } from "../domain/batch-entries.js";
import { replayedReceipt } from "../domain/idempotency.js";
import type { ReceiptDraft } from "../domain/new-receipt.js";
import { newReceiptRecord, type ReceiptRecord } from "../domain/receipt-record.js";
import { checkReproductionTargets, reproducedReceiptIds } from "../domain/reproduction.js";
import { checkSegmentPlacement } from "../domain/segment-placement.js";
import { checkSupersessionTargets, supersededSegmentIds } from "../domain/supersession.js";
import { writtenReceiptsOf } from "./written-receipts.js";
import { groupCommitQueue, type GroupWriter, type Outcome } from "./group-commit.js";
import { enqueueReceiptsCreated, enqueueReceiptsCreatedOfCalls } from "../events/receipt-events.js";
import { insertInputs, insertReceipts, receiptProjects, receiptsByIdempotencyKeys } from "../persistence/receipt-repository.js";
import { insertSegments, segmentProjects, segmentsByIds } from "../persistence/segment-repository.js";

/** A receipt CreateReceipt answers with, and whether this call wrote it (false: a retry of an earlier call). */
export interface RecordedReceipt {
  receipt: ReceiptRecord;
  created: boolean;
}

/** Who records: the caller's `sub` (stored as recorded_by), and the request's id for the events. */
export interface Recorder {
  recordedBy: string;
  requestId?: string;
}

/**
 * CreateReceipt: records one receipt (see {@link recordReceipts}); errors name its fields as they are. Concurrent
 * calls share transactions (group commit, `app/group-commit.ts`): each gets what it would have got alone.
 */
export async function recordReceipt(ds: DataSource, draft: ReceiptDraft, by: Recorder): Promise<RecordedReceipt> {
  const call: CreateCall = { draft, recordedBy: by.recordedBy, requestId: by.requestId || currentRequestId() || "" };
  return groupCommitQueue(ds, "create", () => createWriter(ds)).submit(call);
}

/** A queued CreateReceipt: its draft, and who asked, with the request id its event carries. */
interface CreateCall {
  draft: ReceiptDraft;
  recordedBy: string;
  requestId: string;
}

function createWriter(ds: DataSource): GroupWriter<CreateCall, RecordedReceipt> {
  return {
    keyOf: (c) => c.draft.idempotencyKey,
    writeGroup: (calls) => recordGroup(ds, calls),
    writeAlone: async (c) => (await record(ds, [c.draft], singleCall, c))[0]!,
  };
}

/** An entry that failed after the group's writes: the transaction is rolled back and redone without it. */
class EntriesFailed extends Error {}

/**
 * A group of CreateReceipt calls in one transaction, each judged as a single call: an entry the rules refuse before
 * anything is written is left out; one refused after the writes (a segment elsewhere, a key reused with other
 * content) fails alone and the transaction is redone without it, so it leaves nothing behind.
 */
async function recordGroup(ds: DataSource, calls: readonly CreateCall[]): Promise<Outcome<RecordedReceipt>[]> {
  const outcomes: (Outcome<RecordedReceipt> | undefined)[] = calls.map(({ draft }) => {
    try {
      supersededSegmentIds([draft], singleCall);
      reproducedReceiptIds([draft], singleCall);
      return undefined;
    } catch (error) {
      return { ok: false, error };
    }
  });
  for (;;) {
    const live = calls.flatMap((call, i) => (outcomes[i] === undefined ? [{ ...call, i }] : []));
    if (live.length === 0) return outcomes as Outcome<RecordedReceipt>[];
    const failed = new Map<number, unknown>();
    try {
      const written = await ds.transaction((m) => writeGroupOf(m, live, failed));
      writtenReceiptsOf(ds).remember([...written.values()].filter((w) => w.created).map((w) => w.receipt));
      for (const [i, error] of failed) outcomes[i] = { ok: false, error };
      for (const [i, value] of written) outcomes[i] = { ok: true, value };
      return outcomes as Outcome<RecordedReceipt>[];
    } catch (err) {
      if (!(err instanceof EntriesFailed)) throw err;
      for (const [i, error] of failed) outcomes[i] = { ok: false, error };
    }
  }
}

/** The writes of {@link recordGroup}: answers by call index; refusals go to `failed` (thrown as EntriesFailed after writes). */
async function writeGroupOf(
  m: EntityManager,
  calls: readonly (CreateCall & { i: number })[],
  failed: Map<number, unknown>,
): Promise<Map<number, RecordedReceipt>> {
  const judge = (i: number, check: () => void): boolean => {
    try {
      check();
      return true;
    } catch (error) {
      failed.set(i, error);
      return false;
    }
  };
  await useKeyedPlans(m);
  const drafts = calls.map((c) => c.draft);
  const targets = supersededSegmentIds(drafts, singleCall);
  const reproduced = reproducedReceiptIds(drafts, singleCall);
  const targetProjects = targets.length > 0 ? await segmentProjects(m, targets) : new Map<string, string>();
  const reproducedProjects = reproduced.length > 0 ? await receiptProjects(m, reproduced) : new Map<string, string>();
  const admitted = calls.filter(
    (c) =>
      judge(c.i, () => checkSupersessionTargets([c.draft], targetProjects, singleCall)) &&
      judge(c.i, () => checkReproductionTargets([c.draft], reproducedProjects, singleCall)),
  );
  if (admitted.length === 0) return new Map();

  await insertSegments(m, admitted.map((c) => c.draft.segment));
  const stored = await insertReceipts(m, admitted.map((c) => c.draft), admitted.map((c) => c.recordedBy));
  const fresh = admitted.flatMap((call, k) => {
    const key = stored[k];
    return key ? [{ call, key }] : [];
  });
  const segments = await segmentsByIds(m, fresh.map((f) => f.call.draft.segment.segmentId));
  let refusedAfterWrites = false;
  for (const { call } of fresh) {
    if (!judge(call.i, () => checkSegmentPlacement(call.draft.segment, segments.get(call.draft.segment.segmentId)!, ""))) refusedAfterWrites = true;
  }
  const reused = admitted.filter((_, k) => stored[k] === undefined);
  const earlier = new Map((await receiptsByIdempotencyKeys(m, reused.map((c) => c.draft.idempotencyKey))).map((r) => [r.idempotencyKey, r]));
  const answers = new Map<number, RecordedReceipt>();
  for (const call of reused) {
    let receipt: ReceiptRecord | undefined;
    if (judge(call.i, () => (receipt = replayedReceipt(call.draft, earlier.get(call.draft.idempotencyKey), "")))) {
      answers.set(call.i, { receipt: receipt!, created: false });
    } else {
      refusedAfterWrites = true;
    }
  }
  if (refusedAfterWrites) throw new EntriesFailed();

  await insertInputs(
    m,
    fresh.flatMap(({ call, key }) => call.draft.inputs.map((input) => ({ ...input, receiptId: key.receiptId, receiptSeq: key.seq }))),
  );
  const events = fresh.map(({ call, key }) => {
    const receipt = newReceiptRecord(call.draft, key, segments.get(call.draft.segment.segmentId)!, call.recordedBy);
    answers.set(call.i, { receipt, created: true });
    return { event: receipt, requestId: call.requestId };
  });
  // One outbox write for the group; each event carries its own call's request id.
  await enqueueReceiptsCreatedOfCalls(m, events);
  return answers;
}

/**
 * CreateReceipts: records every receipt of a batch or none. Each idempotency key at most once in a batch
 * (INVALID_ARGUMENT). Any rejection — a key reused with other content (ALREADY_EXISTS), a segment moving
 * (FAILED_PRECONDITION), a bad superseded segment (INVALID_ARGUMENT) — rolls the whole batch back and names the
 * entry as `receipts[i].`. A retry gets the stored receipt as it was recorded (by whoever recorded it).
 */
export async function recordReceipts(ds: DataSource, drafts: readonly ReceiptDraft[], by: Recorder): Promise<RecordedReceipt[]> {
  requireDistinct(drafts.map((d) => d.idempotencyKey), "idempotency_key");
  return record(ds, drafts, batchEntry, by);
}

/**
 * Set-based, a handful of statements whatever the batch size: the happy path inserts first (segments, receipts,
 * inputs: one multi-row INSERT each, one outbox write) and builds its answers from what it wrote, with no lookup
 * before and no re-read after; only keys used before are looked up, once for all.
 */
async function record(ds: DataSource, drafts: readonly ReceiptDraft[], entry: EntryName, by: Recorder): Promise<RecordedReceipt[]> {
  if (drafts.length === 0) return [];
  const recorded = await ds.transaction(async (m) => {
    await useKeyedPlans(m);
    const targets = supersededSegmentIds(drafts, entry);
    if (targets.length > 0) checkSupersessionTargets(drafts, await segmentProjects(m, targets), entry);
    const reproduced = reproducedReceiptIds(drafts, entry);
    if (reproduced.length > 0) checkReproductionTargets(drafts, await receiptProjects(m, reproduced), entry);

    await insertSegments(m, drafts.map((d) => d.segment));
    const stored = await insertReceipts(m, drafts, by.recordedBy);
    const fresh = drafts.flatMap((draft, i) => {
      const key = stored[i];
      return key ? [{ draft, i, key }] : [];
    });

    // A new receipt's segment is stored by now (inserted, or there before): it must be where the request puts it.
    const segments = await segmentsByIds(m, fresh.map((f) => f.draft.segment.segmentId));
    for (const { draft, i } of fresh) checkSegmentPlacement(draft.segment, segments.get(draft.segment.segmentId)!, entry(i));

    // Keys used before: retries get the stored receipt, conflicting reuses ALREADY_EXISTS.
    const reusedKeys = drafts.filter((_, i) => stored[i] === undefined).map((d) => d.idempotencyKey);
    const earlier = new Map((await receiptsByIdempotencyKeys(m, reusedKeys)).map((r) => [r.idempotencyKey, r]));
    const replayed = new Map<number, ReceiptRecord>();
    drafts.forEach((draft, i) => {
      if (stored[i] === undefined) replayed.set(i, replayedReceipt(draft, earlier.get(draft.idempotencyKey), entry(i)));
    });

    await insertInputs(
      m,
      fresh.flatMap(({ draft, key }) => draft.inputs.map((input) => ({ ...input, receiptId: key.receiptId, receiptSeq: key.seq }))),
    );
    const created = new Map(fresh.map(({ draft, i, key }) => [i, newReceiptRecord(draft, key, segments.get(draft.segment.segmentId)!, by.recordedBy)]));
    await enqueueReceiptsCreated(m, [...created.values()], by.requestId);
    return drafts.map((_, i) => {
      const receipt = created.get(i);
      return receipt ? { receipt, created: true } : { receipt: replayed.get(i)!, created: false };
    });
  });
  writtenReceiptsOf(ds).remember(recorded.filter((r) => r.created).map((r) => r.receipt));
  return recorded;
}
