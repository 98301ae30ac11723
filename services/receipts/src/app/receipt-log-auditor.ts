/**
 * The receipt log's auditor. It follows the log from the last checkpoint it trusts — the newest one on the NATS
 * stream at start (a witness outside the database), then the ones it sees — and checks that:
 * - every new leaf matches its stored receipt rebuilt as served, and the receipt's inputs hash recomputes
 *   (leaves this process appended are checked from the batch, the others read back);
 * - the leaves it followed lead to the root each new checkpoint signs, and no checkpoint is older than, or
 *   inconsistent with, one it saw before (a rollback or a rewrite of the log);
 * and every RECEIPT_LOG_AUDIT_INTERVAL_SECONDS rescans everything, in batches: each stored leaf against its
 * receipt, every tree node recomputed from the leaf bytes, the root against the newest checkpoint, and receipts
 * without a leaf. A mismatch is logged in one line, counted (provenance_receipt_log_mismatches_total) and published
 * as provenance.receipt.tampered — once per receipt (or per log finding) per process run.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { jetstreamManager } from "@nats-io/jetstream";
import { Counter, type Registry } from "prom-client";
import type { DataSource, EntityManager } from "typeorm";
import {
  LOG_CHECKPOINT,
  LogCheckpointSignedSchema,
  isInProcessBus,
  streamName,
  subjectFor,
  type EventConnection,
  type Logger,
} from "@provenance/shared";
import {
  consistencyProof,
  hashLeaf,
  openCheckpoint,
  rootFromNodes,
  rootNodeIds,
  sameHash,
  verifyConsistency,
  type NoteVerifier,
} from "@provenance/shared/receipt-log";
import { FrontierTree, checkLeaf, type LogFinding } from "../domain/receipt-log.js";
import type { ReceiptRecord } from "../domain/receipt-record.js";
import { enqueueTampered } from "../events/receipt-log-events.js";
import { PgTreeNodeStore, latestCheckpoint, leavesInRange, receiptsWithoutLeaves, type StoredLeaf } from "../persistence/receipt-log-repository.js";
import { receiptsByIds } from "../persistence/receipt-repository.js";
import type { AppendedBatch } from "./receipt-log-integrator.js";

/** How often new checkpoints and leaves are audited. */
export const AUDIT_INTERVAL_MS = 1000;
/** Leaves per read of the audits and the rescan. */
const AUDIT_BATCH = 2000;
/**
 * Appended batches held for the auditor while it is busy. A rescan of a large log takes minutes, and every batch the
 * integrator appends meanwhile (up to 2,000 leaves with their receipts) would wait in memory for it: at a million
 * receipts that filled the service's heap. Past these the batch is not held and the audit reads it back instead.
 */
export const MAX_HELD_BATCHES = 2;

/** The metric's name (ARCHITECTURE.md). */
export const MISMATCHES_METRIC = "provenance_receipt_log_mismatches_total";

export interface AuditorDeps {
  dataSource: DataSource;
  verifier: NoteVerifier;
  origin: string;
  logger: Logger;
  metrics: Registry;
  events: EventConnection;
  eventNamespace: string;
  rescanIntervalSeconds: number;
}

/** A checkpoint the auditor holds as true. */
interface Seen {
  size: number;
  root: Uint8Array;
}

/** The auditor of one process. */
export class ReceiptLogAuditor {
  private readonly mismatches: Counter<"check">;
  private readonly reported = new Set<string>();
  /** The log as followed: its frontier at the size of `seen`. */
  private tree: FrontierTree | undefined;
  private seen: Seen | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  /** Appended batches waiting to be checked from memory (at most {@link MAX_HELD_BATCHES}). */
  private held = 0;

  constructor(private readonly deps: AuditorDeps) {
    this.mismatches = new Counter({
      name: MISMATCHES_METRIC,
      help: "Receipts (or log states) found not to match the receipt log, by check",
      labelNames: ["check"],
      registers: [deps.metrics],
    });
  }

