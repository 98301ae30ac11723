/**
 * The receipt log on real PostgreSQL and NATS: leaves within a second of the commit and in commit order under
 * concurrent writers, checkpoints and proofs that verify with an independent RFC 6962 implementation and
 * node:crypto, the RPCs' refusals, and log tables that no role may rewrite while triggers are on.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptStatus } from "@provenance/shared";
import { MAX_BATCH_LEAVES } from "../src/app/receipt-log-integrator.js";
import { INTEGRATOR_LOCK_KEY } from "../src/persistence/receipt-log-repository.js";
import { receiptRequest, sha, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";
import { hex, mth, openNoteByHand, path, proof } from "./receipt-log-independent.js";

let h: ReceiptsHarness;

beforeAll(async () => {
  h = await startReceiptsHarness();
});
afterAll(async () => {
  await h?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function storedLeaves(): Promise<{ i: number; receipt_id: string; event: string; leaf: string }[]> {
  return (await h.sql.query(`SELECT leaf_index::int AS i, receipt_id::text, event, leaf FROM receipts.receipt_log_leaves ORDER BY leaf_index`)).rows;
}

/** Waits until the receipt has `n` entries in the log; returns the ms it took. */
async function untilEntries(receiptId: string, n: number, timeoutMs = 5000): Promise<number> {
  const start = Date.now();
  for (;;) {
    const { entries } = await h.client.getReceiptProof({ receiptId });
    if (entries.length >= n) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`${receiptId} has ${entries.length} entries after ${timeoutMs} ms`);
    await sleep(10);
  }
}

const complete = (receiptId: string) =>
  h.client.completeReceipt({
    receiptId,
    status: ReceiptStatus.SUCCEEDED,
    generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:01:00Z")),
    outputHash: sha(`out ${receiptId}`),
  });

async function refusal(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the call was not refused");
}

