/** Entry point: read config, start (or only migrate with --migrate-only), drain on SIGTERM; a start refused is one line. */
import { runServiceMain } from "@provenance/shared";
import { migrateReceipts, startReceipts } from "./start.js";

await runServiceMain({ service: "receipts", migrate: migrateReceipts, start: (config, logger) => startReceipts(config, logger) });
