/** The entry point every service's main.ts runs: config, migrate or start, drain on SIGTERM, one line when it cannot. */
import { ConfigError, loadConfig, type ServiceConfig, type ServiceName } from "../config/index.js";
import { DatabaseRoleError } from "../db/index.js";
import { createLogger, type Logger } from "../logging/index.js";
import { onShutdownSignal } from "../server/shutdown.js";
import type { RunningService } from "./service-runtime.js";

/** What a service's main.ts hands to {@link runServiceMain}. */
export interface ServiceMain {
  service: ServiceName;
  /** Applies the schema's migrations (`--migrate-only`, the Kubernetes migration Job). */
  migrate(config: ServiceConfig, logger: Logger): Promise<void>;
  start(config: ServiceConfig, logger: Logger): Promise<RunningService>;
}

/** Errors that are the operator's to fix and say so in their message: shown as that one line, without a stack. */
function isOperatorError(err: unknown): err is Error {
  return err instanceof ConfigError || err instanceof DatabaseRoleError;
}

/**
 * Reads the service's config from the environment, then migrates only (with `--migrate-only` in `argv`) or starts
 * and drains on SIGTERM/SIGINT. A configuration or database-role problem is one line on stderr
 * (`receipts: DATABASE_URL logs in as "root", a superuser: …`) and exit code 1; any other start failure is logged
 * with its cause, exit code 1.
 */
export async function runServiceMain(main: ServiceMain, argv: readonly string[] = process.argv): Promise<void> {
  let logger: Logger | undefined;
  try {
    const config = loadConfig(main.service);
    logger = createLogger(main.service, config.logLevel);
    if (argv.includes("--migrate-only")) {
      await main.migrate(config, logger);
      logger.info(`${main.service} migrations applied`);
      return;
    }
    const running = await main.start(config, logger);
    onShutdownSignal(() => running.stop(), logger);
  } catch (err) {
    if (isOperatorError(err)) process.stderr.write(`${main.service}: ${err.message}\n`);
    else if (logger) logger.fatal({ err }, `${main.service} could not start`);
    else process.stderr.write(`${main.service}: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
    // A half-started service may hold handles (pools, timers); nothing should keep the process up.
    setTimeout(() => process.exit(1), 100).unref();
  }
}
