import { currentRequestId } from "../logging/request-context.js";
import { v7 as uuidv7 } from "uuid";
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

/** What enqueueEvents writes: several events of one schema and subject, in order. */
export interface EnqueueEventsArgs<T extends DescMessage> extends Omit<EnqueueEventArgs<T>, "event"> {
  /** The events' contents, in the order they are to be published. */
  events: MessageInitShape<T>[];
}

function checkEventSchema(eventSchema: DescMessage): void {
  for (const f of ["eventId", "occurredAt", "requestId"]) {
    if (!eventSchema.fields.some((field) => field.localName === f)) {
      throw new Error(`enqueueEvent: ${eventSchema.typeName} has no field ${f}`);
    }
  }
}

/**
 * Writes an event to the outbox inside the caller's transaction (pass the transaction's
 * manager), so it is published if and only if the state change commits; returns its event id.
 */
export async function enqueueEvent<T extends DescMessage>(manager: EntityManager, args: EnqueueEventArgs<T>): Promise<string> {
  const { event, ...rest } = args;
  const [eventId] = await enqueueEvents(manager, { ...rest, events: [event] });
  return eventId!;
}

/**
 * Writes several events to the outbox in the caller's transaction with one multi-row INSERT (the bulk write paths
 * emit hundreds per transaction); they are relayed in the given order. Returns their event ids, in order.
 */
export async function enqueueEvents<T extends DescMessage>(manager: EntityManager, args: EnqueueEventsArgs<T>): Promise<string[]> {
  const requestId = args.requestId || currentRequestId() || "";
  return enqueueEventsOfCalls(manager, { ...args, events: args.events.map((event) => ({ event, requestId })) });
}

/** One event of {@link enqueueEventsOfCalls}: its content, the request that caused it, and headers of its own. */
export interface OutboxEventOfCall<T extends DescMessage> {
  event: MessageInitShape<T>;
  /** The id of the request that caused it ("" for none), in the message and the X-Request-Id header. */
  requestId: string;
  /** Further NATS headers of this event. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Like {@link enqueueEvents}, for events of different requests written together (a group commit of several calls),
 * each with its own request id and optional headers of its own. Returns their event ids, in order.
 */
export async function enqueueEventsOfCalls<T extends DescMessage>(
  manager: EntityManager,
  args: Omit<EnqueueEventsArgs<T>, "events" | "requestId"> & { events: readonly OutboxEventOfCall<T>[] },
): Promise<string[]> {
  const { eventSchema } = args;
  checkEventSchema(eventSchema);
  if (args.events.length === 0) return [];
  const occurredAt = timestampNow();
  const ids: string[] = [];
  const payloads: Buffer[] = [];
  const headers: string[] = [];
  for (const { event, requestId, headers: own } of args.events) {
    // Time-ordered (UUIDv7): outbox and inbox keys grow at the right edge of their indexes instead of landing on
    // random pages, which at millions of events is most of the insert cost.
    const eventId = uuidv7();
    const message = create(eventSchema, event);
    Object.assign(message, { eventId, occurredAt, requestId });
    ids.push(eventId);
    payloads.push(Buffer.from(toBinary(eventSchema, message)));
    headers.push(JSON.stringify({ ...own, ...(requestId ? { [EVENT_REQUEST_ID_HEADER]: requestId } : {}) }));
  }
  // WITH ORDINALITY + ORDER BY: seq (the relay's order) follows the array order. The notification goes in the same
  // statement (a data-modifying WITH always runs to completion); it is delivered on commit, and folded into one per
  // transaction and channel.
  await manager.query(
    `WITH queued AS (
       INSERT INTO ${quoteIdentifier(args.schema)}.outbox (id, subject, payload, headers)
       SELECT e.id, $2, e.payload, e.headers::jsonb
         FROM unnest($1::uuid[], $3::bytea[], $4::text[]) WITH ORDINALITY AS e(id, payload, headers, n)
        ORDER BY e.n)
     SELECT pg_notify($5, '')`,
    [ids, args.subject, payloads, headers, outboxChannel(args.schema)],
  );
  return ids;
}
