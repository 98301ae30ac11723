/** What the consumer tests share: one outbox harness per file, a fresh durable per test, an empty stream at each start. */
import { afterAll, afterEach, beforeAll } from "vitest";
import { startConsumer, streamName, type ConsumerOptions, type RunningConsumer } from "../src/events/index.js";
import { startOutboxHarness, testLogger, type OutboxHarness } from "./outbox-harness.js";

/** The subject the consumer tests publish and consume. */
export const CREATED = "provenance.receipt.created";

export interface ConsumerFixture {
  /** The harness (available from the first test on). */
  readonly h: OutboxHarness;
  /** Grows by one after each test; part of each test's durable name, so every test reads the stream from its start. */
  readonly durableSeq: number;
  /** Starts a consumer on CREATED with this test's durable (`<prefix><durableSeq>`); stopped after the test. */
  consume(opts: Partial<ConsumerOptions>): Promise<RunningConsumer>;
}

/** Registers the hooks of a consumer test file (call inside its describe) and returns what its tests use. */
export function useConsumerFixture(durablePrefix: string): ConsumerFixture {
  let harness: OutboxHarness | undefined;
  let seq = 0;
  const running: RunningConsumer[] = [];
  const fixture: ConsumerFixture = {
    get h() {
      if (!harness) throw new Error("the outbox harness is not started yet");
      return harness;
    },
    get durableSeq() {
      return seq;
    },
    async consume(opts) {
      const c = await startConsumer({
        nc: fixture.h.nats.nc,
        namespace: fixture.h.nats.namespace,
        stream: "PROVENANCE",
        durable: `${durablePrefix}${seq}`,
        filterSubjects: [CREATED],
        logger: testLogger,
        backoffMs: [20],
        ...opts,
      });
      running.push(c);
      return c;
    },
  };

  beforeAll(async () => {
    harness = await startOutboxHarness();
  });
  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
    seq += 1;
    // Each test's new durable starts from the beginning of the stream: start it empty.
    await fixture.h.nats.jsm.streams.purge(streamName(fixture.h.nats.namespace, "PROVENANCE"));
  });
  afterAll(async () => {
    await harness?.close();
  });
  return fixture;
}
