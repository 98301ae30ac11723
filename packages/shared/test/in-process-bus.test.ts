import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptCreatedSchema } from "../src/index.js";
import { OutboxRelay, enqueueEvent, ensureStreams, markProcessed, startConsumer } from "../src/events/index.js";
import { connectEvents } from "../src/events/event-connection.js";
import { InProcessBus } from "../src/events/in-process-bus.js";
import { currentRequestId, runWithRequestId } from "../src/logging/request-context.js";
import { SCHEMA, eventually, restoreOutboxRows, startOutboxHarness, testLogger, type OutboxHarness, type OutboxRows } from "./outbox-harness.js";

let h: OutboxHarness;
beforeAll(async () => {
  h = await startOutboxHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("the outbox over the in-process bus (npm start without NATS)", () => {
  it("connectEvents gives the process's bus for memory://local and refuses other memory URLs", async () => {
    expect(await connectEvents("memory://local", "t")).toBe(InProcessBus.shared);
    await expect(connectEvents("memory://other", "t")).rejects.toThrow(/memory:\/\/local/);
  });

  it("relays committed events once each to a durable consumer that applies them exactly once, request id included", async () => {
    const bus = new InProcessBus();
    await ensureStreams(bus, "");
    const relay = new OutboxRelay({ dataSource: h.ds, schema: SCHEMA, nc: bus, namespace: "", logger: testLogger });
    await relay.start();
    const applied: { id: string; requestId: string | undefined }[] = [];
    let failOnce = true;
    const consumer = await startConsumer({
      nc: bus,
      namespace: "",
      stream: "PROVENANCE",
      durable: "projection",
      filterSubjects: ["provenance.receipt.created"],
      eventSchema: { "provenance.receipt.created": ReceiptCreatedSchema },
      backoffMs: [10],
      logger: testLogger,
      handle: async (m) => {
        await h.ds.transaction(async (tx) => {
          if (!(await markProcessed(tx, SCHEMA, "projection-bus", m.eventId))) return;
          applied.push({ id: fromBinary(ReceiptCreatedSchema, m.data).receipt!.receiptId, requestId: currentRequestId() });
        });
        if (failOnce) {
          failOnce = false;
          throw new Error("lost ack");
        }
      },
    });
    try {
      // The rows as committed, to put back below.
      const committed: OutboxRows = await runWithRequestId("req-bus", () =>
        h.ds.transaction(async (tx) => {
          for (const id of ["r1", "r2", "r3"]) {
            await enqueueEvent(tx, { schema: SCHEMA, subject: "provenance.receipt.created", eventSchema: ReceiptCreatedSchema, event: { receipt: { receiptId: id } } });
          }
          return tx.query(`SELECT id, seq::text AS seq, subject, payload, headers FROM ${SCHEMA}.outbox ORDER BY seq`);
        }),
      );
      expect(committed).toHaveLength(3);
      await eventually(async () => applied.length === 3 && (await consumer.lag()) === 0);
      expect(applied.map((a) => a.id).sort()).toEqual(["r1", "r2", "r3"]);
      expect(applied.every((a) => a.requestId === "req-bus")).toBe(true);
      // A relay that republishes (crash between publish and delete) changes nothing.
      await eventually(async () => (await relay.backlog()) === 0);
      await restoreOutboxRows(h.sql, committed);
      expect(await relay.backlog()).toBe(3);
      await relay.relayOnce();
      await new Promise((r) => setTimeout(r, 50));
      expect(applied).toHaveLength(3);
      expect(await relay.backlog()).toBe(0);
    } finally {
      await consumer.stop();
      await relay.stop();
    }
  });
});
