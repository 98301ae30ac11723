/** Test helpers against real PostgreSQL and NATS: the one test environment, fresh databases, namespaced streams, reading streams back. */
export {
  DEFAULT_TEST_GRANTS,
  TEST_ADMIN,
  TEST_PIPELINE,
  createTestEnvironment,
  testServiceSubject,
} from "./test-environment.js";
export type {
  InvalidTokenKind,
  ServiceStarts,
  StartService,
  StartedServices,
  TestCredentials,
  TestEnvironment,
  TestEnvironmentOptions,
  TestProtocol,
} from "./test-environment.js";
export { createTestDatabase, testDatabaseServerUrl } from "./test-database.js";
export type { TestDatabase } from "./test-database.js";
export { createTestNamespace, createTestNats, testNatsUrl } from "./test-nats.js";
export type { TestNats } from "./test-nats.js";
export { collectMessages } from "./collect-messages.js";
export { failureFields, failureOf } from "./call-failure.js";
export type { CallFailure } from "./call-failure.js";
export type { CollectOptions, CollectedMessage } from "./collect-messages.js";
export { readSpecJson, repositoryRoot, specPath } from "./spec-files.js";
export { sampleCreateReceipt } from "./sample-receipt.js";
export type { SampleReceiptPlace } from "./sample-receipt.js";
