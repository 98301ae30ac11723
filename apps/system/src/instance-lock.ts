/**
 * One `npm start` per data directory. The lock file records the launcher's pid and start time; while that launcher
 * runs, another start on the same directory refuses; once it is gone (killed, crashed), what it left running is an
 * orphan the next start may stop.
 */
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatStamp, parseStamp, stampOf, stillRunning, type ProcessStamp } from "./process-stamp.js";
import { SystemStartError } from "./system-start-error.js";

/** The lock file's name in the data directory. */
export const LOCK_FILE = "launcher.lock";

/** The data directory, held by this process until `release()`. */
export interface InstanceLock {
  /** The earlier launcher whose lock was left behind (it is no longer running), if any. */
  readonly earlier?: ProcessStamp;
  /** Removes the lock file if it is still this process's; safe to call twice. */
  release(): void;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock of `dataDir` for this process. Throws a SystemStartError naming the other launcher when one that
 * is still running holds it; a lock whose launcher is gone is replaced.
 */
export function lockDataDir(dataDir: string): InstanceLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LOCK_FILE);
  const mine = formatStamp(stampOf(process.pid) ?? { pid: process.pid, startTime: "" });
  // Written whole under another name first and then linked into place, so no reader ever sees a half-written lock.
  const draft = `${file}.${process.pid}`;
  writeFileSync(draft, mine);
  let earlier: ProcessStamp | undefined;
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(draft, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
          throw new SystemStartError(`cannot write the lock file ${file} (${(err as Error).message}): check that ${dataDir} is writable`);
        }
        const text = readText(file);
        if (text === undefined) continue; // removed meanwhile: try again
        const holder = parseStamp(text);
        if (holder && stillRunning(holder)) {
          throw new SystemStartError(`another npm start (pid ${holder.pid}) is using ${dataDir}; stop it first`);
        }
        earlier = holder ?? earlier;
        // Left by a launcher that is gone; removed only if nobody replaced it since it was read.
        if (readText(file) === text) rmSync(file, { force: true });
        continue;
      }
      return held(file, mine, earlier);
    }
    throw new SystemStartError(`another npm start keeps replacing the lock file ${file}; stop it first`);
  } finally {
    rmSync(draft, { force: true });
  }
}

function held(file: string, mine: string, earlier: ProcessStamp | undefined): InstanceLock {
  const release = () => {
    process.off("exit", release);
    if (readText(file) === mine) rmSync(file, { force: true });
  };
  // A launcher that exits without stopping (a forced stop) leaves no lock to puzzle the next start.
  process.on("exit", release);
  return { earlier, release };
}
