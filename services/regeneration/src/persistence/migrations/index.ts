import { outboxAttemptsMigration, outboxDeletesRelayedMigration, outboxGrantsMigration, outboxMigration } from "@provenance/shared";
import { REGENERATION_APP_ROLE, RegenerationSchema1732400000000 } from "./1732400000000-regeneration-schema.js";

export { REGENERATION_APP_ROLE };

/** Every migration of the regeneration schema, in order. */
export const regenerationMigrations = [
  outboxMigration("regeneration"),
  RegenerationSchema1732400000000,
  outboxGrantsMigration("regeneration", REGENERATION_APP_ROLE, "RegenerationOutboxGrants1732400000001"),
  outboxDeletesRelayedMigration("regeneration", REGENERATION_APP_ROLE, "RegenerationOutboxDeletesRelayed1732400000002"),
  outboxAttemptsMigration("regeneration", REGENERATION_APP_ROLE, "RegenerationOutboxAttempts1732400000004"),
];
