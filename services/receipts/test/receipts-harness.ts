/** Starts a real receipts service on port 0 against its own database and JetStream namespace. */
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createHash } from "node:crypto";
import pg from "pg";
import {
  CreateReceiptRequestSchema,
  ReceiptService,
  createLogger,
  loadConfig,
  streamName,
  subjectFor,
  type CreateReceiptRequest,
  type ServiceConfig,
} from "@provenance/shared";
import { createTestDatabase, createTestNats } from "@provenance/shared/testing";
import { startReceipts, type RunningReceipts } from "../src/start.js";
import type { AssetVersionLookup } from "../src/rpc/asset-versions.js";

/** A content hash derived from a label, for readable tests. */
export function sha(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

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

let counter = 0;

/** A valid CreateReceipt request for a segment; override any field. */
/** The plain-object form of a CreateReceipt request. */
export type ReceiptInit = Exclude<MessageInitShape<typeof CreateReceiptRequestSchema>, CreateReceiptRequest>;

export function receiptRequest(overrides: Partial<ReceiptInit> = {}): CreateReceiptRequest {
  counter += 1;
  return create(CreateReceiptRequestSchema, {
    segmentId: `seg-${counter}`,
    sceneId: "scene-1",
    projectId: "project-1",
    characterName: "anna",
    sequenceIndex: counter,
    sourceImage: { assetId: "src-anna", contentHash: sha("source anna"), version: 1 },
    variantImage: { assetId: "clothed-anna", contentHash: sha("clothed anna v1"), version: 1 },
    workflow: { assetId: "wf-i2v", contentHash: sha("workflow"), version: 3 },
    model: { assetId: "model-wan", contentHash: sha("model wan"), version: 1 },
    loras: [{ asset: { assetId: "lora-anna", contentHash: sha("lora anna v1"), version: 1 }, weight: 0.8 }],
    workflowVersion: "i2v-3",
    promptText: "anna walks along the pier at dusk, slow dolly-in",
    negativePrompt: "",
    cfgScale: 7,
    seed: 42n,
    steps: 30,
    sampler: "euler",
    resolutionWidth: 832,
    resolutionHeight: 480,
    generationStartedAt: timestampFromDate(new Date("2026-11-21T10:00:00Z")),
    idempotencyKey: `key-${counter}-${Math.random().toString(36).slice(2)}`,
    ...overrides,
  });
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
