/** Entry point: read config, start (or only migrate with --migrate-only), drain on SIGTERM; a start refused is one line. */
import { runServiceMain } from "@provenance/shared";
import { migrateRegeneration, startRegeneration } from "./start.js";

await runServiceMain({ service: "regeneration", migrate: migrateRegeneration, start: (config, logger) => startRegeneration(config, logger) });
