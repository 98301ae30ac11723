/** Waiting until every receipt event has reached the staleness projection: outbox drained and consumer lag 0. */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { performance } from "node:perf_hooks";
import type pg from "pg";
import { streamName } from "@provenance/shared";
import { ProgressBar } from "./progress-bar.js";

/** The durable consumer that feeds the staleness projection (services/staleness PROJECTION_CONSUMER). */
export const PROJECTION_DURABLE = "staleness-receipt-projection";

/** Receipt events not yet relayed by the receipts outbox, plus those not yet acknowledged by the projection. */
export async function projectionBacklog(nc: NatsConnection, namespace: string, db: pg.Pool): Promise<{ outbox: number; lag: number }> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.consumers.info(streamName(namespace, "PROVENANCE"), PROJECTION_DURABLE);
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM receipts.outbox`);
  return { outbox: rows[0].n as number, lag: info.num_pending + info.num_ack_pending };
}

/** Polls until the outbox is drained and consumer lag is 0 twice in a row; returns the seconds it took. */
export async function waitForProjection(nc: NatsConnection, namespace: string, db: pg.Pool, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const first = await projectionBacklog(nc, namespace, db);
  const bar = new ProgressBar("projection catch-up", Math.max(1, first.outbox + first.lag));
  let zeroes = 0;
  let last = first.outbox + first.lag;
  for (;;) {
    const { outbox, lag } = await projectionBacklog(nc, namespace, db);
    const left = outbox + lag;
    if (last > left) bar.tick(last - left);
    last = left;
    zeroes = left === 0 ? zeroes + 1 : 0;
    if (zeroes >= 2) break;
    if (performance.now() - t0 > timeoutMs) throw new Error(`projection still ${left} events behind after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
  bar.done();
  return Math.round((performance.now() - t0) / 100) / 10;
}
