import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { EventConnection } from "./event-connection.js";
import { isInProcessBus } from "./in-process-bus.js";
import pg from "pg";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import { quoteIdentifier } from "../db/sql-identifier.js";
import { outboxChannel } from "./enqueue-event.js";
import { DUPLICATE_WINDOW_MS } from "./streams.js";
import { streamName, streamOf, subjectFor } from "./subjects.js";

/** What an OutboxRelay needs: the schema's database, and where to publish. */
export interface OutboxRelayOptions {
  dataSource: DataSource;
  /** The schema whose `outbox` table is relayed. */
  schema: string;
  /** NATS, or the in-process bus. */
  nc: EventConnection;
  /** Subject namespace ("" in production). */
  namespace: string;
  logger: Logger;
  /** Rows taken per transaction, published pipelined (default 500). */
  batchSize?: number;
  /**
   * Most payload bytes taken per transaction (default {@link DEFAULT_MAX_BATCH_BYTES}); a batch always takes at least
   * one row. What bounds the relay's memory when events are large: the driver holds a whole result, each bytea as
   * hex text twice its size, before the first publish.
   */
  maxBatchBytes?: number;
  /** Poll interval behind LISTEN/NOTIFY, in ms (default 500). */
  pollIntervalMs?: number;
  /** How long to wait for JetStream's ack of one publish, in ms (default 5000). */
  publishTimeoutMs?: number;
  /**
   * How long an idle relay, once woken, waits for more rows before it takes a batch, in ms (default 10; 0: none).
   * Single calls commit one or two events each: gathered, they are relayed several per transaction instead of one.
   */
  gatherMs?: number;
}

interface OutboxRow {
  id: string;
  seq: string;
  subject: string;
  payload: Buffer;
  headers: Record<string, string> | null;
}

/** An earlier relay's record that it was about to publish the rows of a seq range (outbox_attempts). */
interface AttemptRow {
  first_seq: string;
  last_seq: string;
  attempted_at: Date;
  now: Date;
}

/**
 * How much of JetStream's duplicate window the relay relies on: a row first attempted longer ago than the window
 * minus this margin (clock skew between PostgreSQL and NATS, a slow publish) is looked up on the stream before it is
 * published again.
 */
const WINDOW_MARGIN_MS = 30_000;
/** How far before the earliest attempt the stream is searched (clock skew between PostgreSQL and NATS). */
const SEARCH_SKEW_MS = 10_000;

const MAX_BACKOFF_MS = 5_000;
/**
 * The default {@link OutboxRelayOptions.maxBatchBytes}: 4 MiB. A batch of 500 receipt events is ~1.5 MB; 500 of the
 * staleness detector's events (up to a few hundred kB each) read at once were ~100 MB of hex text in the heap.
 */
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;
const LISTENER_RETRY_MS = 1_000;

/** The ids of the longest prefix of `claimed` whose payloads fit in `maxBytes`; at least the first. */
export function withinBytes(claimed: readonly { id: string; size: number }[], maxBytes: number): string[] {
  const out: string[] = [];
  let bytes = 0;
  for (const row of claimed) {
    bytes += Number(row.size);
    if (out.length > 0 && bytes > maxBytes) break;
    out.push(row.id);
  }
  return out;
}

/**
 * Relays committed outbox rows to JetStream, in `seq` order, with the event id as Nats-Msg-Id:
 * woken by NOTIFY `<schema>_outbox` and by a poll. Rows are claimed with FOR UPDATE SKIP LOCKED
 * (replicas never race) and deleted only after JetStream acked them (the stream now holds the event).
 * A crash in between leaves them to be published again: within the stream's duplicate window JetStream
 * drops the repeated id; after it (a long outage), the relay knows from `outbox_attempts` that they may
 * have been published and first looks for their ids on the stream, deleting what it finds instead of
 * publishing it twice. When NATS is down it backs off.
 */
