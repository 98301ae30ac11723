/**
 * `npm start`: the system on this machine, configured by env. Ctrl-C (or SIGTERM) stops everything in order and
 * exits 0; a second one, or a stop that takes longer than STOP_DEADLINE_MS, stops PostgreSQL and NATS at once.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, LOG_LEVELS, type LogLevel } from "@provenance/shared";
import { forceStopOwned } from "./owned-processes.js";
import { startSystem, SystemStartError, type RunningSystem } from "./start-system.js";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
/** A stop that has not finished by then is forced, so Ctrl-C always ends within 10 s. */
const STOP_DEADLINE_MS = 8_000;
const EXIT_CODE_OF: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

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

// A terminal that went away (SIGHUP) must not turn a status line into a crash.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);

const starting = new AbortController();
let system: RunningSystem | undefined;
let startup: Promise<unknown> | undefined;
let stopping = false;
let forcing = false;

async function force(code: number, line: string, toStderr = false): Promise<void> {
  if (forcing) return;
  forcing = true;
  await forceStopOwned();
  if (toStderr) console.error(line);
  else console.log(line);
  process.exit(code);
}

function stop(exitCode = 0): void {
  stopping = true;
  console.log("stopping… (Ctrl-C again to force)");
  // From here on, errors of parts being taken down are expected: they are not printed.
  process.on("uncaughtException", () => undefined);
  process.on("unhandledRejection", () => undefined);
  const overdue = `provenance: stopping took longer than ${STOP_DEADLINE_MS / 1000} s; stopped PostgreSQL and NATS at once`;
  setTimeout(() => void force(1, overdue, true), STOP_DEADLINE_MS);
  starting.abort();
  void (async () => {
    await startup?.catch(() => undefined);
    await system?.stop();
    if (forcing) return;
    console.log("stopped");
    process.exit(exitCode);
  })();
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) void force(EXIT_CODE_OF[signal] ?? 1, "stopped (forced)");
  else stop();
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);

try {
  const started = startSystem({
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
    authEnv: process.env,
    receiptLogEnv: process.env,
    say: (line) => console.log(line),
    signal: starting.signal,
    onDependencyLost: (line) => {
      console.error(`provenance: ${line}; stopping everything`);
      if (!stopping) stop(1);
    },
  });
  startup = started;
  system = await started;
  if (!stopping) console.log("ready        try: npm run demo   ·   Ctrl-C stops everything");
} catch (err) {
  // Stopped by Ctrl-C while starting: stop() reports and exits.
  if (!stopping) {
    const message = err instanceof SystemStartError || err instanceof ConfigError || err instanceof Error ? err.message : String(err);
    console.error(`provenance: ${message.split("\n")[0]}`);
    process.exit(1);
  }
}
