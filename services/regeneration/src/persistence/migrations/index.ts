import { outboxAttemptsMigration, outboxDeletesRelayedMigration, outboxGrantsMigration, outboxMigration } from "@provenance/shared";
import { REGENERATION_APP_ROLE, RegenerationSchema1732400000000 } from "./1732400000000-regeneration-schema.js";
import { OneOpenJobPerSegment1732400000005 } from "./1732400000005-one-open-job-per-segment.js";
import { Reproductions1732400000010 } from "./1732400000010-reproductions.js";

export { REGENERATION_APP_ROLE };

/** The schema this service owns. */
export const REGENERATION_SCHEMA = "regeneration";

/** Every migration of the regeneration schema, in order. */
export const regenerationMigrations = [
  outboxMigration(REGENERATION_SCHEMA),
  RegenerationSchema1732400000000,
  outboxGrantsMigration(REGENERATION_SCHEMA, REGENERATION_APP_ROLE, "RegenerationOutboxGrants1732400000001"),
  outboxDeletesRelayedMigration(REGENERATION_SCHEMA, REGENERATION_APP_ROLE, "RegenerationOutboxDeletesRelayed1732400000002"),
  outboxAttemptsMigration(REGENERATION_SCHEMA, REGENERATION_APP_ROLE, "RegenerationOutboxAttempts1732400000004"),
  OneOpenJobPerSegment1732400000005,
  Reproductions1732400000010,
];
