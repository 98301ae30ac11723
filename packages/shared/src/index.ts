/** The shared runtime of the provenance services: generated API, config, logging, errors, server, database, events. */
export * from "./gen/provenance/v1/common_pb.js";
export * from "./gen/provenance/v1/receipts_pb.js";
export * from "./gen/provenance/v1/assets_pb.js";
export * from "./gen/provenance/v1/staleness_pb.js";
export * from "./gen/provenance/v1/regeneration_pb.js";
export * from "./gen/provenance/v1/events_pb.js";
export * from "./config/index.js";
export * from "./logging/index.js";
export * from "./hash/index.js";
