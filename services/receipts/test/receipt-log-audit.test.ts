/**
 * The receipt log's auditor against each way of tampering with the database (issue 16): an extra inputs row, an owner
 * UPDATE with triggers disabled, a receipt deleted and re-inserted (changed, or without its leaf), a rewritten log row
 * (leaf bytes, a tree node) and a rolled-back log — each found, counted in provenance_receipt_log_mismatches_total
 * and published once as provenance.receipt.tampered. Rescans run every second here.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptService, ReceiptStatus, ReceiptTamperedSchema, type ReceiptTampered } from "@provenance/shared";
import { collectMessages, createTestEnvironment, type TestEnvironment } from "@provenance/shared/testing";
import type { Client } from "@connectrpc/connect";
import pg from "pg";
import { startReceipts, type RunningReceipts } from "../src/start.js";
import { receiptRequest, sha } from "./receipts-harness.js";

let env: TestEnvironment;
let running: RunningReceipts;
let client: Client<typeof ReceiptService>;

const start = () => env.start("receipts", startReceipts, { RECEIPT_LOG_AUDIT_INTERVAL_SECONDS: "1" });

beforeAll(async () => {
  env = await createTestEnvironment({ name: "receipt_log_audit" });
  running = await start();
  client = env.client(ReceiptService, running.url);
});
afterAll(async () => {
  await env?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A completed receipt whose two leaves are in the log. */
async function loggedReceipt(): Promise<string> {
  const { receipt } = await client.createReceipt(receiptRequest());
  const id = receipt!.receiptId;
  await client.completeReceipt({
    receiptId: id,
    status: ReceiptStatus.SUCCEEDED,
    generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:01:00Z")),
    outputHash: sha(`out ${id}`),
  });
  for (let i = 0; (await client.getReceiptProof({ receiptId: id })).entries.length < 2; i++) {
    if (i > 300) throw new Error(`${id} was not integrated`);
    await sleep(10);
  }
  return id;
}

/** Runs statements as the owner with triggers (and so the append-only and queue triggers) switched off. */
async function asOwnerWithoutTriggers(statements: string[], params: unknown[][] = []): Promise<void> {
  await env.sql.query("BEGIN");
  try {
    await env.sql.query("SET LOCAL session_replication_role = replica");
    for (const [i, s] of statements.entries()) await env.sql.query(s, params[i] ?? []);
    await env.sql.query("COMMIT");
  } catch (err) {
    await env.sql.query("ROLLBACK");
    throw err;
  }
}

async function tampered(): Promise<ReceiptTampered[]> {
  const messages = await collectMessages({ ...env.nats, stream: "PROVENANCE", subject: "provenance.receipt.tampered", atLeast: 0, timeoutMs: 200 });
  return messages.map((m) => fromBinary(ReceiptTamperedSchema, m.data));
}

/** Waits for a tampered event matching `match`; returns every event then. */
async function untilTampered(match: (e: ReceiptTampered) => boolean, timeoutMs = 6000): Promise<ReceiptTampered[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await tampered();
    if (events.some(match)) return events;
    if (Date.now() > deadline) throw new Error(`no matching provenance.receipt.tampered in ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => e.reason))}`);
    await sleep(100);
  }
}

async function mismatches(url = running.url): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^provenance_receipt_log_mismatches_total\{[^}]*check="(\w+)"[^}]*\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

