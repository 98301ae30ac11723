/**
 * The expiry timer: every PIN_EXPIRY_CHECK_MS it runs app/pins.ts `expirePins`, which deals with each pin whose expiry
 * has passed in the transaction that enqueues its StalenessDetected, so an expiry is published once whichever replica
 * gets to it, and one left by a stopped replica is taken at the next tick.
 */
import type { Logger } from "@provenance/shared";
import type { AppDeps } from "../app/deps.js";
import { expirePins } from "../app/pins.js";

/** Runs `expirePins` every `intervalMs`, one run at a time; a failed run is logged and retried at the next tick. */
export class PinExpiryTimer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    private readonly deps: AppDeps,
    logger: Logger,
    private readonly intervalMs: number,
  ) {
    this.log = logger.child({ component: "pin-expiry" });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.tick();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = expirePins(this.deps, this.log)
      .then((n) => {
        if (n > 0) this.log.debug({ expired: n }, "pin expiries dealt with");
      })
      .catch((err: unknown) => this.log.warn({ err }, "pin expiry check failed; retrying at the next tick"))
      .finally(() => {
        this.running = undefined;
      });
  }
}
