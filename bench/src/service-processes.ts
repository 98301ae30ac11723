/** The services as child processes (`node services/<svc>/dist/main.js`), so RSS is per service. */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { SERVICE_DATABASE_ROLES, databaseUrlAs, freePort } from "@provenance/shared";

/** The repository root (this file lives in bench/src or bench/dist). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The services the benchmark runs. */
export type BenchService = "receipts" | "staleness" | "regeneration";

/**
 * The NODE_OPTIONS a service's Deployment (deploy/kustomize/base/<name>/deployment.yaml) sets for its container: the
 * V8 heap bound it runs with in a cluster, so the benchmark measures its memory and CPU with the same bound.
 */
export function deployedNodeOptions(name: BenchService, manifest = readFileSync(`${REPO_ROOT}deploy/kustomize/base/${name}/deployment.yaml`, "utf8")): string {
  const m = /^\s*- name: NODE_OPTIONS\n\s*value: "([^"]*)"\s*$/m.exec(manifest);
  if (!m) throw new Error(`deploy/kustomize/base/${name}/deployment.yaml sets no NODE_OPTIONS (value: "...") for the benchmark to run the service with`);
  return m[1]!;
}

/** A running service process. */
export interface ServiceProcess {
  name: BenchService;
  /** How it is named in the results: the service, or `<service>-<n>` for a further replica. */
  label: string;
  url: string;
  pid: number;
  /** Sends SIGTERM and waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** Ports chosen up front so each service can be given the other's URL. */
export async function allocatePorts(): Promise<Record<BenchService, number>> {
  const taken = new Set<number>();
  const pick = async () => {
    const port = await freePort(0, "127.0.0.1", taken);
    taken.add(port);
    return port;
  };
  return { receipts: await pick(), staleness: await pick(), regeneration: await pick() };
}

/** What every service process is started with. */
export interface ServiceEnv {
  /** The database owner's URL: migrations run with it, the service logs in as its own role on the same database. */
  databaseUrl: string;
  /** Identity and access: AUTH_JWKS, AUTH_ISSUER, AUTH_AUDIENCE, AUTH_POLICY, SERVICE_TOKEN_FILE. */
  auth: Readonly<Record<string, string>>;
  natsUrl: string;
  namespace: string;
  ports: Record<BenchService, number>;
  logFile: string;
}

/**
 * Starts `node services/<name>/dist/main.js`; resolves once it answers HTTP. `replica` (a label and a port of its
 * own) starts a further replica of the service on the same database and streams.
 */
export async function startServiceProcess(
  name: BenchService,
  env: ServiceEnv,
  replica?: { label: string; port: number },
): Promise<ServiceProcess> {
  const main = `${REPO_ROOT}services/${name}/dist/main.js`;
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npm run build)`);
  const port = replica?.port ?? env.ports[name];
  const label = replica?.label ?? name;
  const url = `http://127.0.0.1:${port}`;
  const log = createWriteStream(env.logFile, { flags: "a" });
  // BENCH_PROFILE_DIR: write a V8 CPU profile of each service on exit, to see where its time goes.
  const profile = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`, `--cpu-prof-name=${label}.cpuprofile`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, main], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_OPTIONS: deployedNodeOptions(name),
      ...env.auth,
      DATABASE_URL: databaseUrlAs(env.databaseUrl, SERVICE_DATABASE_ROLES[name]),
      MIGRATION_DATABASE_URL: env.databaseUrl,
      NATS_URL: env.natsUrl,
      EVENT_NAMESPACE: env.namespace,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      RECEIPTS_URL: `http://127.0.0.1:${env.ports.receipts}`,
      STALENESS_URL: `http://127.0.0.1:${env.ports.staleness}`,
      REGENERATION_URL: `http://127.0.0.1:${env.ports.regeneration}`,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Both into one file, which neither may end: the other may still write (a service exiting at start ended stdout
  // first, and its last stderr line then crashed the bench with ERR_STREAM_WRITE_AFTER_END instead of the message below).
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  child.once("close", () => log.end());
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      exited = code;
      resolve();
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`${label} exited with ${exited} while starting; see ${env.logFile}`);
    const healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      async (res) => (await res.arrayBuffer(), res.ok),
      () => false,
    );
    if (healthy) break;
    // Not answering yet, or something else answering on the port: both wait, up to the same deadline.
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${label} did not answer 200 on ${url}/healthz within 60 s; see ${env.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name,
    label,
    url,
    pid: child.pid!,
    async stop() {
      if (exited !== undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Resident set size of a process in MiB, from /proc (NaN where /proc is missing). */
export async function rssMiB(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The V8 heap a service has in use, in MiB, from its /metrics (NaN when it does not answer). */
export async function heapUsedMiB(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) });
    const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([0-9.e+]+)$/m.exec(await res.text());
    return m ? Number(m[1]) / (1024 * 1024) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Samples each service's RSS every 250 ms and keeps the peak per phase. */
export class RssSampler {
  private phase = "startup";
  private timer?: NodeJS.Timeout;
  /** Peak RSS (MiB) per service per phase. */
  readonly peaks: Record<string, Record<string, number>> = {};
  /** The V8 heap in use (MiB, `nodejs_heap_size_used_bytes` of the service's /metrics) at the end of each phase. */
  readonly heapAtEnd: Record<string, Record<string, number>> = {};

  constructor(private readonly processes: ServiceProcess[]) {}

  /** Samples `p` too from now on (a replica started later). */
  add(p: ServiceProcess): void {
    this.processes.push(p);
  }

  /** Starts sampling. */
  start(): void {
    this.timer = setInterval(() => void this.sample(), 250);
  }

  /** Names the phase the next samples belong to (recording the heap in use at the end of the last one). */
  enter(phase: string): void {
    void this.heapSample(this.phase);
    this.phase = phase;
    void this.sample();
  }

  private async heapSample(phase: string): Promise<void> {
    await Promise.all(
      this.processes.map(async (p) => {
        const mib = await heapUsedMiB(p.url);
        if (!Number.isNaN(mib)) (this.heapAtEnd[p.label] ??= {})[phase] = Math.round(mib * 10) / 10;
      }),
    );
  }

  private async sample(): Promise<void> {
    const phase = this.phase;
    for (const p of this.processes) {
      const mib = await rssMiB(p.pid);
      if (Number.isNaN(mib)) continue;
      const perPhase = (this.peaks[p.label] ??= {});
      perPhase[phase] = Math.max(perPhase[phase] ?? 0, Math.round(mib * 10) / 10);
    }
  }

  /** Stops sampling (recording the heap in use at the end of the current phase first). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.heapSample(this.phase);
  }
}
