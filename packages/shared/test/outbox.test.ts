import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ReceiptCreatedSchema } from "../src/gen/provenance/v1/events_pb.js";
import {
  OutboxRelay,
  EVENT_REQUEST_ID_HEADER,
  connectNats,
  enqueueEvent,
  ensureStreams,
  streamConfig,
  streamName,
  subjectFor,
} from "../src/events/index.js";
import { withinBytes } from "../src/events/outbox-relay.js";
import { collectMessages, createTestNamespace } from "../src/testing/index.js";
import { SCHEMA, copyOutboxRows, eventually, restoreOutboxRows, startOutboxHarness, testLogger, type OutboxHarness } from "./outbox-harness.js";

const SUBJECT = "provenance.receipt.created";

describe("transactional outbox and relay", () => {
  let h: OutboxHarness;
  const relays: OutboxRelay[] = [];

  function relay(opts: { namespace?: string; batchSize?: number; maxBatchBytes?: number; pollIntervalMs?: number; gatherMs?: number } = {}): OutboxRelay {
    const r = new OutboxRelay({
      dataSource: h.ds,
      schema: SCHEMA,
      nc: h.nats.nc,
      namespace: opts.namespace ?? h.nats.namespace,
      logger: testLogger,
      batchSize: opts.batchSize,
      maxBatchBytes: opts.maxBatchBytes,
      pollIntervalMs: opts.pollIntervalMs,
      gatherMs: opts.gatherMs,
    });
    relays.push(r);
    return r;
  }

  async function enqueueMany(n: number, requestId = "req-1", promptBytes = 0): Promise<string[]> {
    return h.ds.transaction(async (m) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        ids.push(
          await enqueueEvent(m, {
            schema: SCHEMA,
            subject: SUBJECT,
            eventSchema: ReceiptCreatedSchema,
            event: { receipt: { receiptId: `r-${i}`, ...(promptBytes > 0 ? { promptText: "p".repeat(promptBytes) } : {}) } },
            requestId,
          }),
        );
      }
      return ids;
    });
  }

  const onStream = (atLeast?: number, timeoutMs?: number) =>
    collectMessages({ js: h.nats.js, jsm: h.nats.jsm, namespace: h.nats.namespace, stream: "PROVENANCE", subject: SUBJECT, atLeast, timeoutMs });

  beforeAll(async () => {
    h = await startOutboxHarness();
  });

  beforeEach(async () => {
    await h.nats.jsm.streams.purge(streamName(h.nats.namespace, "PROVENANCE"));
  });

  afterEach(async () => {
    for (const r of relays.splice(0)) await r.stop();
  });

  afterAll(async () => {
    await h?.close();
  });

  it("an idle relay, once woken, gathers the commits that follow for gatherMs and relays them in one batch", async () => {
    const r = relay({ gatherMs: 1000, pollIntervalMs: 60_000 });
    await r.start();
    const batches: number[] = [];
    const relayOnce = r.relayOnce.bind(r);
    r.relayOnce = async () => {
      const n = await relayOnce();
      if (n > 0) batches.push(n);
      return n;
    };
    // Five commits, each notifying on its own, well within the window.
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(...(await enqueueMany(1, `req-gather-${i}`)));
    const msgs = await onStream(5, 10_000);
    expect(msgs.map((m) => m.msgId).sort()).toEqual([...ids].sort());
    // The messages are on the stream before the batch that published them commits and returns its count.
    await eventually(() => batches.reduce((sum, n) => sum + n, 0) >= 5);
    expect(batches).toEqual([5]);
  });

  it("a relay stopped while gathering relays what woke it before it stops", async () => {
    const r = relay({ gatherMs: 60_000, pollIntervalMs: 60_000 });
    await r.start();
    // start() wakes it, so it is gathering (for a minute) when the rows commit and when it is stopped.
    const ids = await enqueueMany(2, "req-stop-gathering");
    await new Promise((resolve) => setTimeout(resolve, 100));
    await r.stop();
    expect((await h.sql.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.outbox`)).rows[0].n).toBe(0);
    const msgs = await onStream(2, 10_000);
    expect(msgs.map((m) => m.msgId).sort()).toEqual([...ids].sort());
  });

  it("names streams and subjects per namespace", () => {
    expect(streamName("", "PROVENANCE")).toBe("PROVENANCE");
    expect(streamName("tabc", "GENERATION")).toBe("TABC_GENERATION");
    expect(subjectFor("", SUBJECT)).toBe(SUBJECT);
    expect(subjectFor("tabc", SUBJECT)).toBe(`tabc.${SUBJECT}`);
  });

  it("says which NATS is unreachable", async () => {
    await expect(connectNats("nats://127.0.0.1:1", "test")).rejects.toThrow(/NATS at nats:\/\/127.0.0.1:1 is unreachable/);
  });

  it("creates streams idempotently, with a 2-minute duplicate window in nanoseconds", async () => {
    await ensureStreams(h.nats.nc, h.nats.namespace);
    await ensureStreams(h.nats.jsm, h.nats.namespace);
    const p = await h.nats.jsm.streams.info(streamName(h.nats.namespace, "PROVENANCE"));
    expect(p.config.subjects).toEqual([`${h.nats.namespace}.provenance.>`]);
    expect(p.config.retention).toBe("limits");
    expect(p.config.storage).toBe("file");
    expect(p.config.duplicate_window).toBe(120_000_000_000);
    const g = await h.nats.jsm.streams.info(streamName(h.nats.namespace, "GENERATION"));
    expect(g.config.retention).toBe("workqueue");
    expect(g.config.subjects).toEqual([`${h.nats.namespace}.generation.>`]);
  });

  it("publishes nothing for a rolled-back transaction", async () => {
    await expect(
      h.ds.transaction(async (m) => {
        await m.query(`INSERT INTO ${SCHEMA}.items (id, label) VALUES (1, 'x')`);
        await enqueueEvent(m, { schema: SCHEMA, subject: SUBJECT, eventSchema: ReceiptCreatedSchema, event: {} });
        throw new Error("rollback");
      }),
    ).rejects.toThrow("rollback");
    const r = relay();
    expect(await r.relayOnce()).toBe(0);
    expect(await r.backlog()).toBe(0);
    expect(await onStream()).toEqual([]);
  });

  it("never lets the service change an outbox row: written once, deleted once by the relay", async () => {
    const [id] = await enqueueMany(1);
    // The app role may lock rows (PostgreSQL asks UPDATE privilege for FOR UPDATE) but not change them.
    await expect(h.ds.query(`UPDATE ${SCHEMA}.outbox SET id = id WHERE id = $1`, [id])).rejects.toThrow(/never updated/);
    await expect(h.ds.query(`UPDATE ${SCHEMA}.outbox SET subject = 'x' WHERE id = $1`, [id])).rejects.toThrow(/permission denied/);
    const r = relay();
    expect(await r.relayOnce()).toBe(1);
    expect(await r.backlog()).toBe(0);
    expect((await onStream(1)).map((m) => m.msgId)).toContain(id);
  });

  it("relays N events as exactly N messages, Nats-Msg-Id = event id, woken by the commit's NOTIFY", async () => {
    const r = relay({ pollIntervalMs: 60_000 }); // polling off for the test: only NOTIFY can wake it
    await r.start();
    const ids = await enqueueMany(25, "req-42");
    const msgs = await onStream(25, 10_000);
    expect(msgs.map((m) => m.msgId)).toEqual(ids);
    for (const [i, m] of msgs.entries()) {
      const e = fromBinary(ReceiptCreatedSchema, m.data);
      expect(e.eventId).toBe(ids[i]);
      expect(e.requestId).toBe("req-42");
      expect(e.receipt?.receiptId).toBe(`r-${i}`);
      expect(Math.abs(timestampDate(e.occurredAt!).getTime() - Date.now())).toBeLessThan(10_000);
      expect(m.headers[EVENT_REQUEST_ID_HEADER]).toBe("req-42");
    }
    await eventually(async () => (await r.backlog()) === 0);

    // One more on its own: with polling off, only the NOTIFY of its commit can have woken the relay.
    const [id] = await enqueueMany(1);
    const after = await onStream(26, 10_000);
    expect(after.at(-1)?.msgId).toBe(id);
    await r.stop();
  });

  it("takes at most maxBatchBytes of payload a batch (at least one row), in order, and keeps draining what a cut left", async () => {
    // Twelve events of ~300 kB in one commit; a 1 MiB budget takes three a batch.
    const ids = await enqueueMany(12, "req-big", 300_000);
    const sizes = (await h.sql.query(`SELECT octet_length(payload)::int AS n FROM ${SCHEMA}.outbox ORDER BY seq`)).rows.map((r: { n: number }) => r.n);
    expect(sizes.every((n: number) => n > 300_000 && n < 310_000)).toBe(true);
    const r = relay({ maxBatchBytes: 1024 * 1024, pollIntervalMs: 60_000 });
    const batches: number[] = [];
    const relayOnce = r.relayOnce.bind(r);
    r.relayOnce = async () => {
      const n = await relayOnce();
      batches.push(n);
      return n;
    };
    // Polling off and the rows' NOTIFY long past: only start()'s wake and the cut batches' own wakes can drain them.
    await r.start();
    const msgs = await onStream(12, 10_000);
    expect(msgs.map((m) => m.msgId)).toEqual(ids);
    await eventually(async () => (await r.backlog()) === 0 && batches.reduce((sum, n) => sum + n, 0) >= 12);
    expect(batches.filter((n) => n > 0)).toEqual([3, 3, 3, 3]);
    await r.stop();

    // One event larger than the whole budget still goes, on its own.
    const [huge] = await enqueueMany(1, "req-huge", 600_000);
    const small = relay({ maxBatchBytes: 100_000 });
    expect(await small.relayOnce()).toBe(1);
    expect((await onStream(13, 10_000)).at(-1)?.msgId).toBe(huge);
    expect(await small.backlog()).toBe(0);
  });

  it("cuts a batch at the longest prefix within the byte budget", () => {
    const rows = [100, 200, 300, 400].map((size, i) => ({ id: `e${i}`, size }));
    expect(withinBytes(rows, 300)).toEqual(["e0", "e1"]);
    expect(withinBytes(rows, 299)).toEqual(["e0"]);
    expect(withinBytes(rows, 50)).toEqual(["e0"]);
    expect(withinBytes(rows, 1000)).toEqual(["e0", "e1", "e2", "e3"]);
    expect(withinBytes([], 10)).toEqual([]);
  });

  it("re-publishes after a crash between publish and delete without doubling a message", async () => {
    const ids = await enqueueMany(30);
    const relayed = await copyOutboxRows(h.sql, ids.slice(0, 20));
    const r = relay({ batchSize: 10 });
    expect(await r.relayOnce()).toBe(10);
    expect(await r.relayOnce()).toBe(10);
    // Relayed rows are gone from the outbox: JetStream has them.
    expect(await r.backlog()).toBe(10);
    const left = await h.sql.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE id = ANY($1::uuid[])`, [ids.slice(0, 20)]);
    expect(left.rows[0].n).toBe(0);
    // The crash: these were published but their deletes were lost.
    await restoreOutboxRows(h.sql, relayed);
    expect(await r.backlog()).toBe(30);
    await r.start();
    await eventually(async () => (await r.backlog()) === 0);
    await r.stop();
    const msgs = await onStream(30);
    expect(msgs).toHaveLength(30);
    expect(new Set(msgs.map((m) => m.msgId))).toEqual(new Set(ids));
  });

  it("relays again after being stopped and started", async () => {
    const r = relay();
    await r.start();
    await r.stop();
    await r.start();
    const [id] = await enqueueMany(1);
    const msgs = await onStream(1);
    expect(msgs.map((m) => m.msgId)).toEqual([id]);
  });

  it("lets two relays drain one outbox without racing", async () => {
    const ids = await enqueueMany(200);
    const a = relay({ batchSize: 7 });
    const b = relay({ batchSize: 7 });
    await Promise.all([a.start(), b.start()]);
    await eventually(async () => (await a.backlog()) === 0);
    await Promise.all([a.stop(), b.stop()]);
    const msgs = await onStream(200);
    expect(msgs).toHaveLength(200);
    expect(new Set(msgs.map((m) => m.msgId))).toEqual(new Set(ids));
  });

  it("keeps events while JetStream cannot take them, and delivers them once it can", async () => {
    const ns = createTestNamespace(); // its streams do not exist yet: every publish fails
    const r = relay({ namespace: ns, pollIntervalMs: 50 });
    const ids = await enqueueMany(5);
    await expect(r.relayOnce()).rejects.toThrow();
    expect(await r.backlog()).toBe(5);
    await r.start();
    await new Promise((res) => setTimeout(res, 300));
    expect(await r.backlog()).toBe(5);
    try {
      await ensureStreams(h.nats.jsm, ns);
      await eventually(async () => (await r.backlog()) === 0, 10_000);
      const msgs = await collectMessages({ js: h.nats.js, jsm: h.nats.jsm, namespace: ns, stream: "PROVENANCE", atLeast: 5 });
      expect(msgs.map((m) => m.msgId)).toEqual(ids);
    } finally {
      await r.stop();
      await h.nats.jsm.streams.delete(streamName(ns, "PROVENANCE")).catch(() => undefined);
      await h.nats.jsm.streams.delete(streamName(ns, "GENERATION")).catch(() => undefined);
    }
  });

  describe("after an outage longer than the duplicate window", () => {
    // Streams of their own with a 2 s duplicate window, so "longer than the window" takes seconds, not minutes.
    const WINDOW_MS = 2_000;
    let ns: string;

    beforeAll(async () => {
      ns = createTestNamespace();
      for (const kind of ["PROVENANCE", "GENERATION"] as const) {
        await h.nats.jsm.streams.add({ ...streamConfig(ns, kind), duplicate_window: WINDOW_MS * 1_000_000 });
      }
    });

    afterAll(async () => {
      for (const kind of ["PROVENANCE", "GENERATION"] as const) await h.nats.jsm.streams.delete(streamName(ns, kind)).catch(() => undefined);
    });

    beforeEach(async () => {
      await h.nats.jsm.streams.purge(streamName(ns, "PROVENANCE"));
      await h.sql.query(`DELETE FROM ${SCHEMA}.outbox_attempts`);
    });

    const onOwnStream = (atLeast?: number) =>
      collectMessages({ js: h.nats.js, jsm: h.nats.jsm, namespace: ns, stream: "PROVENANCE", subject: SUBJECT, atLeast, timeoutMs: 3_000 });

    /** Relays `n` events, then puts them back as a relay that crashed before its delete committed leaves them. */
    async function relayThenCrash(n: number, withAttemptRecord: boolean): Promise<string[]> {
      const ids = await enqueueMany(n);
      const rows = await copyOutboxRows(h.sql, ids);
      const r = relay({ namespace: ns, batchSize: n });
      expect(await r.relayOnce()).toBe(n);
      expect(await r.backlog()).toBe(0);
      // The relay cleans its attempt records up with its delete; a crash would have left them.
      expect((await h.sql.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.outbox_attempts`)).rows[0].n).toBe(0);
      await restoreOutboxRows(h.sql, rows);
      if (withAttemptRecord) {
        await h.sql.query(`INSERT INTO ${SCHEMA}.outbox_attempts (first_seq, last_seq, attempted_at) VALUES ($1, $2, now())`, [rows[0]!.seq, rows.at(-1)!.seq]);
      }
      await new Promise((res) => setTimeout(res, WINDOW_MS + 500)); // JetStream has forgotten the ids
      return ids;
    }

    it("finds what it had published on the stream and deletes it instead of publishing it again", async () => {
      const ids = await relayThenCrash(20, true);
      const r = relay({ namespace: ns });
      expect(await r.relayOnce()).toBe(20);
      expect(await r.backlog()).toBe(0);
      const msgs = await onOwnStream(20);
      expect(msgs).toHaveLength(20);
      expect(msgs.map((m) => m.msgId)).toEqual(ids);
      expect((await h.sql.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.outbox_attempts`)).rows[0].n).toBe(0);
    });

    it("(the setup is real: without the attempt record the same rows would be published twice)", async () => {
      const ids = await relayThenCrash(5, false);
      const r = relay({ namespace: ns });
      expect(await r.relayOnce()).toBe(5);
      const msgs = await onOwnStream(10);
      expect(msgs.map((m) => m.msgId)).toEqual([...ids, ...ids]);
    });

    it("publishes once what an attempt recorded but never published, and mixes both in one batch", async () => {
      const published = await relayThenCrash(3, true);
      // Rows the crashed relay had claimed and recorded but not yet published.
      const unpublished = await enqueueMany(4);
      const seqs = (await copyOutboxRows(h.sql, unpublished)).map((row) => row.seq);
      await h.sql.query(`INSERT INTO ${SCHEMA}.outbox_attempts (first_seq, last_seq, attempted_at) VALUES ($1, $2, now() - interval '1 hour')`, [
        seqs[0],
        seqs.at(-1),
      ]);
      const r = relay({ namespace: ns });
      expect(await r.relayOnce()).toBe(7);
      const msgs = await onOwnStream(7);
      expect(msgs.map((m) => m.msgId)).toEqual([...published, ...unpublished]);
      expect(await r.backlog()).toBe(0);
    });
  });
});
