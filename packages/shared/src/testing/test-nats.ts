import { randomBytes } from "node:crypto";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ensureStreams } from "../events/streams.js";
import { STREAM_SUBJECTS, streamName, type StreamKind } from "../events/subjects.js";

/** The NATS server tests use: env TEST_NATS_URL, else the local one. */
export function testNatsUrl(): string {
  return process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
}

/** A unique subject/stream namespace for one test run: `t` and 15 random [a-z0-9]. */
export function createTestNamespace(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(15);
  let ns = "t";
  for (const b of bytes) ns += alphabet[b % alphabet.length];
  return ns;
}

/** A connection to the test NATS with a fresh namespace whose streams exist. */
export interface TestNats {
  url: string;
  namespace: string;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Deletes the namespace's streams and closes the connection. */
  cleanup(): Promise<void>;
}

/** Connects to the test NATS and creates the PROVENANCE and GENERATION streams of a new namespace. */
export async function createTestNats(): Promise<TestNats> {
  const url = testNatsUrl();
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: "test" });
  } catch (err) {
    throw new Error(`NATS at ${url} is unreachable: ${(err as Error).message}`, { cause: err });
  }
  const namespace = createTestNamespace();
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, namespace);
  return {
    url,
    namespace,
    nc,
    js: jetstream(nc),
    jsm,
    async cleanup() {
      if (!nc.isClosed()) {
        for (const kind of Object.keys(STREAM_SUBJECTS) as StreamKind[]) {
          await jsm.streams.delete(streamName(namespace, kind)).catch(() => undefined);
        }
        await nc.close();
      }
    },
  };
}
