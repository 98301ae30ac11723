import { outboxMigration } from "@provenance/shared";
import { RegenerationOutboxGrants1732400000001 } from "./1732400000001-regeneration-outbox-grants.js";
import { RegenerationSchema1732400000000 } from "./1732400000000-regeneration-schema.js";

export { REGENERATION_APP_ROLE } from "./1732400000000-regeneration-schema.js";

/** Every migration of the regeneration schema, in order. */
export const regenerationMigrations = [
  outboxMigration("regeneration"),
  RegenerationSchema1732400000000,
  RegenerationOutboxGrants1732400000001,
];
