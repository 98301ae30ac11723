/** Entry point: read config, start (or only migrate with --migrate-only), drain on SIGTERM; a start refused is one line. */
import { runServiceMain } from "@provenance/shared";
import { migrateStaleness, startStaleness } from "./start.js";

await runServiceMain({ service: "staleness", migrate: migrateStaleness, start: (config, logger) => startStaleness(config, logger) });
