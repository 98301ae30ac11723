/**
 * The detector: schedules detection (app/detect-staleness.ts), which turns each queued change of an asset's current
 * version into StalenessDetected events through the outbox, one project at a time, after the change has committed.
 */
import type { Logger } from "@provenance/shared";
import type { DetectStaleness } from "../app/detect-staleness.js";

/** What the detector needs. */
export interface StalenessDetectorOptions {
  detection: DetectStaleness;
  logger: Logger;
  /** How often to look for tasks nobody woke this replica for (another replica's, or left by one that stopped); ms, default 1000. */
  pollIntervalMs?: number;
  /** Assets worked on at once, each on a database connection of its own (default 2). */
  concurrency?: number;
}

const PENDING_BATCH = 100;
const MAX_BACKOFF_MS = 30_000;

/**
 * Schedules the detection queue. Woken in-process after a change commits, by a poll (so tasks of a replica that died
 * are taken over) and at start (so tasks left by the last run are resumed). Each asset with unfinished tasks is run by
 * {@link DetectStaleness.runAsset}, up to `concurrency` assets at once; an asset whose lock another replica holds is
 * left to it until the next poll, one whose run failed is retried after a growing delay.
 */
export class StalenessDetector {
  private readonly log: Logger;
  private readonly pollIntervalMs: number;
  private readonly concurrency: number;
  private readonly running = new Map<string, Promise<void>>();
  /** Assets whose lock another replica held at the last try; left to it until the next poll. */
  private readonly heldElsewhere = new Set<string>();
  /** Assets whose work failed: retried after a growing delay. */
  private readonly failing = new Map<string, { failures: number; retryAt: number }>();
  private pollTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private stopped = true;

  constructor(private readonly opts: StalenessDetectorOptions) {
    this.log = opts.logger.child({ component: "staleness-detector" });
    this.pollIntervalMs = opts.pollIntervalMs ?? 1_000;
    this.concurrency = opts.concurrency ?? 2;
  }

  /** Starts polling and resumes whatever is queued. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.pollTimer = setInterval(() => {
      this.heldElsewhere.clear();
      this.wake();
    }, this.pollIntervalMs);
    this.wake();
  }

  /** Looks for queued tasks now (after a change commits). */
  wake(): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = this.scan()
      .catch((err: unknown) => this.log.warn({ err }, "cannot read the detection queue; retrying at the next poll"))
      .finally(() => {
        this.scanning = undefined;
        if (this.rescan) {
          this.rescan = false;
          this.wake();
        }
      });
  }

  /** Stops taking work and waits for the projects in flight (at most one per asset) to commit. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    await this.scanning;
    await Promise.allSettled([...this.running.values()]);
  }

  private async scan(): Promise<void> {
    if (this.running.size >= this.concurrency) return;
    const now = Date.now();
    for (const assetId of await this.opts.detection.pendingAssets(PENDING_BATCH)) {
      if (this.stopped || this.running.size >= this.concurrency) return;
      if (this.running.has(assetId) || this.heldElsewhere.has(assetId) || (this.failing.get(assetId)?.retryAt ?? 0) > now) continue;
      const work = this.opts.detection.runAsset(assetId, () => this.stopped).then(
        (outcome) => {
          this.failing.delete(assetId);
          if (outcome === "held elsewhere") this.heldElsewhere.add(assetId);
        },
        (err: unknown) => this.failed(assetId, err),
      );
      this.running.set(
        assetId,
        work.finally(() => {
          this.running.delete(assetId);
          // A slot is free: more assets may be waiting.
          this.wake();
        }),
      );
    }
  }

  private failed(assetId: string, err: unknown): void {
    const failures = (this.failing.get(assetId)?.failures ?? 0) + 1;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (failures - 1));
    this.failing.set(assetId, { failures, retryAt: Date.now() + delay });
    this.log.warn({ err, assetId, attempt: failures, retryInMs: delay }, "staleness detection failed; retrying");
  }
}
