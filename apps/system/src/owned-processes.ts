/**
 * The server processes the launcher started (PostgreSQL, nats-server). They run in process groups of their own, so
 * a terminal's Ctrl-C reaches only the launcher, which stops them in order; this registry is how they are still
 * stopped when that order is given up: a forced stop, or the launcher exiting some other way.
 */
import type { ChildProcess } from "node:child_process";

interface Owned {
  readonly child: ChildProcess;
  /** What stops it at once, without waiting for it to finish its work. */
  readonly forceSignal: NodeJS.Signals;
}

const owned = new Set<Owned>();

const running = (child: ChildProcess) => child.pid !== undefined && child.exitCode === null && child.signalCode === null;

function signalAll(): ChildProcess[] {
  const signalled: ChildProcess[] = [];
  for (const { child, forceSignal } of owned) {
    if (!running(child)) continue;
    try {
      child.kill(forceSignal);
      signalled.push(child);
    } catch {
      // already gone
    }
  }
  return signalled;
}

// However the launcher exits, nothing it started may keep running.
process.on("exit", () => {
  signalAll();
});

/** Registers a started server process, to be stopped with `forceSignal` when stopping is forced. */
export function own(child: ChildProcess, forceSignal: NodeJS.Signals): void {
  const entry = { child, forceSignal };
  owned.add(entry);
  child.once("exit", () => owned.delete(entry));
}

/** Stops every registered process at once with its force signal, and waits up to `waitMs` for them to be gone. */
export async function forceStopOwned(waitMs = 3000): Promise<void> {
  const exits = signalAll().map((child) => new Promise<void>((resolve) => (running(child) ? child.once("exit", () => resolve()) : resolve())));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(exits), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
}
