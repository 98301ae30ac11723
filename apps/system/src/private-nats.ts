/** A private nats-server with JetStream, when one is on the PATH. */
import { spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, rmSync } from "node:fs";
import net from "node:net";
import { delimiter, join } from "node:path";
import { own } from "./owned-processes.js";
import { readStamp, stampOf, stillRunning, waitForExit, writeStamp } from "./process-stamp.js";

/** A running private nats-server. */
export interface PrivateNats {
  readonly url: string;
  readonly pid: number;
  /** Stops the server (SIGTERM; SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>;
}

/** Options of {@link startPrivateNats} beyond the binary, port and store. */
export interface PrivateNatsOptions {
  /** A pid file to write (pid and start time), so a later start can stop this server if the launcher is killed. */
  pidFile?: string;
  /** Called when the server exits without having been asked to. */
  onUnexpectedExit?: () => void;
}

/** The nats-server binary on the PATH (or in the usual sbin folders), if any. */
export function findNatsServer(): string | undefined {
  for (const dir of [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"]) {
    const file = join(dir, "nats-server");
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve();
      });
      sock.once("error", () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nats-server did not listen on 127.0.0.1:${port} within ${ms} ms`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

/**
 * Stops the nats-server that `pidFile` names if it still runs (the same pid and start time): one a killed launcher
 * left behind. Only to be called while holding the data directory's lock. Returns its pid if one was stopped.
 */
export async function stopOrphanNats(pidFile: string): Promise<number | undefined> {
  const stamp = readStamp(pidFile);
  let stopped: number | undefined;
  if (stamp && stillRunning(stamp)) {
    process.kill(stamp.pid, "SIGTERM");
    if (!(await waitForExit(stamp.pid, 5000))) {
      process.kill(stamp.pid, "SIGKILL");
      await waitForExit(stamp.pid, 2000);
    }
    stopped = stamp.pid;
  }
  rmSync(pidFile, { force: true });
  return stopped;
}

/** Starts `binary` with JetStream on 127.0.0.1:`port`, its store in `storeDir`, in a process group of its own. */
export async function startPrivateNats(binary: string, port: number, storeDir: string, opts: PrivateNatsOptions = {}): Promise<PrivateNats> {
  mkdirSync(storeDir, { recursive: true });
  // detached: a process group of its own, out of reach of the terminal's Ctrl-C; the launcher stops it.
  const child = spawn(binary, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], { stdio: "ignore", detached: true });
  own(child, "SIGKILL");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const spawnFailed = new Promise<never>((_, reject) => child.once("error", (err) => reject(new Error(`nats-server could not be started: ${err.message}`))));
  const stamp = child.pid === undefined ? undefined : stampOf(child.pid);
  if (opts.pidFile && stamp) writeStamp(opts.pidFile, stamp);
  const forget = () => {
    if (opts.pidFile && readStamp(opts.pidFile)?.pid === stamp?.pid) rmSync(opts.pidFile, { force: true });
  };
  try {
    await Promise.race([
      waitForPort(port, 5000),
      spawnFailed,
      exited.then(() => {
        throw new Error(`nats-server exited at start (is port ${port} free?)`);
      }),
    ]);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await Promise.race([exited, spawnFailed.catch(() => undefined)]);
    forget();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  void exited.then(() => {
    if (!stopping) opts.onUnexpectedExit?.();
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(timer);
        }
        forget();
      })();
      return stopping;
    },
  };
}
