/**
 * After the load: waits until the system has nothing left in flight — every outbox empty, every durable consumer on
 * PROVENANCE caught up, the GENERATION queue empty and no regeneration job open — or until the time is up. Whatever
 * is still in flight then is what the checker reports.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pg from "pg";
import { GENERATION_STREAM, PROVENANCE_STREAM, streamName } from "@provenance/shared";
import { sleep } from "../supervision/ports.js";

/** What was still in flight at the last look. */
export interface InFlight {
  readonly outboxRows: number;
  /** Messages delivered to no consumer yet or not acked yet, over every durable consumer on PROVENANCE. */
  readonly consumerBacklog: number;
  readonly queuedJobRequests: number;
  readonly openJobs: number;
}

/** The outcome of settling. */
export interface Settled {
  readonly settled: boolean;
  readonly tookMs: number;
  readonly last: InFlight;
}

async function inFlight(db: pg.Client, nc: NatsConnection): Promise<InFlight> {
  const { rows } = await db.query(`
    SELECT (SELECT count(*) FROM receipts.outbox) + (SELECT count(*) FROM staleness.outbox) + (SELECT count(*) FROM regeneration.outbox) AS outbox,
           (SELECT count(*) FROM regeneration.jobs WHERE status IN ('submitted', 'running')) AS open_jobs`);
  const jsm = await jetstreamManager(nc);
  let consumerBacklog = 0;
  for await (const c of jsm.consumers.list(streamName("", PROVENANCE_STREAM))) consumerBacklog += c.num_pending + c.num_ack_pending;
  const queued = (await jsm.streams.info(streamName("", GENERATION_STREAM))).state.messages;
  return { outboxRows: Number(rows[0].outbox), consumerBacklog, queuedJobRequests: queued, openJobs: Number(rows[0].open_jobs) };
}

const quiet = (f: InFlight) => f.outboxRows === 0 && f.consumerBacklog === 0 && f.queuedJobRequests === 0 && f.openJobs === 0;

/** Polls until nothing is in flight twice in a row (a second apart), for at most `withinMs`. */
export async function settle(databaseUrl: string, nc: NatsConnection, withinMs: number): Promise<Settled> {
  const began = Date.now();
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    let calm = 0;
    for (;;) {
      const last = await inFlight(db, nc);
      calm = quiet(last) ? calm + 1 : 0;
      if (calm === 2) return { settled: true, tookMs: Date.now() - began, last };
      if (Date.now() - began > withinMs) return { settled: false, tookMs: Date.now() - began, last };
      await sleep(1_000);
    }
  } finally {
    await db.end();
  }
}
