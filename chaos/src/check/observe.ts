/**
 * What the system holds after the run, read as facts for the checker: the receipts, jobs, batches and asset versions
 * in PostgreSQL (as the owner, straight from each schema), the staleness projection next to what receipts says it
 * should be, the outbox rows left, and every message on the PROVENANCE stream with its event id.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pg from "pg";
import { GENERATION_STREAM, PROVENANCE_STREAM, RECEIPT_COMPLETED, RECEIPT_CREATED, ReceiptCompletedSchema, ReceiptCreatedSchema, ReceiptStatus, streamName } from "@provenance/shared";

/** A receipt row. */
export interface StoredReceipt {
  readonly receiptId: string;
  readonly key: string;
  readonly segmentId: string;
  readonly status: "RUNNING" | "SUCCEEDED" | "FAILED";
  readonly completedAtMs: number | null;
  readonly outputHash: string | null;
  readonly jobId: string | null;
}

/** A message on the PROVENANCE stream. */
export interface StreamEvent {
  readonly seq: number;
  readonly subject: string;
  /** Its Nats-Msg-Id: the event id the relay published it under. */
  readonly msgId: string;
  /** For receipt events: the event id in the message, its receipt and the receipt's status. */
  readonly eventId?: string;
  readonly receiptId?: string;
  readonly status?: string;
}

/** One segment, as receipts has it and as the staleness projection has it. */
export interface ProjectionRow {
  readonly segmentId: string;
  readonly inReceipts: boolean;
  readonly inStaleness: boolean;
  /** Receipts' latest SUCCEEDED receipt (by created_at, then id: the projection's order). */
  readonly expectedCurrent: string | null;
  readonly projectedCurrent: string | null;
  readonly expectedSupersededBy: string | null;
  readonly projectedSupersededBy: string | null;
  /** Inputs of the expected current receipt, inputs the projection holds, and those of them that match it. */
  readonly expectedInputs: number;
  readonly projectedInputs: number;
  readonly matchingInputs: number;
}

/** A regeneration job row. */
export interface StoredJob {
  readonly jobId: string;
  readonly batchId: string;
  readonly oldSegmentId: string;
  readonly status: string;
}

/** Everything the checker compares. */
export interface Observed {
  readonly receipts: readonly StoredReceipt[];
  readonly events: readonly StreamEvent[];
  readonly projection: readonly ProjectionRow[];
  readonly jobs: readonly StoredJob[];
  readonly batches: readonly { readonly batchId: string; readonly key: string }[];
  readonly versions: readonly { readonly assetId: string; readonly contentHash: string }[];
  /** Outbox rows left per schema. */
  readonly outbox: Readonly<Record<string, number>>;
  /** Messages left on the GENERATION work queue. */
  readonly generationBacklog: number;
  /** Each stream's replica count and how many of its replicas (the leader included) are current. */
  readonly streams: readonly { readonly name: string; readonly replicas: number; readonly current: number; readonly leader: string }[];
}

const SCHEMAS = ["receipts", "staleness", "regeneration"] as const;

const RECEIPTS_SQL = `
  SELECT receipt_id::text AS receipt_id, idempotency_key, segment_id, status,
         round(extract(epoch FROM generation_completed_at) * 1000)::bigint::text AS completed_ms,
         output_hash, regeneration_job_id
    FROM receipts.generation_receipts`;

const PROJECTION_SQL = `
  WITH current AS (
    SELECT DISTINCT ON (segment_id) segment_id, receipt_id
      FROM receipts.generation_receipts
     WHERE status = 'SUCCEEDED'
     ORDER BY segment_id, created_at DESC, receipt_id::text DESC
  )
  SELECT coalesce(r.segment_id, s.segment_id) AS segment_id,
         r.segment_id IS NOT NULL AS in_receipts, s.segment_id IS NOT NULL AS in_staleness,
         c.receipt_id::text AS expected_current, s.current_receipt_id AS projected_current,
         r.superseded_by_segment_id AS expected_superseded, s.superseded_by_segment_id AS projected_superseded,
         (SELECT count(*) FROM receipts.receipt_inputs i WHERE i.receipt_id = c.receipt_id)::int AS expected_inputs,
         (SELECT count(*) FROM staleness.segment_inputs i WHERE i.segment_id = s.segment_id)::int AS projected_inputs,
         (SELECT count(*) FROM staleness.segment_inputs i
           WHERE i.segment_id = s.segment_id AND i.receipt_id = c.receipt_id::text
             AND i.active = (s.superseded_by_segment_id IS NULL))::int AS matching_inputs
    FROM receipts.segments r
    FULL JOIN staleness.segments s ON s.segment_id = r.segment_id
    LEFT JOIN current c ON c.segment_id = r.segment_id`;

