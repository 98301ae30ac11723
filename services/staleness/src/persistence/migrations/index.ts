import { outboxMigration } from "@provenance/shared";
import { StalenessOutboxGrants1732300000001 } from "./1732300000001-staleness-outbox-grants.js";
import { StalenessSchema1732300000000 } from "./1732300000000-staleness-schema.js";

export { STALENESS_APP_ROLE } from "./1732300000000-staleness-schema.js";

/** Every migration of the staleness schema, in order. */
export const stalenessMigrations = [outboxMigration("staleness"), StalenessSchema1732300000000, StalenessOutboxGrants1732300000001];
