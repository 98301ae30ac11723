import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { EventConnection } from "./event-connection.js";
import { isInProcessBus } from "./in-process-bus.js";
import pg from "pg";
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import { quoteIdentifier } from "../db/sql-identifier.js";
import { outboxChannel } from "./enqueue-event.js";
import { subjectFor } from "./subjects.js";

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
  /** Poll interval behind LISTEN/NOTIFY, in ms (default 500). */
  pollIntervalMs?: number;
  /** How long to wait for JetStream's ack of one publish, in ms (default 5000). */
  publishTimeoutMs?: number;
}

interface OutboxRow {
  id: string;
  subject: string;
  payload: Buffer;
  headers: Record<string, string> | null;
}

const MAX_BACKOFF_MS = 5_000;
const LISTENER_RETRY_MS = 1_000;

/**
 * Relays committed outbox rows to JetStream, in `seq` order, with the event id as Nats-Msg-Id:
 * woken by NOTIFY `<schema>_outbox` and by a poll. Rows are claimed with FOR UPDATE SKIP LOCKED
 * (replicas never race) and deleted only after JetStream acked them (the stream now holds the event);
 * a crash in between re-publishes the same id, which JetStream drops as a duplicate. When NATS is
 * down it backs off.
 */
export class OutboxRelay {
  private readonly js: JetStreamClient | undefined;
  private readonly table: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly publishTimeoutMs: number;
  private readonly log: Logger;
  private listener: pg.Client | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private listenerTimer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private wakeRequested = false;
  private stopped = true;
  private failures = 0;

  /** Prepares a relay; nothing runs until start(). */
  constructor(private readonly opts: OutboxRelayOptions) {
    this.js = isInProcessBus(opts.nc) ? undefined : jetstream(opts.nc);
    this.table = `${quoteIdentifier(opts.schema)}.outbox`;
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 500;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 5_000;
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

  /** Stops waking, waits for the batch in flight, and closes the LISTEN connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.listenerTimer);
    this.pollTimer = this.retryTimer = this.listenerTimer = undefined;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.draining;
    this.log.info("outbox relay stopped");
  }

  /** Publishes one batch of waiting rows and deletes them; returns how many were published (for tests). */
  async relayOnce(): Promise<number> {
    let failure: unknown;
    const published = await this.opts.dataSource.transaction(async (m) => {
      const rows: OutboxRow[] = await m.query(
        `SELECT id, subject, payload, headers FROM ${this.table} ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      );
      if (rows.length === 0) return 0;
      // Pipelined on one connection, so the stream keeps the outbox order.
      const results = await Promise.allSettled(rows.map((row) => this.publish(row)));
      const done = rows.filter((_, i) => results[i]!.status === "fulfilled").map((row) => row.id);
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      failure = rejected?.reason;
      if (done.length > 0) {
        await m.query(`DELETE FROM ${this.table} WHERE id = ANY($1::uuid[])`, [done]);
      }
      return done.length;
    });
    // Thrown after the commit, so what did get published stays deleted.
    if (failure !== undefined) throw failure;
    return published;
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
    if (this.draining || this.retryTimer) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.wakeRequested && !this.stopped) {
      this.wakeRequested = false;
      try {
        const n = await this.relayOnce();
        if (this.failures > 0) this.log.info({ published: n }, "outbox relay recovered");
        this.failures = 0;
        // A full batch means more may be waiting.
        if (n === this.batchSize) this.wakeRequested = true;
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
