/** A real receipts service on port 0 in the shared test environment (its own database, JetStream namespace and issuer). */
import type { Client } from "@connectrpc/connect";
import type pg from "pg";
import { ReceiptService, streamName, subjectFor, type ServiceConfig } from "@provenance/shared";
import { createTestEnvironment, type TestEnvironment, type TestNats } from "@provenance/shared/testing";
import { startReceipts, type RunningReceipts } from "../src/start.js";
import type { AssetVersionLookup } from "../src/clients/asset-versions.js";

export { receiptRequest, sha, type ReceiptInit } from "./receipt-fixtures.js";

/** A running receipts service with its clients and the handles to inspect what it wrote. */
export interface ReceiptsHarness {
  env: TestEnvironment;
  config: ServiceConfig;
  running: RunningReceipts;
  /** A ReceiptService client carrying the test admin's token. */
  client: Client<typeof ReceiptService>;
  nats: TestNats;
  /** An owner (superuser) connection to the test database, to look at rows directly. */
  sql: pg.Client;
  /** The owner's URL of the test database. */
  databaseUrl: string;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the harness; `assetVersions` stands in for AssetService where a test does not run one. */
export async function startReceiptsHarness(opts: { assetVersions?: AssetVersionLookup } = {}): Promise<ReceiptsHarness> {
  const env = await createTestEnvironment({ name: "receipts_test" });
  const start = () => env.start("receipts", (config, logger) => startReceipts(config, logger, opts));
  const running = await start();
  const harness: ReceiptsHarness = {
    env,
    config: env.config("receipts"),
    running,
    client: env.client(ReceiptService, running.url),
    nats: env.nats,
    sql: env.sql,
    databaseUrl: env.db.url,
    async restart() {
      await harness.running.stop();
      harness.running = await start();
      harness.client = env.client(ReceiptService, harness.running.url);
    },
    close: () => env.close(),
  };
  return harness;
}

/** Counts rows of a receipts table. */
export async function countRows(sql: pg.Client, table: "segments" | "generation_receipts" | "receipt_inputs"): Promise<number> {
  const res = await sql.query(`SELECT count(*)::int AS n FROM receipts.${table}`);
  return res.rows[0].n as number;
}

/**
 * How many receipt events were ever committed: once the relay has drained the outbox (it deletes what it published),
 * the number of receipt events on the stream.
 */
export async function enqueuedEvents(h: ReceiptsHarness): Promise<number> {
  const deadline = Date.now() + 10_000;
  while ((await h.sql.query(`SELECT count(*)::int AS n FROM receipts.outbox`)).rows[0].n > 0) {
    if (Date.now() > deadline) throw new Error("the receipts outbox did not drain in 10 s");
    await new Promise((r) => setTimeout(r, 20));
  }
  const filter = subjectFor(h.nats.namespace, "provenance.receipt.>");
  const info = await h.nats.jsm.streams.info(streamName(h.nats.namespace, "PROVENANCE"), { subjects_filter: filter });
  return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
}
