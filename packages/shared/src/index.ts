/** The shared runtime of the provenance services: generated API, config, logging, errors, validation, server, database, events. */
export * from "./gen/provenance/v1/common_pb.js";
export * from "./gen/provenance/v1/receipts_pb.js";
export * from "./gen/provenance/v1/assets_pb.js";
export * from "./gen/provenance/v1/staleness_pb.js";
export * from "./gen/provenance/v1/regeneration_pb.js";
export * from "./gen/provenance/v1/events_pb.js";
export * from "./config/index.js";
export * from "./logging/index.js";
export * from "./hash/index.js";
export * from "./paging/index.js";
export * from "./metrics/index.js";
export * from "./errors/index.js";
export * from "./validation/index.js";
export * from "./server/index.js";
export * from "./db/index.js";
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
  DUPLICATE_WINDOW_MS,
  EVENT_REQUEST_ID_HEADER,
  OUTBOX_MIGRATION_NAME,
  OutboxRelay,
  STREAM_SUBJECTS,
  connectNats,
  connectEvents,
  eventsReachable,
  isInProcessBusUrl,
  InProcessBus,
  IN_PROCESS_BUS_URL,
  isInProcessBus,
  enqueueEvent,
  enqueueEvents,
  enqueueEventsOfCalls,
  ensureStreams,
  markProcessed,
  markProcessedMany,
  outboxChannel,
  outboxAttemptsMigration,
  outboxDeletesRelayedMigration,
  outboxGrantsMigration,
  outboxMigration,
  startConsumer,
  streamConfig,
  streamName,
  streamOf,
  stripNamespace,
  subjectFor,
  subjectMatches,
} from "./events/index.js";
export type {
  ConsumedEvent,
  EventConnection,
  ConsumerOptions,
  EnqueueEventArgs,
  EnqueueEventsArgs,
  OutboxEventOfCall,
  OutboxRelayOptions,
  RunningConsumer,
  StreamKind,
} from "./events/index.js";
export * from "./runtime/index.js";