async function readDatabase(url: string): Promise<Omit<Observed, "events" | "generationBacklog" | "streams">> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const receipts = (await client.query(RECEIPTS_SQL)).rows.map(
      (r): StoredReceipt => ({
        receiptId: r.receipt_id,
        key: r.idempotency_key,
        segmentId: r.segment_id,
        status: r.status,
        completedAtMs: r.completed_ms === null ? null : Number(r.completed_ms),
        outputHash: r.output_hash,
        jobId: r.regeneration_job_id,
      }),
    );
    const projection = (await client.query(PROJECTION_SQL)).rows.map(
      (r): ProjectionRow => ({
        segmentId: r.segment_id,
        inReceipts: r.in_receipts,
        inStaleness: r.in_staleness,
        expectedCurrent: r.expected_current,
        projectedCurrent: r.projected_current,
        expectedSupersededBy: r.expected_superseded,
        projectedSupersededBy: r.projected_superseded,
        expectedInputs: r.expected_inputs,
        projectedInputs: r.projected_inputs,
        matchingInputs: r.matching_inputs,
      }),
    );
    const jobs = (await client.query("SELECT job_id, batch_id, old_segment_id, status FROM regeneration.jobs")).rows.map(
      (r): StoredJob => ({ jobId: r.job_id, batchId: r.batch_id, oldSegmentId: r.old_segment_id, status: r.status }),
    );
    const batches = (await client.query("SELECT batch_id, idempotency_key FROM regeneration.batches")).rows.map((r) => ({ batchId: r.batch_id as string, key: r.idempotency_key as string }));
    const versions = (await client.query("SELECT asset_id, content_hash FROM staleness.asset_versions")).rows.map((r) => ({
      assetId: r.asset_id as string,
      contentHash: r.content_hash as string,
    }));
    const outbox: Record<string, number> = {};
    for (const schema of SCHEMAS) outbox[schema] = Number((await client.query(`SELECT count(*) AS n FROM ${schema}.outbox`)).rows[0].n);
    return { receipts, projection, jobs, batches, versions, outbox };
  } finally {
    await client.end();
  }
}

function decodeReceiptEvent(subject: string, data: Uint8Array): Pick<StreamEvent, "eventId" | "receiptId" | "status"> {
  const event = subject === RECEIPT_CREATED ? fromBinary(ReceiptCreatedSchema, data) : subject === RECEIPT_COMPLETED ? fromBinary(ReceiptCompletedSchema, data) : undefined;
  if (!event) return {};
  return { eventId: event.eventId, receiptId: event.receipt?.receiptId, status: event.receipt ? ReceiptStatus[event.receipt.status] : undefined };
}

/** Every message on the PROVENANCE stream, read in order by an ordered consumer. */
async function readStream(nc: NatsConnection): Promise<Pick<Observed, "events" | "generationBacklog" | "streams">> {
  const jsm = await jetstreamManager(nc);
  const name = streamName("", PROVENANCE_STREAM);
  const infos = await Promise.all([PROVENANCE_STREAM, GENERATION_STREAM].map((kind) => jsm.streams.info(streamName("", kind))));
  const streams = infos.map((info) => ({
    name: info.config.name,
    replicas: info.config.num_replicas,
    current: (info.cluster?.leader ? 1 : 0) + (info.cluster?.replicas ?? []).filter((r) => r.current && !r.offline).length,
    leader: info.cluster?.leader ?? "none",
  }));
  const lastSeq = infos[0]!.state.last_seq;
  const generationBacklog = infos[1]!.state.messages;
  const events: StreamEvent[] = [];
  if (lastSeq === 0) return { events, generationBacklog, streams };
  const consumer = await jetstream(nc).consumers.get(name);
  const messages = await consumer.consume({ max_messages: 1_000 });
  for await (const m of messages) {
    events.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get("Nats-Msg-Id") ?? "", ...decodeReceiptEvent(m.subject, m.data) });
    if (m.seq >= lastSeq) break;
  }
  await messages.close().catch(() => undefined);
  return { events, generationBacklog, streams };
}

/** Reads everything the checker needs; `databaseUrl` logs in as the owner. */
export async function observe(databaseUrl: string, nc: NatsConnection): Promise<Observed> {
  const db = await readDatabase(databaseUrl);
  const stream = await readStream(nc);
  return { ...db, ...stream };
}
