import { create, toBinary } from "@bufbuild/protobuf";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { ReceiptCreatedSchema, type ReceiptCreated } from "../src/gen/provenance/v1/events_pb.js";
import {
  EVENT_REQUEST_ID_HEADER,
  InProcessBus,
  ensureStreams,
  markProcessedMany,
  startConsumer,
  subjectFor,
  type ConsumedEvent,
  type ConsumerOptions,
} from "../src/events/index.js";
import { currentRequestId } from "../src/logging/request-context.js";
import { CREATED, useConsumerFixture } from "./consumer-fixture.js";
import { SCHEMA, eventually, testLogger } from "./outbox-harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const encoded = (id: string) => toBinary(ReceiptCreatedSchema, create(ReceiptCreatedSchema, { eventId: id, receipt: { receiptId: `r-${id}` } }));

type BatchOptions = Partial<ConsumerOptions> & Pick<ConsumerOptions, "handleBatch">;

describe("batch consumers on JetStream", () => {
  const f = useConsumerFixture("b");
  const consume = (opts: BatchOptions) => f.consume({ eventSchema: { [CREATED]: ReceiptCreatedSchema }, ...opts });

  async function publish(count: number, prefix = "e"): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, i) => `${prefix}-${f.durableSeq}-${i}`);
    await Promise.all(
      ids.map((id) => {
        const hdrs = natsHeaders();
        hdrs.set(EVENT_REQUEST_ID_HEADER, `req-${id}`);
        return f.h.nats.js.publish(subjectFor(f.h.nats.namespace, CREATED), encoded(id), { msgID: id, headers: hdrs });
      }),
    );
    return ids;
  }

  it("delivers every event once, decoded, in batches of at most batchSize, and acks them all", async () => {
    const ids = await publish(1_200);
    const batches: ConsumedEvent[][] = [];
    const c = await consume({
      batchSize: 500,
      handleBatch: async (events) => {
        batches.push(events);
      },
    });
    await eventually(() => batches.flat().length >= 1_200, 20_000);
    await eventually(async () => (await c.lag()) === 0);
    await sleep(150);
    const seen = batches.flat();
    expect(seen.map((e) => e.eventId).sort()).toEqual([...ids].sort());
    expect(batches.every((b) => b.length >= 1 && b.length <= 500)).toBe(true);
    // A backlog is taken many at a time.
    expect(batches.length).toBeLessThan(1_200);
    for (const e of seen) {
      expect(e.redeliveryCount).toBe(0);
      expect((e.event as ReceiptCreated).eventId).toBe(e.eventId);
    }
  });

  it("applies a batch's effects once with markProcessedMany, even when its events are handled again after a lost ack", async () => {
    const applied: string[] = [];
    let loseFirstAck = true;
    const c = await consume({
      handleBatch: async (events) => {
        await f.h.ds.transaction(async (tx) => {
          const fresh = await markProcessedMany(
            tx,
            SCHEMA,
            `batch-${f.durableSeq}`,
            events.map((e) => e.eventId),
          );
          for (const e of events) if (fresh.has(e.eventId)) applied.push(e.eventId);
        });
        // The effects commit but the acks are lost: every event comes again (alone) and must change nothing.
        if (loseFirstAck) {
          loseFirstAck = false;
          throw new Error("crash after commit, before ack");
        }
      },
    });
    const ids = await publish(40);
    await eventually(async () => applied.length >= 40 && (await c.lag()) === 0);
    await sleep(100);
    expect([...applied].sort()).toEqual([...ids].sort());
  });

  it("isolates a poison event: the rest of its batch is acked, it is retried alone and terminated after maxDeliver", async () => {
    // Waiting before the consumer starts, and given time to gather, so that they arrive as one batch.
    const before = await publish(30, "good-a");
    await f.h.nats.js.publish(subjectFor(f.h.nats.namespace, CREATED), encoded("poison"), { msgID: "poison" });
    const after = await publish(30, "good-b");
    const done: string[] = [];
    const poisonAttempts: number[] = [];
    let poisonAmongOthers = false;
    const c = await consume({
      maxDeliver: 3,
      batchWaitMs: 300,
      handleBatch: async (events) => {
        const poison = events.find((e) => e.eventId.startsWith("poison"));
        if (poison) {
          if (events.length === 1) poisonAttempts.push(poison.redeliveryCount);
          else poisonAmongOthers = true;
          throw new Error("cannot apply this one");
        }
        done.push(...events.map((e) => e.eventId));
      },
    });
    await eventually(async () => (await c.lag()) === 0, 20_000);
    await sleep(150);
    // Each good event applied exactly once.
    expect([...done].sort()).toEqual([...before, ...after].sort());
    expect(poisonAmongOthers).toBe(true);
    // Tried alone on each of its three deliveries, then given up on.
    expect(poisonAttempts).toEqual([0, 1, 2]);
  });

  it("terminates an event that cannot be decoded without passing it on", async () => {
    const seen: string[] = [];
    const c = await consume({
      handleBatch: async (events) => {
        seen.push(...events.map((e) => e.eventId));
      },
    });
    const [first] = await publish(1, "ok-a");
    await f.h.nats.js.publish(subjectFor(f.h.nats.namespace, CREATED), new Uint8Array([0xff, 0xff, 0xff]), { msgID: `garbage-${f.durableSeq}` });
    const [last] = await publish(1, "ok-b");
    await eventually(async () => seen.length >= 2 && (await c.lag()) === 0);
    await sleep(100);
    expect(seen.sort()).toEqual([first, last].sort());
  });

  it("skips (acks, undecoded, unhandled) the events its skip predicate names by header, and handles the rest", async () => {
    const seen: string[] = [];
    const c = await consume({
      skip: (headers, subject) => subject === CREATED && headers["X-Kind"] === "other",
      handleBatch: async (events) => {
        seen.push(...events.map((e) => e.eventId));
      },
    });
    const send = (id: string, kind: string | undefined, data: Uint8Array) => {
      const hdrs = natsHeaders();
      if (kind) hdrs.set("X-Kind", kind);
      return f.h.nats.js.publish(subjectFor(f.h.nats.namespace, CREATED), data, { msgID: id, headers: hdrs });
    };
    const p = `skip-${f.durableSeq}`;
    // A skipped event is not even decoded: bytes that could not be decoded are acked all the same, not terminated.
    await send(`${p}-garbage`, "other", new Uint8Array([0xff, 0xff, 0xff]));
    await send(`${p}-other`, "other", encoded(`${p}-other`));
    await send(`${p}-mine`, "mine", encoded(`${p}-mine`));
    await send(`${p}-unmarked`, undefined, encoded(`${p}-unmarked`));
    await eventually(async () => seen.length >= 2 && (await c.lag()) === 0);
    await sleep(150);
    expect(seen.sort()).toEqual([`${p}-mine`, `${p}-unmarked`]);
    // Nothing is left for redelivery: the skipped events were acked.
    expect(await c.lag()).toBe(0);
  });

  it("runs a batch of several under no request id and a batch of one under its event's", async () => {
    const runs: { ids: string[]; requestId: string | undefined }[] = [];
    await publish(20, "rid");
    const c = await consume({
      handleBatch: async (events) => {
        runs.push({ ids: events.map((e) => e.eventId), requestId: currentRequestId() });
      },
    });
    await eventually(async () => runs.flatMap((r) => r.ids).length >= 20 && (await c.lag()) === 0);
    const [lone] = await publish(1, "lone");
    await eventually(() => runs.some((r) => r.ids.includes(lone!)));
    for (const r of runs) expect(r.requestId).toBe(r.ids.length === 1 ? `req-${r.ids[0]}` : undefined);
  });

  it("markProcessedMany returns the ids not processed before, each once, and rolls back with the effect", async () => {
    const mark = (ids: string[]) => f.h.ds.transaction((tx) => markProcessedMany(tx, SCHEMA, "many", ids));
    expect([...(await mark(["a", "b", "a"]))].sort()).toEqual(["a", "b"]);
    expect([...(await mark(["b", "c", "c", "d"]))].sort()).toEqual(["c", "d"]);
    expect(await mark([])).toEqual(new Set());
    await expect(
      f.h.ds.transaction(async (tx) => {
        expect([...(await markProcessedMany(tx, SCHEMA, "many", ["e", "a"]))]).toEqual(["e"]);
        throw new Error("effect failed");
      }),
    ).rejects.toThrow("effect failed");
    expect([...(await mark(["e"]))]).toEqual(["e"]);
  });

  it("refuses both handle and handleBatch, and neither", async () => {
    await expect(consume({ handle: async () => {}, handleBatch: async () => {} })).rejects.toThrow(/exactly one of handle and handleBatch/);
    await expect(consume({ handleBatch: undefined })).rejects.toThrow(/exactly one of handle and handleBatch/);
  });
});

