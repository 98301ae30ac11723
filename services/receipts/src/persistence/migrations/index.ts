import { outboxMigration } from "@provenance/shared";
import { ReceiptsOutboxGrants1732200000001 } from "./1732200000001-receipts-outbox-grants.js";
import { ReceiptsSchema1732200000000 } from "./1732200000000-receipts-schema.js";

export { RECEIPTS_APP_ROLE } from "./1732200000000-receipts-schema.js";

/** Every migration of the receipts schema, in order. */
export const receiptsMigrations = [outboxMigration("receipts"), ReceiptsSchema1732200000000, ReceiptsOutboxGrants1732200000001];
