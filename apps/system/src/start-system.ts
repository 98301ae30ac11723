/**
 * The whole system in one process, the way `npm start` runs it: a database (embedded unless given),
 * NATS (a private nats-server unless given), the three services on their ports, and the pipeline simulator.
 */
import { join } from "node:path";
import { IN_PROCESS_BUS_URL, connectEvents, createLogger, loadConfig, type Logger, type LogLevel, type ServiceName } from "@provenance/shared";
import { startReceipts } from "@provenance/receipts/start";
import { startStaleness } from "@provenance/staleness/start";
import { startRegeneration } from "@provenance/regeneration/start";
import { startPipelineSimulator } from "@provenance/pipeline-simulator";
import { serveConsole } from "@provenance/console/serve";
import { startEmbeddedDatabase, stopOrphanPostgres } from "./embedded-database.js";
import { lockDataDir } from "./instance-lock.js";
import { findNatsServer, startPrivateNats, stopOrphanNats } from "./private-nats.js";
import { freePort, portFree } from "./ports.js";
import { SystemStartError } from "./system-start-error.js";

export { SystemStartError };

/** How to run the system. */
export interface SystemOptions {
  /** Where the embedded database and the private NATS keep their data. */
  dataDir: string;
  /** Use this PostgreSQL instead of the embedded one. */
  databaseUrl?: string;
  /** Use this NATS instead of a private nats-server. */
  natsUrl?: string;
  /** Address the services listen on (default 127.0.0.1). */
  host?: string;
  /** Service ports; 0 = any free port (default 7101, 7102, 7103). */
  ports?: Partial<Record<ServiceName, number>>;
  /** First port to try for the embedded database (default 54329) and the private NATS (default 4223). */
  embeddedDatabasePort?: number;
  embeddedNatsPort?: number;
  /** Port of the web console (default 7100; 0 = any free port); `false` serves no console. */
  consolePort?: number | false;
  /** Run the pipeline simulator on generation.jobs.requested (default true). */
  simulator?: boolean;
  logLevel?: LogLevel;
  eventNamespace?: string;
  /** Where status lines go (default: nowhere). */
  say?: (line: string) => void;
  /** Aborting it while starting stops what has started and rejects with a SystemStartError. */
  signal?: AbortSignal;
  /** Called (once) with a line saying what happened when the embedded PostgreSQL or the private nats-server exits unasked. */
  onDependencyLost?: (line: string) => void;
  /** Where copies go that the postgres OS user can reach, when running as root (default /var/lib/provenance). */
  reachableRoot?: string;
}

/** The running system. */
export interface RunningSystem {
  readonly urls: Readonly<Record<ServiceName, string>>;
  readonly databaseUrl: string;
  readonly natsUrl: string;
  /**
   * Stops everything in reverse order of start (console, simulator, services, NATS), the embedded database last;
   * from then on the services' own log lines are muted. Safe to call twice.
   */
  stop(): Promise<void>;
}

const DEFAULT_PORTS: Record<ServiceName, number> = { receipts: 7101, staleness: 7102, regeneration: 7103 };

