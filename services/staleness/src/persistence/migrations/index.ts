import { outboxAttemptsMigration, outboxDeletesRelayedMigration, outboxGrantsMigration, outboxMigration } from "@provenance/shared";
import { STALENESS_APP_ROLE, StalenessSchema1732300000000 } from "./1732300000000-staleness-schema.js";
import { StalenessIndexesByProject1732300000002 } from "./1732300000002-staleness-indexes-by-project.js";
import { DetectionTasks1732300000003 } from "./1732300000003-detection-tasks.js";
import { LegacySegments1732300000007 } from "./1732300000007-legacy-segments.js";
import { Pins1732300000006 } from "./1732300000006-pins.js";

export { STALENESS_APP_ROLE };

/** Every migration of the staleness schema, in order. */
export const stalenessMigrations = [
  outboxMigration("staleness"),
  StalenessSchema1732300000000,
  outboxGrantsMigration("staleness", STALENESS_APP_ROLE, "StalenessOutboxGrants1732300000001"),
  StalenessIndexesByProject1732300000002,
  DetectionTasks1732300000003,
  outboxDeletesRelayedMigration("staleness", STALENESS_APP_ROLE, "StalenessOutboxDeletesRelayed1732300000004"),
  outboxAttemptsMigration("staleness", STALENESS_APP_ROLE, "StalenessOutboxAttempts1732300000005"),
  Pins1732300000006,
  LegacySegments1732300000007,
];
