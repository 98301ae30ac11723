/** Events: namespaced JetStream streams, the transactional outbox and its relay, durable idempotent consumers. */
export { streamName, streamOf, subjectFor, stripNamespace, subjectMatches, STREAM_SUBJECTS } from "./subjects.js";
export type { StreamKind } from "./subjects.js";
export {
  ASSET_CURRENT_CHANGED,
  ASSET_VERSION_PUBLISHED,
  EVENT_MESSAGES,
  GENERATION_STREAM,
  JOB_REQUESTED,
  LOG_CHECKPOINT,
  PROVENANCE_STREAM,
  RECEIPT_COMPLETED,
  RECEIPT_CREATED,
  RECEIPT_JOB_HEADER,
  RECEIPT_TAMPERED,
  STALENESS_DETECTED_ALL,
  STALENESS_DETECTED_PREFIX,
  stalenessDetectedSubject,
} from "./catalog.js";
export { ensureStreams, streamConfig, DUPLICATE_WINDOW_MS } from "./streams.js";
export { connectNats } from "./nats-connection.js";
export {
  outboxAttemptsMigration,
  outboxDeletesRelayedMigration,
  outboxGrantsMigration,
  outboxMigration,
  OUTBOX_MIGRATION_NAME,
} from "./outbox-migration.js";
export { enqueueEvent, enqueueEvents, enqueueEventsOfCalls, outboxChannel, EVENT_REQUEST_ID_HEADER } from "./enqueue-event.js";
export type { EnqueueEventArgs, EnqueueEventsArgs, OutboxEventOfCall } from "./enqueue-event.js";
export { OutboxRelay } from "./outbox-relay.js";
export type { OutboxRelayOptions } from "./outbox-relay.js";
export { startConsumer } from "./consumer.js";
export type { ConsumedEvent, ConsumerOptions, RunningConsumer } from "./consumer.js";
export { markProcessed, markProcessedMany } from "./inbox.js";
export { connectEvents, eventsReachable, isInProcessBusUrl } from "./event-connection.js";
export type { EventConnection } from "./event-connection.js";
export { InProcessBus, IN_PROCESS_BUS_URL, isInProcessBus } from "./in-process-bus.js";
export type { Delivery, DeliverySource } from "./delivery.js";
