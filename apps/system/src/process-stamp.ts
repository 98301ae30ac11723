/**
 * Which process a pid file means: its pid plus its start time, so a pid the kernel has since given to another
 * process is not taken for the one that wrote the file.
 */
import { readFileSync, writeFileSync } from "node:fs";

/** A process as recorded in a pid file. */
export interface ProcessStamp {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot); empty where there is no /proc. */
  readonly startTime: string;
}

/** Whether a process with `pid` exists (signal 0: nothing is sent). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function startTimeOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19]; // field 22 overall: fields 3.. start at index 0
}

const hasProc = (() => {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
})();

/** The stamp of the running process `pid`, or undefined when there is none. */
export function stampOf(pid: number): ProcessStamp | undefined {
  if (!hasProc) return alive(pid) ? { pid, startTime: "" } : undefined;
  const startTime = startTimeOf(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

/** Whether the process `stamp` recorded is still running (the same pid started at the same time). */
export function stillRunning(stamp: ProcessStamp): boolean {
  const now = stampOf(stamp.pid);
  return now !== undefined && (stamp.startTime === "" || now.startTime === stamp.startTime);
}

/** Waits until `pid` is gone; false when it is still there after `ms`. */
export async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** The text of a pid file for `stamp`. */
export function formatStamp(stamp: ProcessStamp): string {
  return `${JSON.stringify({ pid: stamp.pid, startTime: stamp.startTime })}\n`;
}

/** Parses a pid file's text; undefined when it is not one (empty, cut short, garbage). */
export function parseStamp(text: string): ProcessStamp | undefined {
  try {
    const value = JSON.parse(text) as { pid?: unknown; startTime?: unknown };
    if (!Number.isInteger(value.pid) || (value.pid as number) <= 0 || typeof value.startTime !== "string") return undefined;
    return { pid: value.pid as number, startTime: value.startTime };
  } catch {
    return undefined;
  }
}

/** Reads the pid file `file`; undefined when it is missing or not a pid file. */
export function readStamp(file: string): ProcessStamp | undefined {
  try {
    return parseStamp(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** Writes the pid file `file` for `stamp`. */
export function writeStamp(file: string, stamp: ProcessStamp): void {
  writeFileSync(file, formatStamp(stamp));
}
