import { outboxAttemptsMigration, outboxDeletesRelayedMigration, outboxGrantsMigration, outboxMigration } from "@provenance/shared";
import { RECEIPTS_APP_ROLE, ReceiptsSchema1732200000000 } from "./1732200000000-receipts-schema.js";
import { ReceiptsFillfactor1732200000100 } from "./1732200000100-receipts-fillfactor.js";
import { SegmentsListingIndex1732200000300 } from "./1732200000300-segments-listing-index.js";
import { ReceiptsAuthorshipAndInputsGuard1732200000500 } from "./1732200000500-receipts-authorship-and-inputs-guard.js";
import { LegacyReceipts1732200000600 } from "./1732200000600-legacy-receipts.js";
import { ReceiptReproductions1732200000700 } from "./1732200000700-receipt-reproductions.js";
import { GenerationDurations1732200000800 } from "./1732200000800-generation-durations.js";
import { ReceiptLog1732200000900 } from "./1732200000900-receipt-log.js";

export { RECEIPTS_APP_ROLE };

/** Every migration of the receipts schema, in order. */
export const receiptsMigrations = [
  outboxMigration("receipts"),
  ReceiptsSchema1732200000000,
  outboxGrantsMigration("receipts", RECEIPTS_APP_ROLE, "ReceiptsOutboxGrants1732200000001"),
  ReceiptsFillfactor1732200000100,
  outboxDeletesRelayedMigration("receipts", RECEIPTS_APP_ROLE, "ReceiptsOutboxDeletesRelayed1732200000200"),
  SegmentsListingIndex1732200000300,
  outboxAttemptsMigration("receipts", RECEIPTS_APP_ROLE, "ReceiptsOutboxAttempts1732200000400"),
  ReceiptsAuthorshipAndInputsGuard1732200000500,
  LegacyReceipts1732200000600,
  ReceiptReproductions1732200000700,
  GenerationDurations1732200000800,
  ReceiptLog1732200000900,
];
