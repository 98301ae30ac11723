/**
 * The system under test, as separate processes on loopback: the run's PostgreSQL, the 3-node NATS cluster, two
 * replicas of each service (`node services/<s>/dist/main.js`), one proxy per service in front of its replicas, and the
 * pipeline simulator. Replicas can be killed and started again; one that dies on its own is started again after a
 * second, like a Kubernetes restart policy, and that is recorded.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { spawnSync } from "node:child_process";
import { jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";
import { GENERATION_STREAM, streamName, type ServiceName } from "@provenance/shared";
import type { ChaosAuth } from "./chaos-auth.js";
import { OWNER, startChaosPostgres, type ChaosPostgres } from "./supervision/chaos-postgres.js";
import { startNatsCluster, type NatsCluster } from "./supervision/nats-cluster.js";
import { LOOPBACK, freePorts, sleep, waitUntil } from "./supervision/ports.js";
import { SupervisedProcess, type UnexpectedExit } from "./supervision/supervised-process.js";
import { startTcpProxy, type TcpProxy } from "./supervision/tcp-proxy.js";
import type { WorkDir } from "./supervision/work-dir.js";

/** The services, in start order. */
export const SERVICES: readonly ServiceName[] = ["staleness", "receipts", "regeneration"];
/** Replicas per service. */
export const REPLICAS = 2;
/** The simulator's durable consumer on GENERATION (the pipeline simulator's SIMULATOR_DURABLE). */
const SIMULATOR_DURABLE = "pipeline-simulator";
/** How long a replica may take to answer /readyz after a start. */
const READY_WITHIN_MS = 90_000;

/** One replica of a service. */
export interface Replica {
  readonly service: ServiceName;
  /** 1 or 2. */
  readonly index: number;
  readonly port: number;
  readonly url: string;
  readonly process: SupervisedProcess;
}

/** The running system. */
export interface ChaosSystem {
  readonly postgres: ChaosPostgres;
  readonly nats: NatsCluster;
  readonly replicas: readonly Replica[];
  readonly simulator: SupervisedProcess;
  /** The replicas of one service. */
  replicasOf(service: ServiceName): Replica[];
  /** kill -9 of a replica; it stays down until {@link startReplica}. */
  killReplica(replica: Replica): Promise<void>;
  /** Starts a replica and waits until it is ready (starting it again when it exits while starting). */
  startReplica(replica: Replica): Promise<void>;
  /** Exits of a process while it was serving, nobody having asked (each was followed by a restart). */
  readonly crashes: UnexpectedExit[];
  /** Exits of a process before it became ready (each start is retried). */
  readonly failedStarts: UnexpectedExit[];
  /** Every process of the run, for the report. */
  processes(): SupervisedProcess[];
  stop(): Promise<void>;
}

/** The folder of the installed package `pkg` that `entry` resolves into. */
function packageDir(pkg: string, entry: string): string {
  for (let dir = dirname(createRequire(import.meta.url).resolve(entry)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file) && (JSON.parse(readFileSync(file, "utf8")) as { name?: string }).name === pkg) return dir;
  }
  throw new Error(`cannot find the package ${pkg}`);
}

/**
 * The compiled entry point of a workspace package: main.js beside the `default` (dist/) file of its export `subpath`,
 * read from its package.json — under vitest the `source` condition would resolve to src/.
 */
function distMain(pkg: string, subpath: string): string {
  const dir = packageDir(pkg, subpath === "." ? pkg : `${pkg}/${subpath.slice(2)}`);
  const exports = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports: Record<string, { default: string }> }).exports;
  const main = join(dir, dirname(exports[subpath]!.default), "main.js");
  if (!existsSync(main)) throw new Error(`${pkg} is not built (${main} is missing): run TURBO_TELEMETRY_DISABLED=1 npx turbo run build --filter=@provenance/chaos...`);
  return main;
}

const SERVICE_MAINS: Record<ServiceName, () => string> = {
  receipts: () => distMain("@provenance/receipts", "./start"),
  staleness: () => distMain("@provenance/staleness", "./start"),
  regeneration: () => distMain("@provenance/regeneration", "./start"),
};

const simulatorMain = () => distMain("@provenance/pipeline-simulator", ".");

/** The environment every child starts from: nothing of the caller's database, NATS or auth settings leaks in. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "production" };
  if (process.env.HOME) env.HOME = process.env.HOME;
  return env;
}

/** The login role a service's migrations make and its DATABASE_URL names. */
const loginRole = (service: ServiceName) => `${service}_app`;

async function canLogIn(postgres: ChaosPostgres, role: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgres.urlAs(OWNER) });
  await client.connect();
  try {
    const { rows } = await client.query<{ rolcanlogin: boolean }>("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", [role]);
    return rows[0]?.rolcanlogin === true;
  } finally {
    await client.end();
  }
}

async function probeReady(url: string): Promise<boolean> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
  return res.ok;
}