describe("batch consumers on the in-process bus", () => {
  it("delivers in batches, acks, and isolates a poison event", async () => {
    const bus = new InProcessBus();
    await ensureStreams(bus, "ipb");
    const publish = (id: string) => bus.publish(subjectFor("ipb", CREATED), encoded(id), { msgID: id, headers: {} });
    for (let i = 0; i < 700; i++) publish(`m-${i}`);
    publish("poison");
    for (let i = 700; i < 1_000; i++) publish(`m-${i}`);

    const done: string[] = [];
    const sizes: number[] = [];
    let poisonTries = 0;
    let poisonAmongOthers = false;
    const c = await startConsumer({
      nc: bus,
      namespace: "ipb",
      stream: "PROVENANCE",
      durable: "batches",
      filterSubjects: [CREATED],
      eventSchema: { [CREATED]: ReceiptCreatedSchema },
      logger: testLogger,
      backoffMs: [5],
      maxDeliver: 2,
      batchSize: 300,
      handleBatch: async (events) => {
        sizes.push(events.length);
        if (events.some((e) => e.eventId === "poison")) {
          if (events.length === 1) poisonTries += 1;
          else poisonAmongOthers = true;
          throw new Error("poison");
        }
        done.push(...events.map((e) => (e.event as ReceiptCreated).eventId));
      },
    });
    try {
      await eventually(async () => done.length >= 1_000 && (await c.lag()) === 0, 20_000);
      await sleep(50);
      expect(new Set(done).size).toBe(1_000);
      expect(done).toHaveLength(1_000);
      expect(poisonAmongOthers).toBe(true);
      expect(poisonTries).toBe(2);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(300);
      expect(sizes.some((n) => n > 1)).toBe(true);
    } finally {
      await c.stop();
    }
  });
});