export class OutboxRelay {
  private readonly js: JetStreamClient | undefined;
  private readonly table: string;
  private readonly attempts: string;
  private duplicateWindow: Promise<number> | undefined;
  private readonly batchSize: number;
  private readonly maxBatchBytes: number;
  /** The last batch left rows behind (it was full, or cut at maxBatchBytes): more may be waiting. */
  private leftRows = false;
  private readonly pollIntervalMs: number;
  private readonly publishTimeoutMs: number;
  private readonly gatherMs: number;
  private readonly log: Logger;
  private listener: pg.Client | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private listenerTimer: NodeJS.Timeout | undefined;
  private gatherTimer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private wakeRequested = false;
  private stopped = true;
  private failures = 0;

  /** Prepares a relay; nothing runs until start(). */
  constructor(private readonly opts: OutboxRelayOptions) {
    this.js = isInProcessBus(opts.nc) ? undefined : jetstream(opts.nc);
    this.table = `${quoteIdentifier(opts.schema)}.outbox`;
    this.attempts = `${quoteIdentifier(opts.schema)}.outbox_attempts`;
    this.batchSize = opts.batchSize ?? 500;
    this.maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.pollIntervalMs = opts.pollIntervalMs ?? 500;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 5_000;
    this.gatherMs = opts.gatherMs ?? 10;
    this.log = opts.logger.child({ component: "outbox-relay", schema: opts.schema });
  }

