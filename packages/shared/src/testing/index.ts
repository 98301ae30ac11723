/** Test helpers against real PostgreSQL and NATS: fresh databases, namespaced streams, reading streams back. */
export { createTestDatabase, testDatabaseServerUrl } from "./test-database.js";
export type { TestDatabase } from "./test-database.js";
export { createTestNamespace, createTestNats, testNatsUrl } from "./test-nats.js";
export type { TestNats } from "./test-nats.js";
export { collectMessages } from "./collect-messages.js";
export type { CollectOptions, CollectedMessage } from "./collect-messages.js";
export { readSpecJson, repositoryRoot, specPath } from "./spec-files.js";