/** Starts everything, in order: PostgreSQL, NATS and the streams, migrations, the replicas, the simulator. */
export async function startChaosSystem(work: WorkDir, auth: ChaosAuth, say: (line: string) => void): Promise<ChaosSystem> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const [pgPort, ...servicePorts] = await freePorts(1 + SERVICES.length * REPLICAS);
    const postgres = await startChaosPostgres(work, pgPort!);
    stops.push(() => postgres.stop());
    say(`postgres     PostgreSQL ${pgPort} (its own cluster, data in ${work.root}/postgres)`);
    const nats = await startNatsCluster(work);
    stops.push(() => nats.stop());
    say(`nats         3 nodes ${nats.nodes.map((n) => n.clientPort).join(", ")}, streams ${nats.streams.join(", ")} at R3`);

    const portsOf = (s: ServiceName) => servicePorts.slice(SERVICES.indexOf(s) * REPLICAS, (SERVICES.indexOf(s) + 1) * REPLICAS);
    const proxies = {} as Record<ServiceName, TcpProxy>;
    for (const s of SERVICES) {
      proxies[s] = await startTcpProxy(portsOf(s));
      const proxy = proxies[s];
      stops.push(() => proxy.close());
    }

    const envOf = (service: ServiceName, port: number, natsUrl: string): Record<string, string> => ({
      ...baseEnv(),
      ...auth.serviceEnv,
      SERVICE_TOKEN_FILE: auth.tokenFile(service),
      MIGRATION_DATABASE_URL: postgres.urlAs(OWNER),
      DATABASE_URL: postgres.urlAs(loginRole(service)),
      NATS_URL: natsUrl,
      HOST: LOOPBACK,
      PORT: String(port),
      EVENT_NAMESPACE: "",
      LOG_LEVEL: "info",
      RECEIPTS_URL: proxies.receipts.url,
      STALENESS_URL: proxies.staleness.url,
      REGENERATION_URL: proxies.regeneration.url,
    });

    // Migrations first, as the owner (what the Kubernetes migration Job does): they make each service's login role,
    // which its DATABASE_URL names (trust on loopback: no password).
    for (const s of SERVICES) {
      const r = spawnSync(process.execPath, [SERVICE_MAINS[s](), "--migrate-only"], { env: envOf(s, 0, nats.urlFor(0)), encoding: "utf8", timeout: 120_000 });
      if (r.status !== 0) throw new Error(`${s} migrations failed: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`);
      if (!(await canLogIn(postgres, loginRole(s)))) throw new Error(`the ${s} migrations made no login role ${loginRole(s)}`);
    }
    say(`logins       migrations as ${OWNER}; ${SERVICES.map((s) => `${s} as ${loginRole(s)}`).join(", ")}`);

    const crashes: UnexpectedExit[] = [];
    const failedStarts: UnexpectedExit[] = [];
    const replicas: Replica[] = [];
    let stopping = false;
    const starting = new Set<Replica>();
    const startReplica = async (replica: Replica) => {
      starting.add(replica);
      try {
        for (let attempt = 1; ; attempt++) {
          replica.process.start();
          const ready = await Promise.race([
            waitUntil(`${replica.process.name} was not ready`, () => probeReady(replica.url), READY_WITHIN_MS, 200).then(() => true),
            replica.process.whenExited().then(() => false),
          ]);
          if (ready) return;
          const exit = replica.process.unexpectedExits.at(-1);
          if (exit) failedStarts.push(exit);
          if (attempt === 10) throw new Error(`${replica.process.name} did not start in 10 attempts; see ${replica.process.logFile}`);
          await sleep(1_000);
        }
      } finally {
        starting.delete(replica);
      }
    };
    for (const service of SERVICES) {
      portsOf(service).forEach((port, i) => {
        const index = i + 1;
        const replica: Replica = {
          service,
          index,
          port,
          url: `http://${LOOPBACK}:${port}`,
          process: new SupervisedProcess({
            name: `${service}-${index}`,
            command: process.execPath,
            args: [SERVICE_MAINS[service]()],
            // Each replica talks to its "own" NATS node (gossip tells the client the others), or to one that is up.
            env: () => envOf(service, port, nats.urlFor(SERVICES.indexOf(service) + i)),
            logDir: work.logs,
          }),
        };
        replica.process.onUnexpectedExit = (exit) => {
          if (stopping || starting.has(replica)) return;
          crashes.push(exit);
          setTimeout(() => void startReplica(replica).catch(() => undefined), 1_000);
        };
        replicas.push(replica);
      });
    }
    stops.push(async () => {
      stopping = true;
      await Promise.all(replicas.map((r) => r.process.stop("SIGTERM", 10_000)));
    });
    for (const service of SERVICES) await Promise.all(replicas.filter((r) => r.service === service).map(startReplica));
    say(`services     ${replicas.map((r) => `${r.process.name} :${r.port}`).join(", ")}`);

    const simulator = new SupervisedProcess({
      name: "pipeline-simulator",
      command: process.execPath,
      args: [simulatorMain()],
      env: () => ({
        ...baseEnv(),
        NATS_URL: nats.urlFor(2),
        RECEIPTS_URL: proxies.receipts.url,
        EVENT_NAMESPACE: "",
        LOG_LEVEL: "info",
        SERVICE_TOKEN_FILE: auth.tokenFile("pipeline-simulator"),
      }),
      logDir: work.logs,
    });
    simulator.onUnexpectedExit = (exit) => {
      if (stopping) return;
      crashes.push(exit);
      setTimeout(() => simulator.start(), 1_000);
    };
    simulator.start();
    stops.push(() => simulator.stop("SIGTERM", 10_000));
    const nc = await nats.connect("chaos-setup");
    try {
      const jsm = await jetstreamManager(nc);
      await waitUntil(
        "the pipeline simulator did not subscribe",
        () => jsm.consumers.info(streamName("", GENERATION_STREAM), SIMULATOR_DURABLE).then(() => true),
        30_000,
        200,
      );
    } finally {
      await nc.close();
    }
    say(`simulator    consuming generation.jobs.requested through ${proxies.receipts.url}`);

    return {
      postgres,
      nats,
      replicas,
      simulator,
      replicasOf: (service) => replicas.filter((r) => r.service === service),
      killReplica: (replica) => replica.process.kill9(),
      startReplica,
      crashes,
      failedStarts,
      processes: () => [postgres.process, ...nats.nodes.map((n) => n.process), ...replicas.map((r) => r.process), simulator],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
