/**
 * The detector: turns each queued change of an asset's current version (staleness.detection_tasks) into
 * provenance.staleness.detected.<project_id> events through the outbox, one project at a time, after the change has
 * committed.
 */
import { runWithRequestId, type Logger } from "@provenance/shared";
import type { DetectionRepository, DetectionSession, DetectionTask } from "../persistence/detection-repository.js";

/** What the detector needs. */
export interface StalenessDetectorOptions {
  repository: DetectionRepository;
  logger: Logger;
  /** Told each enqueued event's detection latency, in seconds (the staleness_detection_latency_seconds histogram). */
  observeDetection?: (seconds: number) => void;
  /** How often to look for tasks nobody woke this replica for (another replica's, or left by one that stopped); ms, default 1000. */
  pollIntervalMs?: number;
  /** Assets worked on at once, each on a database connection of its own (default 2). */
  concurrency?: number;
  /** Called after each project's transaction has committed; tests use it to interrupt a task half-way. */
  afterProject?: (task: DetectionTask, projectId: string) => Promise<void> | void;
}

const PENDING_BATCH = 100;
const MAX_BACKOFF_MS = 30_000;

/**
 * Works through the detection queue. Woken in-process after a change commits, by a poll (so tasks of a replica that
 * died are taken over) and at start (so tasks left by the last run are resumed). For each asset with unfinished tasks
 * it takes the asset's detection lock (one replica per asset at a time) and runs the asset's tasks oldest first (commit
 * order); within a task, project by project, smallest first, each project's event enqueued in a transaction that also
 * records the project as done, and the task marked finished after the last. Stopped or crashed half-way, a task
 * resumes with the projects not yet done, so every affected project gets its event exactly once.
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
    for (const assetId of await this.opts.repository.pendingAssets(PENDING_BATCH)) {
      if (this.stopped || this.running.size >= this.concurrency) return;
      if (this.running.has(assetId) || this.heldElsewhere.has(assetId) || (this.failing.get(assetId)?.retryAt ?? 0) > now) continue;
      const work = this.runAsset(assetId).then(
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

  /**
   * Runs the asset's tasks under its lock. After unlocking it looks once more: a change that committed while the lock
   * was held may have found it taken, and relies on the holder to see its task.
   */
  private async runAsset(assetId: string): Promise<"done" | "held elsewhere"> {
    for (;;) {
      const outcome = await this.opts.repository.withAssetLock(assetId, async (session) => {
        for (let task = await session.nextTask(); task && !this.stopped; task = await session.nextTask()) {
          const t = task;
          await runWithRequestId(t.requestId, () => this.runTask(session, t));
        }
      });
      if (!outcome.ran) return "held elsewhere";
      if (this.stopped || !(await this.opts.repository.hasPending(assetId))) return "done";
    }
  }

  private async runTask(session: DetectionSession, task: DetectionTask): Promise<void> {
    const startedAt = performance.now();
    const projects = await session.remainingProjects(task);
    let events = 0;
    for (const projectId of projects) {
      if (this.stopped) return;
      const done = await session.detectProject(task, projectId);
      if (done?.detected) {
        events += 1;
        this.opts.observeDetection?.(done.latencyMs / 1000);
        this.log.debug({ taskId: task.taskId, projectId, latencyMs: done.latencyMs }, "staleness detected");
      }
      await this.opts.afterProject?.(task, projectId);
    }
    await session.finish(task);
    this.log.info(
      {
        taskId: task.taskId,
        assetId: task.change.assetId,
        version: task.change.currentVersion,
        projects: projects.length,
        events,
        ms: Math.round(performance.now() - startedAt),
      },
      "staleness detection finished",
    );
  }
}