describe("the receipt log's auditor", () => {
  it("finds nothing in an untouched log (several rescans), LEGACY receipts with unknown inputs included", async () => {
    await loggedReceipt();
    await loggedReceipt();
    const r = receiptRequest();
    const known = { sceneId: "old-scene", projectId: "project-1", characterName: "anna", sequenceIndex: 1, workflow: r.workflow, workflowVersion: "" };
    const { results } = await client.importLegacySegments({
      segments: [
        { ...known, segmentId: "old-full", sourceImage: r.sourceImage, model: r.model, loras: r.loras, promptText: r.promptText, negativePrompt: "",
          cfgScale: 7, seed: 42n, steps: 30, sampler: "euler", resolutionWidth: 832, resolutionHeight: 480, generatedAt: timestampFromDate(new Date("2024-03-01T12:00:00Z")) },
        { ...known, segmentId: "old-partial", generatedAt: timestampFromDate(new Date("2024-03-02T12:00:00Z")) },
      ],
    });
    for (const { receipt } of results) {
      await expect.poll(async () => (await client.getReceiptProof({ receiptId: receipt!.receiptId })).entries.map((e) => e.event), { timeout: 3000 }).toEqual(["receipt.created"]);
    }
    await sleep(2500);
    expect(await mismatches()).toEqual({});
    expect(await tampered()).toEqual([]);
  });

  it("two replicas on one database: one writer at a time, every leaf once, and neither auditor finds anything", async () => {
    const second = await start();
    try {
      const other = env.client(ReceiptService, second.url);
      const ids = (
        await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? client : other).createReceipt(receiptRequest())))
      ).map((r) => r.receipt!.receiptId);
      for (const id of ids) {
        await expect.poll(async () => (await other.getReceiptProof({ receiptId: id })).entries.length, { timeout: 3000 }).toBe(1);
      }
      const { rows } = await env.sql.query(
        `SELECT count(*)::int AS n, count(DISTINCT (receipt_id, event))::int AS distinct_events, max(leaf_index)::int + 1 AS size FROM receipts.receipt_log_leaves`,
      );
      expect(rows[0].n).toBe(rows[0].distinct_events);
      expect(rows[0].n).toBe(rows[0].size);
      await sleep(2500);
      expect(await mismatches()).toEqual({});
      expect(await mismatches(second.url)).toEqual({});
      expect(await tampered()).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  it("(a) finds an extra receipt_inputs row inserted by the owner with triggers disabled, and publishes it once", async () => {
    const id = await loggedReceipt();
    await asOwnerWithoutTriggers(
      [
        `INSERT INTO receipts.receipt_inputs (receipt_id, receipt_seq, role, position, asset_id, content_hash, version, weight)
         SELECT receipt_id, seq, 'lora', 7, 'lora-injected', $2, 1, 0.5 FROM receipts.generation_receipts WHERE receipt_id = $1`,
      ],
      [[id, sha("injected")]],
    );
    const events = await untilTampered((e) => e.receiptId === id);
    const event = events.find((e) => e.receiptId === id)!;
    expect(event.projectId).toBe("project-1");
    expect(event.reason).toMatch(/inputs hash|leaf/);
    expect(Object.values(await mismatches()).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    await sleep(2500); // two more rescans
    expect((await tampered()).filter((e) => e.receiptId === id)).toHaveLength(1);
  });

  it("(b) finds an owner UPDATE of prompt_text with triggers disabled (the inputs hash no longer recomputes)", async () => {
    const id = await loggedReceipt();
    const before = (await mismatches()).inputs_hash ?? 0;
    await asOwnerWithoutTriggers([`UPDATE receipts.generation_receipts SET prompt_text = 'someone else''s prompt' WHERE receipt_id = $1`], [[id]]);
    const events = await untilTampered((e) => e.receiptId === id);
    expect(events.find((e) => e.receiptId === id)!.reason).toMatch(/inputs hash/);
    expect((await mismatches()).inputs_hash).toBe(before + 1);
  });

  it("logs a receipt as the service wrote it when its row is changed before the integrator runs, and the rescan finds the change", async () => {
    // The integrator is held before it reads the queue (its first read is the newest checkpoint), holding the writer's lock.
    const hold = new pg.Client({ connectionString: env.db.url });
    await hold.connect();
    let id = "";
    try {
      await hold.query("BEGIN");
      await hold.query("LOCK TABLE receipts.receipt_log_checkpoints IN ACCESS EXCLUSIVE MODE");
      await sleep(600); // the integrator's next tick is now waiting on the lock
      const { receipt } = await client.createReceipt(receiptRequest({ workflowVersion: "i2v-as-recorded" }));
      id = receipt!.receiptId;
      await asOwnerWithoutTriggers([`UPDATE receipts.generation_receipts SET workflow_version = 'i2v-put-in-before-the-log' WHERE receipt_id = $1`], [[id]]);
      await hold.query("COMMIT");
    } finally {
      await hold.end();
    }
    await expect.poll(async () => (await client.getReceiptProof({ receiptId: id })).entries.length, { timeout: 3000 }).toBe(1);
    const { rows } = await env.sql.query(`SELECT leaf FROM receipts.receipt_log_leaves WHERE receipt_id = $1`, [id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].leaf).toContain('"workflow_version":"i2v-as-recorded"');
    expect(rows[0].leaf).not.toContain("i2v-put-in-before-the-log");
    const events = await untilTampered((e) => e.receiptId === id);
    expect(events.find((e) => e.receiptId === id)!.reason).toMatch(/inputs hash|leaf/);
  });

  it("(c) finds a receipt deleted and re-inserted with a changed field, and a re-inserted receipt that has no leaf", async () => {
    const changed = await loggedReceipt();
    const copied = await loggedReceipt();
    const copyId = "0190a1b2-0000-7000-8000-00000000c0de";
    const columns = `segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale, seed, steps, sampler, resolution_width,
      resolution_height, additional_params, inputs_hash, status, generation_started_at, generation_completed_at, generation_duration_ms,
      output_hash, regeneration_job_id, supersedes_segment_id, request_fingerprint, created_at, recorded_by, completed_by`;
    await asOwnerWithoutTriggers(
      [
        `CREATE TEMP TABLE saved ON COMMIT DROP AS SELECT * FROM receipts.generation_receipts WHERE receipt_id = $1`,
        `CREATE TEMP TABLE saved_inputs ON COMMIT DROP AS SELECT * FROM receipts.receipt_inputs WHERE receipt_id = $1`,
        `DELETE FROM receipts.receipt_inputs WHERE receipt_id = $1`,
        `DELETE FROM receipts.generation_receipts WHERE receipt_id = $1`,
        `INSERT INTO receipts.generation_receipts (receipt_id, idempotency_key, ${columns})
         SELECT receipt_id, idempotency_key, ${columns.replace("workflow_version", "'i2v-9'")} FROM saved`,
        `INSERT INTO receipts.receipt_inputs SELECT * FROM saved_inputs`,
        // A second receipt re-inserted under a new id: no trigger ran, so no leaf was ever queued for it.
        `INSERT INTO receipts.generation_receipts (receipt_id, idempotency_key, ${columns})
         SELECT $2::uuid, 'reinserted-' || idempotency_key, ${columns} FROM receipts.generation_receipts WHERE receipt_id = $1`,
      ],
      [[changed], [changed], [changed], [changed], [], [], [copied, copyId]],
    );
    const events = await untilTampered((e) => e.receiptId === changed && e.reason.includes("leaf"));
    await untilTampered((e) => e.receiptId === copyId);
    expect(events.find((e) => e.receiptId === changed)!.leafIndex).toBeGreaterThanOrEqual(0n);
    const all = await tampered();
    expect(all.find((e) => e.receiptId === copyId)!.reason).toMatch(/no receipt\.created leaf/);
    const counts = await mismatches();
    expect(counts.leaf).toBeGreaterThanOrEqual(1);
    expect(counts.missing_leaf).toBeGreaterThanOrEqual(1);
  });

  it("(d) finds a rewritten leaf row and a rewritten tree node (triggers disabled): the stored log no longer leads to the signed root", async () => {
    const id = await loggedReceipt();
    const { rows } = await env.sql.query(`SELECT leaf_index::int AS i FROM receipts.receipt_log_leaves WHERE receipt_id = $1 ORDER BY leaf_index`, [id]);
    const created = rows[0].i as number;
    await asOwnerWithoutTriggers(
      [`UPDATE receipts.receipt_log_leaves SET leaf = replace(leaf, '"sequence_index":', '"sequence_index":1') WHERE leaf_index = $1`],
      [[created]],
    );
    const events = await untilTampered((e) => e.receiptId === id);
    expect(events.find((e) => e.receiptId === id)!.leafIndex).toBe(BigInt(created));
    await untilTampered((e) => e.receiptId === "" && /leaves do not lead to the root|tree does not match/.test(e.reason));

    await asOwnerWithoutTriggers([`UPDATE receipts.receipt_log_nodes SET hash = sha256(hash) WHERE level = 1 AND idx = 0`]);
    await untilTampered((e) => e.receiptId === "" && /node \(1, 0\) differs/.test(e.reason));
    expect((await mismatches()).log).toBeGreaterThanOrEqual(2);
  });

  it("finds a rolled-back log (newest checkpoints removed), and after a restart from the NATS witness", async () => {
    await loggedReceipt();
    const { rows } = await env.sql.query(`SELECT max(tree_size)::int AS n FROM receipts.receipt_log_checkpoints`);
    await asOwnerWithoutTriggers([`DELETE FROM receipts.receipt_log_checkpoints WHERE tree_size > $1`], [[Math.floor((rows[0].n as number) / 2)]]);
    await untilTampered((e) => e.receiptId === "" && /not consistent with the one seen before|older than the log followed/.test(e.reason));

    // A new process knows nothing but the witness: the newest checkpoint on the stream.
    await running.stop();
    running = await start();
    await expect.poll(async () => (await mismatches(running.url)).rollback ?? 0, { timeout: 6000, interval: 200 }).toBeGreaterThanOrEqual(1);
  });
});
