/** Process shutdown: run the drain once on SIGTERM/SIGINT, then exit. */
import type { Logger } from "pino";

/** Runs `fn` once on the first SIGTERM or SIGINT, then exits 0 (1 if `fn` fails); a second signal exits at once. */
export function onShutdownSignal(fn: () => Promise<void>, logger: Logger): void {
  let started = false;
  const handler = (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn({ signal }, "second shutdown signal, exiting now");
      process.exit(1);
    }
    started = true;
    logger.info({ signal }, "shutting down");
    fn().then(
      () => {
        logger.info("shut down cleanly");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}
