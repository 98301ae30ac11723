/**
 * PostgreSQL refuses to run as root, so as root the embedded database runs as the `postgres` OS user. That user may
 * not be able to reach what root can (a clone under /root, a `mktemp -d` folder): whether it can is found out by
 * trying as that user, since mode bits alone do not tell (ACLs, mount options, parents further up).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { SystemStartError } from "./system-start-error.js";

/** The OS user a server process runs as. */
export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** The name of the OS user the embedded PostgreSQL runs as when the launcher is root. */
export const POSTGRES_OS_USER = "postgres";

function idOf(name: string): OsUser | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { name, uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The user the embedded PostgreSQL must run as: undefined when the launcher is not root (it runs as the launcher's
 * own user); as root, the `postgres` system user, created when missing.
 */
export function postgresOsUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const existing = idOf(POSTGRES_OS_USER);
  if (existing) return existing;
  const shell = ["/usr/sbin/nologin", "/sbin/nologin", "/bin/false"].find((s) => existsSync(s)) ?? "/bin/false";
  try {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", shell, POSTGRES_OS_USER], {
      stdio: "ignore",
    });
  } catch (err) {
    throw new SystemStartError(
      `as root the embedded PostgreSQL must run as the "${POSTGRES_OS_USER}" OS user, and creating it failed (useradd: ${(err as Error).message.split("\n")[0]}): create that user, or set DATABASE_URL to use another PostgreSQL`,
    );
  }
  const created = idOf(POSTGRES_OS_USER);
  if (!created) throw new SystemStartError(`useradd reported success but there is no "${POSTGRES_OS_USER}" user: create it, or set DATABASE_URL`);
  return created;
}

/** Whether `user` can enter the directory `dir` (tried: a shell running as that user changes into it). */
export function canEnter(user: OsUser, dir: string): boolean {
  const r = spawnSync("/bin/sh", ["-c", 'cd -- "$1"', "sh", dir], { uid: user.uid, gid: user.gid, cwd: "/", stdio: "ignore", timeout: 10_000 });
  return r.error === undefined && r.status === 0;
}

/** Whether `user` can run the PostgreSQL binary `postgres` (tried: `postgres --version` as that user). */
export function canRunPostgres(user: OsUser | undefined, postgres: string): boolean {
  const r = spawnSync(postgres, ["--version"], { uid: user?.uid, gid: user?.gid, cwd: "/", stdio: "ignore", timeout: 10_000 });
  return r.error === undefined && r.status === 0;
}
