/**
 * The whole system in one process, the way `npm start` runs it: a database (embedded unless given),
 * NATS (a private nats-server unless given), identity and access (a local issuer unless AUTH_JWKS is given), the
 * three services on their ports, the pipeline simulator and the console.
 */
import { join } from "node:path";
import { IN_PROCESS_BUS_URL, connectEvents, createLogger, freePort, loadConfig, portFree, type Logger, type LogLevel, type ServiceName } from "@provenance/shared";
import { readServiceTokenFile, type LocalIssuer } from "@provenance/shared/auth";
import { startReceipts } from "@provenance/receipts/start";
import { startStaleness } from "@provenance/staleness/start";
import { startRegeneration } from "@provenance/regeneration/start";
import { startPipelineSimulator } from "@provenance/pipeline-simulator";
import { c2paOptionsFromEnv, oidcSettingsFromEnv, serveConsole, type ConsoleSignIn } from "@provenance/console/serve";
import { startEmbeddedDatabase, stopOrphanPostgres } from "./embedded-database.js";
import { lockDataDir } from "./instance-lock.js";
import { findNatsServer, startPrivateNats, stopOrphanNats } from "./private-nats.js";
import { receiptLogEnv, receiptLogVerifierKey } from "./receipt-log-key.js";
import { serviceDatabases } from "./service-databases.js";
import { setUpAccess, type SystemAccess } from "./system-access.js";
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
  /**
   * Where the identity-and-access settings are read from (npm start: its environment): with `AUTH_JWKS` set,
   * `AUTH_JWKS`, `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_POLICY` and `SERVICE_TOKEN_FILE` go to the services (and the
   * token file to the simulator), and the console signs in through `CONSOLE_OIDC_*`; otherwise (the default) the
   * local issuer under `<dataDir>/auth` is used and the console signs in as its local user.
   */
  authEnv?: Readonly<Record<string, string | undefined>>;
  /** Lifetime of the local issuer's token files for the launcher's own processes (default 12 h), re-minted at half. */
  tokenTtlSeconds?: number;
  /**
   * Where `RECEIPT_LOG_SIGNING_KEY`, `RECEIPT_LOG_ORIGIN` and `RECEIPT_LOG_AUDIT_INTERVAL_SECONDS` are read from (npm
   * start: its environment); without a key file there, the launcher's own under `<dataDir>/receipt-log` is used.
   */
  receiptLogEnv?: Readonly<Record<string, string | undefined>>;
}

/** The running system. */
export interface RunningSystem {
  readonly urls: Readonly<Record<ServiceName, string>>;
  /** The database's owner connection (each service logs in as its own role on the same database). */
  readonly databaseUrl: string;
  readonly natsUrl: string;
  /** The console's address, when one is served. */
  readonly consoleUrl?: string;
  /** `local` (the local issuer signs every token) or `external` (AUTH_JWKS was given). */
  readonly accessMode: SystemAccess["mode"];
  /** The local issuer in local mode: tokens for the local user (`issuer.mintToken()`) or anyone else. */
  readonly issuer?: LocalIssuer;
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

    checkpoint();
    const access = await setUpAccess({ dataDir: opts.dataDir, env: opts.authEnv ?? {}, tokenTtlSeconds: opts.tokenTtlSeconds });
    stops.push(async () => access.stop());
    const simulatorOn = opts.simulator ?? true;
    if (simulatorOn && access.simulatorTokenFile === undefined) {
      throw new SystemStartError(
        "SERVICE_TOKEN_FILE is required with AUTH_JWKS: the pipeline simulator presents it (a token with the pipeline role); or set PIPELINE_SIMULATOR=0",
      );
    }
    const consoleSignIn: ConsoleSignIn | undefined =
      access.issuer !== undefined
        ? { mode: "local", subject: access.issuer.subject, mintToken: () => access.issuer!.mintToken() }
        : oidcSettingsFromEnv(opts.authEnv ?? {});

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

    say(access.line);
    const receiptLog = await receiptLogEnv(opts.dataDir, opts.receiptLogEnv ?? {});
    say(
      `receipt log  checkpoints signed with ${receiptLog.key.file}` +
        (receiptLog.key.configured ? " (RECEIPT_LOG_SIGNING_KEY)" : receiptLog.key.created ? " (a new key, made now)" : ""),
    );
    const urls = Object.fromEntries(
      (Object.keys(ports) as ServiceName[]).map((n) => [n, `http://127.0.0.1:${ports[n]}`]),
    ) as Record<ServiceName, string>;
    const databases = serviceDatabases(databaseUrl);
    const env = {
      NATS_URL: natsUrl,
      HOST: host,
      LOG_LEVEL: opts.logLevel ?? "warn",
      EVENT_NAMESPACE: opts.eventNamespace ?? "",
      RECEIPTS_URL: urls.receipts,
      STALENESS_URL: urls.staleness,
      REGENERATION_URL: urls.regeneration,
    };
    const configOf = (name: ServiceName) =>
      loadConfig(name, {
        ...env,
        ...databases(name),
        ...access.serviceEnv(name),
        ...(name === "receipts" ? receiptLog.env : {}),
        PORT: String(ports[name]),
      });
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
    if (simulatorOn) {
      const logger = loggerOf("pipeline-simulator");
      const serviceToken = await readServiceTokenFile(access.simulatorTokenFile!, {
        onReloadError: (err) => logger.error({ err }, "the pipeline simulator's token file changed but cannot be used; keeping the previous token"),
      });
      const nc = await connectEvents(natsUrl, "pipeline-simulator", logger);
      const simulator = await startPipelineSimulator({
        nc,
        namespace: env.EVENT_NAMESPACE,
        receiptsUrl: urls.receipts,
        serviceToken,
        logger,
      });
      stops.push(async () => {
        await simulator.stop();
        await nc.drain();
      });
      say("pipeline     simulator consuming generation.jobs.requested (demo only; PIPELINE_SIMULATOR=0 turns it off)");
    }
    checkpoint();
    let consoleUrl: string | undefined;
    if (opts.consolePort !== false) {
      // The console trusts the receipt log's key as the key file says, not as the receipts service serves it.
      const receiptLogKey = await receiptLogVerifierKey(receiptLog.key.file, receiptLog.env.RECEIPT_LOG_ORIGIN);
      // Content Credentials: CONSOLE_C2PA_CERT/CONSOLE_C2PA_KEY, else the local certificate under <dataDir>/c2pa (the CLI's).
      const c2pa = c2paOptionsFromEnv(opts.authEnv ?? {}, opts.dataDir);
      const web = await serveConsole({ port: consolePort, host, servicesConfig: urls, signIn: consoleSignIn, receiptLogKey, c2pa });
      stops.push(() => web.close());
      consoleUrl = web.url;
      say(
        `console      ${web.url}` +
          (consoleSignIn === undefined ? " (no sign-in: set CONSOLE_OIDC_ISSUER, CONSOLE_OIDC_CLIENT_ID and CONSOLE_OIDC_REDIRECT_URI)" : ""),
      );
    }
    checkpoint();
    return { urls, databaseUrl, natsUrl, consoleUrl, accessMode: access.mode, issuer: access.issuer, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
