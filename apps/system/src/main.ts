/** `npm start`: the system on this machine, configured by env, stopped by Ctrl-C. */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, LOG_LEVELS, type LogLevel } from "@provenance/shared";
import { startSystem, SystemStartError } from "./start-system.js";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

function port(name: string): number | undefined {
  const raw = process.env[name]?.trim();
  if (!raw) return undefined;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new ConfigError(name, `must be a port number, got "${raw}"`);
  return Number(raw);
}

function logLevel(): LogLevel {
  const raw = (process.env.LOG_LEVEL?.trim() || "warn") as LogLevel;
  if (!LOG_LEVELS.includes(raw)) throw new ConfigError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}, got "${raw}"`);
  return raw;
}

try {
  const system = await startSystem({
    dataDir: process.env.PROVENANCE_DATA_DIR ?? resolve(root, ".data"),
    databaseUrl: process.env.DATABASE_URL || undefined,
    natsUrl: process.env.NATS_URL || undefined,
    host: process.env.HOST || undefined,
    ports: { receipts: port("RECEIPTS_PORT"), staleness: port("STALENESS_PORT"), regeneration: port("REGENERATION_PORT") },
    embeddedDatabasePort: port("EMBEDDED_PG_PORT"),
    embeddedNatsPort: port("EMBEDDED_NATS_PORT"),
    consolePort: port("CONSOLE_PORT"),
    simulator: process.env.PIPELINE_SIMULATOR !== "0",
    logLevel: logLevel(),
    eventNamespace: process.env.EVENT_NAMESPACE || undefined,
    say: (line) => console.log(line),
  });
  console.log("ready        try: npm run demo   ·   Ctrl-C stops everything");
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    console.log("stopping…");
    void system.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
} catch (err) {
  const known = err instanceof SystemStartError || err instanceof ConfigError;
  console.error(`provenance: ${known || err instanceof Error ? (err as Error).message : String(err)}`);
  process.exit(1);
}
