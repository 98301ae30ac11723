/**
 * The receipts service logs in as receipts_app, which holds only what the service uses: no SET ROLE / RESET ROLE
 * escape, no way to add an input to a receipt that exists, and a superuser DATABASE_URL is refused at start.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptStatus, ensureLoginRole } from "@provenance/shared";
import { createTestDatabase } from "@provenance/shared/testing";
import { startReceipts } from "../src/start.js";
import { countRows, receiptRequest, sha, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

let h: ReceiptsHarness;
/** A session logged in as receipts_app, as someone holding the service's credentials would have. */
let app: pg.Client;
let completed: string;
let running: string;

beforeAll(async () => {
  h = await startReceiptsHarness();
  // Another service's login role, as its migrations make it: roles are cluster-wide, and on a new cluster this file may
  // run before any staleness migration has (a clean CI machine did: 'role "staleness_app" does not exist').
  await ensureLoginRole(h.sql, "staleness_app");
  app = new pg.Client({ connectionString: h.env.databaseUrl("receipts") });
  await app.connect();
  const a = await h.client.createReceipt(receiptRequest());
  await h.client.completeReceipt({
    receiptId: a.receipt!.receiptId,
    status: ReceiptStatus.SUCCEEDED,
    generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:01:00Z")),
    outputHash: sha("out"),
  });
  completed = a.receipt!.receiptId;
  running = (await h.client.createReceipt(receiptRequest())).receipt!.receiptId;
});
afterAll(async () => {
  await app?.end();
  await h?.close();
});

const extraLora = (receiptId: string, seq: string) =>
  app.query(
    `INSERT INTO receipts.receipt_inputs (receipt_id, receipt_seq, role, position, asset_id, content_hash, version, weight)
     VALUES ($1, $2, 'lora', 7, 'lora-injected', $3, 1, 0.5)`,
    [receiptId, seq, sha("injected")],
  );

async function seqOf(receiptId: string): Promise<string> {
  return (await h.sql.query(`SELECT seq::text AS seq FROM receipts.generation_receipts WHERE receipt_id = $1`, [receiptId])).rows[0].seq as string;
}

