/**
 * The auditor holds at most MAX_HELD_BATCHES appended batches while it is busy (a rescan of a million-receipt log
 * takes minutes; holding every batch appended meanwhile filled the receipts heap in a benchmark run). The batches it
 * does not hold are still audited: read back from the store, a tampered receipt among them found.
 */
import { create } from "@bufbuild/protobuf";
import { Registry } from "prom-client";
import type { DataSource } from "typeorm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptSchema, ReceiptService, openDatabase } from "@provenance/shared";
import { createTestEnvironment, type TestEnvironment } from "@provenance/shared/testing";
import { hashLeaf, rootNodeIds } from "@provenance/shared/receipt-log";
import type { Client } from "@connectrpc/connect";
import { startReceipts, type RunningReceipts } from "../src/start.js";
import { MAX_HELD_BATCHES, MISMATCHES_METRIC, ReceiptLogAuditor } from "../src/app/receipt-log-auditor.js";
import type { AppendedBatch } from "../src/app/receipt-log-integrator.js";
import { loadReceiptLogSigner } from "../src/app/receipt-log-signer.js";
import { FrontierTree } from "../src/domain/receipt-log.js";
import { PgTreeNodeStore, latestCheckpoint, leavesInRange } from "../src/persistence/receipt-log-repository.js";
import { receiptRequest } from "./receipts-harness.js";

let env: TestEnvironment;
let running: RunningReceipts;
let client: Client<typeof ReceiptService>;
let ds: DataSource;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  env = await createTestEnvironment({ name: "receipt_log_backlog" });
  running = await env.start("receipts", startReceipts);
  client = env.client(ReceiptService, running.url);
  ds = await openDatabase({ url: env.db.url, schema: "receipts", migrations: [] });
});
afterAll(async () => {
  await ds?.destroy();
  await env?.close();
});

/** Records `n` receipts and waits until the log's newest checkpoint holds all their leaves; returns ids and the size. */
async function recordLogged(n: number): Promise<{ ids: string[]; size: number }> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await client.createReceipt(receiptRequest())).receipt!.receiptId);
  for (let i = 0; ; i++) {
    const { rows } = await env.sql.query(
      `SELECT (SELECT max(tree_size)::int FROM receipts.receipt_log_checkpoints) AS size,
              (SELECT count(*)::int FROM receipts.receipt_log_leaves WHERE receipt_id = ANY($1::uuid[])) AS logged`,
      [ids],
    );
    if (rows[0].logged === n && rows[0].size >= n) {
      const head = await latestCheckpoint(ds.manager);
      if (head && (await ds.query(`SELECT count(*)::int AS n FROM receipts.receipt_log_leaves WHERE leaf_index >= $1`, [head.treeSize]))[0].n === 0) {
        return { ids, size: head.treeSize };
      }
    }
    if (i > 500) throw new Error("the receipts were not integrated");
    await sleep(10);
  }
}

describe("the auditor behind a long audit", () => {
  it(`holds at most ${MAX_HELD_BATCHES} appended batches, and audits the others from the store, a tampered receipt among them found`, async () => {
    const config = env.config("receipts");
    const signer = await loadReceiptLogSigner(config.receiptLog);
    const metrics = new Registry();
    const auditor = new ReceiptLogAuditor({
      dataSource: ds,
      verifier: signer.verifier,
      origin: config.receiptLog.origin,
      logger: env.logger("auditor"),
      metrics,
      events: env.nats.nc,
      eventNamespace: env.nats.namespace,
      rescanIntervalSeconds: 3600,
    });
    await recordLogged(2);
    // Its first look at the log, by hand: it follows the tree from the newest checkpoint.
    await auditor.audit();
    const before = await latestCheckpoint(ds.manager);
    const { ids, size } = await recordLogged(6);
    const leaves = await leavesInRange(ds.manager, before!.treeSize, size);
    expect(leaves).toHaveLength(size - before!.treeSize);
    // The 5th new receipt is rewritten behind the service's back (its inputs hash no longer recomputes).
    const tamperedId = ids[4]!;
    const sql = new pg.Client({ connectionString: env.db.url });
    await sql.connect();
    await sql.query("BEGIN");
    await sql.query("SET LOCAL session_replication_role = replica");
    await sql.query(`UPDATE receipts.generation_receipts SET prompt_text = 'not what was generated' WHERE receipt_id = $1`, [tamperedId]);
    await sql.query("COMMIT");
    // The auditor's next audit is kept waiting: the checkpoints table is locked.
    await sql.query("BEGIN");
    await sql.query("LOCK TABLE receipts.receipt_log_checkpoints IN ACCESS EXCLUSIVE MODE");
    try {
      await auditor.start();
      await sleep(1500); // its audit loop's first turn is now waiting on the lock
      // What the integrator would have passed on: a batch a leaf, each with its checkpoint.
      const tree = FrontierTree.of(before!.treeSize, await new PgTreeNodeStore(ds.manager).getNodes(rootNodeIds(before!.treeSize)));
      const held = leaves.map((l): boolean => {
        const leafHash = hashLeaf(l.leaf);
        tree.append([leafHash]);
        const batch: AppendedBatch = {
          from: l.leafIndex,
          leaves: [{ receiptId: l.receiptId, event: l.event, leaf: l.leaf, view: create(ReceiptSchema) }],
          leafHashes: [leafHash],
          checkpoint: { treeSize: l.leafIndex + 1, rootHash: Buffer.from(tree.root), note: "" },
        };
        return auditor.observeAppend(batch);
      });
      expect(held).toEqual(leaves.map((_, i) => i < MAX_HELD_BATCHES));
    } finally {
      await sql.query("COMMIT");
      await sql.end();
    }
    // Released: the waiting audit reads every new leaf back, the tampered receipt's included.
    const found = async () => {
      const metric = (await metrics.getSingleMetric(MISMATCHES_METRIC)!.get()).values;
      return metric.filter((v) => v.value > 0).map((v) => `${v.labels.check}=${v.value}`);
    };
    for (let i = 0; (await found()).length === 0; i++) {
      if (i > 500) throw new Error("the auditor found nothing");
      await sleep(10);
    }
    await sleep(1200); // another audit turn: nothing more is found
    expect(await found()).toEqual(["inputs_hash=1"]);
    await auditor.stop();
  });
});
