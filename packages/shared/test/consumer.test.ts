import { currentRequestId, runWithRequestId } from "../src/logging/request-context.js";
import { create, toBinary } from "@bufbuild/protobuf";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { ReceiptCreatedSchema, type ReceiptCreated } from "../src/gen/provenance/v1/events_pb.js";
import {
  OutboxRelay,
  enqueueEvent,
  markProcessed,
  subjectFor,
  type ConsumedEvent,
  type ConsumerOptions,
} from "../src/events/index.js";
import { CREATED, useConsumerFixture } from "./consumer-fixture.js";
import { SCHEMA, eventually, testLogger } from "./outbox-harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("durable consumers", () => {
  const f = useConsumerFixture("d");
  const consume = (opts: Partial<ConsumerOptions> & Pick<ConsumerOptions, "handle">) => f.consume(opts);

  async function publish(subject: string, count: number, prefix = "e"): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `${prefix}-${f.durableSeq}-${i}`;
      const hdrs = natsHeaders();
      hdrs.set("X-Request-Id", `req-${i}`);
      const data = toBinary(ReceiptCreatedSchema, create(ReceiptCreatedSchema, { eventId: id, receipt: { receiptId: `r-${i}` } }));
      await f.h.nats.js.publish(subjectFor(f.h.nats.namespace, subject), data, { msgID: id, headers: hdrs });
      ids.push(id);
    }
    return ids;
  }

  it("acks what the handler accepted, once each, decoding per subject", async () => {
    const seen: ConsumedEvent[] = [];
    const c = await consume({
      eventSchema: { [CREATED]: ReceiptCreatedSchema },
      handle: async (m) => {
        seen.push(m);
      },
    });
    const ids = await publish(CREATED, 5);
    await eventually(() => seen.length === 5);
    await eventually(async () => (await c.lag()) === 0);
    await sleep(150);
    expect(seen.map((m) => m.eventId).sort()).toEqual([...ids].sort());
    for (const m of seen) {
      expect(m.subject).toBe(CREATED);
      expect(m.redeliveryCount).toBe(0);
      expect(m.headers["X-Request-Id"]).toMatch(/^req-\d$/);
      expect((m.event as ReceiptCreated).eventId).toBe(m.eventId);
    }
  });

  it("redelivers after the handler throws, with a redelivery count", async () => {
    const attempts = new Map<string, number[]>();
    const c = await consume({
      handle: async (m) => {
        attempts.set(m.eventId, [...(attempts.get(m.eventId) ?? []), m.redeliveryCount]);
        if (m.redeliveryCount < 2) throw new Error("not yet");
      },
    });
    const [id] = await publish(CREATED, 1);
    await eventually(() => (attempts.get(id!)?.length ?? 0) === 3);
    await eventually(async () => (await c.lag()) === 0);
    await sleep(100);
    expect(attempts.get(id!)).toEqual([0, 1, 2]);
  });

  it("gives up after maxDeliver deliveries", async () => {
    let calls = 0;
    const c = await consume({
      maxDeliver: 3,
      handle: async () => {
        calls += 1;
        throw new Error("always");
      },
    });
    await publish(CREATED, 1);
    await eventually(() => calls === 3);
    await eventually(async () => (await c.lag()) === 0);
    await sleep(200);
    expect(calls).toBe(3);
  });

  it("terminates an event that cannot be decoded instead of retrying it", async () => {
    let calls = 0;
    const c = await consume({
      eventSchema: { [CREATED]: ReceiptCreatedSchema },
      handle: async () => {
        calls += 1;
      },
    });
    await f.h.nats.js.publish(subjectFor(f.h.nats.namespace, CREATED), new Uint8Array([0xff, 0xff, 0xff]), { msgID: "garbage" });
    await publish(CREATED, 1, "ok");
    await eventually(async () => (await c.lag()) === 0);
    await sleep(100);
    expect(calls).toBe(1);
  });

  it("never runs more than `concurrency` handlers at once", async () => {
    let now = 0;
    let peak = 0;
    let done = 0;
    await consume({
      concurrency: 3,
      handle: async () => {
        now += 1;
        peak = Math.max(peak, now);
        await sleep(30);
        now -= 1;
        done += 1;
      },
    });
    await publish(CREATED, 20);
    await eventually(() => done === 20, 10_000);
    expect(peak).toBe(3);
  });

  it("resumes a durable after stop and start without reprocessing what was acked", async () => {
    const seen: string[] = [];
    const handle = async (m: ConsumedEvent) => {
      seen.push(m.eventId);
    };
    const first = await consume({ handle });
    const before = await publish(CREATED, 10, "a");
    await eventually(() => seen.length === 10);
    await eventually(async () => (await first.lag()) === 0);
    await first.stop();
    const after = await publish(CREATED, 5, "b");
    await consume({ handle });
    await eventually(() => seen.length === 15);
    await sleep(150);
    expect(seen.slice(0, 10).sort()).toEqual([...before].sort());
    expect(seen.slice(10).sort()).toEqual([...after].sort());
  });

  it("takes only its filter subjects, several at once", async () => {
    const seen: string[] = [];
    const c = await consume({
      filterSubjects: [CREATED, "provenance.asset.>"],
      handle: async (m) => {
        seen.push(m.subject);
      },
    });
    await publish(CREATED, 2, "c");
    await publish("provenance.asset.version.published", 1, "v");
    await publish("provenance.staleness.detected.p1", 3, "s");
    await eventually(async () => (await c.lag()) === 0);
    await eventually(() => seen.length === 3);
    await sleep(100);
    expect(seen.sort()).toEqual(["provenance.asset.version.published", CREATED, CREATED]);
  });

  it("carries an event from the outbox to a handler that applies it exactly once", async () => {
    const relay = new OutboxRelay({ dataSource: f.h.ds, schema: SCHEMA, nc: f.h.nats.nc, namespace: f.h.nats.namespace, logger: testLogger });
    await relay.start();
    const applied: string[] = [];
    let firstAttempt = true;
    try {
      await consume({
        eventSchema: { [CREATED]: ReceiptCreatedSchema },
        handle: async (m) => {
          await f.h.ds.transaction(async (tx) => {
            if (!(await markProcessed(tx, SCHEMA, "projector", m.eventId))) return;
            applied.push((m.event as ReceiptCreated).receipt!.receiptId);
            // The effect commits but the ack is lost: the redelivery must be a no-op.
          });
          if (firstAttempt) {
            firstAttempt = false;
            throw new Error("crash after commit, before ack");
          }
        },
      });
      await f.h.ds.transaction((tx) =>
        enqueueEvent(tx, { schema: SCHEMA, subject: CREATED, eventSchema: ReceiptCreatedSchema, event: { receipt: { receiptId: "r-x" } } }),
      );
      await eventually(() => applied.length === 1);
      await sleep(200);
      expect(applied).toEqual(["r-x"]);
      expect(firstAttempt).toBe(false);
    } finally {
      await relay.stop();
    }
  });

  it("runs each handler under the event's request id, so its logs and its own events carry it", async () => {
    const relay = new OutboxRelay({ dataSource: f.h.ds, schema: SCHEMA, nc: f.h.nats.nc, namespace: f.h.nats.namespace, logger: testLogger });
    await relay.start();
    const seen: (string | undefined)[] = [];
    try {
      await consume({
        eventSchema: { [CREATED]: ReceiptCreatedSchema },
        handle: async () => {
          seen.push(currentRequestId());
        },
      });
      // The row as committed (the relay deletes it once published).
      const row = await runWithRequestId("req-42", () =>
        f.h.ds.transaction(async (tx) => {
          await enqueueEvent(tx, { schema: SCHEMA, subject: CREATED, eventSchema: ReceiptCreatedSchema, event: { receipt: { receiptId: "r-rid" } } });
          const [r] = await tx.query(`SELECT headers FROM ${SCHEMA}.outbox ORDER BY seq DESC LIMIT 1`);
          return r as { headers: Record<string, string> };
        }),
      );
      await eventually(() => seen.length === 1);
      expect(seen).toEqual(["req-42"]);
      expect(row.headers["X-Request-Id"]).toBe("req-42");
    } finally {
      await relay.stop();
    }
  });

  it("markProcessed says false for an event a consumer already processed", async () => {
    expect(await f.h.ds.transaction((tx) => markProcessed(tx, SCHEMA, "c1", "ev-1"))).toBe(true);
    expect(await f.h.ds.transaction((tx) => markProcessed(tx, SCHEMA, "c1", "ev-1"))).toBe(false);
    expect(await f.h.ds.transaction((tx) => markProcessed(tx, SCHEMA, "c2", "ev-1"))).toBe(true);
    await expect(
      f.h.ds.transaction(async (tx) => {
        expect(await markProcessed(tx, SCHEMA, "c1", "ev-2")).toBe(true);
        throw new Error("effect failed");
      }),
    ).rejects.toThrow("effect failed");
    // Rolled back with the effect: still unprocessed.
    expect(await f.h.ds.transaction((tx) => markProcessed(tx, SCHEMA, "c1", "ev-2"))).toBe(true);
  });
});
