import { currentRequestId } from "../logging/request-context.js";
import { randomUUID } from "node:crypto";
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "typeorm";
import { quoteIdentifier } from "../db/sql-identifier.js";

/** NATS header carrying the id of the request that caused an event (the HTTP side uses `x-request-id`). */
export const EVENT_REQUEST_ID_HEADER = "X-Request-Id";

/** The NOTIFY channel the relay of `schema` listens on. */
export function outboxChannel(schema: string): string {
  return `${schema}_outbox`;
}

/** What enqueueEvent writes: one event message for one un-namespaced subject. */
export interface EnqueueEventArgs<T extends DescMessage> {
  /** The schema whose outbox receives the event. */
  schema: string;
  /** Un-namespaced subject, e.g. "provenance.receipt.created". */
  subject: string;
  /** The event's message schema; it must have `event_id`, `occurred_at` and `request_id`. */
  eventSchema: T;
  /** The event's content; id, time and request id are filled in here. */
  event: MessageInitShape<T>;
  /** The id of the request that caused the event, carried in the message and a header. */
  requestId?: string;
}

/**
 * Writes an event to the outbox inside the caller's transaction (pass the transaction's
 * manager), so it is published if and only if the state change commits; returns its event id.
 */
export async function enqueueEvent<T extends DescMessage>(manager: EntityManager, args: EnqueueEventArgs<T>): Promise<string> {
  const { eventSchema } = args;
  for (const f of ["eventId", "occurredAt", "requestId"]) {
    if (!eventSchema.fields.some((field) => field.localName === f)) {
      throw new Error(`enqueueEvent: ${eventSchema.typeName} has no field ${f}`);
    }
  }
  const eventId = randomUUID();
  const requestId = args.requestId || currentRequestId() || "";
  const message = create(eventSchema, args.event);
  Object.assign(message, { eventId, occurredAt: timestampNow(), requestId });
  const payload = toBinary(eventSchema, message);
  const headers: Record<string, string> = requestId ? { [EVENT_REQUEST_ID_HEADER]: requestId } : {};
  await manager.query(
    `INSERT INTO ${quoteIdentifier(args.schema)}.outbox (id, subject, payload, headers) VALUES ($1, $2, $3, $4::jsonb)`,
    [eventId, args.subject, Buffer.from(payload), JSON.stringify(headers)],
  );
  // Delivered on commit, and folded into one notification per transaction and channel.
  await manager.query("SELECT pg_notify($1, '')", [outboxChannel(args.schema)]);
  return eventId;
}