describe("receipts_app", () => {
  it("is the role the service logs in as, a plain login role", async () => {
    const { rows } = await app.query(`SELECT current_user AS u, r.rolsuper, r.rolinherit FROM pg_roles r WHERE r.rolname = current_user`);
    expect(rows).toEqual([{ u: "receipts_app", rolsuper: false, rolinherit: false }]);
    const { rows: sessions } = await h.sql.query(
      `SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = $1 AND application_name NOT LIKE 'migrate:%' AND pid <> pg_backend_pid()`,
      [h.env.db.name],
    );
    expect(sessions.map((r) => r.usename).sort()).toEqual(["receipts_app"]);
  });

  it("cannot add an input to a completed receipt, nor to a running one", async () => {
    const inputs = await countRows(h.sql, "receipt_inputs");
    await expect(extraLora(completed, await seqOf(completed))).rejects.toThrow(
      "receipt inputs can only be written in the transaction that creates their receipt",
    );
    await expect(extraLora(running, await seqOf(running))).rejects.toThrow("receipt inputs can only be written in the transaction that creates their receipt");
    // Nor by touching the receipt first in the same transaction: the receipt keeps the id of the one that created it.
    await app.query("BEGIN");
    try {
      await app.query(`UPDATE receipts.generation_receipts SET output_hash = output_hash WHERE receipt_id = $1`, [running]);
      await expect(extraLora(running, await seqOf(running))).rejects.toThrow("the transaction that creates their receipt");
    } finally {
      await app.query("ROLLBACK");
    }
    expect(await countRows(h.sql, "receipt_inputs")).toBe(inputs);
    const got = await h.client.getReceipt({ receiptId: completed });
    expect(got.receipt!.loras.map((l) => l.asset!.assetId)).toEqual(["lora-anna"]);
    const usage = await h.client.getAssetUsage({ assetId: "lora-injected" });
    expect(usage.usages).toEqual([]);
  });

  it("cannot give a receipt of its own the creating transaction of another", async () => {
    await expect(
      app.query(
        `INSERT INTO receipts.generation_receipts (receipt_id, segment_id, workflow_version, prompt_text, negative_prompt, cfg_scale,
           seed, steps, sampler, resolution_width, resolution_height, inputs_hash, generation_started_at, idempotency_key,
           request_fingerprint, created_xid)
         SELECT gen_random_uuid(), segment_id, 'x', 'x', '', 1, 1, 1, 'x', 1, 1, inputs_hash, now(), 'forged-xid', request_fingerprint,
                '1'::xid8 FROM receipts.generation_receipts WHERE receipt_id = $1`,
        [completed],
      ),
    ).rejects.toThrow(/permission denied/);
    await expect(app.query(`UPDATE receipts.generation_receipts SET created_xid = pg_current_xact_id() WHERE receipt_id = $1`, [running])).rejects.toThrow(
      /permission denied/,
    );
  });

  it("cannot rewrite or delete a receipt, and RESET ROLE / SET ROLE gain it nothing", async () => {
    for (const attempt of [`RESET ROLE`, `SET ROLE NONE`]) {
      await app.query(attempt);
      await expect(app.query(`UPDATE receipts.generation_receipts SET prompt_text = 'rewritten' WHERE receipt_id = $1`, [completed])).rejects.toThrow(
        /permission denied/,
      );
      await expect(app.query(`DELETE FROM receipts.receipt_inputs WHERE receipt_id = $1`, [completed])).rejects.toThrow(/permission denied/);
      await expect(app.query(`TRUNCATE receipts.generation_receipts CASCADE`)).rejects.toThrow(/permission denied/);
    }
    for (const target of ["root", "postgres", "staleness_app"]) {
      await expect(app.query(`SET ROLE ${target}`)).rejects.toThrow(/permission denied to set role/);
    }
    await expect(app.query(`SET SESSION AUTHORIZATION root`)).rejects.toThrow(/permission denied/);
    await expect(app.query(`SET session_replication_role = replica`)).rejects.toThrow(/permission denied/);
    await expect(app.query(`ALTER TABLE receipts.receipt_inputs DISABLE TRIGGER ALL`)).rejects.toThrow(/must be owner/);
    const { rows } = await h.sql.query(`SELECT prompt_text FROM receipts.generation_receipts WHERE receipt_id = $1`, [completed]);
    expect(rows[0].prompt_text).not.toBe("rewritten");
  });
});

describe("at start", () => {
  it("refuses a superuser DATABASE_URL in one line, naming the role to use", async () => {
    const config = h.env.config("receipts", { DATABASE_URL: h.env.db.url });
    const err = await startReceipts(config, h.env.logger("receipts")).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      `DATABASE_URL logs in as "root", a superuser: the receipts service must log in as its own role "receipts_app", which holds only its grants (the schema owner goes in MIGRATION_DATABASE_URL)`,
    );
  });

  it("refuses it before migrating anything", async () => {
    const fresh = await createTestDatabase("receipts_refused");
    try {
      const config = h.env.config("receipts", { DATABASE_URL: fresh.url, MIGRATION_DATABASE_URL: fresh.url });
      await expect(startReceipts(config, h.env.logger("receipts"))).rejects.toThrow(/^DATABASE_URL logs in as "root", a superuser: /);
      const sql = new pg.Client({ connectionString: fresh.url });
      await sql.connect();
      try {
        expect((await sql.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'receipts'`)).rows[0].n).toBe(0);
      } finally {
        await sql.end();
      }
    } finally {
      await fresh.drop();
    }
  });

  it("refuses another service's role", async () => {
    const config = h.env.config("receipts", { DATABASE_URL: h.env.databaseUrl("staleness") });
    await expect(startReceipts(config, h.env.logger("receipts"))).rejects.toThrow(/^DATABASE_URL logs in as "staleness_app", not "receipts_app": /);
  });
});