describe("the receipt log", () => {
  it("appends a receipt's created leaf and its completed leaf within a second of each commit", async () => {
    const { receipt } = await h.client.createReceipt(receiptRequest());
    expect(await untilEntries(receipt!.receiptId, 1)).toBeLessThan(1000);
    await complete(receipt!.receiptId);
    expect(await untilEntries(receipt!.receiptId, 2)).toBeLessThan(1000);

    const { entries } = await h.client.getReceiptProof({ receiptId: receipt!.receiptId });
    expect(entries.map((e) => e.event)).toEqual(["receipt.created", "receipt.completed"]);
    const served = (await h.client.getReceipt({ receiptId: receipt!.receiptId })).receipt!;
    const created = JSON.parse(entries[0]!.leaf) as Record<string, unknown>;
    expect(created).toMatchObject({ spec: "provenance/receipt-log/v1", receipt_id: served.receiptId, inputs_hash: served.inputsHash, recorded_by: served.recordedBy });
    expect(JSON.parse(entries[1]!.leaf)).toMatchObject({ event: "receipt.completed", status: "SUCCEEDED", output_hash: served.outputHash, recorded_by: served.completedBy });
  });

  it("answers the entries integrated so far for a receipt just committed (none before its batch)", async () => {
    const { receipt } = await h.client.createReceipt(receiptRequest());
    const { entries, checkpoint } = await h.client.getReceiptProof({ receiptId: receipt!.receiptId });
    expect(entries.length).toBeLessThanOrEqual(1);
    expect(checkpoint).toMatch(/^provenance\.local\/receipt-log\n\d+\n/);
    await untilEntries(receipt!.receiptId, 1);
  });

  it("signs checkpoints and serves proofs that an independent RFC 6962 implementation and node:crypto verify", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { receipt } = await h.client.createReceipt(receiptRequest());
      ids.push(receipt!.receiptId);
      if (i % 2 === 0) await complete(receipt!.receiptId);
      if (i === 3) await sleep(400); // a checkpoint in between
    }
    for (const [i, id] of ids.entries()) await untilEntries(id, i % 2 === 0 ? 2 : 1);

    const { checkpoint, verifierKey } = await h.client.getCheckpoint({});
    expect(verifierKey).toMatch(/^provenance\.local\/receipt-log\+[0-9a-f]{8}\+/);
    const opened = openNoteByHand(checkpoint, verifierKey);
    expect(opened.signatureValid).toBe(true);
    expect(opened.origin).toBe("provenance.local/receipt-log");
    const leaves = (await storedLeaves()).map((l) => Buffer.from(l.leaf, "utf8"));
    expect(opened.size).toBeLessThanOrEqual(leaves.length);
    const upTo = leaves.slice(0, opened.size);
    expect(hex(opened.root)).toBe(hex(mth(upTo)));

    for (const id of ids) {
      const res = await h.client.getReceiptProof({ receiptId: id, treeSize: BigInt(opened.size) });
      expect(res.checkpoint).toBe(checkpoint);
      for (const e of res.entries) {
        expect(e.leaf).toBe(upTo[Number(e.leafIndex)]!.toString("utf8"));
        expect(e.inclusionPath).toEqual(path(Number(e.leafIndex), upTo).map(hex));
      }
    }

    // Every earlier checkpoint: its signature, its root, and the consistency proof to the newest.
    const { rows } = await h.sql.query(`SELECT tree_size::int AS size, note FROM receipts.receipt_log_checkpoints ORDER BY tree_size`);
    expect(rows.length).toBeGreaterThan(2);
    for (const { size, note } of rows as { size: number; note: string }[]) {
      if (size > opened.size) continue;
      const earlier = openNoteByHand(note, verifierKey);
      expect(earlier.signatureValid).toBe(true);
      expect(hex(earlier.root)).toBe(hex(mth(leaves.slice(0, size))));
      const { path: served } = await h.client.getConsistencyProof({ firstSize: BigInt(size), secondSize: BigInt(opened.size) });
      expect(served).toEqual(proof(size, upTo).map(hex));
      // The old receipts prove against the old checkpoint too (tree_size 0 asks for the newest).
      if (size === 0) continue;
      const old = await h.client.getReceiptProof({ receiptId: ids[0]!, treeSize: BigInt(size) });
      expect(old.checkpoint).toBe(note);
      for (const e of old.entries) expect(e.inclusionPath).toEqual(path(Number(e.leafIndex), leaves.slice(0, size)).map(hex));
    }
  });

  it("refuses sizes no checkpoint has, unknown receipts and inverted consistency sizes, naming the field", async () => {
    const { receipt } = await h.client.createReceipt(receiptRequest());
    await untilEntries(receipt!.receiptId, 1);
    const { checkpoint } = await h.client.getCheckpoint({});
    const latest = Number(checkpoint.split("\n")[1]);
    const { rows } = await h.sql.query(`SELECT tree_size::int AS s FROM receipts.receipt_log_checkpoints`);
    const signed = new Set((rows as { s: number }[]).map((r) => r.s));
    let missing = 1;
    while (signed.has(missing)) missing++;

    const noCheckpoint = await refusal(h.client.getReceiptProof({ receiptId: receipt!.receiptId, treeSize: BigInt(missing) }));
    expect(noCheckpoint.code).toBe(Code.InvalidArgument);
    expect(noCheckpoint.rawMessage).toMatch(/tree_size/);
    const tooBig = await refusal(h.client.getReceiptProof({ receiptId: receipt!.receiptId, treeSize: 2n ** 60n }));
    expect(tooBig.code).toBe(Code.InvalidArgument);
    expect(tooBig.rawMessage).toMatch(/tree_size/);
    expect((await refusal(h.client.getReceiptProof({ receiptId: "0190a1b2-0000-7000-8000-000000000000" }))).code).toBe(Code.NotFound);

    const past = await refusal(h.client.getConsistencyProof({ firstSize: 1n, secondSize: BigInt(latest + 1) }));
    expect(past.code).toBe(Code.InvalidArgument);
    expect(past.rawMessage).toMatch(/second_size/);
    const inverted = await refusal(h.client.getConsistencyProof({ firstSize: BigInt(latest), secondSize: 1n }));
    expect(inverted.code).toBe(Code.InvalidArgument);
    expect(inverted.rawMessage).toMatch(/first_size/);
    expect((await h.client.getConsistencyProof({ firstSize: BigInt(latest), secondSize: BigInt(latest) })).path).toEqual([]);
  });

  it("puts leaves in commit order under concurrent writers: a receipt committed after another was acknowledged never gets an earlier index", async () => {
    const spans: { id: string; start: number; end: number }[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let i = 0; i < 6; i++) {
          const start = performance.now();
          const { receipt } = await h.client.createReceipt(receiptRequest());
          spans.push({ id: receipt!.receiptId, start, end: performance.now() });
        }
      }),
    );
    expect(spans).toHaveLength(36);
    for (const s of spans) await untilEntries(s.id, 1);
    const index = new Map((await storedLeaves()).filter((l) => l.event === "receipt.created").map((l) => [l.receipt_id, l.i]));
    expect(spans.every((s) => index.has(s.id))).toBe(true);
    let pairs = 0;
    for (const x of spans) {
      for (const y of spans) {
        if (x.end < y.start) {
          pairs++;
          expect(index.get(x.id)!, `${x.id} was acknowledged before ${y.id} was sent`).toBeLessThan(index.get(y.id)!);
        }
      }
    }
    expect(pairs).toBeGreaterThanOrEqual(6 * 15); // at least each writer's own sequence
  });

  it("appends a transaction committed while an older one is still open at once, and the older one after it when it commits", async () => {
    // An older transaction that has written (it has an xid) and is still open.
    const older = new pg.Client({ connectionString: h.databaseUrl });
    await older.connect();
    try {
      await older.query("BEGIN");
      const [{ id: olderId }] = (
        await older.query(`
          INSERT INTO receipts.generation_receipts (receipt_id, segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale, seed,
            steps, sampler, resolution_width, resolution_height, additional_params, inputs_hash, generation_started_at,
            idempotency_key, request_fingerprint, recorded_by)
          SELECT gen_random_uuid(), segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale, seed, steps, sampler,
                 resolution_width, resolution_height, additional_params, inputs_hash, generation_started_at,
                 'copy-' || idempotency_key, request_fingerprint, recorded_by
            FROM receipts.generation_receipts ORDER BY seq LIMIT 1
          RETURNING receipt_id::text AS id`)
      ).rows as { id: string }[];
      await older.query(
        `INSERT INTO receipts.receipt_inputs (receipt_id, receipt_seq, role, position, asset_id, content_hash, version, weight)
         SELECT $1, (SELECT seq FROM receipts.generation_receipts WHERE receipt_id = $1), role, position, asset_id, content_hash, version, weight
           FROM receipts.receipt_inputs WHERE receipt_id = (SELECT receipt_id FROM receipts.generation_receipts ORDER BY seq LIMIT 1)`,
        [olderId],
      );
      const { receipt: younger } = await h.client.createReceipt(receiptRequest());
      // Not held back by the open transaction (nor by any other in the cluster).
      expect(await untilEntries(younger!.receiptId, 1)).toBeLessThan(1000);
      await sleep(300);
      expect((await storedLeaves()).some((l) => l.receipt_id === olderId)).toBe(false);
      await older.query("COMMIT");
      expect(await untilEntries(olderId!, 1)).toBeLessThan(1000);
      const index = new Map((await storedLeaves()).map((l) => [l.receipt_id, l.i]));
      // In commit order: the older transaction committed last, so its leaf comes after.
      expect(index.get(olderId!)!).toBeGreaterThan(index.get(younger!.receiptId)!);
    } finally {
      await older.end();
    }
  });

  it("drains a backlog in batches of at most MAX_BATCH_LEAVES, in order, each signed, so a backlog never costs one batch's memory", async () => {
    // The writer's lock held from outside (as by a replica that stopped mid-integration): leaves queue up.
    const holder = new pg.Client({ connectionString: h.databaseUrl });
    await holder.connect();
    const sizeOf = async () => Number((await h.sql.query(`SELECT COALESCE(max(tree_size), 0) AS n FROM receipts.receipt_log_checkpoints`)).rows[0].n);
    try {
      await holder.query(`SELECT pg_advisory_lock($1)`, [INTEGRATOR_LOCK_KEY]);
      const before = await sizeOf();
      const receipts = MAX_BATCH_LEAVES + 500;
      for (let i = 0; i < receipts; i += 1000) {
        const reqs = Array.from({ length: Math.min(1000, receipts - i) }, (_, j) => receiptRequest({ projectId: "p-backlog", segmentId: `backlog-${i + j}` }));
        await h.client.createReceipts({ receipts: reqs });
      }
      await sleep(500);
      expect(await sizeOf()).toBe(before);
      await holder.query(`SELECT pg_advisory_unlock($1)`, [INTEGRATOR_LOCK_KEY]);
      const start = Date.now();
      while ((await sizeOf()) < before + receipts) {
        if (Date.now() - start > 30_000) throw new Error(`the backlog of ${receipts} leaves was not integrated in 30 s`);
        await sleep(50);
      }
      const sizes = (
        await h.sql.query(`SELECT tree_size::int AS n FROM receipts.receipt_log_checkpoints WHERE tree_size >= $1 ORDER BY tree_size`, [before])
      ).rows.map((r: { n: number }) => r.n);
      const steps = sizes.slice(1).map((n: number, k: number) => n - sizes[k]!);
      expect(steps.length).toBeGreaterThanOrEqual(2);
      expect(Math.max(...steps)).toBeLessThanOrEqual(MAX_BATCH_LEAVES);
      expect(sizes.at(-1)).toBe(before + receipts);
      const leaves = (await storedLeaves()).filter((l) => l.i >= before);
      expect(leaves.map((l) => l.i)).toEqual(leaves.map((_, k) => before + k));
      const ids = new Set(leaves.map((l) => l.receipt_id));
      const { rows } = await h.sql.query(`SELECT receipt_id::text AS id FROM receipts.generation_receipts g JOIN receipts.segments s USING (segment_id) WHERE s.project_id = 'p-backlog'`);
      expect(rows.every((r: { id: string }) => ids.has(r.id))).toBe(true);
      expect(rows).toHaveLength(receipts);
    } finally {
      await holder.end();
    }
  });
});

describe("the log tables", () => {
  const tables = ["receipt_log_leaves", "receipt_log_nodes", "receipt_log_checkpoints"];
  const changes = (t: string) => [
    `UPDATE receipts.${t} SET ${t === "receipt_log_nodes" ? "hash = hash" : t === "receipt_log_leaves" ? "leaf = leaf" : "note = note"}`,
    `DELETE FROM receipts.${t}`,
    `TRUNCATE receipts.${t}`,
  ];

  it("refuse UPDATE, DELETE and TRUNCATE to receipts_app (no grant) and to the owner (triggers)", async () => {
    const app = new pg.Client({ connectionString: h.env.databaseUrl("receipts") });
    await app.connect();
    try {
      for (const t of tables) {
        for (const statement of changes(t)) {
          await expect(app.query(statement), `${statement} as receipts_app`).rejects.toThrow(/permission denied/);
          await expect(h.sql.query(statement), `${statement} as the owner`).rejects.toThrow(/append-only/);
        }
      }
      expect((await h.sql.query(`SELECT count(*)::int AS n FROM receipts.receipt_log_leaves`)).rows[0].n).toBeGreaterThan(0);
    } finally {
      await app.end();
    }
  });
});
