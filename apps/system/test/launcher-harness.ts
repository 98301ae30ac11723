/**
 * The real launcher (dist/main.js, built from this package's source) run as `npm start` runs it in a terminal: a
 * child process leading a process group of its own, signalled through that group as a terminal's Ctrl-C is.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ReceiptService } from "@provenance/shared";
import { createOutboundAuthInterceptor, openLocalIssuer, staticTokenSource } from "@provenance/shared/auth";
import { sampleCreateReceipt } from "@provenance/shared/testing";
import { freePort } from "@provenance/shared";

const systemDir = fileURLToPath(new URL("..", import.meta.url));
const launcherScript = join(systemDir, "dist", "main.js");

/** Builds dist/ from this package's source (its dependencies' dist/ come from turbo's ^build or `npm run build`). */
export function buildLauncher(): void {
  try {
    execFileSync(process.execPath, [fileURLToPath(import.meta.resolve("typescript/bin/tsc")), "-p", "tsconfig.build.json"], {
      cwd: systemDir,
      encoding: "utf8",
      stdio: "pipe",
    });
  } catch (err) {
    throw new Error(`building the launcher failed:\n${(err as { stdout?: string }).stdout ?? String(err)}`);
  }
}

/** How a launcher ended. */
export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when it ended. */
  at: number;
}

/** A running launcher. */
export interface Launcher {
  readonly pid: number;
  readonly dataDir: string;
  readonly ended: Promise<Ended>;
  stdout(): string;
  stderr(): string;
  /** Its stdout lines so far. */
  lines(): string[];
  /** Waits for a stdout line matching `pattern` (rejects if it ends first or after `ms`). */
  line(pattern: RegExp, ms?: number): Promise<string>;
  /** Sends `signal` to its whole process group, as a terminal does. */
  signalGroup(signal: NodeJS.Signals): void;
}