/** Starts the system; on failure, whatever had started is stopped again. */
export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const say = opts.say ?? (() => {});
  const host = opts.host ?? "127.0.0.1";
  const stops: (() => Promise<void>)[] = [];
  const loggers: Logger[] = [];
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      // What the services report while they are taken down (and their dependencies after them) is not news.
      for (const logger of loggers) logger.level = "silent";
      for (const s of stops.reverse()) {
        try {
          await s();
        } catch {
          // keep stopping the rest
        }
      }
    })();
    return stopped;
  };
  const checkpoint = () => {
    if (opts.signal?.aborted) throw new SystemStartError("stopped while starting");
  };
  let lost = false;
  const dependencyLost = (line: string) => {
    if (lost || stopped) return;
    lost = true;
    opts.onDependencyLost?.(line);
  };
  try {
    const natsPidFile = join(opts.dataDir, "nats.pid");
    // One launcher per data directory: a second refuses before it touches anything of the first.
    if (!opts.databaseUrl || !opts.natsUrl) {
      const lock = lockDataDir(opts.dataDir);
      stops.push(async () => lock.release());
      const orphans = [
        ...(await stopOrphanPostgres(opts.dataDir, opts.reachableRoot)).map((pid) => `PostgreSQL (pid ${pid})`),
        ...[await stopOrphanNats(natsPidFile)].filter((pid) => pid !== undefined).map((pid) => `nats-server (pid ${pid})`),
      ];
      if (orphans.length > 0) {
        const by = lock.earlier ? `an earlier npm start (pid ${lock.earlier.pid})` : "an earlier npm start";
        say(`cleanup      stopped what ${by} left running: ${orphans.join(", ")}`);
      }
    }

    // Ports next, so a port in use is one clear line before anything starts.
    const ports = {} as Record<ServiceName, number>;
    for (const name of Object.keys(DEFAULT_PORTS) as ServiceName[]) {
      const wanted = opts.ports?.[name] ?? DEFAULT_PORTS[name];
      if (wanted !== 0 && !(await portFree(wanted, host))) {
        throw new SystemStartError(
          `port ${wanted} for the ${name} service is already in use on ${host}: stop what uses it, or set ${name.toUpperCase()}_PORT`,
        );
      }
      ports[name] = wanted === 0 ? await freePort(0, host) : wanted;
    }

    const wantedConsole = opts.consolePort === false ? false : (opts.consolePort ?? 7100);
    if (wantedConsole !== false && wantedConsole !== 0 && !(await portFree(wantedConsole, host))) {
      throw new SystemStartError(
        `port ${wantedConsole} for the web console is already in use on ${host}: stop what uses it, or set CONSOLE_PORT`,
      );
    }
    const consolePort = wantedConsole === false ? 0 : wantedConsole === 0 ? await freePort(0, host) : wantedConsole;

    let databaseUrl = opts.databaseUrl;
    if (!databaseUrl) {
      checkpoint();
      const db = await startEmbeddedDatabase({
        dataDir: opts.dataDir,
        port: await freePort(opts.embeddedDatabasePort ?? 54329),
        reachableRoot: opts.reachableRoot,
        onUnexpectedExit: () => dependencyLost(`the embedded PostgreSQL (pid ${db.pid}) exited unexpectedly; see ${db.location.logFile}`),
      });
      stops.push(() => db.stop());
      databaseUrl = db.url;
      const { pgdata, reason } = db.location;
      const { root, copiedFrom } = db.binaries;
      say(
        `database     embedded PostgreSQL on 127.0.0.1:${db.port}, data in ${pgdata}${reason ? ` (${reason})` : ""}` +
          (copiedFrom ? `, binaries in ${root} (the postgres OS user cannot reach ${copiedFrom})` : ""),
      );
    }

    let natsUrl = opts.natsUrl;
    if (!natsUrl) {
      const binary = findNatsServer();
      if (binary) {
        checkpoint();
        const store = join(opts.dataDir, "nats");
        const nats = await startPrivateNats(binary, await freePort(opts.embeddedNatsPort ?? 4223), store, {
          pidFile: natsPidFile,
          onUnexpectedExit: () => dependencyLost(`the private nats-server (pid ${nats.pid}) exited unexpectedly`),
        });
        stops.push(() => nats.stop());
        natsUrl = nats.url;
        say(`events       private nats-server with JetStream at ${nats.url}, store in ${store}`);
      } else {
        natsUrl = IN_PROCESS_BUS_URL;
        say("events       NATS_URL is unset and no nats-server is on the PATH: using the in-process event bus (events are kept in memory only)");
      }
    }

    const urls = Object.fromEntries(
      (Object.keys(ports) as ServiceName[]).map((n) => [n, `http://127.0.0.1:${ports[n]}`]),
    ) as Record<ServiceName, string>;
    const env = {
      DATABASE_URL: databaseUrl,
      NATS_URL: natsUrl,
      HOST: host,
      LOG_LEVEL: opts.logLevel ?? "warn",
      EVENT_NAMESPACE: opts.eventNamespace ?? "",
      RECEIPTS_URL: urls.receipts,
      STALENESS_URL: urls.staleness,
      REGENERATION_URL: urls.regeneration,
    };
    const configOf = (name: ServiceName) => loadConfig(name, { ...env, PORT: String(ports[name]) });
    const loggerOf = (name: string) => {
      const logger = createLogger(name, env.LOG_LEVEL);
      loggers.push(logger);
      return logger;
    };

    checkpoint();
    const receipts = await startReceipts(configOf("receipts"), loggerOf("receipts"));
    stops.push(() => receipts.stop());
    say(`receipts     ${urls.receipts}`);
    const staleness = await startStaleness(configOf("staleness"), loggerOf("staleness"));
    stops.push(() => staleness.stop());
    say(`staleness    ${urls.staleness}`);
    const regeneration = await startRegeneration(configOf("regeneration"), loggerOf("regeneration"));
    stops.push(() => regeneration.stop());
    say(`regeneration ${urls.regeneration}`);

    checkpoint();
    if (opts.simulator ?? true) {
      const nc = await connectEvents(natsUrl, "pipeline-simulator", loggerOf("pipeline-simulator"));
      const simulator = await startPipelineSimulator({
        nc,
        namespace: env.EVENT_NAMESPACE,
        receiptsUrl: urls.receipts,
        logger: loggerOf("pipeline-simulator"),
      });
      stops.push(async () => {
        await simulator.stop();
        await nc.drain();
      });
      say("pipeline     simulator consuming generation.jobs.requested (demo only; PIPELINE_SIMULATOR=0 turns it off)");
    }
    checkpoint();
    if (opts.consolePort !== false) {
      const web = await serveConsole({ port: consolePort, host, servicesConfig: urls });
      stops.push(() => web.close());
      say(`console      ${web.url}`);
    }
    checkpoint();
    return { urls, databaseUrl, natsUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