  /** Starts listening and polling, and relays whatever is already waiting. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await this.listen().catch((err: unknown) => {
      this.log.warn({ err }, "outbox LISTEN failed; relying on polling until it reconnects");
      this.scheduleListen();
    });
    this.pollTimer = setInterval(() => this.wake(), this.pollIntervalMs);
    this.wake();
    this.log.info({ channel: outboxChannel(this.opts.schema) }, "outbox relay started");
  }

  /** Stops waking, waits for the batch in flight (or relays one batch if it was woken and gathering), and closes the LISTEN connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.listenerTimer);
    clearTimeout(this.gatherTimer);
    const gathering = this.gatherTimer !== undefined;
    this.pollTimer = this.retryTimer = this.listenerTimer = this.gatherTimer = undefined;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.draining;
    // Woken and still gathering: what woke it is relayed now rather than left to the next start.
    if (gathering) {
      await this.relayOnce().catch((err: unknown) => this.log.warn({ err }, "outbox relay: the last batch before stopping failed; it stays queued"));
    }
    this.log.info("outbox relay stopped");
  }

  /** Publishes one batch of waiting rows and deletes them; returns how many were relayed (for tests). */
  async relayOnce(): Promise<number> {
    let failure: unknown;
    const published = await this.opts.dataSource.transaction(async (m) => {
      // Claimed by size first, read in full up to the byte budget: the rows past it stay locked to this batch
      // (other replicas skip them) and are taken by the next one, so the stream keeps the outbox order.
      const claimed: { id: string; size: number }[] = await m.query(
        `SELECT o.id, octet_length(o.payload) AS size FROM ${this.table} o ORDER BY o.seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      );
      this.leftRows = false;
      if (claimed.length === 0) return 0;
      const taken = withinBytes(claimed, this.maxBatchBytes);
      this.leftRows = taken.length < claimed.length || claimed.length === this.batchSize;
      const rows: OutboxRow[] = await m.query(
        `SELECT o.id, o.seq::text AS seq, o.subject, o.payload, o.headers FROM ${this.table} o WHERE o.id = ANY($1::uuid[]) ORDER BY o.seq`,
        [taken],
      );
      if (rows.length === 0) return 0;
      const first = rows[0]!.seq;
      const last = rows.at(-1)!.seq;
      const onStream = await this.alreadyOnStream(m, rows, first, last);
      const pending = rows.filter((row) => !onStream.has(row.id));
      // Committed before anything is published, so a crash after the publish leaves a trace (see the class comment).
      if (pending.length > 0 && this.js) {
        await this.opts.dataSource.query(`INSERT INTO ${this.attempts} (first_seq, last_seq) VALUES ($1, $2)`, [first, last]);
      }
      // Pipelined on one connection, so the stream keeps the outbox order.
      const results = await Promise.allSettled(pending.map((row) => this.publish(row)));
      const done = [...onStream, ...pending.filter((_, i) => results[i]!.status === "fulfilled").map((row) => row.id)];
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      failure = rejected?.reason;
      if (this.js) {
        // One statement: the rows relayed go, and with them the attempt records whose rows are then all gone (the
        // rows this statement deletes are still in its snapshot, so they are left out by id).
        await m.query(
          `WITH relayed AS (DELETE FROM ${this.table} WHERE id = ANY($1::uuid[]))
           DELETE FROM ${this.attempts} a
            WHERE a.first_seq <= $2
              AND NOT EXISTS (SELECT 1 FROM ${this.table} o WHERE o.seq BETWEEN a.first_seq AND a.last_seq AND o.id <> ALL($1::uuid[]))`,
          [done, last],
        );
      } else if (done.length > 0) {
        await m.query(`DELETE FROM ${this.table} WHERE id = ANY($1::uuid[])`, [done]);
      }
      return done.length;
    });
    // Thrown after the commit, so what did get published stays deleted.
    if (failure !== undefined) throw failure;
    return published;
  }

  /**
   * The ids among `rows` that are on the stream already: only rows that an earlier relay was about to publish longer
   * ago than the duplicate window can trust are looked up (by reading the stream from just before that attempt,
   * headers only); every other row is left to JetStream's de-duplication.
   */
  private async alreadyOnStream(
    m: { query(sql: string, params?: unknown[]): Promise<unknown> },
    rows: OutboxRow[],
    first: string,
    last: string,
  ): Promise<Set<string>> {
    if (!this.js) return new Set();
    const attempts = (await m.query(
      `SELECT first_seq::text AS first_seq, last_seq::text AS last_seq, attempted_at, now() AS now
         FROM ${this.attempts} WHERE first_seq <= $2 AND last_seq >= $1`,
      [first, last],
    )) as AttemptRow[];
    if (attempts.length === 0) return new Set();
    const trustMs = Math.max(0, (await this.duplicateWindowMs()) - WINDOW_MARGIN_MS);
    const earliest = new Map<string, Date>();
    for (const row of rows) {
      const seq = BigInt(row.seq);
      for (const a of attempts) {
        if (seq < BigInt(a.first_seq) || seq > BigInt(a.last_seq)) continue;
        if (a.now.getTime() - a.attempted_at.getTime() <= trustMs) continue;
        const seen = earliest.get(row.id);
        if (!seen || a.attempted_at < seen) earliest.set(row.id, a.attempted_at);
      }
    }
    if (earliest.size === 0) return new Set();
    const since = new Date(Math.min(...[...earliest.values()].map((d) => d.getTime())) - SEARCH_SKEW_MS);
    const suspects = rows.filter((row) => earliest.has(row.id));
    const found = new Set<string>();
    for (const subject of new Set(suspects.map((row) => row.subject))) {
      const wanted = new Set(suspects.filter((row) => row.subject === subject).map((row) => row.id));
      for (const id of await this.idsOnStream(subject, since, wanted)) found.add(id);
    }
    this.log.warn(
      { uncertain: suspects.length, alreadyOnStream: found.size, since },
      "relaying rows first attempted longer ago than the duplicate window: looked them up on the stream",
    );
    return found;
  }

  /** Which of `wanted` (event ids) were published on `subject` since `since`, reading the stream headers only. */
  private async idsOnStream(subject: string, since: Date, wanted: Set<string>): Promise<Set<string>> {
    const js = this.js!;
    const found = new Set<string>();
    const consumer = await js.consumers.get(streamName(this.opts.namespace, streamOf(subject)), {
      filter_subjects: subjectFor(this.opts.namespace, subject),
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: since.toISOString(),
      headers_only: true,
    });
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2_000 });
      let received = 0;
      let caughtUp = false;
      for await (const msg of batch) {
        received++;
        const id = msg.headers?.get("Nats-Msg-Id");
        if (id && wanted.has(id)) found.add(id);
        if (msg.info.pending === 0) {
          caughtUp = true;
          break;
        }
      }
      if (caughtUp || received === 0 || found.size === wanted.size) break;
    }
    await consumer.delete().catch(() => undefined);
    return found;
  }

  /** The duplicate window of this relay's streams, from the PROVENANCE stream's configuration (cached). */
  private duplicateWindowMs(): Promise<number> {
    this.duplicateWindow ??= (async () => {
      try {
        const jsm = await jetstreamManager(this.opts.nc as never);
        const info = await jsm.streams.info(streamName(this.opts.namespace, "PROVENANCE"));
        return Math.round(Number(info.config.duplicate_window ?? 0) / 1e6) || DUPLICATE_WINDOW_MS;
      } catch (err) {
        this.duplicateWindow = undefined;
        this.log.debug({ err }, "could not read the stream's duplicate window; assuming the default");
        return DUPLICATE_WINDOW_MS;
      }
    })();
    return this.duplicateWindow;
  }

  /** How many outbox rows are not yet published. */
  async backlog(): Promise<number> {
    const [row] = (await this.opts.dataSource.query(`SELECT count(*)::int AS n FROM ${this.table}`)) as {
      n: number;
    }[];
    return row?.n ?? 0;
  }

  private async publish(row: OutboxRow): Promise<void> {
    const subject = subjectFor(this.opts.namespace, row.subject);
    if (isInProcessBus(this.opts.nc)) {
      const headers = Object.fromEntries(Object.entries(row.headers ?? {}).map(([k, v]) => [k, String(v)]));
      this.opts.nc.publish(subject, row.payload, { msgID: row.id, headers });
      return;
    }
    const h = natsHeaders();
    for (const [k, v] of Object.entries(row.headers ?? {})) h.set(k, String(v));
    const ack = await this.js!.publish(subject, row.payload, {
      msgID: row.id,
      headers: h,
      timeout: this.publishTimeoutMs,
    });
    if (ack.duplicate) this.log.debug({ eventId: row.id, seq: ack.seq }, "event was already on the stream");
  }

  private wake(): void {
    if (this.stopped) return;
    this.wakeRequested = true;
    if (this.draining || this.retryTimer || this.gatherTimer) return;
    const startDraining = () => {
      this.gatherTimer = undefined;
      if (this.stopped || this.draining) return;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
      });
    };
    // A relay already draining takes what arrives meanwhile in its next batch; an idle one gathers first.
    if (this.gatherMs > 0) this.gatherTimer = setTimeout(startDraining, this.gatherMs);
    else startDraining();
  }

  private async drain(): Promise<void> {
    while (this.wakeRequested && !this.stopped) {
      this.wakeRequested = false;
      try {
        const n = await this.relayOnce();
        if (this.failures > 0) this.log.info({ published: n }, "outbox relay recovered");
        this.failures = 0;
        // A full batch, or one cut at its byte budget, means more may be waiting.
        if (this.leftRows) this.wakeRequested = true;
      } catch (err) {
        this.failures += 1;
        const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** (this.failures - 1));
        this.log.warn({ err, attempt: this.failures, retryInMs: delay }, "outbox relay failed; retrying");
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.wake();
        }, delay);
        return;
      }
    }
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(listenerConfig(this.opts.dataSource));
    client.on("notification", () => this.wake());
    client.on("error", (err) => {
      this.log.warn({ err }, "outbox LISTEN connection failed; reconnecting");
      if (this.listener === client) {
        this.listener = undefined;
        client.end().catch(() => undefined);
        this.scheduleListen();
      }
    });
    await client.connect();
    try {
      await client.query(`LISTEN ${quoteIdentifier(outboxChannel(this.opts.schema))}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
  }

  private scheduleListen(): void {
    if (this.stopped || this.listenerTimer) return;
    this.listenerTimer = setTimeout(() => {
      this.listenerTimer = undefined;
      if (this.stopped) return;
      this.listen().then(
        // Anything committed while we were deaf.
        () => this.wake(),
        (err: unknown) => {
          this.log.warn({ err }, "outbox LISTEN reconnect failed");
          this.scheduleListen();
        },
      );
    }, LISTENER_RETRY_MS);
  }
}

/** The pg connection settings of a TypeORM postgres DataSource, for a dedicated connection. */
function listenerConfig(ds: DataSource): pg.ClientConfig {
  const o = ds.options as {
    url?: string;
    host?: string;
    port?: number;
    username?: string;
    password?: string | (() => string | Promise<string>);
    database?: string;
    ssl?: pg.ClientConfig["ssl"];
  };
  return {
    connectionString: o.url,
    host: o.host,
    port: o.port,
    user: o.username,
    password: o.password,
    database: o.database,
    ssl: o.ssl,
    application_name: "outbox-relay",
  };
}
