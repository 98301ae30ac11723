import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { isInProcessBus, type InProcessBus } from "./in-process-bus.js";
import { STREAM_SUBJECTS, streamName, subjectFor, type StreamKind } from "./subjects.js";

/** How long JetStream remembers a Nats-Msg-Id to drop a re-published duplicate. */
export const DUPLICATE_WINDOW_MS = 2 * 60_000;

/** The configuration of one stream in a namespace. */
export function streamConfig(ns: string, kind: StreamKind): Partial<StreamConfig> & { name: string } {
  return {
    name: streamName(ns, kind),
    subjects: [subjectFor(ns, STREAM_SUBJECTS[kind])],
    retention: kind === "GENERATION" ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
}

async function managerOf(target: NatsConnection | JetStreamClient | JetStreamManager): Promise<JetStreamManager> {
  if ("streams" in target && "consumers" in target && "getAccountInfo" in target) return target;
  if ("jetstreamManager" in target) return target.jetstreamManager();
  return jetstreamManager(target);
}

/** JetStream's "stream name already in use" error code. */
const STREAM_NAME_IN_USE = 10058;

/** Creates the PROVENANCE and GENERATION streams of a namespace, or updates them to this configuration. */
export async function ensureStreams(target: NatsConnection | InProcessBus | JetStreamClient | JetStreamManager, ns: string): Promise<void> {
  if (isInProcessBus(target)) {
    target.ensureStreams(ns);
    return;
  }
  const jsm = await managerOf(target);
  for (const kind of Object.keys(STREAM_SUBJECTS) as StreamKind[]) {
    const cfg = streamConfig(ns, kind);
    // Retention and storage cannot change after creation; the rest is brought up to date.
    const { name, retention: _retention, storage: _storage, ...updatable } = cfg;
    const exists = await jsm.streams.info(name).then(
      () => true,
      (err: unknown) => {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return false;
        throw err;
      },
    );
    if (exists) {
      await jsm.streams.update(name, updatable);
      continue;
    }
    try {
      await jsm.streams.add(cfg);
    } catch (err) {
      // Another process created it between our lookup and our add.
      if (err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE) await jsm.streams.update(name, updatable);
      else throw err;
    }
  }
}
