/** Starts a real receipts service on port 0 against its own database and JetStream namespace. */
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import {
  ReceiptService,
  createLogger,
  loadConfig,
  streamName,
  subjectFor,
  type ServiceConfig,
} from "@provenance/shared";
import { createTestDatabase, createTestNats } from "@provenance/shared/testing";
import { startReceipts, type RunningReceipts } from "../src/start.js";
import type { AssetVersionLookup } from "../src/clients/asset-versions.js";

export { receiptRequest, sha, type ReceiptInit } from "./receipt-fixtures.js";

/** A running receipts service with its clients and the handles to inspect what it wrote. */
export interface ReceiptsHarness {
  config: ServiceConfig;
  running: RunningReceipts;
  client: Client<typeof ReceiptService>;
  nats: Awaited<ReturnType<typeof createTestNats>>;
  /** A superuser connection to the test database, to look at rows directly. */
  sql: pg.Client;
  databaseUrl: string;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the harness; `assetVersions` stands in for AssetService where a test does not run one. */
export async function startReceiptsHarness(opts: { assetVersions?: AssetVersionLookup } = {}): Promise<ReceiptsHarness> {
  const db = await createTestDatabase("receipts_test");
  const nats = await createTestNats();
  const config = loadConfig("receipts", {
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    EVENT_NAMESPACE: nats.namespace,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
  });
  const logger = createLogger("receipts", "silent");
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  const harness: ReceiptsHarness = {
    config,
    running: await startReceipts(config, logger, opts),
    client: undefined as unknown as Client<typeof ReceiptService>,
    nats,
    sql,
    databaseUrl: db.url,
    async restart() {
      await harness.running.stop();
      harness.running = await startReceipts(config, logger, opts);
      harness.client = createClient(ReceiptService, createGrpcTransport({ baseUrl: harness.running.url }));
    },
    async close() {
      await harness.running.stop();
      await sql.end();
      await nats.cleanup();
      await db.drop();
    },
  };
  harness.client = createClient(ReceiptService, createGrpcTransport({ baseUrl: harness.running.url }));
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
