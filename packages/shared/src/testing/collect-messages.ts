import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { streamName, stripNamespace, subjectFor, type StreamKind } from "../events/subjects.js";

/** One message read back from a stream. */
export interface CollectedMessage {
  /** Un-namespaced subject. */
  subject: string;
  /** Nats-Msg-Id (the event id), or "" when absent. */
  msgId: string;
  data: Uint8Array;
  headers: Record<string, string>;
  /** Stream sequence. */
  seq: number;
}

/** What collectMessages reads. */
export interface CollectOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  stream: StreamKind;
  /** Un-namespaced subject filter (default: everything in the stream). */
  subject?: string;
  /** Wait (up to timeoutMs) until at least this many are there. */
  atLeast?: number;
  /** How long to wait for `atLeast` (default 15 s: it returns as soon as they are there; a loaded CI machine is slow). */
  timeoutMs?: number;
}

async function readAll(o: CollectOptions): Promise<CollectedMessage[]> {
  const stream = streamName(o.namespace, o.stream);
  const filter = o.subject ? subjectFor(o.namespace, o.subject) : undefined;
  const info = await o.jsm.streams.info(stream, filter ? { subjects_filter: filter } : undefined);
  const total = filter ? Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0) : info.state.messages;
  if (total === 0) return [];
  const consumer = await o.js.consumers.get(stream, filter ? { filter_subjects: filter } : {});
  const out: CollectedMessage[] = [];
  const iter = await consumer.consume({ max_messages: Math.min(total, 1000) });
  try {
    for await (const m of iter) {
      const headers: Record<string, string> = {};
      for (const k of m.headers?.keys() ?? []) headers[k] = m.headers!.get(k);
      out.push({ subject: stripNamespace(o.namespace, m.subject), msgId: headers["Nats-Msg-Id"] ?? "", data: m.data, headers, seq: m.seq });
      if (m.info.pending === 0) break;
    }
  } finally {
    await iter.close();
  }
  return out;
}

/**
 * Reads every message of a namespaced stream (optionally one subject) with an ordered consumer,
 * for assertions; with `atLeast`, polls until that many are there or the timeout passes.
 */
export async function collectMessages(o: CollectOptions): Promise<CollectedMessage[]> {
  const deadline = Date.now() + (o.timeoutMs ?? 15_000);
  for (;;) {
    const found = await readAll(o);
    if (o.atLeast === undefined || found.length >= o.atLeast || Date.now() >= deadline) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
}