  /** Reads the witness's newest checkpoint and starts the audit and rescan loops. */
  async start(): Promise<void> {
    const witnessed = await this.witnessCheckpoint();
    if (witnessed) this.seen = witnessed;
    this.loop(() => this.audit(), AUDIT_INTERVAL_MS);
    this.loop(() => this.rescan(), this.deps.rescanIntervalSeconds * 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await this.chain.catch(() => undefined);
  }

  private loop(work: () => Promise<unknown>, every: number): void {
    const next = () => {
      if (this.stopped) return;
      const t = setTimeout(() => {
        this.exclusive(work)
          .catch((err: unknown) => this.deps.logger.error({ err }, "receipt log: audit failed"))
          .finally(next);
      }, every);
      t.unref();
      this.timers.push(t);
      if (this.timers.length > 4) this.timers.splice(0, this.timers.length - 4);
    };
    next();
  }

  /** Runs `work` after whatever audit is in flight (one at a time). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * A batch this process appended: checked from what it was built from, followed without reading it back. Returns
   * whether it is held for that; false when {@link MAX_HELD_BATCHES} already wait, and the audit reads it back.
   */
  observeAppend(batch: AppendedBatch): boolean {
    if (this.held >= MAX_HELD_BATCHES) return false;
    this.held += 1;
    void this.exclusive(async () => {
      this.held -= 1;
      if (!this.tree || this.tree.size !== batch.from) return; // the audit reads it instead
      // Built from these records a moment ago: the inputs hash is what can differ (a change before the integration).
      const findings = batch.leaves.flatMap((l, i) =>
        l.record && l.event === "receipt.created" ? checkLeaf({ ...l, leafIndex: batch.from + i }, l.record, { rebuild: false, served: l.view }) : [],
      );
      this.tree.append(batch.leafHashes);
      const checkpoint = batch.checkpoint;
      if (!sameHash(this.tree.root, checkpoint.rootHash)) {
        findings.push(logFinding("log", `the checkpoint at ${checkpoint.treeSize} does not sign the root of the leaves appended`));
      } else this.seen = { size: checkpoint.treeSize, root: checkpoint.rootHash };
      await this.report(findings);
    });
    return true;
  }

  /** The newest checkpoint on the NATS stream (undefined on the in-process bus or when there is none). */
  private async witnessCheckpoint(): Promise<Seen | undefined> {
    const { events, eventNamespace, verifier, origin, logger } = this.deps;
    if (isInProcessBus(events)) return undefined;
    try {
      const jsm = await jetstreamManager(events);
      const msg = await jsm.streams.getMessage(streamName(eventNamespace, "PROVENANCE"), { last_by_subj: subjectFor(eventNamespace, LOG_CHECKPOINT) });
      if (!msg) return undefined;
      const event = fromBinary(LogCheckpointSignedSchema, msg.data);
      const { checkpoint } = openCheckpoint(event.checkpoint, verifier, { origin });
      return { size: checkpoint.size, root: checkpoint.rootHash };
    } catch (err) {
      logger.debug({ err }, "receipt log: no witnessed checkpoint on the stream");
      return undefined;
    }
  }

  /** One audit of what is new: the newest checkpoint against the one seen before, and the leaves up to it. */
  async audit(): Promise<void> {
    const m = this.deps.dataSource.manager;
    const head = await latestCheckpoint(m);
    if (!head) return;
    let signed: Seen;
    try {
      const { checkpoint } = openCheckpoint(head.note, this.deps.verifier, { origin: this.deps.origin });
      signed = { size: checkpoint.size, root: checkpoint.rootHash };
    } catch (err) {
      await this.report([logFinding("log", `the newest checkpoint (size ${head.treeSize}) does not verify: ${(err as Error).message}`)]);
      return;
    }
    if (signed.size !== head.treeSize || !sameHash(signed.root, head.rootHash)) {
      await this.report([logFinding("log", `the checkpoint row at ${head.treeSize} does not match its signed note`)]);
      return;
    }
    const seen = this.seen;
    if (seen && (signed.size < seen.size || (signed.size === seen.size && !sameHash(signed.root, seen.root)))) {
      await this.report([logFinding("rollback", `the log's newest checkpoint (size ${signed.size}) is not consistent with the one seen before (size ${seen.size})`)]);
      return;
    }
    if (!this.tree) {
      // First look: the frontier from the store must lead to the signed root, and extend what the witness saw.
      const store = new PgTreeNodeStore(m);
      let frontier: readonly Uint8Array[];
      try {
        frontier = await store.getNodes(rootNodeIds(signed.size));
      } catch (err) {
        await this.report([logFinding("log", `the tree at the newest checkpoint cannot be read: ${(err as Error).message}`)]);
        return;
      }
      if (!sameHash(rootFromNodes(frontier), signed.root)) {
        await this.report([logFinding("log", `the stored tree does not lead to the root of the checkpoint at ${signed.size}`)]);
        return;
      }
      if (seen && seen.size > 0 && seen.size < signed.size) {
        const path = await consistencyProof(store, seen.size, signed.size).catch(() => []);
        if (!verifyConsistency({ firstSize: seen.size, secondSize: signed.size, firstRoot: seen.root, secondRoot: signed.root, path })) {
          await this.report([logFinding("rollback", `the checkpoint at ${signed.size} is not consistent with the witnessed one at ${seen.size}`)]);
          return;
        }
      }
      this.tree = FrontierTree.of(signed.size, frontier);
      this.seen = signed;
      return;
    }
    if (this.tree.size > signed.size) {
      await this.report([logFinding("rollback", `the log's newest checkpoint (size ${signed.size}) is older than the log followed (size ${this.tree.size})`)]);
      return;
    }
    const findings: LogFinding[] = [];
    for (let from = this.tree.size; from < signed.size; from += AUDIT_BATCH) {
      const leaves = await leavesInRange(m, from, Math.min(from + AUDIT_BATCH, signed.size));
      findings.push(...(await this.checkLeaves(m, leaves)));
      if (!contiguous(leaves, from)) {
        findings.push(logFinding("log", `leaves from ${from} are missing`));
        break;
      }
      this.tree.append(leaves.map((l) => hashLeaf(l.leaf)));
    }
    if (this.tree.size === signed.size && !sameHash(this.tree.root, signed.root)) {
      findings.push(logFinding("log", `the leaves up to ${signed.size} do not lead to the root of its checkpoint: the log was rewritten`));
      this.tree = undefined; // start again from the store at the next audit
    } else if (this.tree.size === signed.size) this.seen = signed;
    await this.report(findings);
  }

  /** Rescans the whole log and every stored receipt, in batches. */
  async rescan(): Promise<void> {
    const m = this.deps.dataSource.manager;
    const head = await latestCheckpoint(m);
    if (!head) return;
    const store = new PgTreeNodeStore(m);
    const tree = FrontierTree.empty();
    const findings: LogFinding[] = [];
    let nodesDiffer = false;
    for (let from = 0; from < head.treeSize; from += AUDIT_BATCH) {
      const leaves = await leavesInRange(m, from, Math.min(from + AUDIT_BATCH, head.treeSize));
      findings.push(...(await this.checkLeaves(m, leaves)));
      if (!contiguous(leaves, from)) {
        findings.push(logFinding("log", `leaves from ${from} are missing`));
        break;
      }
      const nodes = tree.append(leaves.map((l) => hashLeaf(l.leaf)));
      const ids = nodes.levels.map((level, j) => ({ level, index: nodes.indexes[j]! }));
      const stored = await store.getNodes(ids).catch(() => undefined);
      const differs = stored === undefined ? 0 : nodes.hashes.findIndex((h, j) => !sameHash(h, stored[j]!));
      if (!nodesDiffer && (stored === undefined || differs >= 0)) {
        nodesDiffer = true;
        const at = stored === undefined ? `some of ${ids.length} nodes from leaf ${from} are missing` : `node (${ids[differs]!.level}, ${ids[differs]!.index}) differs`;
        findings.push(logFinding("log", `the stored tree does not match its leaves: ${at}`, ids[Math.max(differs, 0)]?.index));
      }
    }
    if (tree.size === head.treeSize && !sameHash(tree.root, head.rootHash)) {
      findings.push(logFinding("log", `the stored leaves do not lead to the root of the checkpoint at ${head.treeSize}: the log was rewritten`));
    }
    for (const r of await receiptsWithoutLeaves(m, AUDIT_BATCH)) {
      findings.push({ receiptId: r.receiptId, projectId: r.projectId, check: "missing_leaf", reason: `the stored receipt has no ${r.event} leaf in the log` });
    }
    await this.report(findings);
  }

  private async checkLeaves(m: EntityManager, leaves: readonly StoredLeaf[]): Promise<LogFinding[]> {
    if (leaves.length === 0) return [];
    const records = new Map<string, ReceiptRecord>((await receiptsByIds(m, [...new Set(leaves.map((l) => l.receiptId))])).map((r) => [r.receiptId, r]));
    return leaves.flatMap((l) => checkLeaf(l, records.get(l.receiptId)));
  }

  /** Logs, counts and publishes each finding not reported before in this process run. */
  private async report(findings: readonly LogFinding[]): Promise<void> {
    const fresh = findings.filter((f) => {
      const key = f.receiptId !== "" ? `receipt:${f.receiptId}` : `${f.check}:${f.reason}`;
      if (this.reported.has(key)) return false;
      this.reported.add(key);
      return true;
    });
    if (fresh.length === 0) return;
    for (const f of fresh) {
      this.deps.logger.warn(
        { receiptId: f.receiptId || undefined, projectId: f.projectId || undefined, leafIndex: f.leafIndex, check: f.check },
        `receipt log mismatch: ${f.reason}`,
      );
      this.mismatches.inc({ check: f.check });
    }
    await this.deps.dataSource.transaction((t) => enqueueTampered(t, fresh));
  }
}

function logFinding(check: LogFinding["check"], reason: string, leafIndex?: number): LogFinding {
  return { receiptId: "", projectId: "", check, reason, leafIndex };
}

function contiguous(leaves: readonly StoredLeaf[], from: number): boolean {
  return leaves.length > 0 && leaves.every((l, i) => l.leafIndex === from + i);
}