/** Processes the launcher started (by their parent pid), with their command names. */
export function childrenOf(pid: number): { pid: number; name: string }[] {
  const found: { pid: number; name: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) found.push({ pid: Number(entry), name });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Whether a process `pid` exists (a zombie counts as gone). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

const started: Launcher[] = [];
/** Server pids a test saw, and what stops each at once. */
const serverPids = new Map<number, NodeJS.Signals>();

/** Starts the launcher on `dataDir`, every port free (0 or a free one), with `env` on top. */
export async function launch(dataDir: string, env: Record<string, string> = {}): Promise<Launcher> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(childEnv)) {
    if (/^(AUTH_|CONSOLE_OIDC_)/.test(name)) delete childEnv[name];
  }
  for (const name of ["DATABASE_URL", "NATS_URL", "LOG_LEVEL", "EVENT_NAMESPACE", "HOST", "PIPELINE_SIMULATOR", "SERVICE_TOKEN_FILE"]) delete childEnv[name];
  Object.assign(childEnv, {
    PROVENANCE_DATA_DIR: dataDir,
    RECEIPTS_PORT: "0",
    STALENESS_PORT: "0",
    REGENERATION_PORT: "0",
    CONSOLE_PORT: "0",
    EMBEDDED_PG_PORT: String(await freePort(0)),
    EMBEDDED_NATS_PORT: String(await freePort(0)),
    ...env,
  });
  const child: ChildProcess = spawn(process.execPath, [launcherScript], { detached: true, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (c: Buffer) => {
    out += c.toString();
    for (const w of waiters) w();
  });
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const ended = new Promise<Ended>((resolve) =>
    child.once("exit", (code, signal) => {
      resolve({ code, signal, at: Date.now() });
      for (const w of waiters) w();
    }),
  );
  let done = false;
  void ended.then(() => (done = true));
  const lines = () => out.split("\n").filter((l) => l !== "");
  const launcher: Launcher = {
    pid: child.pid!,
    dataDir,
    ended,
    stdout: () => out,
    stderr: () => err,
    lines,
    line(pattern, ms = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${ms} ms; stdout:\n${out}\nstderr:\n${err}`)), ms);
        const check = () => {
          const hit = lines().find((l) => pattern.test(l));
          if (hit !== undefined) finish(undefined, hit);
          else if (done) finish(new Error(`the launcher ended before printing a line matching ${pattern}; stdout:\n${out}\nstderr:\n${err}`));
        };
        const finish = (e?: Error, hit?: string) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (e) reject(e);
          else resolve(hit!);
        };
        waiters.add(check);
        // Let `done` settle for a launcher that has already ended.
        setImmediate(check);
      });
    },
    signalGroup(signal) {
      process.kill(-child.pid!, signal);
    },
  };
  started.push(launcher);
  return launcher;
}

/** Waits for the launcher's `ready` line; returns the PostgreSQL and nats-server it started, and the receipts URL. */
export async function ready(l: Launcher): Promise<{ postgres: number; nats: number; receiptsUrl: string }> {
  await l.line(/^ready /);
  const children = childrenOf(l.pid);
  const postgres = children.find((c) => c.name === "postgres")?.pid;
  const nats = children.find((c) => c.name === "nats-server")?.pid;
  if (postgres === undefined || nats === undefined) throw new Error(`expected a postgres and a nats-server child, got ${JSON.stringify(children)}`);
  serverPids.set(postgres, "SIGQUIT").set(nats, "SIGKILL");
  const receiptsUrl = (await l.line(/^receipts +http:/)).split(/\s+/)[1]!;
  return { postgres, nats, receiptsUrl };
}

/** Whatever a test left running is stopped: launchers (the group) and the servers they started. */
export async function stopEverything(): Promise<void> {
  for (const l of started) {
    try {
      process.kill(-l.pid, "SIGKILL");
    } catch {
      // ended
    }
  }
  for (const [pid, signal] of serverPids) {
    try {
      if (running(pid)) process.kill(pid, signal);
    } catch {
      // gone
    }
  }
  await gone([...serverPids.keys()], 5000);
  started.length = 0;
  serverPids.clear();
}

/** Waits until none of `pids` runs; returns those still running after `ms`. */
export async function gone(pids: number[], ms = 5000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter(running);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Holds one RPC open at `url` (its body never finishes arriving), so a graceful stop has to wait for it: the
 * services give a request in flight up to 10 s, longer than the launcher's stop deadline.
 */
export function holdRequest(url: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(
        "POST /provenance.v1.ReceiptService/GetReceipt HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{",
      );
      // Give the server time to take it as a request in flight.
      setTimeout(() => resolve(socket), 300);
    });
    socket.on("error", () => undefined);
    socket.once("error", reject);
  });
}


/** A ReceiptService client signed in as the local user of the launcher on `dataDir` (its local issuer). */
async function receiptsClient(dataDir: string, receiptsUrl: string) {
  const token = await (await openLocalIssuer(join(dataDir, "auth"))).mintToken();
  const interceptors = [createOutboundAuthInterceptor({ serviceToken: staticTokenSource(token) })];
  return createClient(ReceiptService, createGrpcTransport({ baseUrl: receiptsUrl, interceptors }));
}

/** Records a receipt through the receipts service of the launcher on `dataDir`, as its local user; returns its id. */
export async function recordReceipt(dataDir: string, receiptsUrl: string, segmentId: string): Promise<string> {
  const client = await receiptsClient(dataDir, receiptsUrl);
  const { receipt } = await client.createReceipt(sampleCreateReceipt({ segmentId, projectId: "p-launcher", idempotencyKey: `launcher-${segmentId}` }));
  return receipt!.receiptId;
}

/** The segment id of receipt `receiptId` as the receipts service of the launcher on `dataDir` serves it. */
export async function segmentOf(dataDir: string, receiptsUrl: string, receiptId: string): Promise<string> {
  const client = await receiptsClient(dataDir, receiptsUrl);
  return (await client.getReceipt({ receiptId })).receipt!.segmentId;
}
