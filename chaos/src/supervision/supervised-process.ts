/**
 * One child process the run owns — a service replica, a NATS node, PostgreSQL — started, killed with SIGKILL and
 * started again at will, its output appended to its own log file. Every one of them is killed when the run's own
 * process exits, however it exits, so a run leaves nothing behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, openSync } from "node:fs";
import { join } from "node:path";

/** How to run one process. */
export interface ProcessSpec {
  /** Its name in the report and the name of its log file (`receipts-1` → logs/receipts-1.log). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Its environment, computed at each start (a restarted replica may be pointed at another NATS node). */
  readonly env: () => Record<string, string>;
  /** The OS user to run as (PostgreSQL as `postgres` when the run is root). */
  readonly user?: { uid: number; gid: number };
  readonly logDir: string;
}

/** An exit the run did not ask for. */
export interface UnexpectedExit {
  readonly name: string;
  readonly atMs: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const everyChild = new Set<ChildProcess>();

process.on("exit", () => {
  for (const child of everyChild) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});

const alive = (child: ChildProcess | undefined): child is ChildProcess =>
  child !== undefined && child.exitCode === null && child.signalCode === null;

/** A restartable child process. */
export class SupervisedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private expectExit = false;
  /** Exits nobody asked for, oldest first. */
  readonly unexpectedExits: UnexpectedExit[] = [];
  /** Called on each exit nobody asked for (a restart policy hooks in here). */
  onUnexpectedExit: ((exit: UnexpectedExit) => void) | undefined;
  /** How many times it was started. */
  starts = 0;
  readonly logFile: string;

  /** Prepares the process; nothing runs until start(). */
  constructor(readonly spec: ProcessSpec) {
    this.logFile = join(spec.logDir, `${spec.name}.log`);
  }

  get name(): string {
    return this.spec.name;
  }

  /** The pid of the running process, if it runs. */
  get pid(): number | undefined {
    return alive(this.child) ? this.child.pid : undefined;
  }

  get running(): boolean {
    return alive(this.child);
  }

  /** Starts the process (it must not be running). */
  start(): void {
    if (alive(this.child)) throw new Error(`${this.name} is already running`);
    appendFileSync(this.logFile, `\n=== ${new Date().toISOString()} start #${this.starts + 1}: ${this.spec.command} ${this.spec.args.join(" ")}\n`);
    const log = openSync(this.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, [...this.spec.args], {
        env: this.spec.env(),
        uid: this.spec.user?.uid,
        gid: this.spec.user?.gid,
        cwd: "/",
        stdio: ["ignore", log, log],
      });
    } finally {
      closeSync(log);
    }
    this.starts += 1;
    this.expectExit = false;
    this.child = child;
    everyChild.add(child);
    this.exited = new Promise((resolve) => {
      child.once("error", (err) => {
        appendFileSync(this.logFile, `=== could not start: ${err.message}\n`);
        everyChild.delete(child);
        resolve();
      });
      child.once("exit", (code, signal) => {
        everyChild.delete(child);
        resolve();
        if (!this.expectExit) {
          const exit = { name: this.name, atMs: Date.now(), code, signal };
          this.unexpectedExits.push(exit);
          this.onUnexpectedExit?.(exit);
        }
      });
    });
  }

  /** Sends `signal` and waits for the process to be gone; SIGKILL after `graceMs`. No-op when it is not running. */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!alive(child)) return;
    this.expectExit = true;
    child.kill(signal);
    const timer = signal === "SIGKILL" ? undefined : setTimeout(() => child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** kill -9, and waits until the process is gone. */
  kill9(): Promise<void> {
    return this.stop("SIGKILL");
  }

  /** Resolves when the current process exits (at once when none runs). */
  whenExited(): Promise<void> {
    return this.exited;
  }
}
